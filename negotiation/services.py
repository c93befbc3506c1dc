"""Contacts on every channel. Every outbound contact asks the compliance gate first."""

import hashlib
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import CharField, Exists, Max, OuterRef, Q, Sum, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.roles import role_require
from cases.models import Case, CaseEvidence, CaseStatus, Payment
from cases.services import case_evidence_record, case_transition
from compliance import audit
from compliance.models import ContactDecision, Hold, ScreeningHit
from compliance.policy import ContactFact, DebtorFacts, HoldFact, Outcome, Party, Purpose, evaluate
from compliance.reasons import ReasonCode, reason_stored, source_text
from compliance.selectors import active_holds, active_policy
from compliance.services import ScreeningBlocked, decision_record, hold_set, text_screen
from config.errors import Conflict, DomainError
from negotiation import rendering, sealing, strategy
from negotiation.gateways import send_email, sms_gateway
from negotiation.models import (
    Channel,
    Contact,
    ContactStrategy,
    FieldVisit,
    FollowUpTask,
    HardshipReason,
    MessageTemplate,
    OutboundMessage,
    Promise,
    Verification,
    VerificationDocument,
)

# Enough history for every rule: a day, seven days, the US quiet period.
HISTORY_DAYS = 8
# The debtor counts as unreachable after this many phone attempts in 30 days without one conversation.
UNREACHABLE_AFTER_ATTEMPTS = 10
CONTACT_ROLES = {Role.COLLECTOR, Role.SUPERVISOR, Role.LEGAL, Role.ADMIN}


class ErrorCode:
    CONTACT_FORBIDDEN = "contact_forbidden"
    CONTACT_IN_FUTURE = "contact_in_future"
    UNSUPPORTED_CHANNEL = "unsupported_channel"
    NO_RECIPIENT = "no_recipient"
    NOT_SENT = "message_not_sent"
    VISIT_NOT_APPROVED = "visit_not_approved"


class ContactForbidden(Conflict):
    """The policy forbids this contact; carries the reasons and when it would be allowed."""

    code = ErrorCode.CONTACT_FORBIDDEN

    def __init__(self, decision: ContactDecision) -> None:
        super().__init__(
            _("The contact policy forbids this contact now."),
            details={"reasons": decision.reasons, "next_allowed_at": decision.next_allowed_at},
        )
        self.decision = decision

    def as_dict(self) -> dict:
        next_at = self.decision.next_allowed_at
        return {
            "code": self.code,
            "detail": self.message,
            "allowed": False,
            "reasons": self.decision.reasons,
            "next_allowed_at": next_at.isoformat() if next_at else None,
        }


class VisitNotApproved(Conflict):
    """A contact on the visit channel is logged only from a field visit a supervisor approved."""

    code = ErrorCode.VISIT_NOT_APPROVED


# Who may log a visit besides its two staff.
VISIT_LOGGERS = {Role.SUPERVISOR, Role.ADMIN}


def _approved_visit(*, case: Case, visit_id: int | None, actor) -> FieldVisit:
    """The approved visit of this case a visit contact records, locked; anything else is refused by name."""
    visit = (
        FieldVisit.objects.select_for_update(of=("self",)).filter(pk=visit_id, case=case).first()
        if visit_id is not None
        else None
    )
    if visit is None:
        raise VisitNotApproved(_("A field visit is logged only from a visit request that a supervisor approved."))
    if visit.status != FieldVisit.Status.APPROVED:
        raise VisitNotApproved(
            _("This field visit is “%(status)s”; only an approved visit can be logged.")
            % {"status": visit.get_status_display()}
        )
    if actor is not None and not actor.is_superuser and actor.pk not in visit.staff_ids:
        role_require(actor, VISIT_LOGGERS, _("Only the visit's two staff or a supervisor log it."), system_allowed=True)
    return visit


def debtor_facts(case: Case, history: list[ContactFact], now: datetime) -> DebtorFacts:
    debtor = case.account.debtor
    opted_out = {
        channel
        for channel, flag in (
            ("phone", debtor.opt_out_phone),
            ("sms", debtor.opt_out_sms),
            ("email", debtor.opt_out_email),
        )
        if flag
    }
    recent_calls = [f for f in history if f.channel == "phone" and f.party == Party.DEBTOR]
    unreachable = len(recent_calls) >= UNREACHABLE_AFTER_ATTEMPTS and not any(
        f.outcome in Outcome.CONVERSATION for f in recent_calls
    )
    return DebtorFacts(
        timezone=debtor.timezone,
        do_not_contact=debtor.do_not_contact,
        opted_out=frozenset(opted_out),
        unreachable=unreachable,
        promise_until=promise_pause_until(case, timezone.localdate(now)),
    )


def contact_history(case: Case, when: datetime) -> list[ContactFact]:
    """Outbound contacts of the last 30 days, and every third-party location call ever."""
    since = when - timedelta(days=30)
    rows = Contact.objects.filter(case=case, direction=Contact.Direction.OUTBOUND).filter(at__gte=since) | (
        Contact.objects.filter(case=case, party=Party.CONTACT_PERSON)
    )
    return [
        ContactFact(channel=c.channel, at=c.at, outcome=c.outcome, party=c.party, number=c.number)
        for c in rows.only("channel", "at", "outcome", "party", "number")
    ]


def _decide(
    *, case: Case, channel: str, party: str, at: datetime, purpose: str, number: str, actor, path: str
) -> ContactDecision:
    policy = active_policy(jurisdiction=case.account.debtor.jurisdiction)
    history = contact_history(case, at)
    holds = [HoldFact(kind) for kind in active_holds(case_id=case.pk).values_list("kind", flat=True)]
    decision = evaluate(
        policy=policy.rules(),
        channel=channel,
        party=party,
        when=at,
        history=history,
        holds=holds,
        debtor=debtor_facts(case, history, at),
        purpose=purpose,
        number=number,
    )
    return decision_record(
        case_id=case.pk,
        policy=policy,
        decision=decision,
        channel=channel,
        party=party,
        purpose=purpose,
        at=at,
        asked_by=actor,
        path=path,
    )


def contact_check(
    *,
    case_id: int,
    channel: str,
    at: datetime | None = None,
    party: str = Party.DEBTOR,
    purpose: str = Purpose.COLLECTION,
    number: str = "",
    actor=None,
    path: str = "api",
) -> ContactDecision:
    """May this contact happen at `at`? The answer is recorded with the policy version used."""
    case = Case.objects.select_related("account__debtor").get(pk=case_id)
    return _decide(
        case=case,
        channel=channel,
        party=party,
        at=at or timezone.now(),
        purpose=purpose,
        number=number or _default_number(case, channel, party),
        actor=actor,
        path=path,
    )


def _default_number(case: Case, channel: str, party: str) -> str:
    return case.account.debtor.mobile if channel == "phone" and party == Party.DEBTOR else ""


def contact_record(
    *,
    case_id: int,
    channel: str,
    outcome: str,
    actor,
    party: str = Party.DEBTOR,
    at: datetime | None = None,
    direction: str = Contact.Direction.OUTBOUND,
    number: str = "",
    duration_seconds: int | None = None,
    notes: str = "",
    next_step: str = "",
    path: str = "api",
    visit_id: int | None = None,
) -> Contact:
    """Record a contact that was made. An outbound one must pass the gate at its own time; a refusal is
    recorded and raised as ContactForbidden, and no contact is stored. A visit needs its approved
    FieldVisit (`visit_id`, else VisitNotApproved); logging it marks the visit done with both staff."""
    if actor is not None and not actor.is_superuser and actor.role not in CONTACT_ROLES:
        raise PermissionDenied(_("Your role does not record contacts."))
    now = timezone.now()
    at = at or now
    if at > now + timedelta(minutes=1):
        raise DomainError(_("A contact cannot be recorded in the future."), code=ErrorCode.CONTACT_IN_FUTURE)
    refused = None
    with transaction.atomic():
        # Lock the case so that two collectors logging at once cannot both pass a daily limit.
        case = Case.objects.select_for_update(of=("self",)).select_related("account__debtor").get(pk=case_id)
        number = number or _default_number(case, channel, party)
        visit = _approved_visit(case=case, visit_id=visit_id, actor=actor) if channel == Channel.VISIT else None
        decision = None
        if direction == Contact.Direction.OUTBOUND:
            decision = _decide(
                case=case,
                channel=channel,
                party=party,
                at=at,
                purpose=Purpose.COLLECTION,
                number=number,
                actor=actor,
                path=path,
            )
            if not decision.allowed:
                refused = decision
        if refused is None:
            contact = Contact.objects.create(
                case=case,
                channel=channel,
                direction=direction,
                party=party,
                number=number,
                outcome=outcome,
                duration_seconds=duration_seconds,
                notes=notes,
                next_step=next_step,
                at=at,
                recorded_by=actor,
                decision=decision,
            )
            audit.record(
                actor=actor,
                action="contact.record",
                target=contact,
                case_id=case.pk,
                changes={"channel": channel, "party": party, "outcome": outcome, "at": at},
            )
            if visit is not None:
                _visit_done(visit=visit, contact=contact, actor=actor)
            _screen_note(contact=contact, actor=actor)
            _follow_outcome(case=case, contact=contact, actor=actor)
    if refused is not None:
        raise ContactForbidden(refused)
    return contact


def _visit_done(*, visit: FieldVisit, contact: Contact, actor) -> None:
    visit.status, visit.contact = FieldVisit.Status.DONE, contact
    visit.save(update_fields=["status", "contact"])
    audit.record(
        actor=actor,
        action="visit.log",
        target=visit,
        case_id=visit.case_id,
        changes={
            "status": [FieldVisit.Status.APPROVED, FieldVisit.Status.DONE],
            "contact": contact.pk,
            "staff": list(visit.staff_ids),
            "outcome": contact.outcome,
        },
    )


def _screen_note(*, contact: Contact, actor) -> None:
    """A note with screened words is kept (it is the record of what was said) but flagged for review."""
    text = "\n".join(part for part in (contact.notes, contact.next_step) if part)
    if text:
        text_screen(
            text=text,
            source=ScreeningHit.Source.NOTE,
            case_id=contact.case_id,
            author=actor,
            source_ref=f"contact:{contact.pk}",
            block=False,
        )


def _follow_outcome(*, case: Case, contact: Contact, actor) -> None:
    """What an outcome does to the case: a first conversation moves it on; a dispute holds it."""
    if contact.is_conversation and case.status == CaseStatus.NOTIFY:
        case_transition(
            case_id=case.pk,
            name="record_first_contact",
            actor=actor,
            reason_code=ReasonCode.CONTACT_OUTCOME,
            reason_params={"outcome": source_text(contact.get_outcome_display())},
        )
    if (
        contact.outcome == Outcome.DISPUTE_RAISED
        and case.is_open
        and not active_holds(case_id=case.pk).filter(kind=Hold.Kind.DISPUTE).exists()
    ):
        hold_set(case_id=case.pk, kind=Hold.Kind.DISPUTE, reason_code=ReasonCode.DISPUTE_IN_CONTACT, actor=None)


# --- The outbox ------------------------------------------------------------------------------------

# A message still queued or sending this long after its last change lost its task; it is sent again
# (with the same idempotency key, so a gateway that already has it does not deliver it twice).
STUCK_AFTER = timedelta(minutes=10)


def _recipient(case: Case, channel: str) -> str:
    debtor = case.account.debtor
    return {Channel.SMS: debtor.mobile, Channel.EMAIL: debtor.email}.get(channel, "")


def message_queue(
    *,
    case_id: int,
    channel: str,
    text: str,
    idempotency_key: str,
    purpose: str = Purpose.COLLECTION,
    subject: str = "",
    actor=None,
    clear_text: str | None = None,
    clear_subject: str | None = None,
) -> OutboundMessage:
    """Put a message in the outbox once per idempotency key and send it after commit. The gate is asked
    when it is sent, so a message queued at night waits for the morning instead of being lost.
    With secrets, `text` and `subject` have them masked and `clear_text`/`clear_subject` are what the
    cardholder gets: kept sealed until the send (negotiation.sealing)."""
    if channel not in (Channel.SMS, Channel.EMAIL):
        raise DomainError(_("Only SMS and email go through the outbox."), code=ErrorCode.UNSUPPORTED_CHANNEL)
    # Screened before the transaction: a refused text queues nothing, and its hit is kept.
    matches = text_screen(
        text="\n".join(part for part in (subject, text) if part),
        source=ScreeningHit.Source.MESSAGE,
        case_id=case_id,
        author=actor,
        source_ref=f"message:{idempotency_key}",
        block=True,
    )
    if matches:
        raise ScreeningBlocked(matches)
    with transaction.atomic():
        case = Case.objects.select_related("account__debtor").get(pk=case_id)
        recipient = _recipient(case, channel)
        if not recipient:
            raise DomainError(_("The cardholder has no address for this channel."), code=ErrorCode.NO_RECIPIENT)
        message, created = OutboundMessage.objects.get_or_create(
            idempotency_key=idempotency_key,
            defaults={
                "case": case,
                "channel": channel,
                "purpose": purpose,
                "recipient": recipient,
                "subject": subject,
                "body": text,
                "sealed": _sealed(subject, text, clear_subject, clear_text),
                "created_by": actor,
            },
        )
        if created:
            audit.record(
                actor=actor,
                action="message.queue",
                target=message,
                case_id=case.pk,
                changes={"channel": channel, "purpose": purpose, "key": idempotency_key},
            )
            from negotiation.tasks import send_message

            send_message.delay_on_commit(message.pk)
    return message


def _sealed(subject: str, text: str, clear_subject: str | None, clear_text: str | None) -> str:
    if clear_subject is None and clear_text is None:
        return ""
    return sealing.seal(subject=subject if clear_subject is None else clear_subject,
                        body=text if clear_text is None else clear_text)


def message_send(*, message_id: int) -> OutboundMessage:
    """Ask the gate now; send, hold until the next allowed time, or block. Safe to run twice."""
    now = timezone.now()
    with transaction.atomic():
        message = OutboundMessage.objects.select_for_update(of=("self",)).get(pk=message_id)
        if message.status in OutboundMessage.FINAL:
            return message
        if message.status == OutboundMessage.Status.SCHEDULED and message.scheduled_for > now:
            return message
        case = Case.objects.select_related("account__debtor").get(pk=message.case_id)
        decision = _decide(
            case=case,
            channel=message.channel,
            party=message.party,
            at=now,
            purpose=message.purpose,
            number=message.recipient if message.channel == Channel.SMS else "",
            actor=None,
            path="outbox",
        )
        message.decision = decision
        if not decision.allowed:
            if decision.next_allowed_at is not None:
                message.status, message.scheduled_for = OutboundMessage.Status.SCHEDULED, decision.next_allowed_at
            else:
                # Never to be sent: its secret goes now.
                message.status, message.sealed = OutboundMessage.Status.BLOCKED, ""
            message.save(update_fields=["decision", "status", "scheduled_for", "sealed", "updated_at"])
            audit.record(
                action=f"message.{message.status}",
                target=message,
                case_id=case.pk,
                changes={"reasons": decision.reason_codes, "next_allowed_at": decision.next_allowed_at},
            )
            return message
        message.status = OutboundMessage.Status.SENDING
        message.attempts += 1
        message.save(update_fields=["decision", "status", "attempts", "updated_at"])
    delivery = _deliver(message)
    with transaction.atomic():
        message = OutboundMessage.objects.select_for_update(of=("self",)).get(pk=message_id)
        if message.status == OutboundMessage.Status.SENDING:
            message.status = OutboundMessage.Status.SENT
            message.sent_at = timezone.now()
            message.gateway_ref = delivery.gateway_ref
            # The clear text is on the cardholder's phone now, and nowhere else.
            message.sealed = ""
            message.save(update_fields=["status", "sent_at", "gateway_ref", "sealed", "updated_at"])
            audit.record(
                action="message.sent",
                target=message,
                case_id=message.case_id,
                changes={"gateway_ref": delivery.gateway_ref, "repeated": delivery.repeated},
            )
    return message


def message_clear_text(message: OutboundMessage) -> tuple[str, str]:
    """(subject, body) as the gateway gets them: the sealed clear text while it is kept, else the stored text.
    Only the send (and a demo or test standing in for the cardholder's phone) reads it; never show it."""
    if message.sealed:
        return sealing.unseal(message.sealed)
    return message.subject, message.body


def _deliver(message: OutboundMessage):
    subject, text = message_clear_text(message)
    if message.channel == Channel.SMS:
        return sms_gateway().send(key=message.idempotency_key, to=message.recipient, text=text)
    return send_email(key=message.idempotency_key, to=message.recipient, subject=subject, text=text)


DELIVERY_REPORTERS = {Role.ADMIN, Role.SUPERVISOR}


def message_mark_delivered(*, message_id: int, actor, delivered_at: datetime | None = None) -> OutboundMessage:
    """The gateway's delivery receipt (reported by its integration user); a repeat changes nothing."""
    role_require(actor, DELIVERY_REPORTERS, _("Your role does not report deliveries."), system_allowed=True)
    with transaction.atomic():
        message = OutboundMessage.objects.select_for_update(of=("self",)).get(pk=message_id)
        if message.status == OutboundMessage.Status.DELIVERED:
            return message
        if message.status != OutboundMessage.Status.SENT:
            raise Conflict(
                _("Only a sent message can be delivered (it is “%(status)s”).")
                % {"status": message.get_status_display()},
                code=ErrorCode.NOT_SENT,
            )
        message.status = OutboundMessage.Status.DELIVERED
        message.delivered_at = min(delivered_at or timezone.now(), timezone.now())
        message.save(update_fields=["status", "delivered_at", "updated_at"])
        audit.record(
            actor=actor,
            action="message.delivered",
            target=message,
            case_id=message.case_id,
            changes={"delivered_at": message.delivered_at},
        )
    return message


def messages_release_held(*, now: datetime | None = None) -> list[int]:
    """Messages whose hold time has come, and messages whose task was lost: hand them to a worker again."""
    now = now or timezone.now()
    due = OutboundMessage.objects.filter(
        Q(status=OutboundMessage.Status.SCHEDULED, scheduled_for__lte=now)
        | Q(
            status__in=[OutboundMessage.Status.QUEUED, OutboundMessage.Status.SENDING],
            updated_at__lte=now - STUCK_AFTER,
        )
    )
    return list(due.values_list("pk", flat=True)[:5000])


# --- Verification of the cardholder's situation ----------------------------------------------------

VERIFICATION_ROLES = {Role.COLLECTOR, Role.SUPERVISOR, Role.ADMIN}
# Roles that may read a case's evidence documents (always within visible_cases).
DOCUMENT_READERS = {Role.COLLECTOR, Role.SUPERVISOR, Role.LEGAL, Role.COMPLIANCE, Role.ADMIN}
# File signatures: the content decides the type, whatever the name says.
EVIDENCE_TYPES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)


class VerificationError:
    VERIFICATION_OPEN = "verification_open"
    VERIFICATION_NOT_POSSIBLE = "verification_not_possible"
    VERIFICATION_COMPLETED = "verification_completed"
    INVALID_FIGURE = "invalid_figure"
    INVALID_OUTCOME = "invalid_outcome"
    FILE_TYPE = "file_type_not_allowed"
    FILE_TOO_LARGE = "file_too_large"
    FILE_EMPTY = "file_empty"


def _money(value, label: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise DomainError(
            _("%(field)s must be an amount of zero or more with at most two decimals.") % {"field": label},
            code=VerificationError.INVALID_FIGURE,
        )
    return amount


def verification_start(*, case_id: int, actor) -> Verification:
    """Open a verification of the case (one at a time); a case in first contact moves to verification."""
    role_require(
        actor, VERIFICATION_ROLES, _("Your role does not verify cardholders' situations."), system_allowed=True
    )
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).get(pk=case_id)
        if case.verifications.filter(completed_at__isnull=True).exists():
            raise Conflict(_("A verification of this case is already open."), code=VerificationError.VERIFICATION_OPEN)
        if case.status == CaseStatus.FIRST_CONTACT:
            case_transition(case_id=case.pk, name="start_verification", actor=actor)
        elif case.status != CaseStatus.VERIFICATION:
            raise Conflict(
                _("A verification can start only in first contact or verification, not in “%(state)s”.")
                % {"state": case.get_status_display()},
                code=VerificationError.VERIFICATION_NOT_POSSIBLE,
            )
        verification = Verification.objects.create(case=case, started_by=actor)
        audit.record(actor=actor, action="verification.start", target=verification, case_id=case.pk)
    return verification


def verification_complete(
    *,
    verification_id: int,
    actor,
    outcome: str,
    hardship_reason: str = "",
    monthly_income=Decimal("0.00"),
    essential_expenses=Decimal("0.00"),
    other_debt_payments=Decimal("0.00"),
    dependants: int = 0,
    notes: str = "",
) -> Verification:
    """Record the figures and the outcome; false information counts as wilful evidence."""
    role_require(
        actor, VERIFICATION_ROLES, _("Your role does not verify cardholders' situations."), system_allowed=True
    )
    if outcome not in Verification.Outcome.values:
        raise DomainError(_("Choose an outcome of the verification."), code=VerificationError.INVALID_OUTCOME)
    if hardship_reason and hardship_reason not in HardshipReason.values:
        raise DomainError(_("Choose a hardship reason from the list."), code=VerificationError.INVALID_FIGURE)
    figures = {
        "monthly_income": _money(monthly_income, _("Monthly income")),
        "essential_expenses": _money(essential_expenses, _("Essential expenses")),
        "other_debt_payments": _money(other_debt_payments, _("Other debts' monthly payments")),
    }
    if dependants is None or int(dependants) < 0:
        raise DomainError(_("Dependants must be zero or more."), code=VerificationError.INVALID_FIGURE)
    with transaction.atomic():
        case_id = Verification.objects.values_list("case_id", flat=True).get(pk=verification_id)
        # The case first (see case_evidence_record): its lock comes before any audit write.
        Case.objects.select_for_update().filter(pk=case_id).values_list("pk", flat=True).get()
        verification = Verification.objects.select_for_update().get(pk=verification_id)
        if not verification.is_open:
            raise Conflict(_("This verification is already completed."), code=VerificationError.VERIFICATION_COMPLETED)
        for name, value in figures.items():
            setattr(verification, name, value)
        verification.hardship_reason = hardship_reason
        verification.dependants = int(dependants)
        verification.notes = notes.strip()
        verification.disposable_income = verification.computed_disposable_income
        verification.outcome = outcome
        verification.completed_by = actor
        verification.completed_at = timezone.now()
        verification.save()
        audit.record(
            actor=actor,
            action="verification.complete",
            target=verification,
            case_id=case_id,
            changes={
                "outcome": outcome,
                "hardship_reason": hardship_reason,
                **figures,
                "dependants": verification.dependants,
                "disposable_income": verification.disposable_income,
            },
        )
        if verification.notes:
            text_screen(
                text=verification.notes,
                source=ScreeningHit.Source.NOTE,
                case_id=case_id,
                author=actor,
                source_ref=f"verification:{verification.pk}",
                block=False,
            )
        if outcome == Verification.Outcome.FALSE_INFORMATION:
            case_evidence_record(
                case_id=case_id,
                kind=CaseEvidence.Kind.FALSE_INFORMATION,
                occurred_on=timezone.localdate(),
                actor=actor,
                detail=_("Verification found false information."),
                source_ref=f"verification:{verification.pk}",
            )
    return verification


def _sniff(head: bytes) -> tuple[str, str] | None:
    for magic, content_type, extension in EVIDENCE_TYPES:
        if head.startswith(magic):
            return content_type, extension
    return None


def verification_document_add(*, verification_id: int, actor, upload, kind: str = VerificationDocument.Kind.OTHER):
    """Keep one evidence file after checking its size and, by its content, its type (PDF, JPEG, PNG)."""
    role_require(actor, VERIFICATION_ROLES, _("Your role does not add evidence."), system_allowed=True)
    if kind not in VerificationDocument.Kind.values:
        raise DomainError(_("Choose what kind of document this is."), code=VerificationError.FILE_TYPE)
    if upload.size == 0:
        raise DomainError(_("The file is empty."), code=VerificationError.FILE_EMPTY)
    if upload.size > settings.EVIDENCE_MAX_BYTES:
        raise DomainError(
            _("The file is larger than %(mb)s MB.") % {"mb": settings.EVIDENCE_MAX_BYTES // (1024 * 1024)},
            code=VerificationError.FILE_TOO_LARGE,
        )
    upload.seek(0)
    sniffed = _sniff(upload.read(16))
    if sniffed is None:
        raise DomainError(
            _("Only PDF, JPEG and PNG files are accepted; this file is none of them."),
            code=VerificationError.FILE_TYPE,
        )
    content_type, extension = sniffed
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    original_name = Path(upload.name or "document").name[:255]
    with transaction.atomic():
        verification = Verification.objects.select_related("case").get(pk=verification_id)
        document = VerificationDocument(
            verification=verification,
            kind=kind,
            original_name=original_name,
            content_type=content_type,
            size=upload.size,
            sha256=digest.hexdigest(),
            uploaded_by=actor,
        )
        # The stored name takes the extension of the content, not of the name it came with.
        document.file.save(f"evidence{extension}", upload, save=False)
        try:
            document.save()
            audit.record(
                actor=actor,
                action="verification.document_add",
                target=document,
                case_id=verification.case_id,
                changes={"name": original_name, "type": content_type, "size": upload.size, "sha256": document.sha256},
            )
        except Exception:
            document.file.delete(save=False)
            raise
    return document


def verification_document_read(*, document_id: int, actor) -> VerificationDocument:
    """A document this person may download (404 outside their cases); the read is audited."""
    from cases.selectors import visible_cases

    document = (
        VerificationDocument.objects.filter(verification__case__in=visible_cases(actor))
        .select_related("verification")
        .filter(pk=document_id)
        .first()
    )
    if document is None:
        raise VerificationDocument.DoesNotExist(document_id)
    role_require(actor, DOCUMENT_READERS, _("Your role does not read evidence documents."), system_allowed=True)
    audit.record(
        actor=actor,
        action="verification.document_read",
        target=document,
        case_id=document.verification.case_id,
    )
    return document


# --- Promises to pay -------------------------------------------------------------------------------


class PromiseError:
    INVALID_AMOUNT = "invalid_amount"
    INVALID_DATE = "invalid_due_date"
    CASE_CLOSED = "case_closed"
    UNKNOWN_CONTACT = "unknown_contact"


def promise_record(
    *, case_id: int, amount, due_on: date, actor, contact_id: int | None = None, today: date | None = None
) -> Promise:
    """Record a promise to pay: a positive amount up to the overdue total, due today or within the limit."""
    role_require(actor, CONTACT_ROLES, _("Your role does not record promises to pay."), system_allowed=True)
    today = today or timezone.localdate()
    try:
        amount = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        amount = Decimal("NaN")
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise DomainError(
            _("A promised amount must be greater than zero, with at most two decimals."),
            code=PromiseError.INVALID_AMOUNT,
        )
    latest = today + timedelta(days=settings.PROMISE_MAX_DAYS_AHEAD)
    if due_on < today:
        raise DomainError(_("A promise cannot be due in the past."), code=PromiseError.INVALID_DATE)
    if due_on > latest:
        raise DomainError(
            _("A promise can be due at most %(days)d days ahead (by %(date)s).")
            % {"days": settings.PROMISE_MAX_DAYS_AHEAD, "date": latest.isoformat()},
            code=PromiseError.INVALID_DATE,
        )
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).select_related("account").get(pk=case_id)
        if not case.is_open:
            raise Conflict(_("The case is closed."), code=PromiseError.CASE_CLOSED)
        if amount > case.account.overdue_total:
            raise DomainError(
                _("The promised amount is more than the overdue total (%(total)s).")
                % {"total": case.account.overdue_total},
                code=PromiseError.INVALID_AMOUNT,
            )
        if contact_id is not None and not Contact.objects.filter(pk=contact_id, case=case).exists():
            raise DomainError(_("That contact is not one of this case."), code=PromiseError.UNKNOWN_CONTACT)
        promise = Promise.objects.create(
            case=case, amount=amount, due_on=due_on, made_via_id=contact_id, created_by=actor
        )
        audit.record(
            actor=actor,
            action="promise.record",
            target=promise,
            case_id=case.pk,
            changes={"amount": amount, "due_on": due_on, "contact": contact_id},
        )
    return promise


def _promise_end(promise: Promise) -> datetime:
    """The first moment after the grace days: payments before it count toward the promise."""
    last_day = promise.due_on + timedelta(days=settings.PROMISE_GRACE_DAYS + 1)
    return datetime.combine(last_day, time.min, tzinfo=timezone.get_current_timezone())


def _promise_verdict(amount: Decimal, paid: Decimal) -> str:
    tolerance = max(
        Decimal(settings.PROMISE_TOLERANCE_AMOUNT),
        (amount * Decimal(settings.PROMISE_TOLERANCE_RATIO)).quantize(Decimal("0.01")),
    )
    if paid >= amount - tolerance:
        return Promise.Status.KEPT
    if paid > 0:
        return Promise.Status.PARTIALLY_KEPT
    return Promise.Status.BROKEN


def promises_judge(*, today: date | None = None) -> dict[str, int]:
    """Judge each pending promise whose grace days are over against the payments made for it; safe to rerun."""
    today = today or timezone.localdate()
    last_due = today - timedelta(days=settings.PROMISE_GRACE_DAYS + 1)
    counts = {status: 0 for status in Promise.Status.values if status != Promise.Status.PENDING}
    due = Promise.objects.filter(status=Promise.Status.PENDING, due_on__lte=last_due).order_by("due_on", "pk")
    for promise_id, case_id in due.values_list("pk", "case_id").iterator(chunk_size=2000):
        with transaction.atomic():
            # The case before the audit chain (see case_evidence_record).
            Case.objects.select_for_update().filter(pk=case_id).values_list("pk", flat=True).get()
            promise = Promise.objects.select_for_update(of=("self",)).select_related("case").get(pk=promise_id)
            if promise.status != Promise.Status.PENDING:
                continue
            paid = Payment.objects.filter(
                account_id=promise.case.account_id, paid_at__gte=promise.created_at, paid_at__lt=_promise_end(promise)
            ).aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
            promise.status = _promise_verdict(promise.amount, paid)
            promise.paid_amount = paid
            promise.judged_at = timezone.now()
            promise.save(update_fields=["status", "paid_amount", "judged_at"])
            audit.record(
                action="promise.judge",
                target=promise,
                case_id=case_id,
                changes={"status": promise.status, "amount": promise.amount, "paid": paid},
            )
            if promise.status == Promise.Status.BROKEN:
                case_evidence_record(
                    case_id=case_id,
                    kind=CaseEvidence.Kind.BROKEN_PROMISE,
                    occurred_on=promise.due_on,
                    detail=_("Promised %(amount)s by %(date)s; nothing was paid.")
                    % {"amount": promise.amount, "date": promise.due_on.isoformat()},
                    source_ref=f"promise:{promise.pk}",
                )
            if promise.status != Promise.Status.KEPT and promise.case.is_open:
                task_create(
                    case_id=case_id,
                    kind=FollowUpTask.Kind.REVIEW_PROMISE,
                    due_on=today,
                    actor=None,
                    source=FollowUpTask.Source.PROMISE,
                    note_code=ReasonCode.PROMISE_REVIEW,
                    note_params={
                        "amount": str(promise.amount),
                        "date": promise.due_on.isoformat(),
                        "status": source_text(promise.get_status_display()),
                    },
                )
        counts[promise.status] += 1
    return counts


def promise_pause_until(case: Case, today: date) -> date | None:
    """The latest due date of the case's pending promises still within their grace days, if any."""
    first_due = today - timedelta(days=settings.PROMISE_GRACE_DAYS)
    return (
        Promise.objects.filter(case=case, status=Promise.Status.PENDING, due_on__gte=first_due)
        .order_by("-due_on")
        .values_list("due_on", flat=True)
        .first()
    )


# --- Follow-up tasks -------------------------------------------------------------------------------

TASK_ROLES = {Role.COLLECTOR, Role.SUPERVISOR, Role.LEGAL, Role.ADMIN}
SUPERVISING_ROLES = {Role.SUPERVISOR, Role.ADMIN}


class TaskError:
    INVALID_KIND = "invalid_task_kind"
    ALREADY_DONE = "task_already_done"
    CASE_CLOSED = "case_closed"


def task_create(
    *,
    case_id: int,
    kind: str,
    due_on: date,
    actor,
    note: str = "",
    assigned_to_id: int | None = None,
    source: str = FollowUpTask.Source.MANUAL,
    note_code: str = "",
    note_params: dict | None = None,
) -> FollowUpTask:
    """A follow-up task on a case, for its collector unless someone else is named. A note the system words is a
    `note_code` with parameters (compliance.reasons), read in each reader's language."""
    note_params = note_params or {}
    note = reason_stored(note_code, note_params) if note_code else note
    role_require(actor, TASK_ROLES, _("Your role does not create follow-up tasks."), system_allowed=True)
    if kind not in FollowUpTask.Kind.values:
        raise DomainError(_("Choose a kind of task."), code=TaskError.INVALID_KIND)
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).get(pk=case_id)
        if not case.is_open:
            raise Conflict(_("The case is closed."), code=TaskError.CASE_CLOSED)
        task = FollowUpTask.objects.create(
            case=case,
            kind=kind,
            due_on=due_on,
            note=note.strip()[:300],
            note_code=note_code,
            note_params=note_params,
            source=source,
            created_by=actor,
            assigned_to_id=assigned_to_id or case.assigned_to_id,
        )
        audit.record(
            actor=actor,
            action="task.create",
            target=task,
            case_id=case.pk,
            changes={"kind": kind, "due_on": due_on, "assigned_to": task.assigned_to_id, "source": source},
        )
    return task


def task_complete(*, task_id: int, actor) -> FollowUpTask:
    """Tick a task done: its collector, or a supervisor. Ticking it twice is refused."""
    with transaction.atomic():
        task = FollowUpTask.objects.select_for_update().get(pk=task_id)
        if task.assigned_to_id != actor.pk and not actor.is_superuser and actor.role not in SUPERVISING_ROLES:
            raise PermissionDenied(_("Only the task's collector or a supervisor ticks it done."))
        if task.done_at is not None:
            raise Conflict(_("This task is already done."), code=TaskError.ALREADY_DONE)
        task.done_at, task.done_by = timezone.now(), actor
        task.save(update_fields=["done_at", "done_by"])
        audit.record(actor=actor, action="task.complete", target=task, case_id=task.case_id)
    return task


# --- Contact strategies ----------------------------------------------------------------------------

# (code, class, order, action, basis, days, needs supervisor approval), after the scheme: early SMS and
# calls; mid intensified calls, a visit by two staff, a lawyer letter; wilful litigation and an agency.
SHIPPED_STRATEGY = (
    ("early-sms-day-0", "early", 1, "sms", "opened", 0, False),
    ("early-call-every-3-days", "early", 2, "call", "last_contact", 3, False),
    ("mid-call-daily", "mid", 1, "call", "last_contact", 1, False),
    ("mid-visit", "mid", 2, "visit", "opened", 14, True),
    ("mid-lawyer-letter", "mid", 3, "lawyer_letter", "opened", 30, False),
    ("wilful-litigation-referral", "wilful", 1, "litigation_referral", "opened", 0, True),
    ("wilful-agency-placement", "wilful", 2, "agency_placement", "opened", 30, True),
)
TASK_KIND_FOR_ACTION = {
    ContactStrategy.Action.CALL: FollowUpTask.Kind.CALL,
    ContactStrategy.Action.VISIT: FollowUpTask.Kind.VISIT,
    ContactStrategy.Action.LAWYER_LETTER: FollowUpTask.Kind.LETTER,
}
# Cases are read and tasks written this many at a time by the daily strategy task.
STRATEGY_CHUNK = 500


def strategy_steps_ensure_shipped(**kwargs) -> None:
    """Add the scheme's default steps that are missing (by code); never touch a step that exists."""
    from django.db import connection

    if ContactStrategy._meta.db_table not in connection.introspection.table_names():
        return
    existing = set(ContactStrategy.objects.values_list("code", flat=True))
    ContactStrategy.objects.bulk_create(
        [
            ContactStrategy(
                code=code,
                classification=klass,
                order=order,
                action=action,
                channel=strategy.ACTION_CHANNEL[action],
                basis=basis,
                days=days,
                needs_supervisor_approval=approval,
            )
            for code, klass, order, action, basis, days, approval in SHIPPED_STRATEGY
            if code not in existing
        ],
        ignore_conflicts=True,
    )


def strategy_step_update(*, step_id: int, actor, **fields) -> ContactStrategy:
    """A supervisor changes a step (order, basis, days, approval, active); the change is audited."""
    role_require(actor, SUPERVISING_ROLES, _("Only supervisors edit the contact strategy."), system_allowed=True)
    editable = {"order", "basis", "days", "needs_supervisor_approval", "active"}
    with transaction.atomic():
        step = ContactStrategy.objects.select_for_update().get(pk=step_id)
        changes = audit.changes_apply(step, {name: value for name, value in fields.items() if name in editable})
        if not changes:
            return step
        step.updated_by = actor
        step.save()
        audit.record(actor=actor, action="strategy.update", target=step, changes=changes)
    return step


def strategy_step_facts(classification: str | None = None) -> dict[str, list[strategy.Step]]:
    """The active steps by class (one query)."""
    rows = ContactStrategy.objects.filter(active=True).order_by("order", "pk")
    if classification:
        rows = rows.filter(classification=classification)
    steps: dict[str, list[strategy.Step]] = {}
    for row in rows:
        steps.setdefault(row.classification, []).append(
            strategy.Step(
                id=row.pk,
                order=row.order,
                action=row.action,
                basis=row.basis,
                days=row.days,
                needs_supervisor_approval=row.needs_supervisor_approval,
            )
        )
    return steps


def _last_contact_annotations() -> dict:
    channels = {channel for channel in strategy.ACTION_CHANNEL.values() if channel}
    return {
        f"last_{channel}": Max(
            "contacts__at", filter=Q(contacts__channel=channel, contacts__direction=Contact.Direction.OUTBOUND)
        )
        for channel in channels
    }


def last_contact_days(case: Case) -> dict[str, date]:
    """The local date of the last outbound contact on each strategy channel, from `_last_contact_annotations`."""
    found = {}
    for channel in {c for c in strategy.ACTION_CHANNEL.values() if c}:
        at = getattr(case, f"last_{channel}", None)
        if at is not None:
            found[channel] = timezone.localdate(at)
    return found


def _strategy_note(action: str) -> dict:
    """The parameters of a strategy task's note: the step's action as its label's source text."""
    return {"action": source_text(ContactStrategy.Action(action).label)}


def strategy_tasks_create(*, today: date | None = None) -> int:
    """Daily: a task for each due strategy step of each open, assigned case; one per (case, step, due date),
    however often it runs. Returns how many tasks were created."""
    today = today or timezone.localdate()
    steps = strategy_step_facts()
    cases = (
        Case.objects.filter(status__in=Case.OPEN_STATES, assigned_to__isnull=False, classification__in=list(steps))
        .annotate(**_last_contact_annotations())
        .only("pk", "classification", "opened_at", "assigned_to_id")
        .order_by("pk")
    )
    created = 0
    last_pk = 0
    while True:
        chunk = list(cases.filter(pk__gt=last_pk)[:STRATEGY_CHUNK])
        if not chunk:
            break
        last_pk = chunk[-1].pk
        done: dict[int, set[int]] = {}
        for case_id, step_id in FollowUpTask.objects.filter(
            case_id__in=[c.pk for c in chunk], strategy_step__isnull=False, done_at__isnull=False
        ).values_list("case_id", "strategy_step_id"):
            done.setdefault(case_id, set()).add(step_id)
        tasks = [
            FollowUpTask(
                case_id=case.pk,
                assigned_to_id=case.assigned_to_id,
                strategy_step_id=due.step.id,
                kind=TASK_KIND_FOR_ACTION.get(due.step.action, FollowUpTask.Kind.OTHER),
                due_on=due.due_on,
                note=reason_stored(ReasonCode.STRATEGY_STEP, _strategy_note(due.step.action)),
                note_code=ReasonCode.STRATEGY_STEP,
                note_params=_strategy_note(due.step.action),
                source=FollowUpTask.Source.STRATEGY,
            )
            for case in chunk
            for due in strategy.due_steps(
                steps=steps[case.classification],
                opened_on=timezone.localdate(case.opened_at),
                last_contact_on=last_contact_days(case),
                done_step_ids=frozenset(done.get(case.pk, ())),
                today=today,
            )
        ]
        with transaction.atomic():
            before = FollowUpTask.objects.filter(source=FollowUpTask.Source.STRATEGY).count()
            FollowUpTask.objects.bulk_create(tasks, ignore_conflicts=True)
            created += FollowUpTask.objects.filter(source=FollowUpTask.Source.STRATEGY).count() - before
    if created:
        audit.record(action="task.strategy_create", changes={"created": created, "day": today})
    return created


def case_next_action(case: Case, today: date | None = None) -> strategy.Recommendation | None:
    """The strategy's next recommended step for one case (three queries)."""
    steps = strategy_step_facts(case.classification).get(case.classification, [])
    if not steps:
        return None
    annotated = Case.objects.filter(pk=case.pk).annotate(**_last_contact_annotations()).get()
    done = frozenset(
        FollowUpTask.objects.filter(case=case, strategy_step__isnull=False, done_at__isnull=False).values_list(
            "strategy_step_id", flat=True
        )
    )
    return strategy.next_action(
        steps=steps,
        opened_on=timezone.localdate(case.opened_at),
        last_contact_on=last_contact_days(annotated),
        done_step_ids=done,
    )


# --- Message templates -----------------------------------------------------------------------------


class TemplateError:
    NO_TEMPLATE = "no_template"
    INVALID_TEMPLATE = "invalid_template"


NOTICE_CODE = "collection_notice"
REMINDER_CODE = "payment_reminder"
# Lawful, polite texts: who writes, what is overdue, how to reach the bank; no threat, no third party.
SHIPPED_TEMPLATES = (
    (
        NOTICE_CODE,
        "sms",
        "zh-hans",
        "",
        "【催收通知】{{ name }}您好，您尾号{{ card_last4 }}的信用卡已逾期，逾期金额{{ overdue_total }}元。"
        "请您尽快还款；如有困难，欢迎致电{{ bank_phone }}与我们协商还款方案。如已还款请忽略。",
    ),
    (
        NOTICE_CODE,
        "sms",
        "en",
        "",
        "Collection notice: Dear {{ name }}, your credit card ending {{ card_last4 }} is overdue by CNY "
        "{{ overdue_total }}. Please pay at your earliest convenience; if you are in difficulty, call us on "
        "{{ bank_phone }} to agree a repayment plan. Please ignore this if you have paid.",
    ),
    (
        NOTICE_CODE,
        "email",
        "zh-hans",
        "催收通知：尾号{{ card_last4 }}信用卡逾期",
        "{{ name }}您好：\n\n您尾号{{ card_last4 }}的信用卡目前逾期金额为{{ overdue_total }}元。"
        "请您尽快安排还款。如您暂时有困难，请致电{{ bank_phone }}，我们愿意与您协商分期等还款方案。\n\n"
        "如您已还款，请忽略本邮件。",
    ),
    (
        NOTICE_CODE,
        "email",
        "en",
        "Collection notice: card ending {{ card_last4 }} overdue",
        "Dear {{ name }},\n\nYour credit card ending {{ card_last4 }} is overdue by CNY {{ overdue_total }}. "
        "Please arrange payment soon. If you are having difficulty, call us on {{ bank_phone }}; we are ready "
        "to agree installments or another repayment plan with you.\n\nIf you have already paid, please ignore "
        "this email.",
    ),
    (
        REMINDER_CODE,
        "sms",
        "zh-hans",
        "",
        "{{ name }}您好，温馨提示：您尾号{{ card_last4 }}的信用卡尚有{{ overdue_total }}元待还，"
        "请按约定按时还款。咨询请致电{{ bank_phone }}。",
    ),
    (
        REMINDER_CODE,
        "sms",
        "en",
        "",
        "Dear {{ name }}, a reminder: CNY {{ overdue_total }} is due on your card ending {{ card_last4 }}. "
        "Please pay as agreed. Questions: {{ bank_phone }}.",
    ),
)


def message_templates_add_missing(shipped: Iterable[tuple[str, str, str, str, str]]) -> None:
    """Add the shipped (code, channel, language, subject, body) templates that are missing; never
    overwrite one a supervisor edited. Apps that send their own messages ship theirs through this."""
    from django.db import connection

    if MessageTemplate._meta.db_table not in connection.introspection.table_names():
        return
    existing = set(MessageTemplate.objects.values_list("code", "channel", "language"))
    MessageTemplate.objects.bulk_create(
        [
            MessageTemplate(code=code, channel=channel, language=language, subject=subject, body=body)
            for code, channel, language, subject, body in shipped
            if (code, channel, language) not in existing
        ],
        ignore_conflicts=True,
    )


def message_templates_ensure_shipped(**kwargs) -> None:
    message_templates_add_missing(SHIPPED_TEMPLATES)


def message_template_update(*, template_id: int, actor, subject: str, body: str, active: bool) -> MessageTemplate:
    """A supervisor edits a template. It is checked and screened first: a threat is refused (ScreeningBlocked)
    and the hit kept."""
    role_require(actor, SUPERVISING_ROLES, _("Only supervisors edit message templates."), system_allowed=True)
    for text in (subject, body):
        try:
            rendering.template_check(text)
        except rendering.TemplateProblem as problem:
            raise DomainError(str(problem), code=TemplateError.INVALID_TEMPLATE) from None
    matches = text_screen(
        text="\n".join(part for part in (subject, body) if part),
        source=ScreeningHit.Source.TEMPLATE,
        author=actor,
        source_ref=f"template:{template_id}",
        block=True,
    )
    if matches:
        raise ScreeningBlocked(matches)
    with transaction.atomic():
        template = MessageTemplate.objects.select_for_update().get(pk=template_id)
        changes = audit.changes_apply(template, {"subject": subject, "body": body, "active": active})
        template.updated_by = actor
        template.save()
        audit.record(actor=actor, action="template.update", target=template, changes=changes)
    return template


def template_values(case: Case) -> dict[str, str]:
    account = case.account
    return {
        "name": account.debtor.full_name,
        "card_last4": account.card_last4,
        "overdue_total": f"{account.overdue_total:,.2f}",
        "bank_phone": settings.BANK_PHONE,
        "case_number": case.number,
    }


def message_template_for(*, code: str, channel: str, language: str) -> MessageTemplate:
    """The active template in the cardholder's language, else in the default language."""
    candidates = {
        t.language: t
        for t in MessageTemplate.objects.filter(
            code=code, channel=channel, active=True, language__in=[language, MessageTemplate.Language.ZH_HANS]
        )
    }
    template = candidates.get(language) or candidates.get(MessageTemplate.Language.ZH_HANS)
    if template is None:
        raise DomainError(
            _("There is no active “%(code)s” template for %(channel)s.") % {"code": code, "channel": channel},
            code=TemplateError.NO_TEMPLATE,
        )
    return template


def message_send_template(
    *,
    case_id: int,
    code: str,
    actor,
    idempotency_key: str,
    channel: str = Channel.SMS,
    purpose: str = Purpose.COLLECTION,
    extra_values: dict[str, str] | None = None,
    secret_values: dict[str, str] | None = None,
) -> OutboundMessage:
    """Render a template in the cardholder's language and queue it; the gate judges it when it is sent.
    extra_values adds variables of the caller's own (an installment's date); secret_values those only the
    cardholder may read (a portal link, a one-time code): stored masked, sealed in clear for the gateway."""
    existing = OutboundMessage.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    case = Case.objects.select_related("account__debtor").get(pk=case_id)
    template = message_template_for(code=code, channel=channel, language=case.account.debtor.preferred_language)
    values = template_values(case) | (extra_values or {})
    secrets = secret_values or {}
    masked = values | {name: sealing.masked_value(name, value) for name, value in secrets.items()}
    clear = values | secrets
    subject = template.subject if channel == Channel.EMAIL else ""
    return message_queue(
        case_id=case.pk,
        channel=channel,
        text=rendering.render_plain(template.body, masked),
        subject=rendering.render_plain(subject, masked),
        clear_text=rendering.render_plain(template.body, clear) if secrets else None,
        clear_subject=rendering.render_plain(subject, clear) if secrets else None,
        idempotency_key=idempotency_key,
        purpose=purpose,
        actor=actor,
    )


# --- The collection notice ---------------------------------------------------------------------------


def notice_key(case_id: int, channel: str) -> str:
    return f"notice-{case_id}" if channel == Channel.SMS else f"notice-{case_id}-{channel}"


def collection_notices_send(*, now: datetime | None = None) -> list[int]:
    """Queue the collection notice for cases opened in notify within NOTICE_LOOKBACK_DAYS that have none:
    SMS when the class's strategy has an active SMS step, email when the cardholder has an address.
    The idempotency keys make a rerun queue nothing twice; the gate holds a night-time notice to morning."""
    now = now or timezone.now()
    sms_classes = set(
        ContactStrategy.objects.filter(active=True, action=ContactStrategy.Action.SMS).values_list(
            "classification", flat=True
        )
    )
    key = Concat(Value("notice-"), Cast(OuterRef("pk"), CharField()))
    noticed = OutboundMessage.objects.filter(
        Q(idempotency_key=key) | Q(idempotency_key=Concat(key, Value(f"-{Channel.EMAIL}"))), case=OuterRef("pk")
    )
    cases = (
        Case.objects.filter(
            status=CaseStatus.NOTIFY,
            opened_at__gte=now - timedelta(days=settings.NOTICE_LOOKBACK_DAYS),
            opened_at__lte=now,
        )
        .exclude(Exists(noticed))
        .values_list("pk", "classification", "account__debtor__email")
        .order_by("pk")
    )
    queued = []
    for case_id, classification, email in cases.iterator(chunk_size=1000):
        channels = ([Channel.SMS] if classification in sms_classes else []) + ([Channel.EMAIL] if email else [])
        for channel in channels:
            try:
                message = message_send_template(
                    case_id=case_id,
                    code=NOTICE_CODE,
                    channel=channel,
                    actor=None,
                    idempotency_key=notice_key(case_id, channel),
                )
            except DomainError:
                continue  # no address or no template: nothing to send on this channel
            queued.append(message.pk)
    return queued
