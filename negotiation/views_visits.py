"""The case page's field-visit tab (htmx partial) and the supervisors' queue of visits to decide."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from cases.models import Case
from cases.selectors import visible_cases
from compliance.selectors import reason_label
from config.errors import DomainError
from negotiation import visits
from negotiation.forms import VisitDecisionForm, VisitLogForm, VisitRequestForm
from negotiation.models import FieldVisit
from negotiation.page_refresh import with_case_refresh
from negotiation.services import ContactForbidden

VISIT_ACTIONS = {"approve": visits.visit_approve, "reject": visits.visit_reject, "cancel": visits.visit_cancel}
QUEUE_SIZE = 200


def _visible_case(user, pk: int) -> Case:
    return get_object_or_404(visible_cases(user).select_related("account__debtor", "team"), pk=pk)


def _request_form(case: Case, user, data=None) -> VisitRequestForm:
    staff = visits.staff_candidates(case).order_by("first_name", "username", "pk")
    initial = {"first_staff": user.pk} if staff.filter(pk=user.pk).exists() else {}
    return VisitRequestForm(data, addresses=visits.address_choices(case), staff=staff, initial=initial)


def _panel(request, case: Case, *, status: int = 200, **extra):
    """The visit tab for htmx (with the case page's header, timeline and compliance box out of band after a
    post); a plain form post goes back to the case page."""
    if not request.htmx and request.method == "POST" and status == 200:
        return redirect("cases:detail", pk=case.pk)
    found = visits.visits_of(case)
    current = next((visit for visit in found if visit.is_open), None)
    user = request.user
    context = {
        "case": case,
        "visits": found,
        "current": current,
        "addresses": visits.address_choices(case),
        "request_form": extra.pop("request_form", None) or _request_form(case, user),
        "decision_form": extra.pop("decision_form", None) or VisitDecisionForm(),
        "log_form": extra.pop("log_form", None) or VisitLogForm(),
        "may_decide": current is not None and visits.may_decide(user, case) and current.requested_by_id != user.pk,
        "may_cancel": current is not None and visits.may_cancel(user, current, case),
        "may_request": user.is_superuser or user.role in visits.REQUESTERS,
        **extra,
    }
    response = render(request, "negotiation/_visit_panel.html", context, status=status)
    return with_case_refresh(request, response, case.pk)


def _refused(request, case: Case, error: Exception, **forms):
    if isinstance(error, ContactForbidden):
        decision = error.decision
        refused = {
            "reasons": [reason_label(reason.get("code", "")) for reason in decision.reasons],
            "next_allowed_at": decision.next_allowed_at,
            "zone": case.account.debtor.timezone,
        }
        return _panel(request, case, status=409, refused=refused, **forms)
    if isinstance(error, DomainError):
        return _panel(request, case, status=error.http_status, problems=[error.message], **forms)
    return _panel(request, case, status=403, problems=[str(error) or _("Your role may not do this.")], **forms)


@login_required
@require_safe
def visit_panel(request, pk: int):
    return _panel(request, _visible_case(request.user, pk))


@login_required
@require_POST
def visit_request_view(request, pk: int):
    case = _visible_case(request.user, pk)
    form = _request_form(case, request.user, request.POST)
    if not form.is_valid():
        return _panel(request, case, status=400, request_form=form)
    try:
        visits.visit_request(case_id=case.pk, actor=request.user, **form.service_arguments())
    except (DomainError, PermissionDenied) as error:
        return _refused(request, case, error, request_form=form)
    return _panel(request, case, done=_("Field visit requested; a supervisor decides on it."))


def _visible_visit(user, pk: int) -> FieldVisit:
    return get_object_or_404(FieldVisit.objects.filter(case__in=visible_cases(user)), pk=pk)


@login_required
@require_POST
def visit_action_view(request, pk: int, action: str):
    """Approve, reject or cancel, always with a reason; from the queue page a plain post goes back to it."""
    if action not in VISIT_ACTIONS:
        raise Http404
    visit = _visible_visit(request.user, pk)
    case = _visible_case(request.user, visit.case_id)
    form = VisitDecisionForm(request.POST)
    from_queue = request.POST.get("from") == "queue"
    if form.is_valid():
        try:
            VISIT_ACTIONS[action](visit_id=visit.pk, actor=request.user, reason=form.cleaned_data["reason"])
        except (DomainError, PermissionDenied) as error:
            if from_queue:
                return _queue(request, status=getattr(error, "http_status", 403), problems=[_message(error)])
            return _refused(request, case, error, decision_form=form)
    elif from_queue:
        return _queue(request, status=400, problems=[_("Give a reason.")])
    else:
        return _panel(request, case, status=400, decision_form=form)
    done = {
        "approve": _("Field visit approved."),
        "reject": _("Field visit rejected."),
        "cancel": _("Field visit cancelled."),
    }[action]
    if from_queue:
        messages.success(request, done)
        return redirect("negotiation:visits")
    return _panel(request, case, done=done)


def _message(error: Exception) -> str:
    return error.message if isinstance(error, DomainError) else str(error) or _("Your role may not do this.")


@login_required
@require_POST
def visit_log_view(request, pk: int):
    """Log what happened on the visit; the gate still decides (hours, holds) and a refusal stores nothing."""
    visit = _visible_visit(request.user, pk)
    case = _visible_case(request.user, visit.case_id)
    form = VisitLogForm(request.POST)
    if not form.is_valid():
        return _panel(request, case, status=400, log_form=form)
    try:
        visits.visit_log(visit_id=visit.pk, actor=request.user, path="web", **form.cleaned_data)
    except (DomainError, PermissionDenied) as error:
        return _refused(request, case, error, log_form=form)
    return _panel(request, case, done=_("Field visit logged."))


def _queue(request, *, status: int = 200, **extra):
    user = request.user
    if not (user.is_superuser or user.role in visits.DECIDERS):
        raise PermissionDenied(_("This page is for supervisors."))
    pending = visits.visits_pending_for(user)
    context = {"visits": pending[:QUEUE_SIZE], "total": pending.count(), "form": VisitDecisionForm(), **extra}
    return render(request, "negotiation/visit_queue.html", context, status=status)


@login_required
@require_safe
def visit_queue(request):
    """Requested visits waiting for this supervisor's decision, soonest first."""
    return _queue(request)
