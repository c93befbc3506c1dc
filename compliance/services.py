"""Writes owned by compliance: decision records and holds."""

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from compliance import audit
from compliance.models import ContactDecision, ContactPolicy, Hold
from compliance.policy import CN_RULES, US_RULES, Decision, PolicyRules
from config.errors import Conflict, DomainError

BREATHING_SPACE_DAYS = 60

# Who may set and lift each hold; None stands for the system (plans sets and lifts agreement holds).
HOLD_SETTERS = {
    Hold.Kind.DISPUTE: {Role.COLLECTOR, Role.SUPERVISOR, Role.COMPLIANCE, Role.ADMIN},
    Hold.Kind.BREATHING_SPACE: {Role.SUPERVISOR, Role.COMPLIANCE, Role.ADMIN},
    Hold.Kind.COMPLAINT: {Role.SUPERVISOR, Role.COMPLIANCE, Role.ADMIN},
    Hold.Kind.DECEASED: {Role.SUPERVISOR, Role.COMPLIANCE, Role.ADMIN},
    Hold.Kind.BANKRUPTCY: {Role.SUPERVISOR, Role.LEGAL, Role.COMPLIANCE, Role.ADMIN},
    Hold.Kind.AGREEMENT_IN_FORCE: set(),
}
HOLD_LIFTERS = {
    Hold.Kind.DISPUTE: {Role.SUPERVISOR, Role.COMPLIANCE, Role.ADMIN},
    Hold.Kind.BREATHING_SPACE: {Role.COMPLIANCE, Role.ADMIN},
    Hold.Kind.COMPLAINT: {Role.COMPLIANCE, Role.ADMIN},
    Hold.Kind.DECEASED: {Role.COMPLIANCE, Role.ADMIN},
    Hold.Kind.BANKRUPTCY: {Role.LEGAL, Role.COMPLIANCE, Role.ADMIN},
    Hold.Kind.AGREEMENT_IN_FORCE: set(),
}


class ErrorCode:
    HOLD_EXISTS = "hold_exists"
    HOLD_NOT_ACTIVE = "hold_not_active"
    REASON_REQUIRED = "reason_required"


SHIPPED_POLICIES: tuple[tuple[PolicyRules, int], ...] = ((CN_RULES, 2), (US_RULES, 3))  # rules, years kept


def policies_ensure_shipped(**kwargs) -> None:
    """Version 1 of the CN (default) and US (Regulation F) rule sets of DESIGN.md §6, for every
    jurisdiction that has none yet; runs after every migrate (and after test flushes)."""
    for rules, retention_years in SHIPPED_POLICIES:
        if ContactPolicy.objects.filter(jurisdiction=rules.jurisdiction).exists():
            continue
        ContactPolicy.objects.create(
            jurisdiction=rules.jurisdiction,
            version=rules.version,
            contact_start=rules.contact_start,
            contact_end=rules.contact_end,
            daily_attempt_limit=rules.daily_attempt_limit,
            daily_conversation_limit=rules.daily_conversation_limit,
            weekly_attempt_limit=rules.weekly_attempt_limit,
            cooling_off_days=rules.cooling_off_days,
            allowed_parties=sorted(rules.allowed_parties),
            contact_person_when_unreachable=rules.contact_person_when_unreachable,
            location_calls=rules.location_calls,
            agreement_stops_collection=rules.agreement_stops_collection,
            retention_years=retention_years,
        )


def decision_record(
    *,
    case_id: int,
    policy: ContactPolicy,
    decision: Decision,
    channel: str,
    party: str,
    purpose: str,
    at: datetime,
    asked_by=None,
    path: str,
) -> ContactDecision:
    """Keep what the engine said, with the policy version it used (evidence for audits and dashboards)."""
    return ContactDecision.objects.create(
        case_id=case_id,
        channel=channel,
        party=party,
        purpose=purpose,
        at=at,
        allowed=decision.allowed,
        reasons=[{"code": r.code, "detail": r.detail} for r in decision.reasons],
        reason_codes=list(decision.codes),
        next_allowed_at=decision.next_allowed_at,
        policy=policy,
        asked_by=asked_by,
        path=path,
    )


def _check_role(actor, allowed_roles: set) -> None:
    if actor is None:
        return
    if actor.is_superuser or actor.role in allowed_roles:
        return
    raise PermissionDenied(_("Your role may not do this with this kind of hold."))


def hold_set(*, case_id: int, kind: str, reason: str, actor=None, expires_at: datetime | None = None) -> Hold:
    """Put a hold on a case; contact stops until it is lifted. One active hold per kind."""
    _check_role(actor, HOLD_SETTERS[kind])
    reason = reason.strip()
    if not reason:
        raise DomainError(_("A hold needs a reason."), code=ErrorCode.REASON_REQUIRED)
    now = timezone.now()
    if kind == Hold.Kind.BREATHING_SPACE and expires_at is None:
        expires_at = now + timedelta(days=BREATHING_SPACE_DAYS)
    try:
        with transaction.atomic():
            hold = Hold.objects.create(
                case_id=case_id, kind=kind, reason=reason, set_by=actor, set_at=now, expires_at=expires_at
            )
            audit.record(
                actor=actor, action="hold.set", target=hold, case_id=case_id,
                changes={"kind": kind, "expires_at": expires_at}, reason=reason,
            )
    except IntegrityError as exc:
        raise Conflict(_("This case already has an active hold of that kind."), code=ErrorCode.HOLD_EXISTS) from exc
    return hold


def hold_lift(*, hold_id: int, reason: str, actor=None) -> Hold:
    """Lift a hold; its history stays."""
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Lifting a hold needs a reason."), code=ErrorCode.REASON_REQUIRED)
    with transaction.atomic():
        hold = Hold.objects.select_for_update().get(pk=hold_id)
        _check_role(actor, HOLD_LIFTERS[hold.kind])
        if hold.lifted_at is not None:
            raise Conflict(_("This hold was already lifted."), code=ErrorCode.HOLD_NOT_ACTIVE)
        hold.lifted_at = timezone.now()
        hold.lifted_by = actor
        hold.lift_reason = reason
        hold.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
        audit.record(
            actor=actor, action="hold.lift", target=hold, case_id=hold.case_id, changes={"kind": hold.kind},
            reason=reason,
        )
    return hold
