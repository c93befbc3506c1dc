"""Every page carries a Content-Security-Policy that allows no inline script and no eval; the templates keep to it."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parts = [part.split() for part in header.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


@pytest.mark.parametrize("url", ["/login/", "/no-such-page/"])
def test_public_pages_carry_the_policy(client, url):
    policy = directives(client.get(url))
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize("name", ["cases:worklist", "reporting:kpis", "api-docs"])
def test_staff_pages_carry_the_policy_without_inline_script_or_eval(as_user, name):
    response = as_user(UserFactory(role="supervisor")).get(reverse(name))
    assert response.status_code == 200
    script_src = directives(response)["script-src"]
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src


@pytest.mark.parametrize("name", ["cases:worklist", "reporting:kpis"])
def test_htmx_is_told_not_to_inject_its_indicator_style(as_user, name):
    page = as_user(UserFactory(role="supervisor")).get(reverse(name)).content.decode()
    # htmx reads the first htmx-config meta only, whether the page brings its own or takes the default.
    first = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page).group(1)
    assert json.loads(first)["includeIndicatorStyles"] is False


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)


def test_no_template_holds_an_inline_script_an_event_handler_or_an_inline_style():
    offenders = []
    for template in sorted(Path(settings.BASE_DIR, "templates").rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER, INLINE_STYLE, re.compile("javascript:", re.IGNORECASE)):
            if pattern.search(text):
                offenders.append(f"{template.relative_to(settings.BASE_DIR)}: {pattern.pattern}")
    assert offenders == []


def test_outside_debug_the_api_answers_json_only(as_user):
    response = as_user(UserFactory(role="collector")).get("/api/v1/cases/", HTTP_ACCEPT="text/html")
    assert response.status_code in (200, 406)
    assert not response["Content-Type"].startswith("text/html")
