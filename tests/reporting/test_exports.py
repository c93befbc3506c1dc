"""CSV and XLSX exports: the rows shown, with the page's filters and permissions."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.factories import UserFactory
from tests.reporting.conftest import SEPTEMBER

pytestmark = pytest.mark.django_db


def export(table: str, fmt: str) -> str:
    return reverse("reporting:export", kwargs={"table": table, "fmt": fmt})


def csv_rows(response) -> list[list[str]]:
    content = response.content
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_collector_scorecards_csv_has_a_header_and_a_row_per_collector(portfolio, client):
    client.force_login(portfolio.supervisor)
    response = client.get(export("collectors", "csv"), SEPTEMBER, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="accord-collectors-20260901-20260930.csv"' in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0][:4] == ["Collector", "Contacts", "Right-party contacts", "Right-party contact rate (%)"]
    assert rows[1] == ["Alice", "4", "2", "50.00", "0", "2", "50.00", "1", "0", "1", "1", "4.00", "3500.00"]
    assert [row[0] for row in rows[1:]] == ["Alice", "Arthur"]


def test_money_is_written_as_a_number_with_two_decimals(portfolio, client):
    client.force_login(portfolio.supervisor)
    rows = csv_rows(client.get(export("by_class", "csv"), SEPTEMBER, HTTP_ACCEPT_LANGUAGE="en"))
    assert rows[1:] == [
        ["early", "1", "50.00", "1000.00", "16.67"],
        ["mid", "1", "50.00", "5000.00", "83.33"],
        ["wilful", "0", "0.00", "0.00", "0.00"],
    ]


def test_the_export_follows_the_filters(portfolio, client):
    client.force_login(UserFactory(username="auditor", role="compliance", team=None))
    rows = csv_rows(client.get(export("by_class", "csv"), {**SEPTEMBER, "team": portfolio.team_b.pk}))
    assert [row[3] for row in rows[1:]] == ["2000.00", "0.00", "0.00"]


def test_the_trend_xlsx_reads_back_with_numbers_and_dates(portfolio, client):
    client.force_login(portfolio.supervisor)
    response = client.get(export("trend", "xlsx"), SEPTEMBER, HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Date", "Cases", "Overdue amount", "Overdue rate (%)")
    assert len(rows) == 31
    day, cases, overdue, rate = rows[-1]
    assert (day.date().isoformat(), cases, Decimal(str(overdue)), Decimal(str(rate))) == (
        "2026-09-30",
        2,
        Decimal("6000"),
        Decimal("7.5"),
    )
    assert sheet.cell(row=31, column=3).number_format == "#,##0.00"


def test_the_kpi_table_exports_every_kpi_with_its_definition(portfolio, client):
    client.force_login(portfolio.supervisor)
    rows = csv_rows(client.get(export("kpis", "csv"), SEPTEMBER, HTTP_ACCEPT_LANGUAGE="en"))
    assert rows[0] == ["KPI", "Value", "Unit", "Definition"]
    assert len(rows) == 16
    assert rows[1][:3] == ["Overdue amount", "6000.00", "¥"]


def test_a_collectors_export_holds_only_their_own_row(portfolio, client):
    client.force_login(portfolio.a2)
    rows = csv_rows(client.get(export("collectors", "csv"), SEPTEMBER))
    assert [row[0] for row in rows[1:]] == ["Arthur"]


@pytest.mark.parametrize("table", ["teams", "kpis", "by_bucket"])
def test_a_collector_cannot_export_team_or_portfolio_tables(portfolio, client, table):
    client.force_login(portfolio.a1)
    assert client.get(export(table, "csv"), SEPTEMBER).status_code == 403


def test_an_unknown_table_or_format_is_not_found(portfolio, client):
    client.force_login(portfolio.supervisor)
    assert client.get(export("salaries", "csv"), SEPTEMBER).status_code == 404
    assert client.get(export("trend", "pdf"), SEPTEMBER).status_code == 404
