"""The case page's letters and escalation panel (htmx partial), the letter download and the legal page."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.models import Role
from cases.models import Case
from cases.selectors import visible_cases
from compliance.models import Hold
from compliance.selectors import active_holds
from config.errors import DomainError
from negotiation import dispatch, escalation
from negotiation.api_escalation import letter_response
from negotiation.models import Agency, Letter, LitigationReferral, Placement
from negotiation.page_refresh import with_case_refresh

PLACEMENT_ACTIONS = ("approve", "notify", "hand-over", "recall")
REFERRAL_ACTIONS = ("approve", "file", "withdraw")


def _visible_case(user, pk: int) -> Case:
    return get_object_or_404(visible_cases(user).select_related("account__debtor"), pk=pk)


def _visible(model, user, pk: int):
    return get_object_or_404(model.objects.filter(case__in=visible_cases(user)), pk=pk)


def _panel(request, case: Case, *, status: int = 200, **extra):
    """The panel for htmx; a plain form post goes back to the case page."""
    if not request.htmx and request.method == "POST" and status == 200:
        return redirect("cases:detail", pk=case.pk)
    user = request.user
    context = {
        "case": case,
        "letters": case.letters.select_related("created_by").order_by("-created_at", "-pk"),
        "placements": case.placements.select_related("agency", "proposed_by", "approved_by").order_by("-proposed_at"),
        "referrals": case.litigation_referrals.select_related("proposed_by", "legal_owner").order_by("-proposed_at"),
        "agencies": Agency.objects.filter(active=True),
        "letter_kinds": Letter.Kind.choices,
        "dispute": active_holds(case_id=case.pk).filter(kind=Hold.Kind.DISPUTE).first(),
        "is_supervisor": user.is_superuser or user.role in (Role.SUPERVISOR, Role.ADMIN),
        "is_legal": user.is_superuser or user.role in (Role.LEGAL, Role.ADMIN),
        **extra,
    }
    response = render(request, "negotiation/escalation_panel.html", context, status=status)
    # An approval escalates the case and a dispute decision lifts a hold: the page's header and box follow.
    return with_case_refresh(request, response, case.pk)


def _run(request, case: Case, action, done: str):
    """Call a service; a refusal shows in the panel with its status, success says what was done."""
    try:
        action()
    except DomainError as error:
        reasons = error.details.get("reasons", []) if isinstance(error.details, dict) else []
        problems = [error.message, *(reason.get("detail", "") for reason in reasons)]
        return _panel(request, case, status=error.http_status, problems=problems)
    except PermissionDenied as error:
        return _panel(request, case, status=403, problems=[str(error) or _("Your role may not do this.")])
    return _panel(request, case, done=done)


@login_required
@require_safe
def escalation_panel(request, pk: int):
    return _panel(request, _visible_case(request.user, pk))


@login_required
@require_POST
def letter_issue_view(request, pk: int):
    case = _visible_case(request.user, pk)
    kind = request.POST.get("kind", "")
    return _run(
        request, case, lambda: dispatch.letter_issue(case_id=case.pk, kind=kind, actor=request.user, path="web"),
        _("Letter issued."),
    )


@login_required
@require_POST
def letter_proof_view(request, pk: int, step: str):
    letter = _visible(Letter, request.user, pk)
    case = _visible_case(request.user, letter.case_id)
    proof = request.POST.get("proof", "")
    if step == "dispatched":
        action, done = dispatch.letter_mark_dispatched, _("Dispatch recorded.")
    elif step == "delivered":
        action, done = dispatch.letter_mark_delivered, _("Delivery recorded.")
    else:
        raise Http404
    return _run(request, case, lambda: action(letter_id=letter.pk, proof=proof, actor=request.user), done)


@login_required
@require_safe
def letter_download(request, pk: int):
    """Letters are only ever served here and by the API: within the user's cases, as an attachment."""
    try:
        letter = dispatch.letter_read(letter_id=pk, actor=request.user)
    except Letter.DoesNotExist:
        raise Http404 from None
    except dispatch.LetterAltered as error:
        return render(request, "negotiation/letter_altered.html", {"message": error.message}, status=409)
    return letter_response(letter)


@login_required
@require_POST
def placement_propose_view(request, pk: int):
    case = _visible_case(request.user, pk)
    agency = get_object_or_404(Agency.objects.filter(active=True), pk=request.POST.get("agency") or 0)
    return _run(
        request, case,
        lambda: escalation.placement_propose(case_id=case.pk, agency_id=agency.pk, actor=request.user),
        _("Agency placement proposed."),
    )


@login_required
@require_POST
def placement_action_view(request, pk: int, action: str):
    if action not in PLACEMENT_ACTIONS:
        raise Http404
    placement = _visible(Placement, request.user, pk)
    case = _visible_case(request.user, placement.case_id)
    reason = request.POST.get("reason", "")
    calls = {
        "approve": lambda: escalation.placement_approve(placement_id=pk, actor=request.user, reason=reason),
        "notify": lambda: escalation.placement_notify(placement_id=pk, actor=request.user),
        "hand-over": lambda: escalation.placement_hand_over(placement_id=pk, actor=request.user),
        "recall": lambda: escalation.placement_recall(placement_id=pk, actor=request.user, reason=reason),
    }
    return _run(request, case, calls[action], _("Placement updated."))


@login_required
@require_POST
def referral_propose_view(request, pk: int):
    case = _visible_case(request.user, pk)
    notes = request.POST.get("notes", "")
    return _run(
        request, case, lambda: escalation.referral_propose(case_id=case.pk, actor=request.user, notes=notes),
        _("Litigation referral proposed."),
    )


@login_required
@require_POST
def referral_action_view(request, pk: int, action: str):
    if action not in REFERRAL_ACTIONS:
        raise Http404
    referral = _visible(LitigationReferral, request.user, pk)
    case = _visible_case(request.user, referral.case_id)
    reason, notes = request.POST.get("reason", ""), request.POST.get("notes", "")
    calls = {
        "approve": lambda: escalation.referral_approve(referral_id=pk, actor=request.user, reason=reason),
        "file": lambda: escalation.referral_file(referral_id=pk, actor=request.user, notes=notes),
        "withdraw": lambda: escalation.referral_withdraw(referral_id=pk, actor=request.user, reason=reason),
    }
    return _run(request, case, calls[action], _("Litigation referral updated."))


@login_required
@require_POST
def dispute_resolve_view(request, pk: int):
    case = _visible_case(request.user, pk)
    outcome, reason = request.POST.get("outcome", ""), request.POST.get("reason", "")
    try:
        result = escalation.dispute_resolve(case_id=case.pk, outcome=outcome, reason=reason, actor=request.user)
    except DomainError as error:
        return _panel(request, case, status=error.http_status, problems=[error.message])
    except PermissionDenied as error:
        return _panel(request, case, status=403, problems=[str(error)])
    if result.letter_refused and request.htmx:
        return _panel(
            request, case, done=_("Dispute decided; the letter could not be issued now."),
            problems=[refusal.get("detail", "") for refusal in result.letter_refused],
        )
    return _panel(request, case, done=_("Dispute decided."))


@login_required
@require_safe
def escalation_list(request):
    """Legal's page (supervisors see their teams'): referrals and placements with their status."""
    return render(request, "negotiation/escalation_list.html", {
        "referrals": escalation.referrals_visible(request.user)[:200],
        "placements": escalation.placements_visible(request.user)[:200],
    })
