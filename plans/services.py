"""Plan offers: the terms a collector proposes, whether the cardholder can afford them, whether they are within
the maker's authority, and the supervisor's approval (maker-checker) when they are not."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.roles import role_require
from cases.models import Case, CaseStatus
from cases.selectors import visible_cases
from cases.services import case_transition
from compliance import audit
from compliance.reasons import ReasonCode, source_text
from config.errors import Conflict, DomainError
from negotiation.models import FollowUpTask
from negotiation.services import task_create
from plans.models import AuthorityLimit, Method, Offer, PlanKind
from plans.schedule import Schedule, ScheduleError, Terms, build
from plans.selectors import latest_verified_verification

FEN = Decimal("0.01")
HUNDRED = Decimal("100")
# The scheme's ceiling for a personalised installment plan (grace included), whatever anyone's authority.
MAX_PLAN_MONTHS = 60
# A plan's first installment is normally due within a month; a deferral pushes it later than this.
NORMAL_FIRST_DUE_DAYS = 31
LONGEST_DEFERRAL_DAYS = 366
OFFER_MAKERS = {Role.COLLECTOR, Role.SUPERVISOR, Role.ADMIN}
APPROVERS = {Role.SUPERVISOR, Role.ADMIN}
WITHDRAWABLE = (Offer.Status.PENDING_APPROVAL, Offer.Status.READY, Offer.Status.OFFERED)


class OfferError:
    CASE_STATE = "offer_case_state"
    NOT_VERIFIED = "situation_not_verified"
    NOTHING_OVERDUE = "nothing_overdue"
    TOO_LONG = "plan_over_60_months"
    KIND_TERMS = "terms_do_not_fit_kind"
    LIMIT_TERMS = "limit_adjustment_incomplete"
    UNAFFORDABLE = "offer_unaffordable"
    OVERRIDE_REASON_REQUIRED = "affordability_reason_required"
    NOT_PENDING = "offer_not_pending"
    MAKER_CANNOT_DECIDE = "maker_cannot_decide"
    REASON_REQUIRED = "reason_required"
    NOT_WITHDRAWABLE = "offer_not_withdrawable"
    INVALID_LIMIT = "invalid_authority_limit"


class ApprovalCode:
    """Why an offer needs a supervisor: each is one way the terms exceed the maker's authority."""

    INTEREST_WAIVER = "interest_waiver_over_authority"
    FEE_WAIVER = "fee_waiver_over_authority"
    MONTHS = "term_over_authority"
    GRACE = "grace_over_authority"
    LIMIT_ADJUSTMENT = "limit_adjustment_not_in_authority"
    NO_AUTHORITY = "no_authority_for_role"


class Affordability:
    BLOCK = "block"
    OVERRIDE = "override"


class OfferUnaffordable(DomainError):
    code = OfferError.UNAFFORDABLE


# (role, interest waiver %, fee waiver %, months, grace months, may adjust the limit). Legal has no row: legal
# works escalated cases, where no plan is offered (propose_plan is a case worker's transition); admin is a supervisor.
SHIPPED_AUTHORITY = (
    (Role.COLLECTOR, Decimal("30"), Decimal("30"), 24, 3, False),
    (Role.SUPERVISOR, Decimal("100"), Decimal("100"), 60, 12, True),
    (Role.ADMIN, Decimal("100"), Decimal("100"), 60, 12, True),
)
AUTHORITY_FIELDS = (
    "max_interest_waiver_pct", "max_fee_waiver_pct", "max_months", "max_grace_months", "may_adjust_limit",
)


@dataclass(frozen=True)
class Balance:
    principal: Decimal
    interest: Decimal
    fees: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.fees


@dataclass(frozen=True)
class OfferTerms:
    """What a person chooses for an offer, before it is turned into schedule terms."""

    kind: str
    method: str
    months: int
    first_due_date: date
    annual_rate: Decimal = Decimal("0")
    monthly_fee_rate: Decimal = Decimal("0")
    interest_waiver_pct: Decimal = Decimal("0")
    fee_waiver_pct: Decimal = Decimal("0")
    grace_months: int = 0
    new_limit: Decimal | None = None
    new_limit_expires_on: date | None = None


def may_offer(user) -> bool:
    return user.is_superuser or user.role in OFFER_MAKERS


def case_balance(case: Case) -> Balance:
    account = case.account
    return Balance(account.principal_overdue, account.interest_overdue, account.fees_overdue)


def deferral_months(first_due_date: date, today: date) -> int:
    """Whole months the first installment is pushed beyond the normal first month."""
    months = (first_due_date.year - today.year) * 12 + first_due_date.month - today.month
    if first_due_date.day < today.day:
        months -= 1
    return max(months - 1, 0)


def schedule_terms(*, terms: OfferTerms, balance: Balance, today: date) -> Terms:
    """Map a plan kind onto the calculator's terms. Waivers combine with every kind.

    The calculator always finances principal + interest and fees after their waivers, so the kinds differ in
    when payments start and what is priced:
    - installments: repaid from the first due date, usually at the card's flat installment fee; no grace;
    - deferral: the same, but the first due date lies more than a month ahead (at most a year); the months
      beyond the first count against the maker's grace authority;
    - pause: nothing is due and nothing accrues for `grace_months` (at least one) after the first due date,
      then the installments run (schedule.build moves the dates);
    - restructure: the whole overdue balance is refinanced at a new annual rate (annuity or equal principal,
      the rate required) over the new term.
    """
    kind = terms.kind
    if kind not in PlanKind.values:
        raise DomainError(_("Choose a kind of plan."), code=OfferError.KIND_TERMS, details={"field": "kind"})
    if terms.grace_months and kind != PlanKind.PAUSE:
        raise DomainError(
            _("A grace period belongs to a payment pause; choose that kind or set the grace months to zero."),
            code=OfferError.KIND_TERMS,
            details={"field": "grace_months"},
        )
    if kind == PlanKind.PAUSE and terms.grace_months < 1:
        raise DomainError(
            _("A payment pause needs at least one grace month."), code=OfferError.KIND_TERMS,
            details={"field": "grace_months"},
        )
    days_ahead = (terms.first_due_date - today).days
    if kind == PlanKind.DEFERRAL and not NORMAL_FIRST_DUE_DAYS < days_ahead <= LONGEST_DEFERRAL_DAYS:
        raise DomainError(
            _("A deferral's first due date lies more than %(min)s days and at most a year ahead.")
            % {"min": NORMAL_FIRST_DUE_DAYS},
            code=OfferError.KIND_TERMS,
            details={"field": "first_due_date"},
        )
    if kind == PlanKind.RESTRUCTURE and (terms.method == Method.FLAT_FEE or terms.annual_rate <= 0):
        raise DomainError(
            _("A restructuring refinances the whole balance at a new annual rate: choose equal installments or "
              "equal principal and set the rate."),
            code=OfferError.KIND_TERMS,
            details={"field": "annual_rate"},
        )
    if terms.months + terms.grace_months > MAX_PLAN_MONTHS:
        raise DomainError(
            _("A plan runs at most %(max)s months, grace included.") % {"max": MAX_PLAN_MONTHS},
            code=OfferError.TOO_LONG,
            details={"field": "months"},
        )
    return Terms(
        principal=balance.principal,
        interest=balance.interest,
        fees=balance.fees,
        method=terms.method,
        months=terms.months,
        first_due_date=terms.first_due_date,
        annual_rate=terms.annual_rate,
        monthly_fee_rate=terms.monthly_fee_rate,
        interest_waiver_pct=terms.interest_waiver_pct,
        fee_waiver_pct=terms.fee_waiver_pct,
        grace_months=terms.grace_months,
    )


def schedule_for(*, terms: OfferTerms, balance: Balance, today: date) -> Schedule:
    """The schedule these terms give, or a DomainError naming the field that is wrong."""
    try:
        return build(schedule_terms(terms=terms, balance=balance, today=today))
    except ScheduleError as error:
        raise DomainError(str(error), code=error.code, details={"field": error.field}) from error


def _limit_terms_check(terms: OfferTerms, today: date) -> None:
    if (terms.new_limit is None) != (terms.new_limit_expires_on is None):
        raise DomainError(
            _("A temporary credit limit needs both the new limit and the day it expires."),
            code=OfferError.LIMIT_TERMS,
            details={"field": "new_limit"},
        )
    if terms.new_limit is not None and terms.new_limit < 0:
        raise DomainError(
            _("The temporary credit limit cannot be negative."), code=OfferError.LIMIT_TERMS,
            details={"field": "new_limit"},
        )
    if terms.new_limit_expires_on is not None and terms.new_limit_expires_on <= today:
        raise DomainError(
            _("The temporary credit limit must expire after today."), code=OfferError.LIMIT_TERMS,
            details={"field": "new_limit_expires_on"},
        )


def approval_reasons(*, terms: OfferTerms, limit: AuthorityLimit | None, today: date) -> list[dict]:
    """Each way the terms exceed the authority of the maker's role, as {code, detail, allowed, offered}."""
    if limit is None:
        detail = _("Your role has no authority of its own to offer plans.")
        return [{"code": ApprovalCode.NO_AUTHORITY, "detail": detail, "allowed": None, "offered": None}]
    reasons = []

    def exceeds(code: str, offered, allowed, text: str) -> None:
        if offered > allowed:
            reasons.append({"code": code, "detail": text % {"offered": offered, "allowed": allowed},
                            "allowed": str(allowed), "offered": str(offered)})

    exceeds(ApprovalCode.INTEREST_WAIVER, terms.interest_waiver_pct, limit.max_interest_waiver_pct,
            _("Interest waiver %(offered)s %% is above the authority of %(allowed)s %%."))
    exceeds(ApprovalCode.FEE_WAIVER, terms.fee_waiver_pct, limit.max_fee_waiver_pct,
            _("Fee waiver %(offered)s %% is above the authority of %(allowed)s %%."))
    exceeds(ApprovalCode.MONTHS, terms.months, limit.max_months,
            _("%(offered)s months is longer than the authority of %(allowed)s months."))
    grace = terms.grace_months
    if terms.kind == PlanKind.DEFERRAL:
        grace = deferral_months(terms.first_due_date, today)
    exceeds(ApprovalCode.GRACE, grace, limit.max_grace_months,
            _("%(offered)s months of grace or deferral is longer than the authority of %(allowed)s months."))
    if terms.new_limit is not None and not limit.may_adjust_limit:
        reasons.append({"code": ApprovalCode.LIMIT_ADJUSTMENT,
                        "detail": _("A temporary credit-limit adjustment is not within this role's authority."),
                        "allowed": False, "offered": True})
    return reasons


def authority_for(actor) -> AuthorityLimit | None:
    role = Role.ADMIN if actor.is_superuser else actor.role
    return AuthorityLimit.objects.filter(role=role).first()


def offer_create(
    *,
    case_id: int,
    actor,
    kind: str,
    method: str,
    months: int,
    first_due_date: date,
    annual_rate: Decimal = Decimal("0"),
    monthly_fee_rate: Decimal = Decimal("0"),
    interest_waiver_pct: Decimal = Decimal("0"),
    fee_waiver_pct: Decimal = Decimal("0"),
    grace_months: int = 0,
    new_limit: Decimal | None = None,
    new_limit_expires_on: date | None = None,
    affordability_override: str = "",
) -> Offer:
    """Price the terms on the case's overdue balance and store the offer: ready when within the maker's authority,
    pending approval otherwise. A case in verification moves to plan. Unaffordable offers follow
    settings.PLAN_AFFORDABILITY ("block" refuses; "override" needs a written reason)."""
    role_require(actor, OFFER_MAKERS, _("Your role does not offer repayment plans."))
    today = timezone.localdate()
    terms = OfferTerms(
        kind=kind, method=method, months=months, first_due_date=first_due_date, annual_rate=annual_rate,
        monthly_fee_rate=monthly_fee_rate, interest_waiver_pct=interest_waiver_pct, fee_waiver_pct=fee_waiver_pct,
        grace_months=grace_months, new_limit=new_limit, new_limit_expires_on=new_limit_expires_on,
    )
    override = (affordability_override or "").strip()
    with transaction.atomic():
        if not visible_cases(actor).filter(pk=case_id).exists():
            raise PermissionDenied(_("This case is not in your teams."))
        case = Case.objects.select_for_update(of=("self",)).select_related("account").get(pk=case_id)
        if case.status not in (CaseStatus.VERIFICATION, CaseStatus.PLAN):
            raise Conflict(
                _("A plan is offered in verification or plan, not in “%(state)s”.")
                % {"state": case.get_status_display()},
                code=OfferError.CASE_STATE,
            )
        verification = latest_verified_verification(case)
        if verification is None:
            raise Conflict(_("Verify the cardholder's situation before offering a plan."), code=OfferError.NOT_VERIFIED)
        balance = case_balance(case)
        if balance.total <= 0:
            raise Conflict(_("Nothing is overdue on this account."), code=OfferError.NOTHING_OVERDUE)
        _limit_terms_check(terms, today)
        schedule = schedule_for(terms=terms, balance=balance, today=today)
        disposable = verification.disposable_income
        unaffordable = disposable is not None and schedule.largest_installment > disposable
        if unaffordable:
            _affordability_check(override, schedule.largest_installment, disposable)
        reasons = approval_reasons(terms=terms, limit=authority_for(actor), today=today)
        if case.status == CaseStatus.VERIFICATION:
            case_transition(case_id=case.pk, name="propose_plan", actor=actor, reason_code=ReasonCode.PLAN_OFFERED)
        offer = Offer.objects.create(
            case=case,
            kind=kind,
            method=method,
            months=months,
            annual_rate=annual_rate,
            monthly_fee_rate=monthly_fee_rate,
            interest_waiver_pct=interest_waiver_pct,
            fee_waiver_pct=fee_waiver_pct,
            grace_months=grace_months,
            first_due_date=first_due_date,
            new_limit=new_limit,
            new_limit_expires_on=new_limit_expires_on,
            principal=balance.principal,
            interest=balance.interest,
            fees=balance.fees,
            financed_amount=schedule.financed_amount,
            total_payable=schedule.total_payable,
            total_waived=schedule.total_waived,
            largest_installment=schedule.largest_installment,
            schedule=schedule.as_json(),
            disposable_income=disposable,
            unaffordable=unaffordable,
            affordability_override=override if unaffordable else "",
            approval_reasons=reasons,
            status=Offer.Status.PENDING_APPROVAL if reasons else Offer.Status.READY,
            created_by=actor,
        )
        audit.record(
            actor=actor,
            action="offer.create",
            target=offer,
            case_id=case.pk,
            changes={
                "kind": kind, "method": method, "months": months, "grace_months": grace_months,
                "interest_waiver_pct": interest_waiver_pct, "fee_waiver_pct": fee_waiver_pct,
                "new_limit": new_limit, "largest_installment": offer.largest_installment,
                "total_payable": offer.total_payable, "total_waived": offer.total_waived,
                "unaffordable": unaffordable, "status": offer.status,
                "approval_reasons": [reason["code"] for reason in reasons],
            },
            reason=offer.affordability_override,
        )
    return offer


def _affordability_check(override: str, installment: Decimal, disposable: Decimal) -> None:
    figures = {"installment": installment, "income": disposable}
    if settings.PLAN_AFFORDABILITY == Affordability.BLOCK:
        raise OfferUnaffordable(
            _("The largest installment (%(installment)s) is above the verified disposable income (%(income)s).")
            % figures,
            details={"largest_installment": installment, "disposable_income": disposable},
        )
    if not override:
        raise OfferUnaffordable(
            _("The largest installment (%(installment)s) is above the verified disposable income (%(income)s); "
              "write why it is offered anyway.") % figures,
            code=OfferError.OVERRIDE_REASON_REQUIRED,
            details={"largest_installment": installment, "disposable_income": disposable},
        )


# --- Approval (maker-checker) --------------------------------------------------------------------


def _locked_offer(offer_id: int) -> Offer:
    # The case row first, as every service that writes the audit log does, then the offer.
    case_id = Offer.objects.values_list("case_id", flat=True).get(pk=offer_id)
    Case.objects.select_for_update(of=("self",)).filter(pk=case_id).values_list("pk", flat=True).get()
    return Offer.objects.select_for_update(of=("self",)).select_related("case").get(pk=offer_id)


def _decider(offer: Offer, actor) -> None:
    """A supervisor of the case's team, or an admin, who is not the offer's maker."""
    role_require(actor, APPROVERS, _("Only a supervisor approves or rejects offers."))
    if not visible_cases(actor).filter(pk=offer.case_id).exists():
        raise PermissionDenied(_("This case is not in your teams."))
    if offer.created_by_id == actor.pk:
        raise PermissionDenied(_("Someone other than the offer's maker must decide on it."))
    if offer.status != Offer.Status.PENDING_APPROVAL:
        raise Conflict(
            _("This offer is not awaiting approval; it is “%(status)s”.") % {"status": offer.get_status_display()},
            code=OfferError.NOT_PENDING,
        )


def _tell_maker(offer: Offer, actor, note_code: str, **params) -> None:
    task_create(
        case_id=offer.case_id,
        kind=FollowUpTask.Kind.OTHER,
        due_on=timezone.localdate(),
        actor=actor,
        note_code=note_code,
        note_params={**offer_label_params(offer), **params},
        assigned_to_id=offer.created_by_id,
    )


def offer_approve(*, offer_id: int, actor, reason: str = "") -> Offer:
    """The checker approves a pending offer; it becomes ready to send and its maker is told by a task."""
    reason = (reason or "").strip()
    with transaction.atomic():
        offer = _locked_offer(offer_id)
        _decider(offer, actor)
        if offer.case.status != CaseStatus.PLAN:
            raise Conflict(
                _("The case is no longer in plan but in “%(state)s”; reject the offer instead.")
                % {"state": offer.case.get_status_display()},
                code=OfferError.CASE_STATE,
            )
        offer.status = Offer.Status.READY
        offer.decided_by, offer.decided_at, offer.decision_reason = actor, timezone.now(), reason
        offer.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        audit.record(
            actor=actor, action="offer.approve", target=offer, case_id=offer.case_id, reason=reason,
            changes={"status": [Offer.Status.PENDING_APPROVAL, offer.status]},
        )
        _tell_maker(offer, actor, ReasonCode.OFFER_APPROVED)
    return offer


def offer_reject(*, offer_id: int, actor, reason: str) -> Offer:
    """The checker rejects a pending offer with a written reason; its maker is told by a task."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Write why the offer is rejected."), code=OfferError.REASON_REQUIRED)
    with transaction.atomic():
        offer = _locked_offer(offer_id)
        _decider(offer, actor)
        offer.status = Offer.Status.REJECTED
        offer.decided_by, offer.decided_at, offer.decision_reason = actor, timezone.now(), reason
        offer.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        audit.record(
            actor=actor, action="offer.reject", target=offer, case_id=offer.case_id, reason=reason,
            changes={"status": [Offer.Status.PENDING_APPROVAL, offer.status]},
        )
        _tell_maker(offer, actor, ReasonCode.OFFER_REJECTED, reason=reason)
    return offer


def offer_withdraw(*, offer_id: int, actor, reason: str) -> Offer:
    """Take back an offer not yet accepted (awaiting approval, ready or offered), with a reason."""
    role_require(actor, OFFER_MAKERS, _("Your role does not withdraw offers."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Write why the offer is withdrawn."), code=OfferError.REASON_REQUIRED)
    with transaction.atomic():
        offer = _locked_offer(offer_id)
        if not visible_cases(actor).filter(pk=offer.case_id).exists():
            raise PermissionDenied(_("This case is not in your teams."))
        if offer.status not in WITHDRAWABLE:
            raise Conflict(
                _("An offer that is “%(status)s” cannot be withdrawn.") % {"status": offer.get_status_display()},
                code=OfferError.NOT_WITHDRAWABLE,
            )
        source = offer.status
        offer.status = Offer.Status.WITHDRAWN
        offer.decision_reason = reason
        offer.save(update_fields=["status", "decision_reason"])
        audit.record(
            actor=actor, action="offer.withdraw", target=offer, case_id=offer.case_id, reason=reason,
            changes={"status": [source, offer.status]},
        )
    return offer


def offer_label_params(offer: Offer) -> dict:
    """What a task note about an offer names, as stored parameters (the kind as its source text)."""
    return {"kind": source_text(offer.get_kind_display()), "months": offer.months,
            "amount": f"¥{offer.largest_installment:,.2f}"}


def offer_label(offer: Offer) -> str:
    return _("%(kind)s, %(months)s months, largest installment %(amount)s") % {
        "kind": offer.get_kind_display(),
        "months": offer.months,
        "amount": f"¥{offer.largest_installment:,.2f}",
    }


# --- Authority limits ----------------------------------------------------------------------------


def authority_limits_ensure_shipped(**kwargs) -> None:
    """Add the shipped authority of each role that has none; never touch a row a supervisor edited."""
    from django.db import connection

    if AuthorityLimit._meta.db_table not in connection.introspection.table_names():
        return
    existing = set(AuthorityLimit.objects.values_list("role", flat=True))
    AuthorityLimit.objects.bulk_create(
        [
            AuthorityLimit(role=role, **dict(zip(AUTHORITY_FIELDS, values, strict=True)))
            for role, *values in SHIPPED_AUTHORITY
            if role not in existing
        ],
        ignore_conflicts=True,
    )


def _limit_value(name: str, value):
    bounds = {
        "max_interest_waiver_pct": (Decimal("0"), Decimal("100")),
        "max_fee_waiver_pct": (Decimal("0"), Decimal("100")),
        "max_months": (1, MAX_PLAN_MONTHS),
        "max_grace_months": (0, 12),
    }
    if name == "may_adjust_limit":
        return bool(value)
    low, high = bounds[name]
    try:
        value = Decimal(str(value)) if isinstance(low, Decimal) else int(value)
    except (ArithmeticError, TypeError, ValueError):
        value = None
    if value is None or not low <= value <= high or (isinstance(value, Decimal) and value != value.quantize(FEN)):
        raise DomainError(
            _("%(field)s must be between %(low)s and %(high)s.")
            % {"field": AuthorityLimit._meta.get_field(name).verbose_name, "low": low, "high": high},
            code=OfferError.INVALID_LIMIT,
            details={"field": name},
        )
    return value


def authority_limit_update(*, limit_id: int, actor, **fields) -> AuthorityLimit:
    """A supervisor or admin changes what a role may offer alone; the change is audited."""
    role_require(actor, APPROVERS, _("Only supervisors edit authority limits."))
    unknown = set(fields) - set(AUTHORITY_FIELDS)
    if unknown:
        raise DomainError(
            _("Unknown fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}, code=OfferError.INVALID_LIMIT
        )
    values = {name: _limit_value(name, value) for name, value in fields.items()}
    with transaction.atomic():
        limit = AuthorityLimit.objects.select_for_update().get(pk=limit_id)
        changes = audit.changes_apply(limit, values)
        if not changes:
            return limit
        limit.updated_by = actor
        limit.save()
        audit.record(actor=actor, action="authority_limit.update", target=limit, changes=changes)
    return limit


# --- Suggestions ---------------------------------------------------------------------------------

# What a suggestion charges when the collector has not chosen: the card's usual installment pricing.
SUGGESTED_ANNUAL_RATE = Decimal("0.120000")
SUGGESTED_MONTHLY_FEE_RATE = Decimal("0.006000")
SUGGESTED_WAIVER_PCT = Decimal("50")


@dataclass(frozen=True)
class Suggestion:
    """A set of terms that fits the verified disposable income, ready to fill the builder's form."""

    code: str
    label: str
    terms: OfferTerms
    largest_installment: Decimal
    total_payable: Decimal
    total_waived: Decimal
    fits: bool
    approval_needed: bool

    def as_params(self) -> dict[str, str]:
        terms = self.terms
        return {
            "kind": terms.kind,
            "method": terms.method,
            "months": str(terms.months),
            "first_due_date": terms.first_due_date.isoformat(),
            "annual_rate": _percent_text(terms.annual_rate),
            "monthly_fee_rate": _percent_text(terms.monthly_fee_rate),
            "interest_waiver_pct": str(terms.interest_waiver_pct),
            "fee_waiver_pct": str(terms.fee_waiver_pct),
            "grace_months": str(terms.grace_months),
        }


def _percent_text(rate: Decimal) -> str:
    """A stored fraction as the builder's percentage field takes it: 0.006 → "0.6"."""
    return f"{(rate * HUNDRED).quantize(Decimal('0.0001')).normalize():f}"


def _shortest_fit(base: OfferTerms, *, balance: Balance, income: Decimal, today: date, longest: int):
    """The shortest term up to `longest` months whose largest installment fits; else the longest term."""
    last = None
    for months in range(1, longest + 1):
        terms = OfferTerms(**{**base.__dict__, "months": months})
        try:
            schedule = schedule_for(terms=terms, balance=balance, today=today)
        except DomainError:
            continue
        last = (terms, schedule)
        if schedule.largest_installment <= income:
            return terms, schedule, True
    return (*last, False) if last else None


def offers_suggest(*, case: Case, today: date | None = None) -> list[Suggestion]:
    """Offers that fit the latest verified disposable income: the shortest equal-installment and flat-fee terms
    (60 months at most), the best a collector may offer alone, and one with a waiver. Empty without a verified
    income above zero."""
    today = today or timezone.localdate()
    verification = latest_verified_verification(case)
    income = verification.disposable_income if verification else None
    balance = case_balance(case)
    if income is None or income <= 0 or balance.total <= 0:
        return []
    collector = AuthorityLimit.objects.filter(role=Role.COLLECTOR).first()
    first_due = today + timedelta(days=30)
    plain = OfferTerms(kind=PlanKind.INSTALLMENTS, method=Method.ANNUITY, months=1, first_due_date=first_due,
                       annual_rate=SUGGESTED_ANNUAL_RATE)
    candidates = [
        ("annuity", _("Shortest equal installments that fit"), plain, MAX_PLAN_MONTHS),
        ("flat_fee", _("Shortest flat-fee installments that fit"),
         OfferTerms(**{**plain.__dict__, "method": Method.FLAT_FEE, "annual_rate": Decimal("0"),
                       "monthly_fee_rate": SUGGESTED_MONTHLY_FEE_RATE}), MAX_PLAN_MONTHS),
    ]
    if collector is not None:
        candidates.append((
            "within_authority", _("Best within a collector's authority"),
            OfferTerms(**{**plain.__dict__, "interest_waiver_pct": collector.max_interest_waiver_pct,
                          "fee_waiver_pct": collector.max_fee_waiver_pct}),
            collector.max_months,
        ))
    candidates.append((
        "waiver", _("With a %(pct)s %% interest and fee waiver") % {"pct": SUGGESTED_WAIVER_PCT},
        OfferTerms(**{**plain.__dict__, "interest_waiver_pct": SUGGESTED_WAIVER_PCT,
                      "fee_waiver_pct": SUGGESTED_WAIVER_PCT}),
        MAX_PLAN_MONTHS,
    ))
    suggestions, seen = [], set()
    for code, label, base, longest in candidates:
        found = _shortest_fit(base, balance=balance, income=income, today=today, longest=longest)
        if found is None:
            continue
        terms, schedule, fits = found
        if terms in seen:
            continue
        seen.add(terms)
        suggestions.append(Suggestion(
            code=code,
            label=label,
            terms=terms,
            largest_installment=schedule.largest_installment,
            total_payable=schedule.total_payable,
            total_waived=schedule.total_waived,
            fits=fits,
            approval_needed=bool(approval_reasons(terms=terms, limit=collector, today=today)),
        ))
    return suggestions
