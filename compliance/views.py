"""The compliance HTML screens: parse the request, call a selector or service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from compliance import complaints as sla
from compliance.api import COMPLAINT_READERS, ComplaintFilterSerializer, complaint_clock
from compliance.forms import ComplaintReasonForm, ComplaintRegisterForm, ComplaintResolveForm
from compliance.models import AuditEvent, Complaint, Hold
from compliance.selectors import OPEN, complaint_list, complaints_visible_to
from compliance.services import (
    COMPLAINT_EXTENSION_APPROVERS,
    COMPLAINT_HANDLERS,
    COMPLAINT_REGISTRARS,
    ComplaintErrorCode,
    complaint_acknowledge,
    complaint_extend,
    complaint_mark_complex,
    complaint_register,
    complaint_resolve,
)
from config.errors import DomainError

# --- Complaints ----------------------------------------------------------------------------------

COMPLAINT_PAGE_SIZE = 50
COMPLAINT_HISTORY_LABELS = {
    "complaint.register": gettext_lazy("Registered"),
    "complaint.acknowledge": gettext_lazy("Receipt acknowledged"),
    "complaint.mark_complex": gettext_lazy("Marked complex"),
    "complaint.extend": gettext_lazy("Extension approved"),
    "complaint.warn_deadline": gettext_lazy("Deadline warning sent"),
    "complaint.resolve": gettext_lazy("Resolved"),
}
COMPLAINT_FILTER_LABELS = {
    "status": gettext_lazy("Status"),
    "overdue": gettext_lazy("Overdue"),
    "at_risk": gettext_lazy("At risk"),
    "category": gettext_lazy("Category"),
    "case": gettext_lazy("Case"),
}


def _has_role(user, roles: set) -> bool:
    return user.is_superuser or user.role in roles


def _require(user, roles: set) -> None:
    if not _has_role(user, roles):
        raise PermissionDenied(_("Your role may not do this with complaints."))


@login_required
@require_safe
def complaint_list_view(request):
    """Complaints with their clocks, soonest due first; open ones unless the filters say otherwise."""
    _require(request.user, COMPLAINT_READERS)
    query = request.GET.copy()
    query.setdefault("status", OPEN)
    params = ComplaintFilterSerializer(data=query)
    valid = params.is_valid()
    complaints = complaint_list(user=request.user, filters=params.to_filters()) if valid else Complaint.objects.none()
    page = Paginator(complaints, COMPLAINT_PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    for complaint in page:
        complaint.clock = complaint_clock(complaint, now)
    context = {
        "page": page,
        "query": query,
        "filter_errors": [
            (COMPLAINT_FILTER_LABELS.get(name, name), " ".join(str(text) for text in texts))
            for name, texts in ({} if valid else params.errors).items()
        ],
        "statuses": Complaint.Status.choices,
        "categories": Complaint.Category.choices,
        "may_register": _has_role(request.user, COMPLAINT_REGISTRARS),
    }
    return render(request, "compliance/complaint_list.html", context, status=200 if valid else 400)


def _visible_complaint(user, pk: int) -> Complaint:
    related = ("case__account__debtor", "registered_by", "handler", "extension_approved_by")
    return get_object_or_404(complaints_visible_to(user).select_related(*related), pk=pk)


def _step_form(forms: dict, step: str, offered: bool):
    if step in forms:
        return forms[step]
    return COMPLAINT_STEPS[step][1](prefix=step) if offered else None


def _complaint_context(request, complaint: Complaint, **forms) -> dict:
    user = request.user
    now = timezone.now()
    is_open = complaint.status != Complaint.Status.RESOLVED
    in_time = now <= complaint.due_at
    handles = _has_role(user, COMPLAINT_HANDLERS)
    approves = _has_role(user, COMPLAINT_EXTENSION_APPROVERS) and user.pk not in (
        complaint.registered_by_id,
        complaint.handler_id,
    )
    holds = Hold.objects.none()
    if complaint.case_id:
        holds = Hold.objects.filter(case_id=complaint.case_id, kind=Hold.Kind.COMPLAINT).select_related(
            "set_by", "lifted_by"
        )[:10]
    history = list(
        AuditEvent.objects.filter(target_type=Complaint._meta.label_lower, target_id=str(complaint.pk)).order_by(
            "-pk"
        )[:50]
    )
    for event in history:
        event.label = COMPLAINT_HISTORY_LABELS.get(event.action, event.action)
    return {
        "complaint": complaint,
        "clock": complaint_clock(complaint, now),
        "holds": holds,
        "history": history,
        "may_acknowledge": handles and complaint.status == Complaint.Status.RECEIVED,
        # A form is offered only when the step is open to this user now; a refused one keeps what was typed.
        "complex_form": _step_form(forms, "complex", handles and is_open and not complaint.complex and in_time),
        "extend_form": _step_form(
            forms, "extend", approves and is_open and complaint.complex and not complaint.extended and in_time
        ),
        "resolve_form": _step_form(forms, "resolve", handles and is_open),
        "extension_days": sla.EXTENSION_DAYS,
        "complex_days": sla.COMPLEX_DAYS,
    }


@login_required
@require_safe
def complaint_detail_view(request, pk: int):
    complaint = _visible_complaint(request.user, pk)
    return render(request, "compliance/complaint_detail.html", _complaint_context(request, complaint))


def _acknowledge(complaint, actor, data):
    return complaint_acknowledge(complaint_id=complaint.pk, actor=actor)


def _complex(complaint, actor, data):
    return complaint_mark_complex(complaint_id=complaint.pk, actor=actor, **data)


def _extend(complaint, actor, data):
    return complaint_extend(complaint_id=complaint.pk, actor=actor, **data)


def _resolve(complaint, actor, data):
    return complaint_resolve(complaint_id=complaint.pk, actor=actor, **data)


# step → (roles, form, service call, message when done)
COMPLAINT_STEPS = {
    "acknowledge": (COMPLAINT_HANDLERS, None, _acknowledge, gettext_lazy("Receipt acknowledged.")),
    "complex": (COMPLAINT_HANDLERS, ComplaintReasonForm, _complex, gettext_lazy("Marked complex; new deadline set.")),
    "extend": (COMPLAINT_EXTENSION_APPROVERS, ComplaintReasonForm, _extend, gettext_lazy("Extension approved.")),
    "resolve": (COMPLAINT_HANDLERS, ComplaintResolveForm, _resolve, gettext_lazy("Complaint resolved.")),
}


@login_required
@require_POST
def complaint_step_view(request, pk: int, step: str):
    """One step of handling a complaint; a refusal is shown on the page and changes nothing."""
    if step not in COMPLAINT_STEPS:
        raise Http404
    roles, form_class, run, done = COMPLAINT_STEPS[step]
    _require(request.user, roles)
    complaint = _visible_complaint(request.user, pk)
    form = form_class(request.POST, prefix=step) if form_class else None
    if form is not None and not form.is_valid():
        context = _complaint_context(request, complaint, **{step: form})
        return render(request, "compliance/complaint_detail.html", context, status=400)
    try:
        run(complaint, request.user, form.cleaned_data if form is not None else {})
    except DomainError as error:
        context = _complaint_context(request, complaint, **({step: form} if form is not None else {}))
        context["problem"] = error.message
        return render(request, "compliance/complaint_detail.html", context, status=error.http_status)
    messages.success(request, done)
    return redirect("compliance:complaint-detail", pk=complaint.pk)


REGISTER_ERROR_FIELDS = {
    ComplaintErrorCode.UNKNOWN_CASE: "case",
    ComplaintErrorCode.HOLD_NEEDS_CASE: "hold",
    ComplaintErrorCode.RECEIVED_IN_FUTURE: "received_at",
    ComplaintErrorCode.DESCRIPTION_REQUIRED: "description",
}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def complaint_register_view(request):
    """Register a complaint, also from a case page (?case=<id> fills the case in)."""
    _require(request.user, COMPLAINT_REGISTRARS)
    if request.method != "POST":
        case_id = request.GET.get("case", "")
        initial = {"case": f"C{int(case_id):08d}"} if case_id.isdigit() and len(case_id) <= 12 else {}
        form = ComplaintRegisterForm(initial=initial)
        back = reverse("cases:detail", args=[int(case_id)]) if initial else reverse("accounts:landing")
        return render(request, "compliance/complaint_form.html", {"form": form, "back_url": back})
    form = ComplaintRegisterForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            complaint = complaint_register(
                actor=request.user,
                channel=data["channel"],
                category=data["category"],
                description=data["description"],
                case_id=data["case"],
                received_at=data["received_at"],
                hold=data["hold"],
            )
        except DomainError as error:
            form.add_error(REGISTER_ERROR_FIELDS.get(error.code), error.message)
        else:
            messages.success(request, _("Complaint #%(number)s registered.") % {"number": complaint.pk})
            if _has_role(request.user, COMPLAINT_READERS):
                return redirect("compliance:complaint-detail", pk=complaint.pk)
            if complaint.case_id:
                return redirect("cases:detail", pk=complaint.case_id)
            return redirect("accounts:landing")
    context = {"form": form, "back_url": reverse("accounts:landing")}
    return render(request, "compliance/complaint_form.html", context, status=400)
