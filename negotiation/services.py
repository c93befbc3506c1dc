"""Contacts on every channel. Every outbound contact asks the compliance gate first."""

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from cases.models import Case, CaseStatus
from cases.services import case_transition
from compliance import audit
from compliance.models import ContactDecision, Hold, ScreeningHit
from compliance.policy import ContactFact, DebtorFacts, HoldFact, Outcome, Party, Purpose, evaluate
from compliance.selectors import active_holds, active_policy
from compliance.services import ScreeningBlocked, decision_record, hold_set, text_screen
from config.errors import Conflict, DomainError
from negotiation.gateways import send_email, sms_gateway
from negotiation.models import Channel, Contact, OutboundMessage

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


def debtor_facts(case: Case, history: list[ContactFact], now: datetime) -> DebtorFacts:
    debtor = case.account.debtor
    opted_out = {
        channel
        for channel, flag in (("phone", debtor.opt_out_phone), ("sms", debtor.opt_out_sms), ("email", debtor.opt_out_email))
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
        case_id=case.pk, policy=policy, decision=decision, channel=channel, party=party, purpose=purpose, at=at,
        asked_by=actor, path=path,
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
        case=case, channel=channel, party=party, at=at or timezone.now(), purpose=purpose,
        number=number or _default_number(case, channel, party), actor=actor, path=path,
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
) -> Contact:
    """Record a contact that was made. An outbound one must pass the gate at its own time; a refusal is
    recorded and raised as ContactForbidden, and no contact is stored."""
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
        decision = None
        if direction == Contact.Direction.OUTBOUND:
            decision = _decide(
                case=case, channel=channel, party=party, at=at, purpose=Purpose.COLLECTION, number=number,
                actor=actor, path=path,
            )
            if not decision.allowed:
                refused = decision
        if refused is None:
            contact = Contact.objects.create(
                case=case, channel=channel, direction=direction, party=party, number=number, outcome=outcome,
                duration_seconds=duration_seconds, notes=notes, next_step=next_step, at=at, recorded_by=actor,
                decision=decision,
            )
            audit.record(
                actor=actor, action="contact.record", target=contact, case_id=case.pk,
                changes={"channel": channel, "party": party, "outcome": outcome, "at": at},
            )
            _screen_note(contact=contact, actor=actor)
            _follow_outcome(case=case, contact=contact, actor=actor)
    if refused is not None:
        raise ContactForbidden(refused)
    return contact


def _screen_note(*, contact: Contact, actor) -> None:
    """A note with screened words is kept (it is the record of what was said) but flagged for review."""
    text = "\n".join(part for part in (contact.notes, contact.next_step) if part)
    if text:
        text_screen(
            text=text, source=ScreeningHit.Source.NOTE, case_id=contact.case_id, author=actor,
            source_ref=f"contact:{contact.pk}", block=False,
        )


def _follow_outcome(*, case: Case, contact: Contact, actor) -> None:
    """What an outcome does to the case: a first conversation moves it on; a dispute holds it."""
    if contact.is_conversation and case.status == CaseStatus.NOTIFY:
        case_transition(case_id=case.pk, name="record_first_contact", actor=actor, reason=contact.get_outcome_display())
    if contact.outcome == Outcome.DISPUTE_RAISED and not active_holds(case_id=case.pk).filter(
        kind=Hold.Kind.DISPUTE
    ).exists():
        hold_set(case_id=case.pk, kind=Hold.Kind.DISPUTE, reason=_("Dispute raised in a contact."), actor=None)


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
) -> OutboundMessage:
    """Put a message in the outbox once per idempotency key and send it after commit. The gate is asked
    when it is sent, so a message queued at night waits for the morning instead of being lost."""
    if channel not in (Channel.SMS, Channel.EMAIL):
        raise DomainError(_("Only SMS and email go through the outbox."), code=ErrorCode.UNSUPPORTED_CHANNEL)
    # Screened before the transaction: a refused text queues nothing, and its hit is kept.
    matches = text_screen(
        text="\n".join(part for part in (subject, text) if part), source=ScreeningHit.Source.MESSAGE,
        case_id=case_id, author=actor, source_ref=f"message:{idempotency_key}", block=True,
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
                "case": case, "channel": channel, "purpose": purpose, "recipient": recipient, "subject": subject,
                "body": text, "created_by": actor,
            },
        )
        if created:
            audit.record(
                actor=actor, action="message.queue", target=message, case_id=case.pk,
                changes={"channel": channel, "purpose": purpose, "key": idempotency_key},
            )
            from negotiation.tasks import send_message

            send_message.delay_on_commit(message.pk)
    return message


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
            case=case, channel=message.channel, party=message.party, at=now, purpose=message.purpose,
            number=message.recipient if message.channel == Channel.SMS else "", actor=None, path="outbox",
        )
        message.decision = decision
        if not decision.allowed:
            if decision.next_allowed_at is not None:
                message.status, message.scheduled_for = OutboundMessage.Status.SCHEDULED, decision.next_allowed_at
            else:
                message.status = OutboundMessage.Status.BLOCKED
            message.save(update_fields=["decision", "status", "scheduled_for", "updated_at"])
            audit.record(
                action=f"message.{message.status}", target=message, case_id=case.pk,
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
            message.save(update_fields=["status", "sent_at", "gateway_ref", "updated_at"])
            audit.record(
                action="message.sent", target=message, case_id=message.case_id,
                changes={"gateway_ref": delivery.gateway_ref, "repeated": delivery.repeated},
            )
    return message


def _deliver(message: OutboundMessage):
    if message.channel == Channel.SMS:
        return sms_gateway().send(key=message.idempotency_key, to=message.recipient, text=message.body)
    return send_email(key=message.idempotency_key, to=message.recipient, subject=message.subject, text=message.body)


def messages_release_held(*, now: datetime | None = None) -> list[int]:
    """Messages whose hold time has come, and messages whose task was lost: hand them to a worker again."""
    now = now or timezone.now()
    due = OutboundMessage.objects.filter(
        Q(status=OutboundMessage.Status.SCHEDULED, scheduled_for__lte=now)
        | Q(status__in=[OutboundMessage.Status.QUEUED, OutboundMessage.Status.SENDING], updated_at__lte=now - STUCK_AFTER)
    )
    return list(due.values_list("pk", flat=True)[:5000])
