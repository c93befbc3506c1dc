"""A supervisor's KPI review: the dashboard from the navigation, a team filter, charts, and a CSV download."""

import csv
import io
import re
from datetime import date

import pytest

from reporting.snapshots import snapshot_build
from tests.conftest import login
from tests.reporting import dataset


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_supervisor_filters_the_kpis_by_team_and_downloads_a_csv(page, screenshots_dir):
    portfolio = dataset.build()
    portfolio.team_b.supervisor = portfolio.supervisor  # they lead both teams
    portfolio.team_b.save()
    snapshot_build(start=date(2026, 8, 31), end=dataset.DAY)

    login(page, "supervisor")
    page.wait_for_url(re.compile(r"/cases/supervisor/$"))
    page.click('nav.mainnav a[href="/reporting/kpis/"]')
    page.wait_for_url(re.compile(r"/reporting/kpis/$"))

    page.fill("#id_start", "2026-09-01")
    page.fill("#id_end", "2026-09-30")
    page.select_option("#id_team", str(portfolio.team_b.pk))
    page.click('[data-testid="kpi-filters"] button[type=submit]')
    page.wait_for_url(re.compile(rf"team={portfolio.team_b.pk}"))

    assert page.locator('[data-kpi="overdue_cases"] .kpi-value').inner_text() == "1"
    assert page.locator('[data-kpi="overdue_amount"] .kpi-value').inner_text() == "¥2,000.00"
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('chart-by_bucket'))")
    rows = page.locator('[data-testid="table-collectors"] tbody tr')
    assert rows.count() == 1 and rows.first.locator("td").first.inner_text() == "Bella"
    page.screenshot(path=str(screenshots_dir / "supervisor_kpi_dashboard.png"), full_page=True)

    with page.expect_download() as download_info:
        page.click('[data-testid="export-collectors-csv"]')
    download = download_info.value
    assert download.suggested_filename == "accord-collectors-20260901-20260930.csv"
    with open(download.path(), "rb") as handle:
        content = handle.read()
    assert content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert len(table) == 2
    assert table[1][:4] == ["Bella", "2", "1", "50.00"]
