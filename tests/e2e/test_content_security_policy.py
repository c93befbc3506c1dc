"""The Content-Security-Policy holds in a real browser: the pages with charts, htmx panels, the API docs and the
Django admin load under it without a single violation."""

import re
from datetime import date

import pytest

from reporting.snapshots import snapshot_build
from tests.conftest import login
from tests.factories import UserFactory
from tests.reporting import dataset


def watch_violations(page) -> list[str]:
    """Every CSP violation the page reports: console errors and securitypolicyviolation events."""
    found: list[str] = []
    page.on(
        "console",
        lambda message: found.append(f"{page.url}: {message.text}")
        if message.type == "error" and "Content Security Policy" in message.text
        else None,
    )
    page.on("pageerror", lambda error: found.append(f"{page.url}: page error: {error}"))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    return found


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_kpi_dashboard_and_a_case_page_load_without_a_csp_violation(page):
    portfolio = dataset.build()
    snapshot_build(start=date(2026, 8, 31), end=dataset.DAY)
    violations = watch_violations(page)

    response = page.goto(page.base_url + "/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    login(page, "supervisor")
    page.wait_for_url(re.compile(r"/cases/supervisor/$"))

    page.goto(page.base_url + "/reporting/kpis/?start=2026-09-01&end=2026-09-30")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('chart-by_bucket'))")
    # Chart.js sizes the canvas through the CSSOM, which style-src does not govern.
    assert page.locator("#chart-by_bucket").bounding_box()["height"] > 50

    page.goto(page.base_url + f"/cases/{portfolio.c1.pk}/")
    page.wait_for_selector("#negotiation-panel form", state="attached")  # an htmx panel swapped in
    page.select_option("#language-select", "en")  # the switcher's script lives in accord.js, not onchange=
    page.wait_for_selector('html[lang="en"]')
    page.wait_for_load_state("networkidle")
    assert violations == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_api_docs_and_the_django_admin_load_without_a_csp_violation(page):
    UserFactory(username="admin", role="admin", team=None, is_superuser=True)
    violations = watch_violations(page)
    login(page, "admin")
    page.wait_for_load_state("networkidle")

    page.goto(page.base_url + "/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30000)

    page.goto(page.base_url + "/admin/")
    page.wait_for_selector("#content")
    page.goto(page.base_url + "/admin/accounts/user/")
    page.wait_for_selector("#result_list")
    page.goto(page.base_url + "/admin/accounts/user/add/")
    page.wait_for_selector("form")
    page.wait_for_load_state("networkidle")
    assert violations == []
