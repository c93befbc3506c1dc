"""One helper neutralises spreadsheet formulas in every export; numbers stay numbers."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from compliance.exports import neutralise_cell
from reporting.tables import COUNT, DATE, MONEY, Column, Table, table_csv, table_xlsx


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+86 138", "'+86 138"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("张三", "张三"),
        ("a=b", "a=b"),
        ("", ""),
        (Decimal("-12.50"), Decimal("-12.50")),
        (-3, -3),
        (None, None),
        (date(2026, 9, 1), date(2026, 9, 1)),
    ],
)
def test_only_text_that_would_start_a_formula_is_neutralised(value, expected):
    assert neutralise_cell(value) == expected


def hostile_table() -> Table:
    return Table(
        name="collectors",
        title="t",
        definition="d",
        columns=[Column("Collector"), Column("Count", COUNT), Column("Amount", MONEY), Column("Day", DATE)],
        rows=[
            ["=1+1", -2, Decimal("-12.5"), date(2026, 9, 1)],
            ["@evil", 3, Decimal("7"), date(2026, 9, 2)],
            ["Alice", 0, None, None],
        ],
    )


def test_the_csv_export_neutralises_text_and_keeps_negative_numbers():
    content = table_csv(hostile_table()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[1] == ["'=1+1", "-2", "-12.50", "2026-09-01"]
    assert rows[2][0] == "'@evil"
    assert rows[3] == ["Alice", "0", "", ""]


def test_the_xlsx_export_writes_no_formula_and_keeps_negative_numbers_as_numbers():
    sheet = load_workbook(io.BytesIO(table_xlsx(hostile_table()))).active
    name, count, amount, _ = (sheet.cell(row=2, column=index) for index in range(1, 5))
    assert (name.value, name.data_type) == ("'=1+1", "s")
    assert (count.value, count.data_type) == (-2, "n")
    assert (Decimal(str(amount.value)), amount.data_type) == (Decimal("-12.5"), "n")
    assert sheet.cell(row=3, column=1).value == "'@evil"
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)


def test_every_export_module_uses_the_shared_helper():
    from compliance import views_audit
    from reporting import tables

    assert views_audit.neutralise_cell is neutralise_cell
    assert tables.neutralise_cell is neutralise_cell
