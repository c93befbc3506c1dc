"""403 and 404 answer in Accord's layout and language, with the reason and a way back; a refusal logs one line."""

import logging

import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SUPERVISOR_PAGE = reverse("cases:supervisor")


def test_a_refused_page_shows_the_reason_and_the_way_back(as_user):
    collector = UserFactory(role="collector")
    response = as_user(collector).get(SUPERVISOR_PAGE, HTTP_REFERER="http://testserver/cases/")
    assert response.status_code == 403
    page = response.content.decode()
    assert 'data-testid="error-403"' in page
    assert "This page is for supervisors." in page
    assert 'href="http://testserver/cases/"' in page
    assert f'href="{reverse("accounts:landing")}"' in page
    assert 'data-testid="whoami"' in page  # the app's own layout, with its navigation


def test_the_refusal_is_in_the_users_language(client):
    client.force_login(UserFactory(role="collector"))
    page = client.get(SUPERVISOR_PAGE, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<html lang="zh-hans">' in page
    assert "You may not open this page" not in page


def test_a_foreign_referer_is_not_offered_as_the_way_back(as_user):
    response = as_user(UserFactory(role="collector")).get(SUPERVISOR_PAGE, HTTP_REFERER="https://evil.example/x")
    assert "evil.example" not in response.content.decode()


def test_a_missing_page_is_a_404_in_the_layout(as_user):
    response = as_user(UserFactory(role="collector")).get("/cases/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'data-testid="error-404"' in page
    assert "/cases/no-such-page/" in page
    assert f'href="{reverse("accounts:landing")}"' in page


def test_an_anonymous_visitor_is_sent_to_the_login_page_from_a_404(client):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert f'href="{reverse("accounts:login")}"' in response.content.decode()


def test_an_expected_refusal_is_logged_as_one_line_without_a_traceback(as_user, caplog):
    collector = UserFactory(role="collector")
    with caplog.at_level(logging.WARNING, logger="django.request"):
        as_user(collector).get(SUPERVISOR_PAGE)
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info is None
    line = record.getMessage()
    assert "\n" not in line
    assert line.startswith(f"Forbidden (Permission denied): {SUPERVISOR_PAGE}")
    assert f"user {collector.pk}" in line and "This page is for supervisors." in line
    assert "Traceback" not in caplog.text
