"""The KPI dashboard, the scorecards and their exports: parse the filters, check the role, call a selector."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from reporting import definitions
from reporting.forms import KpiFilterForm
from reporting.kpi_selectors import (
    ReportScope,
    activity_groups,
    kpi_dashboard,
    last_snapshot_day,
)
from reporting.tables import (
    DASHBOARD_TABLES,
    SCORECARD_TABLES,
    dashboard_tables,
    scorecard_table,
    table_csv,
    table_xlsx,
)

EXPORT_TYPES = {
    "csv": ("text/csv; charset=utf-8", table_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", table_xlsx),
}


def _scope_for_dashboard(user) -> ReportScope:
    scope = ReportScope(user)
    if not scope.may_see_dashboard:
        raise PermissionDenied(_("The KPI dashboard is for supervisors, compliance officers and administrators."))
    return scope


def _scope_for_scorecard(user) -> ReportScope:
    scope = ReportScope(user)
    if not scope.may_see_scorecard:
        raise PermissionDenied(_("Scorecards are for collectors, supervisors, compliance officers and administrators."))
    return scope


def _default_end(request):
    """The last day snapshotted, looked up only when the query does not give the period's end."""
    return None if request.GET.get("end") else last_snapshot_day()


def _form_errors(form) -> list[str]:
    return [" ".join(errors) for errors in form.errors.values()]


def _scorecard_tables(scope: ReportScope, filters) -> dict:
    groups = activity_groups(scope=scope, filters=filters)
    tables = {
        "collectors": scorecard_table("collectors", _("Collector scorecards"), _("Collector"), groups.collectors())
    }
    if not scope.own_only:
        tables["teams"] = scorecard_table("teams", _("Team scorecards"), _("Team"), groups.teams())
    return tables


@login_required
@require_safe
def kpis(request):
    """Portfolio and activity KPIs, each chart with its table, for the teams the user may see."""
    scope = _scope_for_dashboard(request.user)
    form = KpiFilterForm.from_query(request.GET, scope=scope, last_day=_default_end(request))
    if not form.is_valid():
        context = {"form": form, "filter_errors": _form_errors(form), "tables": None}
        return render(request, "reporting/kpis.html", context, status=400)
    dashboard = kpi_dashboard(scope=scope, filters=form.filters())
    tables = dashboard_tables(dashboard)
    context = {
        "form": form,
        "dashboard": dashboard,
        "tables": tables,
        "kpi_rows": [
            (key, label, kind, dashboard.key_figures[key], definition)
            for key, (label, kind, definition) in definitions.KPI_DEFINITIONS.items()
        ],
        "query": urlencode(form.query()),
    }
    return render(request, "reporting/kpis.html", context)


@login_required
@require_safe
def scorecard(request):
    """A collector's own scorecard; supervisors see their collectors and teams, compliance and admins all."""
    scope = _scope_for_scorecard(request.user)
    form = KpiFilterForm.from_query(request.GET, scope=scope, last_day=_default_end(request))
    if not form.is_valid():
        context = {"form": form, "filter_errors": _form_errors(form), "tables": None}
        return render(request, "reporting/scorecard.html", context, status=400)
    context = {
        "form": form,
        "tables": _scorecard_tables(scope, form.filters()),
        "query": urlencode(form.query()),
        "own_only": scope.own_only,
        "note": definitions.SCORECARD_NOTE,
    }
    return render(request, "reporting/scorecard.html", context)


@login_required
@require_safe
def export(request, table: str, fmt: str):
    """One table of the dashboard or the scorecards as CSV or XLSX, with the page's filters and permissions."""
    if fmt not in EXPORT_TYPES or table not in DASHBOARD_TABLES:
        raise Http404(table)
    scorecard_only = table in SCORECARD_TABLES
    scope = _scope_for_scorecard(request.user) if scorecard_only else _scope_for_dashboard(request.user)
    form = KpiFilterForm.from_query(request.GET, scope=scope, last_day=_default_end(request))
    if not form.is_valid():
        return HttpResponse("\n".join(_form_errors(form)), status=400, content_type="text/plain; charset=utf-8")
    filters = form.filters()
    if scorecard_only:
        tables = _scorecard_tables(scope, filters)
        if table not in tables:
            raise PermissionDenied(_("Team scorecards are not part of a collector's own scorecard."))
    else:
        tables = dashboard_tables(kpi_dashboard(scope=scope, filters=filters))
    content_type, write = EXPORT_TYPES[fmt]
    response = HttpResponse(write(tables[table]), content_type=content_type)
    filename = f"accord-{table}-{filters.start:%Y%m%d}-{filters.end:%Y%m%d}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
