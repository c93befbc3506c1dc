"""Staff two-factor login: a TOTP authenticator (django-otp) and ten single-use recovery codes, of which only a
keyed hash is stored. Which roles must enrol is STAFF_2FA_REQUIRED_ROLES; the others may."""

import base64
import secrets

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import RecoveryCode, Role, User
from accounts.roles import role_require
from compliance import audit
from config.errors import DomainError

RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: codes are copied from paper.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_HALF = 5
DEVICE_NAME = "authenticator"


class TwoFactorErrorCode:
    INVALID_CODE = "invalid_code"
    ALREADY_ENROLLED = "already_enrolled"
    NOT_ENROLLED = "not_enrolled"
    OWN_RESET = "own_two_factor_reset"
    NOT_VERIFIED = "two_factor_required"


class InvalidCode(DomainError):
    code = TwoFactorErrorCode.INVALID_CODE


class AlreadyEnrolled(DomainError):
    code = TwoFactorErrorCode.ALREADY_ENROLLED


class NotEnrolled(DomainError):
    code = TwoFactorErrorCode.NOT_ENROLLED


class OwnReset(DomainError):
    code = TwoFactorErrorCode.OWN_RESET


# --- reads ------------------------------------------------------------------------------------------


def two_factor_required(user) -> bool:
    return user.is_superuser or user.role in settings.STAFF_2FA_REQUIRED_ROLES


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def recovery_codes_left(user) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def pending_step(user, *, admin_site: bool = False) -> str | None:
    """What a password-authenticated, not yet verified session must do next: "verify" (a code), "enrol",
    or nothing. The Django admin always needs a verified session."""
    if confirmed_device(user) is not None:
        return "verify"
    if admin_site or two_factor_required(user):
        return "enrol"
    return None


def device_secret(device: TOTPDevice) -> str:
    """The key as the base32 text authenticator apps accept when typed in, in groups of four."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def device_qr_svg(device: TOTPDevice) -> str:
    """The provisioning URI as an inline SVG QR code, drawn here: the key never leaves the server."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    return image.to_string(encoding="unicode")


# --- writes -----------------------------------------------------------------------------------------


def _hash(code: str) -> str:
    return salted_hmac("accounts.recovery_code", code, algorithm="sha256").hexdigest()


def _normalised(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _new_recovery_code() -> str:
    chars = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(2 * _RECOVERY_HALF))
    return f"{chars[:_RECOVERY_HALF]}-{chars[_RECOVERY_HALF:]}"


def _recovery_codes_replace(user) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create([RecoveryCode(user=user, code_hash=_hash(_normalised(c))) for c in codes])
    return codes


def _is_totp(code: str) -> bool:
    return len(code) == 6 and code.isdigit()


def _check(user, device: TOTPDevice, code: str) -> str | None:
    """ "totp" or "recovery" when the code is right (a recovery code is used up), None otherwise."""
    code = _normalised(code)
    if _is_totp(code):
        return "totp" if device.verify_token(code) else None
    if not code:
        return None
    used = RecoveryCode.objects.filter(user=user, code_hash=_hash(code), used_at__isnull=True).update(
        used_at=timezone.now()
    )
    return "recovery" if used else None


def _refuse(user, *, step: str) -> InvalidCode:
    with transaction.atomic():
        audit.record(action="auth.2fa_failed", actor=user, target=user, changes={"step": step})
    return InvalidCode(_("The code is not right, or it has been used already."))


def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """The user's unconfirmed authenticator, created on the first visit and kept until confirmed."""
    with transaction.atomic():
        if confirmed_device(user) is not None:
            raise AlreadyEnrolled(_("Two-factor login is already set up."))
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
            audit.record(action="auth.2fa_enrolment_started", actor=user, target=user)
    return device


def totp_enrolment_confirm(*, user: User, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the authenticator with a code it shows; return it and the new recovery codes (shown once)."""
    with transaction.atomic():
        if confirmed_device(user) is not None:
            raise AlreadyEnrolled(_("Two-factor login is already set up."))
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            raise NotEnrolled(_("Start the set-up again: no authenticator is waiting for confirmation."))
        accepted = _is_totp(_normalised(code)) and device.verify_token(_normalised(code))
        if accepted:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            codes = _recovery_codes_replace(user)
            audit.record(action="auth.2fa_enrolled", actor=user, target=user, changes={"recovery_codes": len(codes)})
            return device, codes
    raise _refuse(user, step="enrol")


def second_factor_verify(*, user: User, code: str) -> TOTPDevice:
    """Check the code of the user's authenticator, or use up one recovery code; the device to mark the
    session with."""
    device = confirmed_device(user)
    if device is None:
        raise NotEnrolled(_("Two-factor login is not set up for this user."))
    with transaction.atomic():
        method = _check(user, device, code)
        if method == "totp":
            audit.record(action="auth.2fa_verified", actor=user, target=user, changes={"method": "totp"})
            return device
        if method == "recovery":
            audit.record(
                action="auth.2fa_recovery_used",
                actor=user,
                target=user,
                changes={"recovery_codes_left": recovery_codes_left(user)},
            )
            return device
    raise _refuse(user, step="login")


def recovery_codes_regenerate(*, user: User, code: str) -> list[str]:
    """New recovery codes in place of the old ones, after a current code."""
    device = confirmed_device(user)
    if device is None:
        raise NotEnrolled(_("Two-factor login is not set up for this user."))
    with transaction.atomic():
        method = _check(user, device, code)
        if method is not None:
            codes = _recovery_codes_replace(user)
            audit.record(
                action="auth.2fa_recovery_codes_replaced", actor=user, target=user, changes={"checked_with": method}
            )
            return codes
    raise _refuse(user, step="recovery_codes")


def _two_factor_remove(user) -> int:
    devices, _details = TOTPDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    return devices


def two_factor_disable(*, user: User, code: str) -> None:
    """The user removes their own authenticator and recovery codes after a current code. A role that requires
    two-factor login is sent to enrol again at once."""
    device = confirmed_device(user)
    if device is None:
        raise NotEnrolled(_("Two-factor login is not set up for this user."))
    with transaction.atomic():
        method = _check(user, device, code)
        if method is not None:
            _two_factor_remove(user)
            audit.record(action="auth.2fa_disabled", actor=user, target=user, changes={"checked_with": method})
            return
    raise _refuse(user, step="disable")


def two_factor_reset(*, user_id: int, actor: User, reason: str = "") -> User:
    """An administrator removes another user's authenticator and recovery codes (a lost phone); the user
    enrols again at their next login. Their sessions lose their verification at once."""
    role_require(actor, [Role.ADMIN], _("Only an administrator may reset another user's two-factor login."))
    if actor.pk == user_id:
        raise OwnReset(_("Reset your own two-factor login on your account page, with a current code."))
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id)
        devices = _two_factor_remove(user)
        audit.record(
            action="auth.2fa_reset", actor=actor, target=user, changes={"devices_removed": devices}, reason=reason
        )
    return user
