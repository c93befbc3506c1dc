"""Portal links and what a cardholder does through one: prove identity, accept an offer, propose a
counter-offer, answer the survey. Every cardholder action is a PortalEvent and an audit row."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from cases.models import Case
from cases.selectors import visible_cases
from compliance import audit
from compliance.models import AuditEvent, ScreeningHit
from compliance.policy import Purpose
from compliance.reasons import ReasonCode
from compliance.services import text_screen
from config.errors import Conflict, DomainError
from negotiation.models import Channel, FollowUpTask
from negotiation.services import ContactForbidden, contact_check, message_send_template, task_create
from plans import messages
from plans.codes import LinkLocked, link_lock
from plans.models import Agreement, CounterOffer, Offer, OneTimeCode, PortalEvent, PortalLink, SurveyResponse
from plans.selectors import latest_verified_verification

# Roles that send and revoke portal links (always within visible_cases).
LINK_ROLES = {Role.COLLECTOR, Role.SUPERVISOR, Role.ADMIN}
# Offers a cardholder can act on through a link; ready ones become offered when the link goes out.
ACTIONABLE = (Offer.Status.READY, Offer.Status.OFFERED, Offer.Status.ACCEPTED)
PORTAL_VISIBLE = (Offer.Status.OFFERED, Offer.Status.ACCEPTED)
TOKEN_BYTES = 32
TOKEN_MAX_LENGTH = 100
REASON_MAX = 1000
COMMENT_MAX = 2000
MAX_MONTHS = 60


class PortalError:
    LINK_INVALID = "portal_link_invalid"
    LINK_NOT_LOCKED = "portal_link_not_locked"
    LINK_REVOKED = "portal_link_revoked"
    NO_OFFER = "no_offer_to_send"
    UNSUPPORTED_CHANNEL = "unsupported_channel"
    IDENTITY_MISMATCH = "identity_mismatch"
    IDENTITY_UNAVAILABLE = "identity_unavailable"
    OFFER_NOT_AVAILABLE = "offer_not_available"
    CASE_CLOSED = "case_closed"
    INVALID_AMOUNT = "invalid_amount"
    INVALID_MONTHS = "invalid_months"
    REASON_REQUIRED = "reason_required"
    SURVEY_NOT_AVAILABLE = "survey_not_available"
    SURVEY_ANSWERED = "survey_already_answered"
    INVALID_SCORE = "invalid_score"


class LinkInvalid(DomainError):
    """Wrong, expired or revoked: one error, so that nobody learns which."""

    code = PortalError.LINK_INVALID
    http_status = 404

    def __init__(self) -> None:
        super().__init__(_("This link is not valid. It may have expired or been replaced."))


class IdentityMismatch(DomainError):
    code = PortalError.IDENTITY_MISMATCH

    def __init__(self, remaining: int) -> None:
        super().__init__(
            _("That does not match our records. %(n)d attempts left.") % {"n": remaining},
            details={"remaining": remaining},
        )
        self.remaining = remaining


@dataclass(frozen=True)
class Client:
    """Where a cardholder's request came from, kept with each portal event."""

    ip: str | None = None
    user_agent: str = ""


# --- Links -----------------------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def portal_url(token: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("portal:home", args=[token])


def _require_sender(actor) -> None:
    if not actor.is_superuser and actor.role not in LINK_ROLES:
        raise PermissionDenied(_("Your role does not send portal links."))


def portal_link_issue(
    *,
    case_id: int,
    actor,
    channel: str = Channel.SMS,
    template_code: str = messages.PORTAL_LINK,
    extra_values: dict[str, str] | None = None,
) -> tuple[PortalLink, str]:
    """A new link for one case, sent by SMS or email through the gate as a service message. Only the token's
    hash is kept; the token is returned once. With the portal_link text the case's ready offers become
    offered. actor None is the system (the thank-you link after completion)."""
    if channel not in (Channel.SMS, Channel.EMAIL):
        raise DomainError(_("A portal link goes out by SMS or email."), code=PortalError.UNSUPPORTED_CHANNEL)
    if actor is not None:
        _require_sender(actor)
        if not visible_cases(actor).filter(pk=case_id).exists():
            raise Case.DoesNotExist(case_id)
    # A block that time will not lift (opted out, a hold) refuses the link now; one that lifts by the
    # morning lets it wait in the outbox.
    decision = contact_check(case_id=case_id, channel=channel, purpose=Purpose.SERVICE, actor=actor, path="portal")
    if not decision.allowed and decision.next_allowed_at is None:
        raise ContactForbidden(decision)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = timezone.now()
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).get(pk=case_id)
        offered = template_code == messages.PORTAL_LINK
        ready = []
        if offered:
            actionable = list(
                Offer.objects.select_for_update().filter(case=case, status__in=ACTIONABLE).values_list("pk", "status")
            )
            if not actionable:
                raise Conflict(
                    _("There is no approved offer to send: prepare an offer (and have it approved) first."),
                    code=PortalError.NO_OFFER,
                )
            ready = [pk for pk, status in actionable if status == Offer.Status.READY]
        link = PortalLink.objects.create(
            case=case,
            token_hash=token_hash(token),
            channel=channel,
            created_by=actor,
            expires_at=now + timedelta(days=settings.PORTAL_LINK_DAYS),
        )
        link.message = message_send_template(
            case_id=case.pk,
            code=template_code,
            channel=channel,
            purpose=Purpose.SERVICE,
            idempotency_key=f"portal-link-{link.pk}",
            extra_values={**_case_values(case.pk), **(extra_values or {})},
            secret_values={"link": portal_url(token)},
            actor=actor,
        )
        link.save(update_fields=["message"])
        if ready:
            Offer.objects.filter(pk__in=ready).update(status=Offer.Status.OFFERED, offered_at=now)
        audit.record(
            actor=actor,
            action="portal_link.issue",
            target=link,
            case_id=case.pk,
            changes={
                "channel": channel,
                "template": template_code,
                "expires_at": link.expires_at,
                "message": link.message_id,
                "offered": ready,
            },
        )
    return link, token


def _case_values(case_id: int) -> dict[str, str]:
    """Variables a portal text may use beyond the case's own: the number of its latest agreement."""
    number = Agreement.objects.filter(case_id=case_id).order_by("-signed_at", "-pk").values_list("number", flat=True)
    return {"agreement_number": number.first() or ""}


def portal_link_revoke(*, link_id: int, actor) -> PortalLink:
    """Stop a link at once (sent to the wrong number, replaced). Outside the actor's cases it does not exist."""
    _require_sender(actor)
    with transaction.atomic():
        link = PortalLink.objects.select_for_update().filter(case__in=visible_cases(actor)).get(pk=link_id)
        if link.revoked_at is not None:
            raise Conflict(_("This link is already revoked."), code=PortalError.LINK_REVOKED)
        link.revoked_at, link.revoked_by = timezone.now(), actor
        link.save(update_fields=["revoked_at", "revoked_by"])
        audit.record(actor=actor, action="portal_link.revoke", target=link, case_id=link.case_id)
    return link


def portal_link_unlock(*, link_id: int, actor) -> PortalLink:
    """Lift a lock before its time (the cardholder called and proved who they are): the wrong answers and codes
    start again from zero. Outside the actor's cases the link does not exist."""
    _require_sender(actor)
    now = timezone.now()
    with transaction.atomic():
        link = PortalLink.objects.select_for_update().filter(case__in=visible_cases(actor)).get(pk=link_id)
        if link.locked_until is None or link.locked_until <= now:
            raise Conflict(_("This link is not locked."), code=PortalError.LINK_NOT_LOCKED)
        locked_until = link.locked_until
        link.locked_until, link.identity_failures, link.code_failures = None, 0, 0
        link.save(update_fields=["locked_until", "identity_failures", "code_failures"])
        audit.record(
            actor=actor, action="portal_link.unlock", target=link, case_id=link.case_id,
            changes={"locked_until": [locked_until, None]},
        )
    return link


def _usable(link: PortalLink | None, now) -> bool:
    return link is not None and link.revoked_at is None and link.expires_at > now


def portal_link_resolve(token: str) -> PortalLink:
    """The link a token opens, with its case; wrong, expired and revoked all raise the same LinkInvalid."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        raise LinkInvalid()
    link = PortalLink.objects.select_related("case").filter(token_hash=token_hash(token)).first()
    if not _usable(link, timezone.now()):
        raise LinkInvalid()
    return link


def _active_link(link_id: int, *, lock: bool = False) -> PortalLink:
    links = PortalLink.objects.select_for_update(of=("self",)) if lock else PortalLink.objects
    link = links.select_related("case").filter(pk=link_id).first()
    if not _usable(link, timezone.now()):
        raise LinkInvalid()
    return link


# --- Cardholder actions ----------------------------------------------------------------------------


def _record(link: PortalLink, kind: str, client: Client, *, target=None, detail: dict | None = None) -> PortalEvent:
    """The portal event and its audit row; call inside the transaction of the action."""
    event = PortalEvent.objects.create(
        link=link,
        case_id=link.case_id,
        kind=kind,
        detail=detail or {},
        ip=client.ip or None,
        user_agent=(client.user_agent or "")[:300],
        at=timezone.now(),
    )
    audit.record(
        action=f"portal.{kind}",
        actor_kind=AuditEvent.ActorKind.CARDHOLDER,
        actor_label=f"portal link {link.pk}",
        target=target or link,
        case_id=link.case_id,
        changes=detail or {},
        ip=client.ip,
    )
    return event


def portal_event_record(
    *, link_id: int, kind: str, client: Client = Client(), detail: dict | None = None
) -> PortalEvent:
    """Record what the cardholder did where no other service does (opened the link, downloaded the PDF)."""
    if kind not in PortalEvent.Kind.values:
        raise ValueError(kind)
    with transaction.atomic():
        link = _active_link(link_id)
        if kind == PortalEvent.Kind.OPENED:
            PortalLink.objects.filter(pk=link.pk).update(last_opened_at=timezone.now())
        return _record(link, kind, client, detail=detail)


def portal_identity_check(*, link_id: int, last_four: str, client: Client = Client()) -> PortalLink:
    """The first step: the last four characters of the national id. Wrong answers count on the link; after
    PORTAL_IDENTITY_ATTEMPTS it locks for PORTAL_LOCKOUT_MINUTES. The count is kept even though the
    answer is refused, so the refusal is raised after the transaction commits."""
    entered = (last_four or "").strip().upper()
    now = timezone.now()
    refusal: DomainError | None = None
    with transaction.atomic():
        link = _active_link(link_id, lock=True)
        national_id = (
            Case.objects.filter(pk=link.case_id).values_list("account__debtor__national_id", flat=True).get() or ""
        ).strip().upper()
        if link.locked_until is not None and link.locked_until > now:
            refusal = LinkLocked(link.locked_until)
        elif len(national_id) < 4:
            refusal = DomainError(
                _("We cannot check your identity online. Please call us."), code=PortalError.IDENTITY_UNAVAILABLE
            )
        elif len(entered) == 4 and hmac.compare_digest(entered, national_id[-4:]):
            if link.identity_failures or link.locked_until:
                link.identity_failures, link.locked_until = 0, None
                link.save(update_fields=["identity_failures", "locked_until"])
        else:
            link.identity_failures += 1
            failures = link.identity_failures
            _record(link, PortalEvent.Kind.IDENTITY_FAILED, client, detail={"failures": failures})
            if failures >= settings.PORTAL_IDENTITY_ATTEMPTS:
                link_lock(link, now=now, cause="identity", failures=failures, ip=client.ip,
                          user_agent=client.user_agent)
                refusal = LinkLocked(link.locked_until)
            else:
                link.save(update_fields=["identity_failures"])
                refusal = IdentityMismatch(settings.PORTAL_IDENTITY_ATTEMPTS - failures)
    if refusal is not None:
        raise refusal
    return link


def portal_code_failed(*, link_id: int, purpose: str, error: DomainError, client: Client = Client()) -> PortalEvent:
    """A one-time code was refused (wrong, expired, used up): the collector sees it among the events."""
    with transaction.atomic():
        link = _active_link(link_id)
        return _record(link, PortalEvent.Kind.CODE_FAILED, client, detail={"purpose": purpose, "error": error.code})


def portal_identity_verified(*, link_id: int, client: Client = Client()) -> PortalEvent:
    """The identity code was right: from here the session of this link sees the case."""
    with transaction.atomic():
        link = _active_link(link_id)
        return _record(link, PortalEvent.Kind.VERIFIED, client, detail={"purpose": OneTimeCode.Purpose.IDENTITY})


def portal_offer_accept(*, link_id: int, offer_id: int, client: Client = Client()) -> Offer:
    """The cardholder chooses an offer of their own case; choosing another later puts the first one back
    among the offers. An offer of another case does not exist for this link."""
    with transaction.atomic():
        link = _active_link(link_id)
        case = Case.objects.select_for_update(of=("self",)).get(pk=link.case_id)
        offer = Offer.objects.select_for_update().get(pk=offer_id, case_id=case.pk)
        if offer.status == Offer.Status.ACCEPTED:
            return offer
        if offer.status != Offer.Status.OFFERED or not case.is_open:
            raise Conflict(
                _("This plan can no longer be chosen. Please look at the plans shown now or call us."),
                code=PortalError.OFFER_NOT_AVAILABLE,
            )
        Offer.objects.filter(case_id=case.pk, status=Offer.Status.ACCEPTED).update(
            status=Offer.Status.OFFERED, accepted_at=None
        )
        offer.status, offer.accepted_at = Offer.Status.ACCEPTED, timezone.now()
        offer.save(update_fields=["status", "accepted_at"])
        _record(link, PortalEvent.Kind.ACCEPTED, client, target=offer, detail={"offer": offer.pk})
    return offer


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise DomainError(
            _("Enter a monthly amount greater than zero, with at most two decimals."), code=PortalError.INVALID_AMOUNT
        )
    return amount


def counter_offer_submit(
    *, link_id: int, monthly_amount, months_needed, reason: str, client: Client = Client()
) -> CounterOffer:
    """The cardholder's own proposal: checked against the verified disposable income and handed to the
    case's collector as a task. The reason is screened like a note: kept, and flagged if it needs a look."""
    amount = _amount(monthly_amount)
    try:
        months = int(months_needed)
    except (TypeError, ValueError):
        months = 0
    if not 1 <= months <= MAX_MONTHS:
        raise DomainError(
            _("Enter a number of months from 1 to %(max)d.") % {"max": MAX_MONTHS}, code=PortalError.INVALID_MONTHS
        )
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Tell us briefly why you need this plan."), code=PortalError.REASON_REQUIRED)
    reason = reason[:REASON_MAX]
    with transaction.atomic():
        link = _active_link(link_id)
        # The case first (see case_evidence_record): its lock comes before any audit write.
        case = Case.objects.select_for_update(of=("self",)).get(pk=link.case_id)
        if not case.is_open:
            raise Conflict(_("This case is closed. Please call us."), code=PortalError.CASE_CLOSED)
        verification = latest_verified_verification(case)
        income = verification.disposable_income if verification else None
        affordable = None if income is None else amount <= income
        counter = CounterOffer.objects.create(
            case=case, link=link, monthly_amount=amount, months_needed=months, reason=reason, affordable=affordable
        )
        counter.task = task_create(
            case_id=case.pk,
            kind=FollowUpTask.Kind.CALL,
            due_on=timezone.localdate(),
            actor=None,
            **_counter_offer_note(amount, months, income, affordable),
        )
        counter.save(update_fields=["task"])
        text_screen(
            text=reason,
            source=ScreeningHit.Source.NOTE,
            case_id=case.pk,
            source_ref=f"counter_offer:{counter.pk}",
            block=False,
        )
        _record(
            link,
            PortalEvent.Kind.COUNTER_OFFER,
            client,
            target=counter,
            detail={
                "counter_offer": counter.pk,
                "monthly_amount": str(amount),
                "months_needed": months,
                "affordable": affordable,
                "task": counter.task_id,
            },
        )
    return counter


def _counter_offer_note(amount: Decimal, months: int, income: Decimal | None, affordable: bool | None) -> dict:
    """The task's note as a code with parameters: read in the staff's language, whatever the cardholder reads."""
    params = {"amount": str(amount), "months": months}
    if affordable is None:
        return {"note_code": ReasonCode.COUNTER_OFFER_UNJUDGED, "note_params": params}
    code = ReasonCode.COUNTER_OFFER_AFFORDABLE if affordable else ReasonCode.COUNTER_OFFER_UNAFFORDABLE
    return {"note_code": code, "note_params": {**params, "income": str(income)}}


def survey_submit(*, link_id: int, score, comment: str = "", client: Client = Client()) -> SurveyResponse:
    """Satisfaction after a completed agreement: once per agreement, and only after completion."""
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise DomainError(_("Choose a score from 1 to 5."), code=PortalError.INVALID_SCORE)
    comment = (comment or "").strip()[:COMMENT_MAX]
    with transaction.atomic():
        link = _active_link(link_id)
        agreement = (
            Agreement.objects.select_for_update()
            .filter(case_id=link.case_id, status=Agreement.Status.COMPLETED)
            .order_by("-signed_at", "-pk")
            .first()
        )
        if agreement is None:
            raise Conflict(
                _("The survey opens when your agreement is completed."), code=PortalError.SURVEY_NOT_AVAILABLE
            )
        if SurveyResponse.objects.filter(agreement=agreement).exists():
            raise Conflict(_("You have already answered the survey. Thank you!"), code=PortalError.SURVEY_ANSWERED)
        survey = SurveyResponse.objects.create(
            agreement=agreement, case_id=link.case_id, score=score, comment=comment, at=timezone.now()
        )
        _record(link, PortalEvent.Kind.SURVEY, client, target=survey, detail={"score": score})
    return survey


# --- Reads -----------------------------------------------------------------------------------------


def case_portal_links(case_id: int) -> QuerySet[PortalLink]:
    """The links of a case still usable now, newest first, with their message."""
    return (
        PortalLink.objects.filter(case_id=case_id, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("message__decision", "created_by")
        .order_by("-created_at", "-pk")
    )


def case_portal_events(case_id: int, limit: int = 50) -> QuerySet[PortalEvent]:
    return PortalEvent.objects.filter(case_id=case_id).order_by("-at", "-pk")[:limit]


def case_counter_offers(case_id: int, limit: int = 20) -> QuerySet[CounterOffer]:
    return CounterOffer.objects.filter(case_id=case_id).select_related("task").order_by("-created_at", "-pk")[:limit]


def portal_offers(case_id: int) -> list[Offer]:
    """The offers the cardholder sees, the chosen one first."""
    offers = Offer.objects.filter(case_id=case_id, status__in=PORTAL_VISIBLE).order_by("created_at", "pk")
    return sorted(offers, key=lambda offer: offer.status != Offer.Status.ACCEPTED)


def portal_agreement(case_id: int) -> Agreement | None:
    """The case's latest agreement with its installments (two queries)."""
    return (
        Agreement.objects.filter(case_id=case_id)
        .prefetch_related("installments")
        .select_related("survey")
        .order_by("-signed_at", "-pk")
        .first()
    )


def schedule_rows(offer: Offer) -> list[dict]:
    """The offer's stored schedule with amounts as Decimals, for display."""
    money = ("amount", "principal", "interest", "fee")
    return [{**row, **{name: Decimal(str(row.get(name, "0"))) for name in money}} for row in offer.schedule]
