"""Dashboards: parse the filters, call a selector, render."""

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from accounts.models import Role
from compliance.models import Hold
from compliance.selectors import reason_label
from reporting.consistency import CHECKS_BY_CODE, UnknownCheck, consistency_cases, consistency_summary
from reporting.forms import DashboardFilterForm
from reporting.selectors import SYSTEM, Figure, UnknownFigure, cases_behind, compliance_dashboard, figure_rows

DASHBOARD_ROLES = {Role.SUPERVISOR, Role.COMPLIANCE, Role.ADMIN}
DRILL_DOWN_PAGE_SIZE = 50
# The compliance officer's audit trail of one case (compliance/views_audit.py): ?case=<id>.
AUDIT_TRAIL_PATH = "/compliance/audit/"


def _require_dashboard(user) -> None:
    if not (user.is_superuser or user.role in DASHBOARD_ROLES):
        raise PermissionDenied(_("This page is for supervisors and compliance officers."))


def _form_errors(form) -> list[str]:
    return [" ".join(errors) for errors in form.errors.values()]


@login_required
@require_safe
def compliance(request):
    """Blocks by reason, screening hits, holds, complaint clocks and contacts outside policy: supervisors
    for their teams, compliance officers and admins for everyone. Each number links to its cases."""
    _require_dashboard(request.user)
    form = DashboardFilterForm.from_query(request.GET, user=request.user)
    if not form.is_valid():
        context = {"form": form, "filter_errors": _form_errors(form), "dashboard": None}
        return render(request, "reporting/compliance.html", context, status=400)
    context = {
        "form": form,
        "dashboard": compliance_dashboard(user=request.user, filters=form.filters()),
        "query": urlencode(form.query()),
        "system_key": SYSTEM,
        "consistency": consistency_summary(user=request.user),
    }
    return render(request, "reporting/compliance.html", context)


@login_required
@require_safe
def consistency(request, code: str):
    """The cases the latest consistency run found for one check, each linking to the case and its audit trail."""
    _require_dashboard(request.user)
    try:
        cases = consistency_cases(user=request.user, code=code)
    except UnknownCheck as error:
        raise Http404(_("There is no such consistency check.")) from error
    context = {
        "title": CHECKS_BY_CODE[code].label,
        "summary": consistency_summary(user=request.user),
        "page": Paginator(cases, DRILL_DOWN_PAGE_SIZE).get_page(request.GET.get("page")),
        "audit_trail": AUDIT_TRAIL_PATH,
    }
    return render(request, "reporting/consistency_cases.html", context)


def _figure_title(figure: str, key: str) -> str:
    if figure == Figure.BLOCKED:
        return _("Blocked attempts: %(reason)s") % {"reason": reason_label(key)} if key else _("Blocked attempts")
    if figure in (Figure.BLOCKED_BY, Figure.SCREENING):
        what = _("Blocked attempts") if figure == Figure.BLOCKED_BY else _("Screening hits")
        if not key:
            return what
        if key == SYSTEM:
            who = _("system")
        else:
            person = get_user_model().objects.filter(pk=key).first()
            who = (person.get_full_name() or person.username) if person else key
        return _("%(what)s by %(who)s") % {"what": what, "who": who}
    if figure == Figure.HOLDS:
        return _("Holds in force: %(kind)s") % {"kind": Hold.Kind(key).label} if key else _("Holds in force")
    if figure == Figure.COMPLAINTS:
        return {
            "open": _("Open complaints"),
            "at_risk": _("Complaints at risk (3 days or less left)"),
            "overdue": _("Overdue complaints"),
        }[key]
    return _("Contacts recorded outside policy")


ITEM_COLUMNS = {
    Figure.BLOCKED: (gettext_lazy("Blocked"), gettext_lazy("Last blocked")),
    Figure.BLOCKED_BY: (gettext_lazy("Blocked"), gettext_lazy("Last blocked")),
    Figure.SCREENING: (gettext_lazy("Hits"), gettext_lazy("Last hit")),
    Figure.HOLDS: (gettext_lazy("Holds"), gettext_lazy("Set")),
    Figure.COMPLAINTS: (gettext_lazy("Complaints"), gettext_lazy("Due first")),
    Figure.OUTSIDE_POLICY: (gettext_lazy("Contacts"), gettext_lazy("Last contact")),
}


@login_required
@require_safe
def compliance_cases(request):
    """The cases behind one figure of the dashboard, with links to each case and its audit trail."""
    _require_dashboard(request.user)
    form = DashboardFilterForm.from_query(request.GET, user=request.user)
    figure, key = request.GET.get("figure", ""), request.GET.get("key", "")
    problems = _form_errors(form) if not form.is_valid() else []
    rows = None
    if not problems:
        try:
            rows = figure_rows(user=request.user, filters=form.filters(), figure=figure, key=key)
        except UnknownFigure:
            problems = [_("The dashboard has no such figure.")]
    keep = [("figure", figure), ("key", key)]
    if problems:
        context = {"form": form, "filter_errors": problems, "page": None, "keep": keep}
        return render(request, "reporting/compliance_cases.html", context, status=400)
    cases = cases_behind(user=request.user, figure=rows)
    query = form.query()
    context = {
        "form": form,
        "title": _figure_title(figure, key),
        "page": Paginator(cases, DRILL_DOWN_PAGE_SIZE).get_page(request.GET.get("page")),
        "items_label": ITEM_COLUMNS[figure][0],
        "moment_label": ITEM_COLUMNS[figure][1],
        "query": urlencode(query),
        "audit_trail": AUDIT_TRAIL_PATH,
        "keep": keep,
    }
    return render(request, "reporting/compliance_cases.html", context)
