"""One-time codes sent by SMS to the cardholder's registered mobile: to prove identity in the portal and to sign.

Only an HMAC-SHA-256 of a code is stored, keyed by SECRET_KEY and salted per link; the text message is kept
with the code masked (negotiation.sealing). The newest code of a purpose is the only one that works; each has a
few tries and a few minutes. Wrong codes also count on the link, across resends: PORTAL_CODE_FAILURES_TO_LOCK
of them lock it for PORTAL_LOCKOUT_MINUTES, and a link gets at most PORTAL_CODES_PER_DAY codes a day. A wrong
try is counted in a transaction of its own, so it stands even when the caller's transaction is rolled back:
call `code_verify` outside a transaction, or inside `atomic_keeping_code_attempts()` as `agreement_sign` does.
"""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from compliance import audit
from compliance.middleware import request_ip
from compliance.models import AuditEvent
from compliance.policy import Channel, Purpose
from config.errors import Conflict, DomainError
from negotiation.services import contact_check, message_send_template
from plans.models import OneTimeCode, PortalEvent, PortalLink

CODE_DIGITS = 6
RESEND_SECONDS = 60  # at most one code a minute per link and purpose
TEMPLATE = "one_time_code"  # plans.messages.ONE_TIME_CODE


class CodeError:
    UNKNOWN_PURPOSE = "code_unknown_purpose"
    LINK_NOT_LIVE = "link_not_live"
    TOO_SOON = "code_too_soon"
    SMS_NOT_ALLOWED = "code_sms_not_allowed"
    NO_CODE = "code_not_requested"
    WRONG = "code_wrong"
    EXPIRED = "code_expired"
    USED = "code_used"
    TOO_MANY = "too_many_attempts"
    DAILY_LIMIT = "code_daily_limit"
    LINK_LOCKED = "portal_link_locked"


class CodeRefused(DomainError):
    """A code cannot be sent or accepted. `counted_on` names the code a wrong try was counted on."""

    def __init__(self, message: str, *, code: str, details=None, counted_on: int | None = None) -> None:
        super().__init__(message, code=code, details=details)
        self.counted_on = counted_on


class CodeThrottled(DomainError):
    """A new code was asked for too soon after the last one (HTTP 429)."""

    code = CodeError.TOO_SOON
    http_status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            _("A code was sent less than a minute ago. Please wait %(seconds)d seconds.") % {"seconds": retry_after},
            details={"retry_after": retry_after},
        )
        self.retry_after = retry_after


class CodeDailyLimit(CodeRefused):
    """The link has had PORTAL_CODES_PER_DAY codes today (HTTP 429)."""

    http_status = 429

    def __init__(self) -> None:
        super().__init__(
            _("You have asked for as many codes as we send in one day. Please try again tomorrow, or call us on "
              "%(phone)s.") % {"phone": settings.BANK_PHONE},
            code=CodeError.DAILY_LIMIT,
        )


class LinkNotLive(Conflict):
    code = CodeError.LINK_NOT_LIVE


class LinkLocked(LinkNotLive):
    """Too many wrong answers or codes: the link is locked for a while (HTTP 403)."""

    code = CodeError.LINK_LOCKED
    http_status = 403

    def __init__(self, locked_until: datetime) -> None:
        super().__init__(
            _("Too many wrong answers. For your security this link is locked until %(time)s.")
            % {"time": timezone.localtime(locked_until).strftime("%H:%M")},
            details={"locked_until": locked_until.isoformat()},
        )
        self.locked_until = locked_until


def code_hash(*, link_id: int, purpose: str, code: str) -> str:
    """HMAC-SHA-256 under SECRET_KEY, salted with the link: a leaked table does not give codes away."""
    return salted_hmac(f"accord.plans.codes.link-{link_id}", f"{purpose}:{code}", algorithm="sha256").hexdigest()


def link_require_live(link: PortalLink, now: datetime) -> None:
    """Refuse a link that is revoked or expired (409), or locked after failed identity checks or codes (403)."""
    if link.revoked_at is not None or link.expires_at <= now:
        raise LinkNotLive(_("This link is no longer valid. Please ask the bank for a new one."))
    if link.locked_until is not None and link.locked_until > now:
        raise LinkLocked(link.locked_until)


def link_lock(link: PortalLink, *, now: datetime, cause: str, failures: int, ip: str | None = None,
              user_agent: str = "") -> PortalEvent:
    """Lock a link (row locked by the caller) for PORTAL_LOCKOUT_MINUTES after too many wrong identity answers
    or codes, with a fresh round of attempts once the lock has passed; the portal event shows it to staff.
    Call inside the transaction that counted the last failure."""
    link.locked_until = now + timedelta(minutes=settings.PORTAL_LOCKOUT_MINUTES)
    link.identity_failures = link.code_failures = 0
    link.save(update_fields=["locked_until", "identity_failures", "code_failures"])
    detail = {"cause": cause, "failures": failures, "locked_until": link.locked_until.isoformat()}
    event = PortalEvent.objects.create(
        link=link, case_id=link.case_id, kind=PortalEvent.Kind.LOCKED, detail=detail, ip=ip or None,
        user_agent=(user_agent or "")[:300], at=now,
    )
    audit.record(
        action="portal.locked",
        actor_kind=AuditEvent.ActorKind.CARDHOLDER,
        actor_label=f"portal link {link.pk}",
        target=link,
        case_id=link.case_id,
        changes=detail,
        ip=ip,
    )
    return event


def _check_purpose(purpose: str) -> None:
    if purpose not in OneTimeCode.Purpose.values:
        raise CodeRefused(_("Unknown purpose for a one-time code."), code=CodeError.UNKNOWN_PURPOSE)


def _latest(link_id: int, purpose: str):
    return OneTimeCode.objects.filter(link_id=link_id, purpose=purpose).order_by("-created_at", "-pk")


def _refuse_if_too_soon(link_id: int, purpose: str, now: datetime) -> None:
    last = _latest(link_id, purpose).values_list("created_at", flat=True).first()
    if last is not None and now - last < timedelta(seconds=RESEND_SECONDS):
        raise CodeThrottled(RESEND_SECONDS - int((now - last).total_seconds()))
    day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    if OneTimeCode.objects.filter(link_id=link_id, created_at__gte=day_start).count() >= settings.PORTAL_CODES_PER_DAY:
        raise CodeDailyLimit()


def code_send(*, link_id: int, purpose: str) -> OneTimeCode:
    """Make a new code, supersede the unused ones of the same purpose, and queue it by SMS as a message the
    cardholder requested (sent at any hour; holds other than an agreement in force still stop it)."""
    _check_purpose(purpose)
    now = timezone.now()
    link = PortalLink.objects.get(pk=link_id)
    link_require_live(link, now)
    _refuse_if_too_soon(link_id, purpose, now)
    # Asked now, not only when the outbox sends: a code held until the morning would arrive expired.
    decision = contact_check(case_id=link.case_id, channel=Channel.SMS, purpose=Purpose.REQUESTED, path="portal_code")
    if not decision.allowed:
        raise CodeRefused(
            _("We cannot send you a text message now. Please call the bank."),
            code=CodeError.SMS_NOT_ALLOWED,
            details={"reasons": decision.reasons, "next_allowed_at": decision.next_allowed_at},
        )
    code = "".join(secrets.choice("0123456789") for _digit in range(CODE_DIGITS))
    with transaction.atomic():
        # The link's lock serialises sends, so two requests at once cannot both pass the one-a-minute rule.
        link = PortalLink.objects.select_for_update().get(pk=link_id)
        link_require_live(link, now)
        _refuse_if_too_soon(link_id, purpose, now)
        superseded = (
            OneTimeCode.objects.filter(link=link, purpose=purpose, used_at__isnull=True, expires_at__gt=now)
            .update(expires_at=now)
        )
        otp = OneTimeCode.objects.create(
            link=link,
            purpose=purpose,
            code_hash=code_hash(link_id=link.pk, purpose=purpose, code=code),
            expires_at=now + timedelta(minutes=settings.PORTAL_CODE_MINUTES),
        )
        otp.message = message_send_template(
            case_id=link.case_id,
            code=TEMPLATE,
            channel=Channel.SMS,
            purpose=Purpose.REQUESTED,
            idempotency_key=f"otp-{otp.pk}",
            secret_values={"code": code},
            actor=None,
        )
        otp.save(update_fields=["message"])
        audit.record(
            action="portal_code.send",
            actor_kind=AuditEvent.ActorKind.CARDHOLDER,
            actor_label=f"portal link {link.pk}",
            target=otp,
            case_id=link.case_id,
            changes={"purpose": purpose, "expires_at": otp.expires_at, "message": otp.message_id,
                     "superseded": superseded},
        )
    return otp


def code_verify(*, link_id: int, purpose: str, code: str) -> OneTimeCode:
    """Accept the newest code of this purpose once (constant-time compare); a wrong one counts as a try."""
    _check_purpose(purpose)
    now = timezone.now()
    refusal = None
    with transaction.atomic():
        # The link before its code, in the order code_send takes them.
        link_require_live(PortalLink.objects.select_for_update().get(pk=link_id), now)
        otp = _latest(link_id, purpose).select_for_update().first()
        if otp is None:
            raise CodeRefused(_("Please ask for a code first."), code=CodeError.NO_CODE)
        if otp.used_at is not None:
            raise CodeRefused(_("This code was already used. Please ask for a new one."), code=CodeError.USED)
        if otp.attempts >= settings.PORTAL_CODE_ATTEMPTS:
            raise CodeRefused(_("Too many wrong codes. Please ask for a new one."), code=CodeError.TOO_MANY)
        if now >= otp.expires_at:
            raise CodeRefused(_("This code has expired. Please ask for a new one."), code=CodeError.EXPIRED)
        given = (code or "").strip()
        if constant_time_compare(otp.code_hash, code_hash(link_id=link_id, purpose=purpose, code=given)):
            otp.used_at = now
            otp.save(update_fields=["used_at"])
            PortalLink.objects.filter(pk=link_id, code_failures__gt=0).update(code_failures=0)
            _audit_code(otp, "portal_code.use")
            return otp
        refusal = _count_wrong(otp.pk)
    raise refusal


def _count_wrong(code_id: int) -> CodeRefused:
    """Count a wrong try on the code and on its link; the link's PORTAL_CODE_FAILURES_TO_LOCK-th locks it."""
    link_id = OneTimeCode.objects.filter(pk=code_id).values_list("link_id", flat=True).get()
    link = PortalLink.objects.select_for_update().get(pk=link_id)  # the link before its code, as code_send does
    OneTimeCode.objects.filter(pk=code_id).update(attempts=F("attempts") + 1)
    otp = OneTimeCode.objects.get(pk=code_id)
    otp.link = link
    link.code_failures += 1
    link.save(update_fields=["code_failures"])
    _audit_code(otp, "portal_code.wrong", changes={"attempts": otp.attempts, "link_failures": link.code_failures})
    if link.code_failures >= settings.PORTAL_CODE_FAILURES_TO_LOCK:
        now = timezone.now()
        failures = link.code_failures
        link_lock(link, now=now, cause="code", failures=failures, ip=request_ip.get())
        locked = LinkLocked(link.locked_until)
        return CodeRefused(locked.message, code=CodeError.LINK_LOCKED, details=locked.details, counted_on=code_id)
    if otp.attempts >= settings.PORTAL_CODE_ATTEMPTS:
        return CodeRefused(
            _("Too many wrong codes. Please ask for a new one."), code=CodeError.TOO_MANY, counted_on=code_id
        )
    left = settings.PORTAL_CODE_ATTEMPTS - otp.attempts
    return CodeRefused(
        _("The code is not correct. %(left)d tries left.") % {"left": left},
        code=CodeError.WRONG,
        details={"tries_left": left},
        counted_on=code_id,
    )


def _audit_code(otp: OneTimeCode, action: str, changes: dict | None = None) -> None:
    audit.record(
        action=action,
        actor_kind=AuditEvent.ActorKind.CARDHOLDER,
        actor_label=f"portal link {otp.link_id}",
        target=otp,
        case_id=otp.link.case_id,
        changes={"purpose": otp.purpose, **(changes or {})},
    )


@contextmanager
def atomic_keeping_code_attempts() -> Iterator[None]:
    """transaction.atomic() for a write that verifies a code among other checks: when a wrong code rolls
    the whole write back, its try is counted again in a transaction of its own."""
    try:
        with transaction.atomic():
            yield
    except CodeRefused as refusal:
        if refusal.counted_on is None:
            raise
        with transaction.atomic():
            _count_wrong(refusal.counted_on)
        raise
