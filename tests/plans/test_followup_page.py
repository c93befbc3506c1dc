"""The case page shows the agreement's installments with their paid, due and missed badges."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from plans.followup import installments_judge
from tests.factories import CaseFactory
from tests.plans.followup_setup import agreement_in_force, follow_up_case, pay

pytestmark = pytest.mark.django_db


def page(client, user, case) -> str:
    client.force_login(user)
    response = client.get(reverse("cases:detail", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.content.decode()


def test_the_schedule_shows_each_installment_with_its_status_badge(client, team, collector, settings):
    settings.INSTALLMENT_GRACE_DAYS = 3
    case = follow_up_case(team, collector)
    agreement = agreement_in_force(case, ["2000.00"] * 3, date(2026, 10, 1))
    pay(case, "2000.00")
    installments_judge(today=date(2026, 11, 5))  # the second (due 31 Oct) is missed

    html = page(client, collector, case)

    assert agreement.number in html
    assert 'data-testid="installment-1"' in html
    assert "installment-status-paid" in html
    assert "installment-status-missed" in html
    assert "installment-status-due" in html
    assert '<td class="num">¥2,000.00</td>' in html


def test_a_case_without_an_agreement_shows_no_schedule(client, team, collector):
    case = CaseFactory(team=team, assigned_to=collector)

    assert 'data-testid="installments"' not in page(client, collector, case)


def test_the_schedule_adds_two_queries_whatever_its_length(client, team, collector, django_assert_max_num_queries):
    short = follow_up_case(team, collector)
    agreement_in_force(short, ["2000.00"], timezone.localdate())
    long = follow_up_case(team, collector)
    agreement_in_force(long, ["100.00"] * 24, timezone.localdate() + timedelta(days=1))
    client.force_login(collector)

    with CaptureQueriesContext(connection) as one:
        client.get(reverse("cases:detail", args=[short.pk]))
    with django_assert_max_num_queries(len(one)):
        client.get(reverse("cases:detail", args=[long.pk]))
