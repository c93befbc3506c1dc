"""Formatting of report cells and the KPI tiles the supervisor's team page shows."""

from decimal import Decimal

from django import template
from django.utils.http import urlencode

from cases.templatetags.accord import money
from reporting import definitions
from reporting.kpi_selectors import KpiFilters, ReportScope, default_period, kpi_tile_figures, last_snapshot_day

register = template.Library()
TILES = (
    "overdue_amount",
    "overdue_cases",
    "right_party_contact_rate",
    "promise_kept_rate",
    "complaints_per_thousand",
    "satisfaction",
)


@register.filter
def kpi(value, kind: str) -> str:
    """A headline KPI: rates are fractions shown as percentages."""
    if value is None:
        return "—"
    if kind == "rate":
        return f"{(value * 100).quantize(Decimal('0.01'))} %"
    if kind == "money":
        return money(value)
    if kind == "count":
        return f"{value:,}"
    return str(value)


@register.inclusion_tag("reporting/_kpi_tiles.html")
def kpi_tiles(user):
    """The KPI page's default period at a glance, for the teams this user leads: the same selector and the same
    period as the KPI page opened without filters, which the tiles link to. Five small queries."""
    scope = ReportScope(user)
    if not scope.may_see_dashboard:
        return {"tiles": []}
    snapshot_through = last_snapshot_day()
    start, end = default_period(last_day=snapshot_through)
    figures = kpi_tile_figures(scope=scope, filters=KpiFilters(start=start, end=end))
    tiles = []
    for key in TILES:
        label, kind, definition = definitions.KPI_DEFINITIONS[key]
        tiles.append({"key": key, "label": label, "kind": kind, "value": figures[key], "definition": definition})
    query = urlencode({"start": start.isoformat(), "end": end.isoformat()})
    return {"tiles": tiles, "start": start, "end": end, "snapshot_through": snapshot_through, "query": query}


@register.filter
def lookup(mapping, key):
    return mapping[key]


@register.filter
def split(text: str) -> list[str]:
    return text.split()
