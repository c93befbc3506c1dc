"""The tables of the KPI dashboard and the scorecards, as plain rows: the page renders them beside their
charts, and the CSV and XLSX exports write exactly the same rows."""

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape

from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from cases.models import Bucket, CaseStatus, Classification
from compliance.exports import neutralise_cell
from reporting import definitions, kpis
from reporting.kpi_selectors import KpiDashboard, ScorecardRow

HUNDRED = Decimal("100")
TEXT, COUNT, MONEY, PERCENT, NUMBER, DATE = "text", "count", "money", "percent", "number", "date"


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = TEXT


@dataclass
class Table:
    name: str
    title: str
    definition: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    chart: dict | None = None  # {"type": "bar"|"line"|"doughnut", "series": [column index, ...]}

    def body_html(self) -> SafeString:
        """The rows as HTML: thousands of cells are built here in a few milliseconds, not in the template."""
        # Every value below passes through escape(); the markup around it is fixed.
        if not self.rows:
            empty = escape(_("Nothing in this period."))
            return mark_safe(f'<tr class="empty"><td colspan="{len(self.columns)}">{empty}</td></tr>')  # noqa: S308
        numeric = [column.kind not in (TEXT, DATE) for column in self.columns]
        lines = []
        for row in self.rows:
            cells = "".join(
                f'<td class="num">{escape(display(column.kind, value))}</td>'
                if is_num
                else f"<td>{escape(display(column.kind, value))}</td>"
                for column, value, is_num in zip(self.columns, row, numeric, strict=True)
            )
            lines.append(f"<tr>{cells}</tr>")
        return mark_safe("\n".join(lines))  # noqa: S308

    def chart_data(self) -> dict | None:
        """Labels and series for Chart.js, numbers as strings (the browser parses them; Python stays exact)."""
        if not self.chart:
            return None
        labels = [str(row[0]) for row in self.rows]
        return {
            "type": self.chart["type"],
            "labels": labels,
            "datasets": [
                {
                    "label": str(self.columns[index].label),
                    "data": [None if row[index] is None else str(row[index]) for row in self.rows],
                    "axis": self.columns[index].kind,
                }
                for index in self.chart["series"]
            ],
        }


def display(kind: str, value) -> str:
    """A cell as people read it: ¥ for money, % for percentages, — for a figure that cannot be computed."""
    if value is None or value == "":
        return "—"
    if kind == MONEY:
        amount = Decimal(value).quantize(kpis.CENTS)
        return f"{'-' if amount < 0 else ''}¥{abs(amount):,.2f}"
    if kind == PERCENT:
        return f"{value} %"
    if kind == DATE:
        return date_format(value, "Y-m-d")
    if kind == COUNT and isinstance(value, int):
        return f"{value:,}"
    return str(value)


def percent(fraction: Decimal | None) -> Decimal | None:
    return None if fraction is None else (fraction * HUNDRED).quantize(kpis.CENTS)


def _label(choices, key: str) -> str:
    return str(dict(choices).get(key, key))


def _kpi_value(kind: str, value):
    if value is None:
        return None
    if kind == "rate":
        return percent(value)
    return value


UNITS = {"rate": "%", "money": "¥", "days": "days", "count": "", "number": ""}


def kpi_table(dashboard: KpiDashboard) -> Table:
    rows = []
    for key, (label, kind, definition) in definitions.KPI_DEFINITIONS.items():
        unit = _("days") if kind == "days" else UNITS[kind]
        rows.append([str(label), _kpi_value(kind, dashboard.key_figures[key]), unit, str(definition)])
    return Table(
        "kpis",
        _("Key figures"),
        "",
        [Column(_("KPI")), Column(_("Value"), NUMBER), Column(_("Unit")), Column(_("Definition"))],
        rows,
    )


def _share_table(name, title, definition, first, shares, choices) -> Table:
    return Table(
        name,
        title,
        definition,
        [
            Column(first),
            Column(_("Cases"), COUNT),
            Column(_("Share of cases (%)"), PERCENT),
            Column(_("Overdue amount"), MONEY),
            Column(_("Share of amount (%)"), PERCENT),
        ],
        [[_label(choices, s.key), s.count, percent(s.count_share), s.amount, percent(s.amount_share)] for s in shares],
        {"type": "bar", "series": [3]},
    )


def scorecard_table(name: str, title: str, first: str, cards: list[ScorecardRow]) -> Table:
    return Table(
        name,
        title,
        str(definitions.SCORECARD_NOTE),
        [
            Column(first),
            Column(_("Contacts"), COUNT),
            Column(_("Right-party contacts"), COUNT),
            Column(_("Right-party contact rate (%)"), PERCENT),
            Column(_("Plans signed"), COUNT),
            Column(_("Promises judged"), COUNT),
            Column(_("Promise kept rate (%)"), PERCENT),
            Column(_("Policy blocks"), COUNT),
            Column(_("Screening hits"), COUNT),
            Column(_("Complaints"), COUNT),
            Column(_("Surveys"), COUNT),
            Column(_("Satisfaction (1–5)"), NUMBER),
            Column(_("Collected (context only)"), MONEY),
        ],
        [
            [
                card.name,
                card.contacts,
                card.right_party_contacts,
                percent(card.right_party_contact_rate),
                card.plans_signed,
                card.promises_judged,
                percent(card.promise_kept_rate),
                card.policy_blocks,
                card.screening_hits,
                card.complaints,
                card.surveys,
                card.satisfaction,
                card.collected,
            ]
            for card in cards
        ],
    )


def dashboard_tables(dashboard: KpiDashboard) -> dict[str, Table]:
    """Every table of the dashboard, by name, in page order."""
    statuses = [*Bucket.choices, *CaseStatus.choices]
    roll_rows = [
        [
            month.month_end,
            _label(Bucket.choices, roll.from_bucket),
            _label(statuses, roll.to_bucket),
            roll.cases,
            percent(roll.rate),
        ]
        for month in dashboard.roll_months
        for roll in month.rolls
    ]
    roll_forward = [[month.month_end, percent(month.roll_forward_rate)] for month in dashboard.roll_months]
    tables = [
        kpi_table(dashboard),
        _share_table(
            "by_class",
            _("Overdue by class"),
            str(definitions.BY_CLASS_DEFINITION),
            _("Class"),
            dashboard.by_class,
            Classification.choices,
        ),
        _share_table(
            "by_bucket",
            _("Overdue by regulatory bucket"),
            str(definitions.BY_BUCKET_DEFINITION),
            _("Bucket"),
            dashboard.by_bucket,
            Bucket.choices,
        ),
        Table(
            "trend",
            _("Overdue trend"),
            str(definitions.TREND_DEFINITION),
            [
                Column(_("Date"), DATE),
                Column(_("Cases"), COUNT),
                Column(_("Overdue amount"), MONEY),
                Column(_("Overdue rate (%)"), PERCENT),
            ],
            [[p.day, p.cases, p.overdue, percent(p.overdue_rate)] for p in dashboard.trend],
            {"type": "line", "series": [2, 3]},
        ),
        Table(
            "roll_forward",
            _("Roll-forward rate by month"),
            str(definitions.ROLL_DEFINITION),
            [Column(_("Month end"), DATE), Column(_("Moved to a worse bucket (%)"), PERCENT)],
            roll_forward,
            {"type": "bar", "series": [1]},
        ),
        Table(
            "roll_rates",
            _("Roll rates between buckets"),
            str(definitions.ROLL_DEFINITION),
            [
                Column(_("Month end"), DATE),
                Column(_("From")),
                Column(_("To")),
                Column(_("Cases"), COUNT),
                Column(_("Rate (%)"), PERCENT),
            ],
            roll_rows,
        ),
        Table(
            "activity",
            _("Contacts over time"),
            str(definitions.ACTIVITY_DEFINITION),
            [Column(_("Day (or month)"), DATE), Column(_("Contacts"), COUNT), Column(_("Right-party contacts"), COUNT)],
            [[a.day, a.contacts, a.right_party_contacts] for a in dashboard.activity],
            {"type": "line", "series": [1, 2]},
        ),
        Table(
            "satisfaction",
            _("Satisfaction"),
            str(definitions.SATISFACTION_DEFINITION),
            [Column(_("Score")), Column(_("Responses"), COUNT), Column(_("Share (%)"), PERCENT)],
            [[score, count, percent(share)] for score, count, share in dashboard.satisfaction],
            {"type": "bar", "series": [1]},
        ),
        scorecard_table("collectors", _("Collector scorecards"), _("Collector"), dashboard.collectors),
        scorecard_table("teams", _("Team scorecards"), _("Team"), dashboard.teams),
    ]
    return {table.name: table for table in tables}


DASHBOARD_TABLES = (
    "kpis",
    "by_class",
    "by_bucket",
    "trend",
    "roll_forward",
    "roll_rates",
    "activity",
    "satisfaction",
    "collectors",
    "teams",
)
SCORECARD_TABLES = ("collectors", "teams")


# --- Exports -------------------------------------------------------------------------------------


def _export_value(kind: str, value):
    """Money and percentages as numbers with two decimals, dates as ISO dates, nothing as empty."""
    if value is None:
        return None
    if isinstance(value, str):
        return neutralise_cell(value)
    if kind in (MONEY, PERCENT) or (kind == NUMBER and isinstance(value, Decimal)):
        return Decimal(value).quantize(kpis.CENTS)
    return value


def table_csv(table: Table) -> bytes:
    """UTF-8 with a byte order mark, so Excel opens Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([str(column.label) for column in table.columns])
    for row in table.rows:
        cells = []
        for column, value in zip(table.columns, row, strict=True):
            value = _export_value(column.kind, value)
            cells.append("" if value is None else (value.isoformat() if column.kind == DATE else str(value)))
        writer.writerow(cells)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def table_xlsx(table: Table) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table.name[:31]
    sheet.append([str(column.label) for column in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    formats = {MONEY: "#,##0.00", PERCENT: "0.00", NUMBER: "0.00", DATE: "yyyy-mm-dd", COUNT: "0"}
    for row in table.rows:
        sheet.append([_export_value(column.kind, value) for column, value in zip(table.columns, row, strict=True)])
        for column, cell in zip(table.columns, sheet[sheet.max_row], strict=True):
            if column.kind in formats and cell.value is not None and not isinstance(cell.value, str):
                cell.number_format = formats[column.kind]
    for index, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = max(12, min(60, len(str(column.label)) + 4))
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
