"""The staff HTML screens for cases: parse the request, call a selector or service, render.
htmx requests get the partial they swap; full requests get the page."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST, require_safe
from django_fsm import ConcurrentTransition

from accounts.models import Role
from cases.api import WorklistFilterSerializer, upload_size_refusal
from cases.forms import (
    ClassificationPolicyForm,
    ImportUploadForm,
    ReassignForm,
    TransitionForm,
    WilfulDecisionForm,
)
from cases.imports import ImportFileRefused, failure_message, import_batch_queue
from cases.models import Bucket, Case, CaseStatus, Classification, ClassificationPolicy, ImportBatch
from cases.selectors import team_table, visible_cases, wilful_queue, worklist_for
from cases.services import (
    case_confirm_wilful,
    case_dismiss_wilful,
    case_reassign,
    case_transition,
    classification_policy_update,
    transitions_for,
)
from cases.templatetags.accord import transition_label
from compliance.models import Hold
from compliance.services import (
    BREATHING_SPACE_DAYS,
    HOLD_LIFTERS,
    HOLD_SETTERS,
    REVEALABLE_FIELDS,
    hold_lift,
    hold_set,
    personal_data_reveal,
)
from config.errors import DomainError

WORKLIST_PAGE_SIZE = 50
WILFUL_QUEUE_SIZE = 50

FILTER_LABELS = {
    "status": gettext_lazy("State"),
    "classification": gettext_lazy("Class"),
    "bucket": gettext_lazy("Bucket"),
    "dpd_min": gettext_lazy("Days past due from"),
    "dpd_max": gettext_lazy("Days past due to"),
    "amount_min": gettext_lazy("Overdue from"),
    "amount_max": gettext_lazy("Overdue to"),
    "q": gettext_lazy("Search"),
    "mine": gettext_lazy("Mine only"),
}


def _is_supervisor(user) -> bool:
    return user.role in (Role.SUPERVISOR, Role.ADMIN) or user.is_superuser


def _require_supervisor(user) -> None:
    if not _is_supervisor(user):
        raise PermissionDenied(_("This page is for supervisors."))


def _wants_partial(request) -> bool:
    # A history restore after a cache miss needs the whole page, not the fragment.
    return bool(request.htmx) and not request.htmx.history_restore_request


def _problems(message: str, details=None) -> list[dict]:
    return details or [{"detail": message}]


# --- Worklist ------------------------------------------------------------------------------------


def _filter_errors(errors: dict) -> list[tuple[str, str]]:
    return [(FILTER_LABELS.get(name, name), " ".join(texts)) for name, texts in errors.items()]


@login_required
@require_safe
def worklist(request):
    """The cases this user may work, filtered from the query string; htmx swaps only the results."""
    params = WorklistFilterSerializer(data=request.GET)
    valid = params.is_valid()
    cases = Case.objects.none()
    if valid:
        cases = worklist_for(user=request.user, filters=params.to_filters(request.user))
    page = Paginator(cases, WORKLIST_PAGE_SIZE).get_page(request.GET.get("page"))
    bulk = _is_supervisor(request.user)
    context = {
        "page": page,
        "filter_errors": [] if valid else _filter_errors(params.errors),
        "today": timezone.localdate(),
        "statuses": CaseStatus.choices,
        "classifications": Classification.choices,
        "buckets": Bucket.choices,
        "bulk_form": ReassignForm(user=request.user) if bulk else None,
    }
    template = "cases/_worklist_results.html" if _wants_partial(request) else "cases/worklist.html"
    response = render(request, template, context, status=200 if valid else 400)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_POST
def worklist_reassign(request):
    """Bulk reassignment of the ticked cases; back to the same worklist view with a message."""
    _require_supervisor(request.user)
    form = ReassignForm(request.POST, user=request.user)
    if form.is_valid():
        collector = form.cleaned_data["collector"]
        try:
            moved = case_reassign(
                case_ids=form.cleaned_data["case_ids"], collector_id=collector.pk, actor=request.user
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            name = collector.get_full_name() or collector.username
            messages.success(
                request,
                ngettext("%(count)d case moved to %(name)s.", "%(count)d cases moved to %(name)s.", moved)
                % {"count": moved, "name": name},
            )
    else:
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
        back = "cases:worklist"
    return redirect(back)


# --- Case page -----------------------------------------------------------------------------------


def _visible_case(user, pk: int) -> Case:
    related = ("account__debtor", "assigned_to", "team", "wilful_confirmed_by")
    return get_object_or_404(visible_cases(user).select_related(*related), pk=pk)


def case_header_context(user, case: Case) -> dict:
    """What the header strip needs: the case and the transitions this user may take. The page and the side
    panels' out-of-band refresh (negotiation) render the header from it."""
    # Forward steps first, then escalate / return / close: the order of Case.TRANSITION_NAMES.
    available = sorted(transitions_for(case, user), key=Case.TRANSITION_NAMES.index)
    return {
        "case": case,
        "transitions": available,
        "reason_required": [name for name in available if name in Case.REASON_REQUIRED],
    }


def _case_context(request, case: Case, **extra) -> dict:
    return {
        **case_header_context(request.user, case),
        "decides_wilful": _is_supervisor(request.user),
        "wilful_form": WilfulDecisionForm(),
        **_hold_permissions(request.user),
        **extra,
    }


@login_required
@require_safe
def case_detail(request, pk: int):
    case = _visible_case(request.user, pk)
    return render(request, "cases/case_detail.html", _case_context(request, case))


def _transition_answer(request, case: Case, *, status: int = 200, **extra):
    """The header and actions (and the timeline, out of band) for htmx; the whole page otherwise."""
    template = "cases/_case_transition_response.html" if _wants_partial(request) else "cases/case_detail.html"
    if status != 200:
        extra["typed_reason"] = request.POST.get("reason", "")  # a refusal does not lose what was typed
    return render(request, template, _case_context(request, case, **extra), status=status)


@login_required
@require_POST
def case_transition_view(request, pk: int):
    """Take one transition; a refusal is shown where the buttons are and changes nothing."""
    case = _visible_case(request.user, pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        unknown = _problems(_("Choose one of the steps offered."))
        return _transition_answer(request, case, problems=unknown, status=400)
    try:
        case_transition(case_id=case.pk, actor=request.user, **form.cleaned_data)
    except DomainError as error:
        refused = _problems(error.message, error.details)
        return _transition_answer(request, case, problems=refused, status=error.http_status)
    except ConcurrentTransition:
        stale = _("This case was changed by someone else. Reload the page.")
        return _transition_answer(request, case, problems=_problems(stale), status=409)
    done = _("Done: %(step)s.") % {"step": transition_label(form.cleaned_data["name"])}
    if not _wants_partial(request):
        messages.success(request, done)
        return redirect("cases:detail", pk=case.pk)
    return _transition_answer(request, _visible_case(request.user, pk), done=done)


WILFUL_DECISIONS = {"confirm": case_confirm_wilful, "dismiss": case_dismiss_wilful}


@login_required
@require_POST
def case_wilful_decision(request, pk: int, decision: str):
    """A supervisor confirms or dismisses a wilful suggestion, always with a reason."""
    if decision not in WILFUL_DECISIONS:
        raise Http404
    case = _visible_case(request.user, pk)
    form = WilfulDecisionForm(request.POST)
    if not form.is_valid():
        context = _case_context(request, case, wilful_form=form)
        return render(request, "cases/case_detail.html", context, status=400)
    try:
        WILFUL_DECISIONS[decision](case_id=case.pk, actor=request.user, reason=form.cleaned_data["reason"])
    except DomainError as error:
        context = _case_context(request, case, wilful_form=form, wilful_problems=_problems(error.message))
        return render(request, "cases/case_detail.html", context, status=error.http_status)
    if decision == "confirm":
        messages.success(request, _("Wilful classification confirmed."))
    else:
        messages.success(request, _("Wilful suggestion dismissed."))
    return redirect("cases:detail", pk=case.pk)


# --- Holds (the compliance box) -------------------------------------------------------------------

HOLD_REASON_MAX = 1000


def _hold_permissions(user) -> dict:
    """What the hold forms offer this user; compliance.services enforces the same table."""

    def may(roles) -> bool:
        return user.is_superuser or user.role in roles

    kinds = [(kind, label) for kind, label in Hold.Kind.choices if may(HOLD_SETTERS[kind])]
    breathing_space = any(kind == Hold.Kind.BREATHING_SPACE for kind, _label in kinds)
    return {
        "hold_kinds": kinds,
        "hold_lift_kinds": [kind for kind in Hold.Kind.values if may(HOLD_LIFTERS[kind])],
        "breathing_space_days": BREATHING_SPACE_DAYS,
        "breathing_space_until": timezone.now() + timedelta(days=BREATHING_SPACE_DAYS) if breathing_space else None,
    }


def _holds_answer(request, case: Case, *, done: str = "", status: int = 200, **extra):
    """The compliance box for htmx; otherwise back to the page (with the refusal shown if there is one)."""
    if _wants_partial(request):
        context = {"case": case, "hold_done": done, **_hold_permissions(request.user), **extra}
        return render(request, "cases/_compliance_box.html", context, status=status)
    if status == 200:
        messages.success(request, done)
        return redirect(f"{reverse('cases:detail', args=[case.pk])}#compliance-box")
    return render(request, "cases/case_detail.html", _case_context(request, case, **extra), status=status)


def _hold_reason(request) -> tuple[str, str | None]:
    reason = request.POST.get("reason", "")
    if len(reason) > HOLD_REASON_MAX:
        return reason, _("Keep the reason within %(max)d characters.") % {"max": HOLD_REASON_MAX}
    return reason, None


@login_required
@require_POST
def case_hold_set(request, pk: int):
    """Put a hold on the case; a role that may not set this kind gets 403 from the service."""
    case = _visible_case(request.user, pk)
    kind = request.POST.get("kind", "")
    reason, problem = _hold_reason(request)
    typed = {"hold_typed": {"kind": kind, "reason": reason}}
    if kind not in Hold.Kind.values:
        problem = _("Choose a kind of hold.")
    if problem:
        return _holds_answer(request, case, hold_problems=[problem], status=400, **typed)
    try:
        hold = hold_set(case_id=case.pk, kind=kind, reason=reason, actor=request.user)
    except DomainError as error:
        return _holds_answer(request, case, hold_problems=[error.message], status=error.http_status, **typed)
    return _holds_answer(request, case, done=_("Hold set: %(kind)s.") % {"kind": hold.get_kind_display()})


@login_required
@require_POST
def case_hold_lift(request, pk: int, hold_id: int):
    """Lift one of the case's holds, with a reason; a role that may not lift this kind gets 403."""
    case = _visible_case(request.user, pk)
    hold = get_object_or_404(Hold, pk=hold_id, case=case)
    reason, problem = _hold_reason(request)
    typed = {"lift_hold_id": hold.pk, "lift_typed": reason}
    if problem:
        return _holds_answer(request, case, lift_problems=[problem], status=400, **typed)
    try:
        hold_lift(hold_id=hold.pk, reason=reason, actor=request.user)
    except DomainError as error:
        return _holds_answer(request, case, lift_problems=[error.message], status=error.http_status, **typed)
    return _holds_answer(request, case, done=_("Hold lifted: %(kind)s.") % {"kind": hold.get_kind_display()})


# --- Personal data ------------------------------------------------------------------------------


@login_required
@require_POST
def case_reveal(request, pk: int):
    """Show one unmasked personal-data field for a stated reason; the reveal is audited, the value is not.
    htmx gets the field alone; a full request gets the page with the field shown."""
    case = _visible_case(request.user, pk)
    field = request.POST.get("field", "")
    if field not in REVEALABLE_FIELDS:
        raise Http404
    reason = request.POST.get("reason", "")
    try:
        value = personal_data_reveal(case_id=case.pk, field=field, reason=reason, actor=request.user)
    except DomainError as error:
        revealed, status = {"reveal_error": error.message, "reveal_error_field": field}, error.http_status
    else:
        revealed, status = {"revealed_field": field, "revealed_value": value}, 200
    if _wants_partial(request):
        context = {"case": case, "debtor": case.account.debtor, "field": field, **revealed}
        response = render(request, "cases/_reveal_field.html", context, status=status)
    else:
        response = render(request, "cases/case_detail.html", _case_context(request, case, **revealed), status=status)
    response["Cache-Control"] = "no-store"
    return response


# --- Supervisor ----------------------------------------------------------------------------------


def _supervisor_page(request, policy_form: ClassificationPolicyForm, status: int = 200):
    queue = wilful_queue(user=request.user)
    context = {
        "team_rows": team_table(user=request.user),
        "wilful_cases": queue[:WILFUL_QUEUE_SIZE],
        "wilful_total": queue.count(),
        "policy_form": policy_form,
    }
    return render(request, "cases/supervisor.html", context, status=status)


@login_required
@require_safe
def supervisor(request):
    """The team at a glance, the wilful decisions waiting, and the classification thresholds."""
    _require_supervisor(request.user)
    return _supervisor_page(request, ClassificationPolicyForm(instance=ClassificationPolicy.current()))


@login_required
@require_POST
def classification_policy(request):
    _require_supervisor(request.user)
    form = ClassificationPolicyForm(request.POST, instance=ClassificationPolicy.current())
    if not form.is_valid():
        return _supervisor_page(request, form, status=400)
    classification_policy_update(actor=request.user, **form.cleaned_data)
    messages.success(request, _("Classification policy saved; it applies from the next nightly refresh."))
    return redirect("cases:supervisor")


# --- Imports -------------------------------------------------------------------------------------

RECENT_IMPORTS = 20
ERRORS_ON_PAGE = 100


@login_required
def imports_page(request):
    """Upload an account file (checked whole, then queued) and the latest batches."""
    _require_supervisor(request.user)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    form, status = ImportUploadForm(), 200
    if request.method == "POST":
        refusal = upload_size_refusal(request)
        form = ImportUploadForm(None if refusal else request.POST, None if refusal else request.FILES)
        if refusal:
            form.add_error(None, refusal.message)
            status = refusal.http_status
        elif not form.is_valid():
            status = 400
        else:
            upload = form.cleaned_data["file"]
            try:
                batch, queued = import_batch_queue(
                    kind=ImportBatch.Kind.ACCOUNTS,
                    file=upload,
                    filename=upload.name,
                    size=upload.size,
                    uploaded_by=request.user,
                    encoding=form.cleaned_data["encoding"] or None,
                )
            except ImportFileRefused as refused:
                form.add_error("file", refused.message)
                status = refused.http_status
            else:
                if not queued:
                    messages.info(request, _("This file was uploaded before; this is its import."))
                return redirect("cases:import", pk=batch.pk)
    batches = ImportBatch.objects.select_related("uploaded_by")[:RECENT_IMPORTS]
    context = {"form": form, "batches": batches, "import_max_bytes": settings.IMPORT_MAX_BYTES}
    return render(request, "cases/imports.html", context, status=status)


@login_required
@require_safe
def import_detail(request, pk: int):
    """One batch: its state and a progress bar that htmx refreshes until the batch is over."""
    _require_supervisor(request.user)
    batch = get_object_or_404(ImportBatch.objects.select_related("uploaded_by"), pk=pk)
    context = {
        "batch": batch,
        "failure": failure_message(batch.failure_code),
        "errors": batch.errors[:ERRORS_ON_PAGE],
        "errors_url": reverse("api:import-errors", args=[batch.pk]),
    }
    template = "cases/_import_status.html" if _wants_partial(request) else "cases/import_detail.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
