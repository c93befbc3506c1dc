"""The staff side of plans: the case page's plan builder (htmx partials), the supervisor's approval queue and
the authority limits page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.models import Role
from cases.models import Case, CaseStatus
from cases.selectors import visible_cases
from config.errors import DomainError
from plans.forms import AuthorityLimitFormSet, DecisionForm, OfferForm
from plans.models import AuthorityLimit, Offer
from plans.selectors import APPROVAL_QUEUE_SIZE, approval_queue, latest_verified_verification, offers_for_case
from plans.services import (
    AUTHORITY_FIELDS,
    WITHDRAWABLE,
    OfferTerms,
    approval_reasons,
    authority_for,
    authority_limit_update,
    case_balance,
    may_offer,
    offer_approve,
    offer_create,
    offer_reject,
    offer_withdraw,
    offers_suggest,
    schedule_for,
)

OFFERING_STATES = (CaseStatus.VERIFICATION, CaseStatus.PLAN)


def _is_supervisor(user) -> bool:
    return user.is_superuser or user.role in (Role.SUPERVISOR, Role.ADMIN)


def _require_supervisor(user) -> None:
    if not _is_supervisor(user):
        raise PermissionDenied(_("This page is for supervisors."))


def _visible_case(user, pk: int) -> Case:
    return get_object_or_404(visible_cases(user).select_related("account"), pk=pk)


def _visible_offer(user, pk: int) -> Offer:
    return get_object_or_404(Offer.objects.filter(case__in=visible_cases(user)), pk=pk)


def _default_form() -> OfferForm:
    """A bound form of the initial terms, so the builder opens with a schedule already shown."""
    form = OfferForm()
    data = {name: field.initial() if callable(field.initial) else field.initial for name, field in form.fields.items()}
    return OfferForm(data={name: "" if value is None else value for name, value in data.items()})


def _preview(request, case: Case, form: OfferForm) -> dict:
    """The schedule the form's terms give, the verified income beside the largest installment, and warnings."""
    verification = latest_verified_verification(case)
    disposable = verification.disposable_income if verification else None
    context = {"disposable_income": disposable, "verification": verification}
    if not form.is_valid():
        return {**context, "preview_problems": [_("Complete the terms to see the schedule.")]}
    today = timezone.localdate()
    terms = OfferTerms(**form.terms())
    try:
        schedule = schedule_for(terms=terms, balance=case_balance(case), today=today)
    except DomainError as error:
        return {**context, "preview_problems": [error.message]}
    return {
        **context,
        "schedule": schedule,
        "unaffordable": disposable is not None and schedule.largest_installment > disposable,
        "approval_reasons": approval_reasons(terms=terms, limit=authority_for(request.user), today=today),
    }


def _builder(request, case: Case, *, form: OfferForm | None = None, status: int = 200, **extra):
    """The builder for htmx; a plain form post goes back to the case page."""
    if not request.htmx and request.method == "POST" and status == 200:
        return redirect("cases:detail", pk=case.pk)
    form = form if form is not None else _default_form()
    context = {
        "case": case,
        "form": form,
        "offers": list(offers_for_case(case=case)),
        "suggestions": offers_suggest(case=case),
        "may_offer": may_offer(request.user),
        "withdrawable": WITHDRAWABLE,
        "can_offer": case.status in OFFERING_STATES and may_offer(request.user),
        "balance": case_balance(case),
        **_preview(request, case, form),
        **extra,
    }
    return render(request, "plans/_builder.html", context, status=status)


@login_required
@require_safe
def builder(request, pk: int):
    """The builder; a suggestion's "fill the form" link brings its terms in the query string."""
    case = _visible_case(request.user, pk)
    form = OfferForm(data=request.GET) if "kind" in request.GET else None
    return _builder(request, case, form=form)


@login_required
@require_POST
def preview(request, pk: int):
    """The live schedule while the terms are typed; nothing is stored."""
    case = _visible_case(request.user, pk)
    form = OfferForm(data=request.POST)
    return render(request, "plans/_preview.html", {"case": case, **_preview(request, case, form)})


@login_required
@require_POST
def offer_create_view(request, pk: int):
    case = _visible_case(request.user, pk)
    form = OfferForm(data=request.POST)
    if not form.is_valid():
        return _builder(request, case, form=form, status=400)
    try:
        offer = offer_create(
            case_id=case.pk,
            actor=request.user,
            affordability_override=form.cleaned_data["affordability_override"],
            **form.terms(),
        )
    except DomainError as error:
        return _builder(request, case, form=form, status=error.http_status, problems=[error.message])
    case.refresh_from_db()
    if offer.status == Offer.Status.PENDING_APPROVAL:
        done = _("Offer saved; it awaits a supervisor's approval.")
    else:
        done = _("Offer saved; it is ready to send.")
    return _builder(request, case, done=done)


@login_required
@require_POST
def offer_withdraw_view(request, pk: int):
    offer = _visible_offer(request.user, pk)
    case = _visible_case(request.user, offer.case_id)
    try:
        offer_withdraw(offer_id=offer.pk, actor=request.user, reason=request.POST.get("reason", ""))
    except DomainError as error:
        return _builder(request, case, status=error.http_status, problems=[error.message])
    return _builder(request, case, done=_("Offer withdrawn."))


# --- Approval queue ------------------------------------------------------------------------------


@login_required
@require_safe
def approvals(request):
    """Offers awaiting approval in the supervisor's teams, oldest first."""
    _require_supervisor(request.user)
    queue = approval_queue(user=request.user)
    offers = list(queue[:APPROVAL_QUEUE_SIZE])
    total = len(offers) if len(offers) < APPROVAL_QUEUE_SIZE else queue.count()
    return render(request, "plans/approvals.html", {"offers": offers, "total": total})


@login_required
@require_POST
def offer_decide_view(request, pk: int, decision: str):
    """Approve or reject one offer from the queue; the outcome is shown on the queue page."""
    _require_supervisor(request.user)
    offer = _visible_offer(request.user, pk)
    form = DecisionForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    service = offer_approve if decision == "approve" else offer_reject
    try:
        service(offer_id=offer.pk, actor=request.user, reason=reason)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("plans:approvals")
    if decision == "approve":
        messages.success(request, _("Offer on case %(case)s approved.") % {"case": offer.case.number})
    else:
        messages.success(request, _("Offer on case %(case)s rejected.") % {"case": offer.case.number})
    return redirect("plans:approvals")


# --- Authority limits ----------------------------------------------------------------------------


@login_required
def authority_limits(request):
    """What each role may offer without approval; the changed rows are saved together through the audited service."""
    _require_supervisor(request.user)
    limits = AuthorityLimit.objects.select_related("updated_by").order_by("role")
    formset = AuthorityLimitFormSet(request.POST or None, queryset=limits)
    context = {"formset": formset, "roles": dict(Role.choices)}
    if request.method == "POST":
        if not formset.is_valid():
            return render(request, "plans/authority.html", context, status=400)
        try:
            with transaction.atomic():
                for form in formset.forms:
                    if form.has_changed():
                        authority_limit_update(
                            limit_id=form.instance.pk,
                            actor=request.user,
                            **{name: form.cleaned_data[name] for name in AUTHORITY_FIELDS},
                        )
        except DomainError as error:
            return render(request, "plans/authority.html", {**context, "problems": [error.message]},
                          status=error.http_status)
        messages.success(request, _("Authority limits saved."))
        return redirect("plans:authority")
    return render(request, "plans/authority.html", context)
