"""Writes owned by compliance: decision records, holds, complaints and retention."""

import logging
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Role
from accounts.roles import role_require
from compliance import audit, lexicon, masking, screening
from compliance import complaints as sla
from compliance.models import AuditEvent, Complaint, ContactDecision, ContactPolicy, Hold, ScreeningHit, ScreeningTerm
from compliance.policy import CN_RULES, US_RULES, Decision, PolicyRules
from compliance.reasons import ReasonCode, reason_stored, source_text
from compliance.selectors import active_policy, case_scope
from config.errors import Conflict, DomainError

logger = logging.getLogger(__name__)

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
    CASE_ENDED = "case_ended"
    HOLD_NOT_ACTIVE = "hold_not_active"
    REASON_REQUIRED = "reason_required"
    UNKNOWN_POLICY = "unknown_policy"
    INVALID_HOURS = "invalid_hours"
    NOTHING_CHANGED = "nothing_changed"


SHIPPED_POLICIES: tuple[tuple[PolicyRules, int], ...] = ((CN_RULES, 2), (US_RULES, 3))  # rules, years kept


def policies_ensure_shipped(**kwargs) -> None:
    """Version 1 of the CN (default) and US (Regulation F) rule sets of docs/architecture.md, for every
    jurisdiction that has none yet; runs after every migrate (and after test flushes)."""
    for rules, retention_years in SHIPPED_POLICIES:
        if ContactPolicy.objects.filter(jurisdiction=rules.jurisdiction).exists():
            continue
        # The rule fields share their names with the model's; retention is the model's own.
        fields = {name: getattr(rules, name) for name in POLICY_FIELDS if name != "retention_years"}
        fields["allowed_parties"] = sorted(rules.allowed_parties)
        ContactPolicy.objects.create(
            jurisdiction=rules.jurisdiction, version=rules.version, retention_years=retention_years, **fields
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


# cases.models.TERMINAL_STATES; compliance never imports cases.
ENDED_STATES = ("resolved", "closed")


def _case_ended(case_id: int) -> bool:
    case_model = Hold._meta.get_field("case").related_model
    return case_model.objects.filter(pk=case_id, status__in=ENDED_STATES).exists()


def hold_set(
    *,
    case_id: int,
    kind: str,
    reason: str = "",
    actor=None,
    expires_at: datetime | None = None,
    reason_code: str = "",
    reason_params: dict | None = None,
) -> Hold:
    """Put a hold on an open case; contact stops until it is lifted. One active hold per kind. The system gives a
    `reason_code` with parameters (compliance.reasons) rather than a typed `reason`."""
    _check_role(actor, HOLD_SETTERS[kind])
    reason_params = reason_params or {}
    reason = reason_stored(reason_code, reason_params) if reason_code else reason.strip()
    if not reason:
        raise DomainError(_("A hold needs a reason."), code=ErrorCode.REASON_REQUIRED)
    if _case_ended(case_id):
        # Nothing is contacted on a resolved or closed case; a hold there would only contradict its state.
        raise Conflict(_("A resolved or closed case takes no hold."), code=ErrorCode.CASE_ENDED)
    now = timezone.now()
    if kind == Hold.Kind.BREATHING_SPACE and expires_at is None:
        expires_at = now + timedelta(days=BREATHING_SPACE_DAYS)
    try:
        with transaction.atomic():
            hold = Hold.objects.create(
                case_id=case_id, kind=kind, reason=reason, set_by=actor, set_at=now, expires_at=expires_at,
                reason_code=reason_code, reason_params=reason_params,
            )
            changes = {"kind": kind, "expires_at": expires_at}
            if reason_code:
                changes.update(reason_code=reason_code, reason_params=reason_params)
            audit.record(actor=actor, action="hold.set", target=hold, case_id=case_id, changes=changes, reason=reason)
    except IntegrityError as exc:
        raise Conflict(_("This case already has an active hold of that kind."), code=ErrorCode.HOLD_EXISTS) from exc
    return hold


def holds_lift_for_ended_case(*, case_id: int, reason_code: str, reason_params: dict) -> list[int]:
    """A case that was resolved or closed keeps no active hold: the system lifts each (its history stays)."""
    hold_ids = list(Hold.objects.filter(case_id=case_id, lifted_at__isnull=True).values_list("pk", flat=True))
    for hold_id in hold_ids:
        hold_lift(hold_id=hold_id, reason_code=reason_code, reason_params=reason_params, actor=None)
    return hold_ids


def hold_lift(
    *, hold_id: int, reason: str = "", actor=None, reason_code: str = "", reason_params: dict | None = None
) -> Hold:
    """Lift a hold; its history stays. The system gives a `reason_code` with parameters rather than a reason."""
    reason_params = reason_params or {}
    reason = reason_stored(reason_code, reason_params) if reason_code else reason.strip()
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
        hold.lift_reason_code, hold.lift_reason_params = reason_code, reason_params
        hold.save(update_fields=["lifted_at", "lifted_by", "lift_reason", "lift_reason_code", "lift_reason_params"])
        changes = {"kind": hold.kind}
        if reason_code:
            changes.update(reason_code=reason_code, reason_params=reason_params)
        audit.record(actor=actor, action="hold.lift", target=hold, case_id=hold.case_id, changes=changes, reason=reason)
    return hold


# --- Complaints ----------------------------------------------------------------------------------
# Compliance officers and supervisors handle complaints; a collector registers one received on a call;
# legal only reads. An extension is approved by a supervisor (or admin) who neither registered nor
# handles the complaint (four eyes), and only for a complaint already marked complex.

COMPLAINT_REGISTRARS = {Role.COLLECTOR, Role.SUPERVISOR, Role.COMPLIANCE, Role.ADMIN}
COMPLAINT_HANDLERS = {Role.SUPERVISOR, Role.COMPLIANCE, Role.ADMIN}
COMPLAINT_EXTENSION_APPROVERS = {Role.SUPERVISOR, Role.ADMIN}
# Complaints about how the cardholder was contacted stop contact on the case while they are investigated
# (unless the registering person says otherwise); the others hold the case only when asked.
HOLDING_CATEGORIES = frozenset(
    {
        Complaint.Category.CONTACT_CONDUCT,
        Complaint.Category.CONTACT_FREQUENCY,
        Complaint.Category.THIRD_PARTY,
        Complaint.Category.PRIVACY,
    }
)
COMPLAINT_REGISTERED = "complaint.register"


class ComplaintErrorCode:
    INVALID_CHOICE = "invalid_choice"
    DESCRIPTION_REQUIRED = "description_required"
    RECEIVED_IN_FUTURE = "received_in_future"
    UNKNOWN_CASE = "unknown_case"
    HOLD_NEEDS_CASE = "hold_needs_case"
    ALREADY_ACKNOWLEDGED = "already_acknowledged"
    ALREADY_RESOLVED = "already_resolved"
    ALREADY_COMPLEX = "already_complex"
    ALREADY_EXTENDED = "already_extended"
    NOT_COMPLEX = "extension_requires_complex"
    DEADLINE_PASSED = "deadline_passed"
    OWN_COMPLAINT = "own_complaint"
    RESOLUTION_REQUIRED = "resolution_required"


class OwnComplaint(DomainError):
    """The approver registered or handles the complaint: an extension needs a second person."""

    code = ComplaintErrorCode.OWN_COMPLAINT
    http_status = 403


def _hold_actor(actor, allowed_roles: set):
    """Who a complaint's hold is set or lifted by: the person when their role may, else the system on
    their behalf (a collector registering a conduct complaint, a supervisor resolving one)."""
    return actor if actor.is_superuser or actor.role in allowed_roles else None


def _locked_complaint(complaint_id: int) -> Complaint:
    return Complaint.objects.select_for_update().get(pk=complaint_id)


def _refuse_if_resolved(complaint: Complaint) -> None:
    if complaint.status == Complaint.Status.RESOLVED:
        raise Conflict(_("This complaint was already resolved."), code=ComplaintErrorCode.ALREADY_RESOLVED)


def _refuse_if_past_due(complaint: Complaint, now: datetime) -> None:
    # The deadline is moved before it passes, never afterwards to hide a late decision.
    if now > complaint.due_at:
        raise Conflict(
            _("The decision deadline has passed; it can no longer be moved."), code=ComplaintErrorCode.DEADLINE_PASSED
        )


def _required_text(value: str, message: str, code: str) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(message, code=code)
    return value


def _complaint_hold_put(*, complaint: Complaint, actor) -> tuple[int, bool]:
    """Hold the complaint's case; returns (hold id, whether this complaint put it). A complaint hold
    already active on the case is shared rather than duplicated."""
    active = Hold.objects.filter(case_id=complaint.case_id, kind=Hold.Kind.COMPLAINT, lifted_at__isnull=True)
    existing = active.values_list("pk", flat=True).first()
    if existing is not None:
        return existing, False
    try:
        hold = hold_set(
            case_id=complaint.case_id,
            kind=Hold.Kind.COMPLAINT,
            reason_code=ReasonCode.COMPLAINT_INVESTIGATED,
            reason_params={"number": complaint.pk, "category": source_text(complaint.get_category_display())},
            actor=_hold_actor(actor, HOLD_SETTERS[Hold.Kind.COMPLAINT]),
        )
    except Conflict:  # another complaint put one meanwhile
        return active.values_list("pk", flat=True).get(), False
    return hold.pk, True


def complaint_register(
    *,
    channel: str,
    category: str,
    description: str,
    actor,
    case_id: int | None = None,
    received_at: datetime | None = None,
    hold: bool | None = None,
) -> Complaint:
    """Record a complaint and start its clock. `hold` None holds the case for the categories in
    HOLDING_CATEGORIES; True or False decides it explicitly (True needs a case)."""
    role_require(actor, COMPLAINT_REGISTRARS, _("Your role may not register complaints."))
    if channel not in Complaint.Channel.values or category not in Complaint.Category.values:
        raise DomainError(_("Choose a channel and a category from the lists."), code=ComplaintErrorCode.INVALID_CHOICE)
    description = _required_text(description, _("Describe the complaint."), ComplaintErrorCode.DESCRIPTION_REQUIRED)
    now = timezone.now()
    received_at = received_at or now
    if received_at > now:
        raise DomainError(
            _("A complaint cannot be received in the future."), code=ComplaintErrorCode.RECEIVED_IN_FUTURE
        )
    if hold and case_id is None:
        raise DomainError(_("Only a complaint about a case can hold it."), code=ComplaintErrorCode.HOLD_NEEDS_CASE)
    wants_hold = case_id is not None and (category in HOLDING_CATEGORIES if hold is None else hold)
    # A complaint about a resolved or closed case is investigated all the same; there is no contact to stop.
    wants_hold = wants_hold and not _case_ended(case_id)
    with transaction.atomic():
        if case_id is not None:
            case_model = Complaint._meta.get_field("case").related_model
            if not case_model.objects.filter(case_scope(actor), pk=case_id).exists():
                raise DomainError(_("There is no such case you may see."), code=ComplaintErrorCode.UNKNOWN_CASE)
        complaint = Complaint.objects.create(
            case_id=case_id,
            channel=channel,
            category=category,
            description=description,
            received_at=received_at,
            due_at=sla.due_at(received_at=received_at),
            registered_by=actor,
        )
        hold_id, hold_put = _complaint_hold_put(complaint=complaint, actor=actor) if wants_hold else (None, False)
        audit.record(
            actor=actor,
            action=COMPLAINT_REGISTERED,
            target=complaint,
            case_id=case_id,
            changes={
                "channel": channel,
                "category": category,
                "received_at": received_at,
                "due_at": complaint.due_at,
                "hold_id": hold_id,
                "hold_put": hold_put,
            },
        )
    return complaint


def complaint_acknowledge(*, complaint_id: int, actor) -> Complaint:
    """Confirm receipt to the cardholder; whoever acknowledges handles the complaint unless someone does."""
    role_require(actor, COMPLAINT_HANDLERS, _("Your role may not handle complaints."))
    with transaction.atomic():
        complaint = _locked_complaint(complaint_id)
        _refuse_if_resolved(complaint)
        if complaint.status == Complaint.Status.ACKNOWLEDGED:
            raise Conflict(_("This complaint was already acknowledged."), code=ComplaintErrorCode.ALREADY_ACKNOWLEDGED)
        complaint.status = Complaint.Status.ACKNOWLEDGED
        complaint.acknowledged_at = timezone.now()
        complaint.handler = complaint.handler or actor
        complaint.save(update_fields=["status", "acknowledged_at", "handler"])
        audit.record(
            actor=actor,
            action="complaint.acknowledge",
            target=complaint,
            case_id=complaint.case_id,
            changes={"status": [Complaint.Status.RECEIVED, complaint.status], "handler": complaint.handler_id},
        )
    return complaint


def _move_deadline(complaint: Complaint) -> dict:
    """Recompute due_at after the complex or extended flag changed; a new deadline gets its own warning."""
    before = complaint.due_at
    complaint.due_at = sla.due_at(
        received_at=complaint.received_at, complex=complaint.complex, extended=complaint.extended
    )
    complaint.warned_at = None
    return {"due_at": [before, complaint.due_at]}


def complaint_mark_complex(*, complaint_id: int, actor, reason: str) -> Complaint:
    """A complex complaint may take 30 days from receipt instead of 15; only before the 15 are up."""
    role_require(actor, COMPLAINT_HANDLERS, _("Your role may not handle complaints."))
    reason = _required_text(reason, _("Say why the complaint is complex."), ErrorCode.REASON_REQUIRED)
    with transaction.atomic():
        complaint = _locked_complaint(complaint_id)
        _refuse_if_resolved(complaint)
        if complaint.complex:
            raise Conflict(_("This complaint is already marked complex."), code=ComplaintErrorCode.ALREADY_COMPLEX)
        _refuse_if_past_due(complaint, timezone.now())
        complaint.complex = True
        changes = {"complex": [False, True], **_move_deadline(complaint)}
        complaint.save(update_fields=["complex", "due_at", "warned_at"])
        audit.record(
            actor=actor,
            action="complaint.mark_complex",
            target=complaint,
            case_id=complaint.case_id,
            changes=changes,
            reason=reason,
        )
    return complaint


def complaint_extend(*, complaint_id: int, actor, reason: str) -> Complaint:
    """A supervisor's approval gives a complex complaint 30 more days; one extension, before it is due."""
    role_require(
        actor, COMPLAINT_EXTENSION_APPROVERS, _("Only a supervisor or an administrator approves an extension.")
    )
    reason = _required_text(reason, _("Say why the extension is needed."), ErrorCode.REASON_REQUIRED)
    with transaction.atomic():
        complaint = _locked_complaint(complaint_id)
        _refuse_if_resolved(complaint)
        if actor.pk in (complaint.registered_by_id, complaint.handler_id):
            raise OwnComplaint(_("Someone who neither registered nor handles this complaint must approve it."))
        if complaint.extended:
            raise Conflict(_("This complaint was already extended."), code=ComplaintErrorCode.ALREADY_EXTENDED)
        if not complaint.complex:
            raise Conflict(_("Only a complaint marked complex can be extended."), code=ComplaintErrorCode.NOT_COMPLEX)
        _refuse_if_past_due(complaint, timezone.now())
        complaint.extended = True
        complaint.extension_approved_by = actor
        changes = {"extended": [False, True], **_move_deadline(complaint)}
        complaint.save(update_fields=["extended", "extension_approved_by", "due_at", "warned_at"])
        audit.record(
            actor=actor,
            action="complaint.extend",
            target=complaint,
            case_id=complaint.case_id,
            changes=changes,
            reason=reason,
        )
    return complaint


def _complaint_holds(case_id: int) -> dict[int, tuple[int, bool]]:
    """complaint id → (hold id it relies on, whether it put that hold), from the registration events:
    the audit log is where a complaint's hold is recorded."""
    events = AuditEvent.objects.filter(case_id=case_id, action=COMPLAINT_REGISTERED).values_list("target_id", "changes")
    return {
        int(target_id): (changes["hold_id"], bool(changes.get("hold_put")))
        for target_id, changes in events
        if changes.get("hold_id")
    }


def _complaint_hold_release(*, complaint: Complaint, actor) -> int | None:
    """Lift the complaint hold this complaint relied on when no other open complaint relies on it.
    A hold that no complaint put (set by hand) stays."""
    if complaint.case_id is None:
        return None
    holds = _complaint_holds(complaint.case_id)
    if complaint.pk not in holds:
        return None
    hold_id = holds[complaint.pk][0]
    if not any(put for held, put in holds.values() if held == hold_id):
        return None
    others = [pk for pk, (held, _put) in holds.items() if held == hold_id and pk != complaint.pk]
    if Complaint.objects.filter(pk__in=others).exclude(status=Complaint.Status.RESOLVED).exists():
        return None
    if not Hold.objects.filter(pk=hold_id, lifted_at__isnull=True).exists():
        return None
    hold_lift(
        hold_id=hold_id,
        reason_code=ReasonCode.COMPLAINT_RESOLVED,
        reason_params={"number": complaint.pk},
        actor=_hold_actor(actor, HOLD_LIFTERS[Hold.Kind.COMPLAINT]),
    )
    return hold_id


def complaint_resolve(*, complaint_id: int, actor, outcome: str, resolution: str) -> Complaint:
    """Decide the complaint; the clock stops, and the complaint hold it put is lifted."""
    role_require(actor, COMPLAINT_HANDLERS, _("Your role may not resolve complaints."))
    if outcome not in Complaint.Outcome.values:
        raise DomainError(_("Choose an outcome from the list."), code=ComplaintErrorCode.INVALID_CHOICE)
    resolution = _required_text(
        resolution, _("Write down the decision and what was done."), ComplaintErrorCode.RESOLUTION_REQUIRED
    )
    with transaction.atomic():
        complaint = _locked_complaint(complaint_id)
        _refuse_if_resolved(complaint)
        source = complaint.status
        complaint.status = Complaint.Status.RESOLVED
        complaint.resolved_at = timezone.now()
        complaint.outcome = outcome
        complaint.resolution = resolution
        complaint.handler = complaint.handler or actor
        complaint.save(update_fields=["status", "resolved_at", "outcome", "resolution", "handler"])
        lifted = _complaint_hold_release(complaint=complaint, actor=actor)
        audit.record(
            actor=actor,
            action="complaint.resolve",
            target=complaint,
            case_id=complaint.case_id,
            changes={
                "status": [source, complaint.status],
                "outcome": outcome,
                "on_time": complaint.resolved_at <= complaint.due_at,
                "hold_lifted": lifted,
            },
            reason=resolution,
        )
    return complaint


def complaints_warn_due(*, now: datetime | None = None) -> int:
    """Warn the compliance officers, once per deadline, of open complaints due within the warning
    window (or already overdue); returns how many were warned. Safe to run twice or concurrently."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Complaint.objects.select_for_update(skip_locked=True)
            .filter(warned_at__isnull=True, due_at__lte=now + sla.WARNING_WINDOW)
            .exclude(status=Complaint.Status.RESOLVED)
            .order_by("due_at", "pk")
        )
        if not due:
            return 0
        Complaint.objects.filter(pk__in=[c.pk for c in due], warned_at__isnull=True).update(warned_at=now)
        for complaint in due:
            audit.record(
                action="complaint.warn_deadline",
                target=complaint,
                case_id=complaint.case_id,
                changes={"due_at": complaint.due_at},
            )
        # Sent inside the transaction: a failed send rolls the marks back and the next run tries again.
        _deadline_mail(due, now)
    return len(due)


def _deadline_mail(complaints: list[Complaint], now: datetime) -> None:
    recipients = list(
        get_user_model()
        .objects.filter(role=Role.COMPLIANCE, is_active=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)
    )
    if not recipients:
        logger.warning("complaint deadline warning: no active compliance officer has an email address")
        return
    with translation.override(settings.LANGUAGE_CODE):
        count = len(complaints)
        subject = ngettext(
            "%(count)d complaint is close to its decision deadline",
            "%(count)d complaints are close to their decision deadline",
            count,
        ) % {"count": count}
        lines = []
        for complaint in complaints:
            state = sla.clock(due_at=complaint.due_at, now=now)
            if state.status == sla.ClockStatus.OVERDUE:
                left = _("overdue")
            else:
                left = ngettext("%(days)d day left", "%(days)d days left", state.days_left) % {"days": state.days_left}
            lines.append(
                _("Complaint #%(number)s (%(category)s): decide by %(due)s, %(left)s")
                % {
                    "number": complaint.pk,
                    "category": complaint.get_category_display(),
                    "due": timezone.localtime(complaint.due_at).strftime("%Y-%m-%d %H:%M"),
                    "left": left,
                }
            )
        send_mail(subject, "\n".join(lines), None, recipients)


# --- Retention -----------------------------------------------------------------------------------

ANONYMISED_NAME = "已匿名"
# cases.models.TERMINAL_STATES; compliance never imports cases.
_TERMINAL_CASE_STATES = ("resolved", "closed")


def _years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


def retention_years(*, jurisdiction: str, configured: int | None = None) -> int:
    """Years a closed debtor's records are kept: the configured period, never below the jurisdiction's
    minimum (ContactPolicy.retention_years: CN 2, US 3)."""
    configured = settings.RETENTION_YEARS if configured is None else configured
    policy = active_policy(jurisdiction=jurisdiction)
    return max(configured, policy.retention_years if policy is not None else 0)


def _expired_debtors(*, jurisdiction: str, cutoff: datetime):
    """Debtors of a jurisdiction with at least one case, every case closed or resolved, and nothing on
    any of their cases (opening, closing, contacts, audit events) or accounts (payments) after cutoff."""
    debtor_model = apps.get_model("cases", "Debtor")
    case_model = apps.get_model("cases", "Case")
    payment_model = apps.get_model("cases", "Payment")
    cases = case_model.objects.filter(account__debtor_id=OuterRef("pk"))
    recent_audit = AuditEvent.objects.filter(case_id=OuterRef("pk"), at__gt=cutoff)
    return (
        debtor_model.objects.filter(anonymised_at__isnull=True, jurisdiction=jurisdiction)
        .filter(Exists(cases))
        .exclude(Exists(cases.exclude(status__in=_TERMINAL_CASE_STATES)))
        .exclude(Exists(cases.filter(Q(opened_at__gt=cutoff) | Q(closed_at__gt=cutoff))))
        .exclude(Exists(cases.filter(contacts__at__gt=cutoff)))
        .exclude(Exists(cases.filter(Exists(recent_audit))))
        .exclude(Exists(payment_model.objects.filter(account__debtor_id=OuterRef("pk"), paid_at__gt=cutoff)))
    )


def debtors_anonymise_expired(
    *, now: datetime | None = None, configured_years: int | None = None, chunk_size: int = 500
) -> dict:
    """Anonymise the debtors whose retention has run out: personal data cleared, contact persons deleted,
    amounts, cases and the audit log kept. Chunked bulk updates; one audit event per run with counts."""
    now = now or timezone.now()
    debtor_model = apps.get_model("cases", "Debtor")
    person_model = apps.get_model("cases", "ContactPerson")
    jurisdictions = sorted(
        set(debtor_model.objects.filter(anonymised_at__isnull=True).values_list("jurisdiction", flat=True))
    )
    result = {"debtors": 0, "contact_persons": 0, "jurisdictions": {}}
    for jurisdiction in jurisdictions:
        years = retention_years(jurisdiction=jurisdiction, configured=configured_years)
        cutoff = _years_before(now, years)
        result["jurisdictions"][jurisdiction] = {"years": years, "cutoff": cutoff, "debtors": 0}
        last_pk = 0
        while True:
            with transaction.atomic():
                ids = list(
                    _expired_debtors(jurisdiction=jurisdiction, cutoff=cutoff)
                    .filter(pk__gt=last_pk)
                    .select_for_update()
                    .order_by("pk")
                    .values_list("pk", flat=True)[:chunk_size]
                )
                if not ids:
                    break
                result["contact_persons"] += person_model.objects.filter(debtor_id__in=ids).delete()[0]
                debtor_model.objects.filter(pk__in=ids).update(
                    full_name=ANONYMISED_NAME,
                    national_id="",
                    mobile="",
                    email="",
                    city="",
                    key=Concat(Value("anon:"), Cast("pk", output_field=CharField())),
                    do_not_contact=True,
                    anonymised_at=now,
                    updated_at=now,
                )
            last_pk = ids[-1]
            result["debtors"] += len(ids)
            result["jurisdictions"][jurisdiction]["debtors"] += len(ids)
    configured = settings.RETENTION_YEARS if configured_years is None else configured_years
    audit.record(action="retention.anonymise", changes={**result, "configured_years": configured})
    return result


# --- Language screening --------------------------------------------------------------------------

# Who edits the lexicon and reviews hits.
SCREENING_EDITORS = {Role.SUPERVISOR, Role.COMPLIANCE, Role.ADMIN}


class ScreeningErrorCode:
    SCREENING_BLOCKED = "screening_blocked"
    TERM_REQUIRED = "term_required"
    TERM_INVALID = "term_invalid"
    TERM_EXISTS = "term_exists"
    TERM_NOT_ACTIVE = "term_not_active"
    TERM_ACTIVE_ALREADY = "term_active_already"
    HIT_REVIEWED = "hit_already_reviewed"


class ScreeningBlocked(DomainError):
    """A text to be sent contains screened words; it is refused and the hit is kept."""

    code = ScreeningErrorCode.SCREENING_BLOCKED

    def __init__(self, matches: list[screening.Match]) -> None:
        terms = list(dict.fromkeys(match.term for match in matches))
        categories = list(dict.fromkeys(match.category for match in matches))
        super().__init__(
            _("This text may not be sent: it contains %(terms)s.") % {"terms": ", ".join(f"“{t}”" for t in terms)},
            details={"terms": terms, "categories": categories},
        )
        self.matches = matches


def screening_terms_ensure_shipped(**kwargs) -> None:
    """Add the shipped lexicon's terms that are missing; never touch a term that exists (an officer may have
    recategorised or deactivated it). Runs after every migrate (and after test flushes)."""
    from django.db import connection

    if ScreeningTerm._meta.db_table not in connection.introspection.table_names():
        return  # migrating to a state before the lexicon existed
    existing = set(ScreeningTerm.objects.values_list("language", "term"))
    missing = [
        ScreeningTerm(language=language, category=category, term=term)
        for language, category, term in lexicon.default_terms()
        if (language, term) not in existing
    ]
    ScreeningTerm.objects.bulk_create(missing, ignore_conflicts=True)


def screening_terms_active() -> list[screening.Term]:
    """The active lexicon, in the matcher's terms. One query."""
    rows = ScreeningTerm.objects.filter(active=True).values_list("term", "category", "language")
    return [screening.Term(term=term, category=category, language=language) for term, category, language in rows]


def text_screen(
    *,
    text: str,
    source: str,
    case_id: int | None = None,
    author=None,
    source_ref: str = "",
    block: bool,
    terms: list[screening.Term] | None = None,
) -> list[screening.Match]:
    """Screen a text against the active lexicon. A match is recorded as a hit (blocked or flagged, with an
    excerpt around the first match) and the matches are returned; the caller decides what a block means.
    A blocked hit must outlive the refused write, so call it outside that write's transaction."""
    matches = screening.screen(text, screening_terms_active() if terms is None else terms)
    if matches:
        _screening_hit_record(
            text=text,
            matches=matches,
            source=source,
            case_id=case_id,
            author=author,
            source_ref=source_ref,
            action=ScreeningHit.Action.BLOCKED if block else ScreeningHit.Action.FLAGGED,
        )
    return matches


def _screening_hit_record(
    *, text: str, matches: list[screening.Match], source: str, case_id, author, source_ref: str, action: str
) -> ScreeningHit:
    terms = list(dict.fromkeys(match.term for match in matches))
    categories = list(dict.fromkeys(str(match.category) for match in matches))
    # Personal data typed into the text stays out of the excerpt.
    excerpt = masking.mask_text(screening.excerpt(text, matches[0]))[: screening.EXCERPT_LIMIT]
    with transaction.atomic():
        hit = ScreeningHit.objects.create(
            source=source,
            action=action,
            case_id=case_id,
            author=author,
            terms=terms,
            categories=categories,
            excerpt=excerpt,
            source_ref=source_ref[:80],
        )
        audit.record(
            actor=author,
            action=f"screening.{action}",
            target=hit,
            case_id=case_id,
            changes={"source": source, "terms": terms, "categories": categories, "source_ref": source_ref},
        )
    return hit


def _require_screening_editor(actor) -> None:
    if actor is None or not (actor.is_superuser or actor.role in SCREENING_EDITORS):
        raise PermissionDenied(_("Only supervisors and compliance officers edit the screening lexicon."))


def _term_exists(term: str) -> Conflict:
    return Conflict(_("“%(term)s” is already on the list.") % {"term": term}, code=ScreeningErrorCode.TERM_EXISTS)


def screening_term_add(*, language: str, category: str, term: str, actor) -> ScreeningTerm:
    """Put a word or phrase on the lexicon; adding an inactive one again makes it active (in the new category)."""
    _require_screening_editor(actor)
    term = screening.clean_term(term)
    if not term:
        raise DomainError(_("Enter a word or phrase."), code=ScreeningErrorCode.TERM_REQUIRED)
    if language not in dict(settings.LANGUAGES) or category not in ScreeningTerm.Category.values:
        raise DomainError(_("Choose a language and a category from the list."), code=ScreeningErrorCode.TERM_INVALID)
    if len(term) > ScreeningTerm._meta.get_field("term").max_length:
        raise DomainError(_("A term has at most 100 characters."), code=ScreeningErrorCode.TERM_INVALID)
    if not screening.has_cjk(term) and len(screening.normalise(term)) < 2:
        raise DomainError(
            _("A term without Chinese characters needs at least two letters."), code=ScreeningErrorCode.TERM_INVALID
        )
    try:
        with transaction.atomic():
            existing = ScreeningTerm.objects.select_for_update().filter(language=language, term__iexact=term).first()
            if existing is not None and existing.active:
                raise _term_exists(term)
            if existing is not None:
                changes = {"term": existing.term, "active": [False, True]}
                if existing.category != category:
                    changes["category"] = [existing.category, category]
                existing.active, existing.category = True, category
                existing.save(update_fields=["active", "category"])
                audit.record(actor=actor, action="screening_term.activate", target=existing, changes=changes)
                return existing
            created = ScreeningTerm.objects.create(language=language, category=category, term=term, created_by=actor)
            audit.record(
                actor=actor,
                action="screening_term.add",
                target=created,
                changes={"language": language, "category": category, "term": term},
            )
    except IntegrityError as exc:
        raise _term_exists(term) from exc
    return created


def screening_term_deactivate(*, term_id: int, actor, reason: str = "") -> ScreeningTerm:
    """Take a term off the active lexicon; it stays listed (and a shipped term is not put back by migrate)."""
    return _screening_term_set_active(term_id=term_id, active=False, actor=actor, reason=reason)


def screening_term_reactivate(*, term_id: int, actor, reason: str = "") -> ScreeningTerm:
    """Screen an inactive term again."""
    return _screening_term_set_active(term_id=term_id, active=True, actor=actor, reason=reason)


def _screening_term_set_active(*, term_id: int, active: bool, actor, reason: str) -> ScreeningTerm:
    _require_screening_editor(actor)
    with transaction.atomic():
        term = ScreeningTerm.objects.select_for_update().get(pk=term_id)
        if term.active == active:
            if active:
                raise Conflict(_("This term is already active."), code=ScreeningErrorCode.TERM_ACTIVE_ALREADY)
            raise Conflict(_("This term is not active."), code=ScreeningErrorCode.TERM_NOT_ACTIVE)
        term.active = active
        term.save(update_fields=["active"])
        audit.record(
            actor=actor,
            action="screening_term.activate" if active else "screening_term.deactivate",
            target=term,
            changes={"term": term.term, "active": [not active, active]},
            reason=reason.strip(),
        )
    return term


def screening_hit_review(*, hit_id: int, actor, note: str = "") -> ScreeningHit:
    """Mark a hit as reviewed; the note (what was done about it) goes to the audit log."""
    _require_screening_editor(actor)
    with transaction.atomic():
        hit = ScreeningHit.objects.select_for_update().get(pk=hit_id)
        if hit.reviewed_at is not None:
            raise Conflict(_("This hit was already reviewed."), code=ScreeningErrorCode.HIT_REVIEWED)
        hit.reviewed_by, hit.reviewed_at = actor, timezone.now()
        hit.save(update_fields=["reviewed_by", "reviewed_at"])
        audit.record(
            actor=actor,
            action="screening.review",
            target=hit,
            case_id=hit.case_id,
            changes={"terms": hit.terms},
            reason=note.strip(),
        )
    return hit


# --- Personal data -------------------------------------------------------------------------------

# Who may see a cardholder's full national id, mobile or email, one field at a time and with a reason:
# the people who call, verify, write to or sue the cardholder, and compliance investigating a complaint.
# Administrators run the system and do not need it.
REVEAL_ROLES = {Role.COLLECTOR, Role.SUPERVISOR, Role.LEGAL, Role.COMPLIANCE}
REVEALABLE_FIELDS = ("national_id", "mobile", "email")
UNKNOWN_FIELD = "unknown_field"


def personal_data_may_reveal(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.role in REVEAL_ROLES)


def personal_data_reveal(*, case_id: int, field: str, reason: str, actor) -> str:
    """The cardholder's unmasked `field`, for a stated reason. The reveal is audited (who, which field, why),
    never the value. The caller has checked that the actor may see the case."""
    if field not in REVEALABLE_FIELDS:
        raise DomainError(_("This field cannot be revealed."), code=UNKNOWN_FIELD)
    if not personal_data_may_reveal(actor):
        raise PermissionDenied(_("Your role does not reveal personal data."))
    reason = " ".join(reason.split())
    if not reason:
        raise DomainError(_("Say why you need to see it."), code=ErrorCode.REASON_REQUIRED)
    case_model = apps.get_model("cases", "Case")
    with transaction.atomic():
        case = case_model.objects.select_related("account__debtor").get(pk=case_id)
        value = getattr(case.account.debtor, field) or ""
        # A reason that repeats the value must not put it in the log.
        reason = masking.mask_text(reason.replace(value, _MASKERS[field](value)) if value else reason)
        audit.record(
            actor=actor, action="personal_data.reveal", target=case, changes={"field": field}, reason=reason[:500]
        )
    return value


_MASKERS = {
    "national_id": masking.mask_national_id,
    "mobile": masking.mask_mobile,
    "email": masking.mask_email,
}


# --- Contact policy versions -------------------------------------------------------------------------

POLICY_EDITORS = {Role.COMPLIANCE, Role.ADMIN}
POLICY_FIELDS = (
    "contact_start",
    "contact_end",
    "daily_attempt_limit",
    "daily_conversation_limit",
    "weekly_attempt_limit",
    "cooling_off_days",
    "allowed_parties",
    "contact_person_when_unreachable",
    "location_calls",
    "agreement_stops_collection",
    "retention_years",
)


def contact_policy_revise(*, jurisdiction: str, actor, reason: str, **fields) -> ContactPolicy:
    """A compliance officer changes a jurisdiction's rules: a new version, so that every decision keeps
    pointing at the rules it was made under."""
    if not actor.is_superuser and actor.role not in POLICY_EDITORS:
        raise PermissionDenied(_("Only compliance officers change contact policies."))
    reason = _required_text(reason, _("A policy change needs a reason."), ErrorCode.REASON_REQUIRED)
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"not policy fields: {sorted(unknown)}")
    with transaction.atomic():
        current = (
            ContactPolicy.objects.select_for_update().filter(jurisdiction=jurisdiction).order_by("-version").first()
        )
        if current is None:
            raise DomainError(_("There is no policy for this jurisdiction."), code=ErrorCode.UNKNOWN_POLICY)
        values = {name: fields.get(name, getattr(current, name)) for name in POLICY_FIELDS}
        if values["contact_start"] >= values["contact_end"]:
            raise DomainError(_("Contact hours must start before they end."), code=ErrorCode.INVALID_HOURS)
        changes = {
            name: [getattr(current, name), value] for name, value in values.items() if getattr(current, name) != value
        }
        if not changes:
            raise DomainError(_("Nothing was changed."), code=ErrorCode.NOTHING_CHANGED)
        revised = ContactPolicy.objects.create(
            jurisdiction=jurisdiction, version=current.version + 1, created_by=actor, **values
        )
        audit.record(actor=actor, action="contact_policy.revise", target=revised, changes=changes, reason=reason)
    return revised
