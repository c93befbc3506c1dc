"""Every write to cases, accounts and payments. Each runs in one transaction and records its audit event."""

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import BigIntegerField, Exists, F, IntegerField, JSONField, OuterRef, Q, Subquery, When
from django.db.models import Case as SqlCase
from django.db.models import Value as V
from django.db.models.functions import Cast, Floor, Least
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import has_transition_perm

from accounts.models import Role, Team, User
from cases import classification as rules
from cases.allocation import allocate
from cases.models import (
    TRANSITION_LABELS,
    AssignmentRule,
    CardAccount,
    Case,
    CaseEvidence,
    CaseStatus,
    CaseTransition,
    Classification,
    ClassificationPolicy,
    Payment,
)
from cases.selectors import team_load
from cases.signals import payment_recorded
from compliance import audit
from compliance.reasons import ReasonCode, reason_stored, source_text
from compliance.services import holds_lift_for_ended_case
from config.errors import Conflict, DomainError


class ErrorCode:
    UNKNOWN_TRANSITION = "unknown_transition"
    TRANSITION_NOT_ALLOWED = "transition_not_allowed"
    GUARD_FAILED = "guard_failed"
    REASON_REQUIRED = "reason_required"
    NOT_A_COLLECTOR = "not_a_collector"
    UNKNOWN_ACCOUNT = "unknown_account"
    DUPLICATE_PAYMENT = "duplicate_payment"
    INVALID_AMOUNT = "invalid_amount"
    PAID_IN_FUTURE = "paid_in_future"
    NOT_SUGGESTED = "wilful_not_suggested"


class UnknownTransition(DomainError):
    code = ErrorCode.UNKNOWN_TRANSITION


class TransitionRefused(Conflict):
    """The transition is not possible now: the state does not allow it, or a guard failed."""

    code = ErrorCode.TRANSITION_NOT_ALLOWED


class ReasonRequired(DomainError):
    code = ErrorCode.REASON_REQUIRED


class PaymentRefused(DomainError):
    code = ErrorCode.INVALID_AMOUNT


# --- The state machine ---------------------------------------------------------------------------


def failed_guards(case: Case, name: str, *, system: bool = False) -> list[dict]:
    """Why `name` cannot run on `case` now: the state, or each condition that does not hold (with `system`,
    also what the system must find before it takes the transition on its own)."""
    method = getattr(case, name)
    meta = method._django_fsm
    if not meta.has_transition(case.status):
        return [
            {
                "code": "state",
                "transition": name,
                "state": case.status,
                "detail": _("“%(name)s” is not possible in state “%(state)s”.")
                % {"name": TRANSITION_LABELS.get(name, name), "state": case.get_status_display()},
            }
        ]
    conditions = list(meta.get_transition(case.status).conditions)
    if system:
        conditions += Case.SYSTEM_CONDITIONS.get(name, ())
    return [
        {"code": condition.code, "detail": str(condition.message)} for condition in conditions if not condition(case)
    ]


def transitions_for(case: Case, user) -> list[str]:
    """Names of the transitions this user may take on this case now: the same as django-fsm's
    get_available_user_status_transitions, with the role checked before the facts, so a page never queries the
    facts of a transition its reader may not take."""
    names = []
    for method_name in Case.TRANSITION_NAMES:
        meta = getattr(Case, method_name)._django_fsm
        transition = meta.get_transition(case.status)
        if transition is None or not transition.has_perm(case, user):
            continue
        if all(condition(case) for condition in transition.conditions):
            names.append(transition.name)
    return names


# Transitions whose facts live in a later app (plans): that app registers the service that takes them for a
# person, so a supervisor's breach also ends the agreement instead of leaving it in force behind a broken case.
_PERSON_TRANSITION_SERVICES: dict[str, Callable[..., object]] = {}


def transition_service_register(*, name: str, service: Callable[..., object]) -> None:
    """Let `service(case_id=, actor=, reason=)` take `name` for a person once case_transition has checked it."""
    if name not in Case.TRANSITION_NAMES:
        raise UnknownTransition(f"no transition {name!r}")
    _PERSON_TRANSITION_SERVICES[name] = service


def _transition_method(case: Case, name: str):
    if name not in Case.TRANSITION_NAMES:
        raise UnknownTransition(_("There is no transition called “%(name)s”.") % {"name": name})
    return getattr(case, name)


def _require_possible(case: Case, name: str, *, system: bool = False) -> None:
    """Refuse (409) a transition the state or a guard does not allow, naming which."""
    guards = failed_guards(case, name, system=system)
    if guards:
        code = ErrorCode.GUARD_FAILED if guards and guards[0]["code"] != "state" else ErrorCode.TRANSITION_NOT_ALLOWED
        raise TransitionRefused("; ".join(g["detail"] for g in guards), code=code, details=guards)


def _apply_transition(
    *,
    case: Case,
    name: str,
    actor: User | None,
    reason: str,
    reason_code: str = "",
    reason_params: dict | None = None,
    system: bool = False,
) -> CaseTransition:
    """Run a transition on a case already locked by the caller; save, record and audit it."""
    method = _transition_method(case, name)
    _require_possible(case, name, system=system)
    source = case.status
    method()
    case.save()
    reason_params = reason_params or {}
    step = CaseTransition.objects.create(
        case=case, name=name, source=source, target=case.status, actor=actor, reason=reason,
        reason_code=reason_code, reason_params=reason_params,
    )
    changes = {"status": [source, case.status]}
    if reason_code:
        changes.update(reason_code=reason_code, reason_params=reason_params)
    audit.record(actor=actor, action=f"case.{name}", target=case, changes=changes, reason=reason)
    if not case.is_open:
        holds_lift_for_ended_case(
            case_id=case.pk,
            reason_code=ReasonCode.CASE_ENDED,
            reason_params={"state": source_text(CaseStatus(case.status).label)},
        )
    return step


def _locked_case(case_id: int) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related("account").get(pk=case_id)


def case_transition(
    *, case_id: int, name: str, actor: User, reason: str = "", reason_code: str = "", reason_params: dict | None = None
) -> Case:
    """Run one FSM transition for a person on a locked row; record it. A reason the system words for them is a
    `reason_code` with its parameters (compliance.reasons) instead of a typed `reason`."""
    reason = reason_stored(reason_code, reason_params) if reason_code else reason.strip()
    with transaction.atomic():
        service = _PERSON_TRANSITION_SERVICES.get(name)
        if service is not None:
            # The registered service locks the account before the case (the payments' lock order): take the
            # account first here too, so checking under the case lock never waits across a payment.
            account_id = Case.objects.filter(pk=case_id).values_list("account_id", flat=True).get()
            CardAccount.objects.select_for_update().filter(pk=account_id).values_list("pk", flat=True).get()
        case = _locked_case(case_id)
        method = _transition_method(case, name)
        # The state and the facts first (409), then the role (403), then the reason (400).
        _require_possible(case, name)
        if not has_transition_perm(method, actor):
            raise PermissionDenied(_("Your role may not take “%(name)s”.") % {"name": TRANSITION_LABELS[name]})
        if name in Case.REASON_REQUIRED and not reason:
            raise ReasonRequired(_("“%(name)s” needs a reason.") % {"name": TRANSITION_LABELS[name]})
        if service is not None:
            service(case_id=case.pk, actor=actor, reason=reason)
            case.refresh_from_db()
        else:
            _apply_transition(
                case=case, name=name, actor=actor, reason=reason, reason_code=reason_code, reason_params=reason_params
            )
    return case


def case_transition_by_system(
    *,
    case_id: int,
    name: str,
    reason_code: str = "",
    reason_params: dict | None = None,
    reason: str = "",
    decided_by: User | None = None,
) -> Case:
    """A transition the system takes on a fact (signing, payments, nightly jobs); no user permission applies, only
    Case.SYSTEM_TRANSITIONS are taken, and their SYSTEM_CONDITIONS must hold. Its reason is a code with parameters
    (compliance.reasons), put into words in each reader's language; `decided_by` is the person whose decision,
    already checked by case_transition, a registered service carries out: recorded as the actor, with the reason
    they typed."""
    if name not in Case.SYSTEM_TRANSITIONS:
        raise PermissionDenied(f"the system does not take {name!r}")
    if reason_code:
        reason = reason_stored(reason_code, reason_params)
    with transaction.atomic():
        case = _locked_case(case_id)
        _apply_transition(
            case=case,
            name=name,
            actor=decided_by,
            reason=reason,
            reason_code=reason_code,
            reason_params=reason_params,
            system=decided_by is None,
        )
    return case


# --- Opening and assigning cases -----------------------------------------------------------------

CLASS_POINTS = {rules.EARLY: 0, rules.MID: 200, rules.WILFUL: 300}
MAX_AMOUNT_POINTS = 400  # one point per full ¥1,000 overdue
MAX_DAYS_POINTS = 300  # one point per day past due, in steps of ten
OPEN_CHUNK = 5000  # accounts per INSERT … SELECT and per transaction
# The columns the opening INSERT … SELECT fills, in this order; every other column of a case is nullable.
OPENING_COLUMNS = (
    "account_id",
    "status",
    "classification",
    "bucket",
    "priority",
    "team_id",
    "next_action_on",
    "opened_at",
    "wilful_suggested",
    "wilful_evidence",
    "wilful_reason",
)


def _priority(classification: str, overdue: Decimal, days: int) -> int:
    """Class first, then amount and days past due; `_priority_sql` computes the same in SQL."""
    return (
        CLASS_POINTS[classification]
        + min(int(overdue // 1000), MAX_AMOUNT_POINTS)
        + min(days, MAX_DAYS_POINTS) // 10 * 10
    )


def cases_open_for_accounts(*, account_ids: Iterable[int], today: date | None = None) -> int:
    """Open a case in `notify` for each delinquent account without an open one, in the team its rules
    name and on that team's least-loaded collector; returns how many. A few statements per chunk."""
    today = today or timezone.localdate()
    thresholds = ClassificationPolicy.current().thresholds()
    assignment_rules = list(AssignmentRule.objects.filter(active=True).order_by("position", "pk"))
    account_ids = list(account_ids)
    opened = 0
    for start in range(0, len(account_ids), OPEN_CHUNK):
        with transaction.atomic():
            new_cases = _cases_insert(
                account_ids=account_ids[start : start + OPEN_CHUNK],
                today=today,
                thresholds=thresholds,
                assignment_rules=assignment_rules,
            )
            _cases_give_collectors(new_cases)
            if new_cases:
                audit.record(
                    action="case.open",
                    changes={"cases": len(new_cases), "accounts": [account for _c, account, _t in new_cases][:50]},
                )
            opened += len(new_cases)
    return opened


def _cases_insert(
    *, account_ids: list[int], today: date, thresholds: rules.Thresholds, assignment_rules: list[AssignmentRule]
) -> list[tuple[int, int, int | None]]:
    """One INSERT … SELECT of a `notify` case for each of these accounts that needs one, with its class,
    bucket, priority and team computed in SQL; (case, account, team) of each new case, in case order."""
    early = _early_q(thresholds, today)
    needing = (
        CardAccount.objects.filter(pk__in=account_ids, overdue_total__gt=0, delinquent_since__isnull=False)
        .exclude(Exists(Case.objects.filter(account=OuterRef("pk"), status__in=Case.OPEN_STATES)))
        # A supervisor closed this delinquency's case (written off, sold, fraud): do not reopen it.
        .exclude(
            Exists(
                Case.objects.filter(
                    account=OuterRef("pk"),
                    status=CaseStatus.CLOSED,
                    opened_at__date__gte=OuterRef("delinquent_since"),
                )
            )
        )
        # The annotations are named new_<column>: "status" is also a column of the account.
        .annotate(new_classification=SqlCase(When(early, then=V(rules.EARLY)), default=V(rules.MID)))
        .annotate(
            new_account_id=F("pk"),
            new_status=V(CaseStatus.NOTIFY.value),
            new_bucket=_bucket_sql(today),
            new_priority=SqlCase(When(early, then=V(CLASS_POINTS[rules.EARLY])), default=V(CLASS_POINTS[rules.MID]))
            + _account_points_sql(today),
            new_team_id=_team_sql(assignment_rules),
            new_next_action_on=V(today),
            new_opened_at=V(timezone.now()),
            new_wilful_suggested=V(False),
            new_wilful_evidence=V([], output_field=JSONField()),
            new_wilful_reason=V(""),
        )
        .order_by("pk")
        # Django 5.2 selects values_list() names in the order given, which must be OPENING_COLUMNS'.
        .values_list(*[f"new_{column}" for column in OPENING_COLUMNS])
    )
    select, params = needing.query.sql_with_params()
    quote = connection.ops.quote_name
    # The ORM has no INSERT … SELECT: the SELECT is the queryset above, compiled for this database, and
    # only this line is raw SQL. RETURNING needs PostgreSQL or SQLite 3.35+.
    sql = (
        f"INSERT INTO {quote(Case._meta.db_table)} ({', '.join(quote(column) for column in OPENING_COLUMNS)}) "
        f"{select} RETURNING {quote('id')}, {quote('account_id')}, {quote('team_id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(cursor.fetchall())


def _cases_give_collectors(new_cases: list[tuple[int, int, int | None]]) -> None:
    """Give each team's new cases, in order, to its least-loaded active collector (ties: the lowest id),
    counting each case as it is given; one query per team, one UPDATE per collector that gets any."""
    by_team: dict[int, list[int]] = defaultdict(list)
    for case_id, _account, team_id in new_cases:
        if team_id is not None:
            by_team[team_id].append(case_id)
    for team_id, case_ids in by_team.items():
        loads = [(load, collector_id) for collector_id, load in team_load(team_id=team_id).items()]
        if not loads:
            continue
        heapq.heapify(loads)
        given: dict[int, list[int]] = defaultdict(list)
        for case_id in case_ids:
            load, collector_id = loads[0]
            given[collector_id].append(case_id)
            heapq.heapreplace(loads, (load + 1, collector_id))
        for collector_id, ids in given.items():
            Case.objects.filter(pk__in=ids).update(assigned_to_id=collector_id)


def _early_q(thresholds: rules.Thresholds, today: date, account: str = "") -> Q:
    """`rules.base_classification` is early, as a filter on the account (reached by the path `account`)."""
    return Q(**{f"{account}overdue_total__lte": thresholds.early_max_amount}) & (
        Q(**{f"{account}delinquent_since__isnull": True})
        | Q(**{f"{account}delinquent_since__gte": today - timedelta(days=thresholds.early_max_days)})
    )


def _bucket_sql(today: date) -> SqlCase:
    """`rules.bucket_for` of an account's days past due, as SQL over its delinquent_since."""
    whens = []
    for bucket, oldest, newest in rules.bucket_cutoffs(today):
        in_range = Q(delinquent_since__lte=newest)
        if oldest is not None:
            in_range &= Q(delinquent_since__gte=oldest)
        whens.append(When(in_range, then=V(bucket)))
    return SqlCase(*whens, default=V(rules.CURRENT))


def _team_sql(assignment_rules: list[AssignmentRule]) -> SqlCase:
    """The team of the first rule that matches the new case's class (annotated as new_classification)
    and its cardholder's city; none when no rule does."""
    whens = []
    default = None
    for rule in assignment_rules:
        condition = Q()
        if rule.classification:
            condition &= Q(new_classification=rule.classification)
        if rule.city:
            condition &= Q(debtor__city=rule.city)
        if not condition:  # a rule for any class and city: it matches whatever the later ones would
            default = rule.team_id
            break
        whens.append(When(condition, then=V(rule.team_id)))
    return SqlCase(*whens, default=V(default), output_field=BigIntegerField())


def case_reassign(*, case_ids: list[int], collector_id: int, actor: User) -> int:
    """Move cases to a collector (and the collector's team); supervisors within their teams only."""
    from cases.selectors import visible_cases

    collector = User.objects.filter(pk=collector_id, role=Role.COLLECTOR, is_active=True).first()
    if collector is None or collector.team_id is None:
        raise DomainError(_("Choose an active collector who belongs to a team."), code=ErrorCode.NOT_A_COLLECTOR)
    if actor.role not in (Role.SUPERVISOR, Role.ADMIN) and not actor.is_superuser:
        raise PermissionDenied(_("Only supervisors reassign cases."))
    if (
        not actor.sees_all_teams
        and not Team.objects.filter(Q(supervisor=actor) | Q(pk=actor.team_id), pk=collector.team_id).exists()
    ):
        raise PermissionDenied(_("That collector is not in your team."))
    with transaction.atomic():
        cases = list(
            visible_cases(actor).filter(pk__in=case_ids, status__in=Case.OPEN_STATES).select_for_update(of=("self",))
        )
        for case in cases:
            before = [case.team_id, case.assigned_to_id]
            Case.objects.filter(pk=case.pk).update(team_id=collector.team_id, assigned_to_id=collector.pk)
            audit.record(
                actor=actor,
                action="case.reassign",
                target=case,
                changes={"team": [before[0], collector.team_id], "assigned_to": [before[1], collector.pk]},
            )
    return len(cases)


# --- Classification -------------------------------------------------------------------------------


def case_refresh_wilful_suggestion(*, case_id: int, today: date | None = None) -> Case:
    """Recompute whether the evidence suggests wilful, and which evidence."""
    today = today or timezone.localdate()
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).select_related("account").get(pk=case_id)
        evidence = [rules.Evidence(kind, on) for kind, on in case.evidence.values_list("kind", "occurred_on")]
        unpaid_since = case.account.last_payment_on or case.account.delinquent_since
        suggestions = rules.wilful_suggestions(
            evidence=evidence,
            unpaid_since=unpaid_since,
            today=today,
            thresholds=ClassificationPolicy.current().thresholds(),
        )
        found = [{"code": s.code, "dates": [d.isoformat() for d in s.dates]} for s in suggestions]
        # After a supervisor dismissed a suggestion, only new evidence can raise it again.
        new_since_dismissal = (
            case.wilful_dismissed_at is None or case.evidence.filter(created_at__gt=case.wilful_dismissed_at).exists()
        )
        suggested = (
            bool(found) and case.is_open and case.classification != Classification.WILFUL and new_since_dismissal
        )
        if found != case.wilful_evidence or suggested != case.wilful_suggested:
            Case.objects.filter(pk=case.pk).update(wilful_evidence=found, wilful_suggested=suggested)
            audit.record(
                action="case.wilful_suggestion",
                target=case,
                changes={"wilful_suggested": [case.wilful_suggested, suggested], "evidence": found},
            )
            case.wilful_evidence, case.wilful_suggested = found, suggested
    return case


def case_evidence_record(
    *, case_id: int, kind: str, occurred_on: date, actor: User | None = None, detail: str = "", source_ref: str = ""
) -> CaseEvidence:
    """Record a fact that counts toward wilful (idempotent per source) and refresh the suggestion."""
    with transaction.atomic():
        # Row locks come before the first audit write, whose chain lock is held to the commit;
        # taking the case later would deadlock against a transition holding it.
        Case.objects.select_for_update().filter(pk=case_id).values_list("pk", flat=True).get()
        if source_ref:
            evidence, created = CaseEvidence.objects.get_or_create(
                case_id=case_id,
                kind=kind,
                source_ref=source_ref,
                defaults={"occurred_on": occurred_on, "detail": detail, "recorded_by": actor},
            )
        else:
            evidence, created = (
                CaseEvidence.objects.create(
                    case_id=case_id, kind=kind, occurred_on=occurred_on, detail=detail, recorded_by=actor
                ),
                True,
            )
        if created:
            audit.record(
                actor=actor,
                action="case.evidence",
                target=evidence,
                case_id=case_id,
                changes={"kind": kind, "occurred_on": occurred_on, "source_ref": source_ref},
            )
        case_refresh_wilful_suggestion(case_id=case_id)
    return evidence


def _require_supervisor(actor: User) -> None:
    if actor.role not in (Role.SUPERVISOR, Role.ADMIN) and not actor.is_superuser:
        raise PermissionDenied(_("Only a supervisor may decide on a wilful classification."))


def case_confirm_wilful(*, case_id: int, actor: User, reason: str) -> Case:
    """A supervisor makes a suggested case wilful, with a written reason."""
    _require_supervisor(actor)
    reason = reason.strip()
    if not reason:
        raise ReasonRequired(_("Confirming wilful needs a reason."))
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        if not case.wilful_suggested or not case.is_open:
            raise Conflict(_("This case has no wilful suggestion to confirm."), code=ErrorCode.NOT_SUGGESTED)
        before = case.classification
        Case.objects.filter(pk=case.pk).update(
            classification=Classification.WILFUL,
            wilful_suggested=False,
            wilful_confirmed_by=actor,
            wilful_confirmed_at=timezone.now(),
            wilful_reason=reason,
            priority=F("priority") - CLASS_POINTS[before] + CLASS_POINTS[rules.WILFUL],
        )
        audit.record(
            actor=actor,
            action="case.confirm_wilful",
            target=case,
            changes={"classification": [before, Classification.WILFUL]},
            reason=reason,
        )
        case.refresh_from_db()
    return case


def case_dismiss_wilful(*, case_id: int, actor: User, reason: str) -> Case:
    """A supervisor decides the evidence does not make the case wilful; the suggestion is cleared."""
    _require_supervisor(actor)
    reason = reason.strip()
    if not reason:
        raise ReasonRequired(_("Dismissing a wilful suggestion needs a reason."))
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        if not case.wilful_suggested:
            raise Conflict(_("This case has no wilful suggestion to dismiss."), code=ErrorCode.NOT_SUGGESTED)
        Case.objects.filter(pk=case.pk).update(wilful_suggested=False, wilful_dismissed_at=timezone.now())
        audit.record(
            actor=actor,
            action="case.dismiss_wilful",
            target=case,
            changes={"wilful_suggested": [True, False]},
            reason=reason,
        )
        case.refresh_from_db()
    return case


# --- Payments --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentResult:
    payment: Payment
    created: bool


def payment_record(
    *, account_ref: str, amount: Decimal, paid_at: datetime, external_ref: str, actor: User | None = None
) -> PaymentResult:
    """Apply a payment once per external_ref, in the CN allocation order; a replay changes nothing."""
    if not amount.is_finite() or amount <= 0:
        raise PaymentRefused(_("A payment amount must be greater than zero."), code=ErrorCode.INVALID_AMOUNT)
    if amount != amount.quantize(Decimal("0.01")):
        # The column rounds to the fen: a stored replay would no longer match, and a fraction would be lost.
        raise PaymentRefused(_("A payment amount has at most two decimals (fen)."), code=ErrorCode.INVALID_AMOUNT)
    if paid_at > timezone.now() + timedelta(minutes=5):
        raise PaymentRefused(_("A payment cannot be dated in the future."), code=ErrorCode.PAID_IN_FUTURE)
    with transaction.atomic():
        account = CardAccount.objects.select_for_update().filter(external_ref=account_ref).first()
        if account is None:
            raise PaymentRefused(
                _("No account has the reference “%(ref)s”.") % {"ref": account_ref}, code=ErrorCode.UNKNOWN_ACCOUNT
            )
        existing = Payment.objects.filter(external_ref=external_ref).first()
        if existing is not None:
            if existing.account_id == account.pk and existing.amount == amount and existing.paid_at == paid_at:
                return PaymentResult(existing, created=False)
            raise PaymentRefused(
                _("Payment “%(ref)s” was already recorded with different content.") % {"ref": external_ref},
                code=ErrorCode.DUPLICATE_PAYMENT,
            )
        # This payment may settle the open case or complete its agreement (plans' receiver): lock it now,
        # before the audit chain's lock (see case_evidence_record), so that a transition holding it cannot
        # deadlock with us.
        list(
            Case.objects.select_for_update()
            .filter(account=account, status__in=Case.OPEN_STATES)
            .values_list("pk", flat=True)
        )
        paid_on = timezone.localdate(paid_at)
        days = rules.days_past_due(account.delinquent_since, paid_on)
        split = allocate(
            amount=amount,
            principal=account.principal_overdue,
            interest=account.interest_overdue,
            fees=account.fees_overdue,
            days_past_due=days,
        )
        payment = Payment.objects.create(
            account=account,
            external_ref=external_ref,
            amount=amount,
            paid_at=paid_at,
            to_principal=split.principal,
            to_interest=split.interest,
            to_fees=split.fees,
            unapplied=split.unapplied,
            days_past_due=days,
        )
        account.principal_overdue -= split.principal
        account.interest_overdue -= split.interest
        account.fees_overdue -= split.fees
        account.last_payment_on = max(filter(None, [account.last_payment_on, paid_on]))
        cleared = account.principal_overdue + account.interest_overdue + account.fees_overdue == 0
        if cleared:
            account.delinquent_since = None
        account.save(
            update_fields=[
                "principal_overdue",
                "interest_overdue",
                "fees_overdue",
                "last_payment_on",
                "delinquent_since",
                "updated_at",
            ]
        )
        audit.record(
            actor=actor,
            action="payment.record",
            target=payment,
            case_id=account.cases.filter(status__in=Case.OPEN_STATES).values_list("pk", flat=True).first(),
            changes={
                "account": account.external_ref,
                "amount": amount,
                "principal": split.principal,
                "interest": split.interest,
                "fees": split.fees,
                "unapplied": split.unapplied,
            },
        )
        payment_recorded.send(sender=Payment, payment=payment)
        if cleared:
            _settle_paid_cases(account_ids=[account.pk])
    return PaymentResult(payment, created=True)


def _settle_paid_cases(*, account_ids: Iterable[int] | None = None) -> int:
    """Resolve open cases whose account owes nothing any more (system transition). A case with an agreement
    in force is left to it: the plan's own interest or fees may still be due, and completion resolves it."""
    paid = Case.objects.filter(status__in=Case.OPEN_STATES, account__overdue_total__lte=0).exclude(
        agreements__status="in_force"
    )
    if account_ids is not None:
        paid = paid.filter(account_id__in=list(account_ids))
    settled = 0
    for case_id in paid.values_list("pk", flat=True).iterator(chunk_size=2000):
        case_transition_by_system(case_id=case_id, name="settle", reason_code=ReasonCode.OVERDUE_PAID)
        settled += 1
    return settled


# --- Nightly aging ---------------------------------------------------------------------------------


def cases_refresh_aging(*, today: date | None = None) -> dict:
    """Nightly: refresh bucket, class and priority of open cases in set-based SQL, open missing cases,
    and resolve cases with nothing overdue."""
    today = today or timezone.localdate()
    thresholds = ClassificationPolicy.current().thresholds()
    open_cases = Case.objects.filter(status__in=Case.OPEN_STATES)
    with transaction.atomic():
        for bucket, oldest, newest in rules.bucket_cutoffs(today):
            in_range = Q(account__delinquent_since__lte=newest)
            if oldest is not None:
                in_range &= Q(account__delinquent_since__gte=oldest)
            open_cases.filter(in_range).exclude(bucket=bucket).update(bucket=bucket)
        open_cases.filter(
            Q(account__delinquent_since__isnull=True) | Q(account__delinquent_since__gt=today - timedelta(days=1))
        ).exclude(bucket=rules.CURRENT).update(bucket=rules.CURRENT)

        early = _early_q(thresholds, today, account="account__")
        not_wilful = open_cases.exclude(classification=rules.WILFUL)
        not_wilful.filter(early).exclude(classification=rules.EARLY).update(classification=rules.EARLY)
        not_wilful.exclude(early).exclude(classification=rules.MID).update(classification=rules.MID)

        open_cases.update(priority=_priority_sql(today))
    missing = CardAccount.objects.filter(overdue_total__gt=0, delinquent_since__isnull=False).exclude(
        Exists(Case.objects.filter(account=OuterRef("pk"), status__in=Case.OPEN_STATES))
    )
    opened = cases_open_for_accounts(account_ids=missing.values_list("pk", flat=True), today=today)
    settled = _settle_paid_cases()
    audit.record(action="cases.refresh_aging", changes={"date": today, "opened": opened, "settled": settled})
    return {"opened": opened, "settled": settled}


def _priority_sql(today: date):
    """The SQL twin of `_priority`, for one UPDATE over every open case."""
    class_points = SqlCase(
        *[When(classification=cls, then=V(points)) for cls, points in CLASS_POINTS.items()],
        output_field=IntegerField(),
    )
    account_points = CardAccount.objects.filter(pk=OuterRef("account_id")).annotate(points=_account_points_sql(today))
    return class_points + Subquery(account_points.values("points")[:1], output_field=IntegerField())


def _account_points_sql(today: date):
    """The amount and days-past-due points of `_priority`, as SQL over an account's columns."""
    # Days past due as date comparisons, which every database evaluates the same way.
    days_points = SqlCase(
        *[
            When(delinquent_since__lte=today - timedelta(days=days), then=V(days))
            for days in range(MAX_DAYS_POINTS, 0, -10)
        ],
        default=V(0),
        output_field=IntegerField(),
    )
    amount_points = Cast(Least(Floor(F("overdue_total") / V(1000)), V(MAX_AMOUNT_POINTS)), IntegerField())
    return amount_points + days_points


# --- Classification policy -------------------------------------------------------------------------

POLICY_FIELDS = (
    "early_max_days",
    "early_max_amount",
    "demand_gap_days",
    "unpaid_days",
    "broken_promises",
    "evasions",
)


def classification_policy_update(*, actor: User, **fields) -> ClassificationPolicy:
    """A supervisor changes the thresholds; the nightly aging applies them to open cases."""
    if actor.role not in (Role.SUPERVISOR, Role.ADMIN) and not actor.is_superuser:
        raise PermissionDenied(_("Only supervisors change the classification policy."))
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"not policy fields: {sorted(unknown)}")
    with transaction.atomic():
        ClassificationPolicy.current()  # the row exists before it is locked
        policy = ClassificationPolicy.objects.select_for_update().get(pk=1)
        changes = audit.changes_apply(policy, fields)
        policy.updated_by = actor
        policy.save()
        audit.record(actor=actor, action="classification_policy.update", target=policy, changes=changes)
    return policy
