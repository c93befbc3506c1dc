"""Formatting of report cells and the KPI tiles the supervisor's team page shows."""

from datetime import timedelta
from decimal import Decimal

from django import template
from django.utils import timezone

from cases.templatetags.accord import money
from reporting import definitions
from reporting.kpi_selectors import KpiFilters, ReportScope, kpi_tile_figures

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
    """The last 30 snapshotted days at a glance, for the teams this user leads. Four small queries."""
    scope = ReportScope(user)
    if not scope.may_see_dashboard:
        return {"tiles": []}
    end = timezone.localdate() - timedelta(days=1)
    figures = kpi_tile_figures(scope=scope, filters=KpiFilters(start=end - timedelta(days=29), end=end))
    tiles = []
    for key in TILES:
        label, kind, definition = definitions.KPI_DEFINITIONS[key]
        tiles.append({"key": key, "label": label, "kind": kind, "value": figures[key], "definition": definition})
    return {"tiles": tiles}


@register.filter
def lookup(mapping, key):
    return mapping[key]


@register.filter
def split(text: str) -> list[str]:
    return text.split()
