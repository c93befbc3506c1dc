"""Staff two-factor login: who must enrol, the code step, recovery codes, resets, and what stays untouched."""

import base64
import re

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import RecoveryCode
from accounts.two_factor import OwnReset, two_factor_reset
from compliance.models import AuditEvent
from tests.conftest import totp_now, two_factor_device
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ENROL = reverse("accounts:two-factor-enrol")
VERIFY = reverse("accounts:two-factor-verify")


@pytest.fixture(autouse=True)
def _no_throttle(settings):
    # django-otp slows a device down after each wrong code; these tests type the right one straight after.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def _password(client, username: str):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client.post("/login/", {"username": username, "password": PASSWORD})


def _enrol(client, user) -> list[str]:
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(ENROL, {"code": totp_now(device)})
    assert response.status_code == 200
    return re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", response.content.decode())


def _actions(user) -> list[str]:
    events = AuditEvent.objects.filter(target_id=str(user.pk), action__startswith="auth.").order_by("pk")
    return list(events.values_list("action", flat=True))


def test_a_supervisor_is_sent_to_enrol_and_reaches_no_page_before(client, supervisor):
    response = _password(client, "supervisor")
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert response.status_code == 302 and response["Location"].startswith(ENROL)
    for path in (reverse("cases:supervisor"), reverse("cases:worklist"), reverse("accounts:two-factor"), "/admin/"):
        assert client.get(path)["Location"].startswith(ENROL), path
    api = client.get("/api/v1/cases/")
    assert api.status_code == 403 and api.json()["code"] == "two_factor_required"
    page = client.get(ENROL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "no inline script"


def test_a_collector_may_log_in_without_a_second_factor(client, collector):
    response = _password(client, "collector")
    assert client.get(response["Location"])["Location"] == reverse("cases:worklist")
    assert client.get(reverse("cases:worklist")).status_code == 200


def test_a_collector_who_enrols_is_asked_for_the_code_at_the_next_login(client, collector):
    _password(client, "collector")
    assert client.get(reverse("accounts:two-factor")).status_code == 200
    _enrol(client, collector)
    client.post(reverse("accounts:logout"))
    _password(client, "collector")
    assert client.get(reverse("cases:worklist"))["Location"].startswith(VERIFY)


def test_enrolment_confirms_the_device_and_shows_ten_recovery_codes_stored_only_hashed(client, supervisor):
    _password(client, "supervisor")
    page = client.get(ENROL).content.decode()
    device = TOTPDevice.objects.get(user=supervisor)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page)[1].replace(" ", "")
    assert base64.b32decode(secret + "=" * (-len(secret) % 8)) == device.bin_key
    codes = _enrol(client, supervisor)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = list(RecoveryCode.objects.filter(user=supervisor).values_list("code_hash", flat=True))
    assert len(stored) == 10 and not set(codes) & set(stored)
    assert TOTPDevice.objects.get(user=supervisor).confirmed
    assert client.get(reverse("cases:supervisor")).status_code == 200
    assert _actions(supervisor) == ["auth.2fa_enrolment_started", "auth.2fa_enrolled"]


def test_a_wrong_enrolment_code_confirms_nothing_and_is_audited(client, supervisor):
    _password(client, "supervisor")
    client.get(ENROL)
    wrong = "000000" if totp_now(supervisor.totpdevice_set.get()) != "000000" else "111111"
    response = client.post(ENROL, {"code": wrong})
    assert response.status_code == 200
    assert "The code is not right" in response.content.decode()
    assert not TOTPDevice.objects.get(user=supervisor).confirmed
    assert "auth.2fa_failed" in _actions(supervisor)


def test_the_code_step_accepts_the_authenticators_code(client, supervisor):
    device = two_factor_device(supervisor)
    _password(client, "supervisor")
    response = client.get(reverse("cases:supervisor"))
    assert response["Location"] == f"{VERIFY}?next=%2Fcases%2Fsupervisor%2F"
    response = client.post(VERIFY, {"code": totp_now(device), "next": reverse("cases:supervisor")})
    assert response["Location"] == reverse("cases:supervisor")
    assert client.get(reverse("cases:supervisor")).status_code == 200
    assert _actions(supervisor) == ["auth.2fa_verified"]


def test_a_wrong_code_is_refused_and_audited(client, supervisor):
    device = two_factor_device(supervisor)
    _password(client, "supervisor")
    wrong = "123456" if totp_now(device) != "123456" else "654321"
    response = client.post(VERIFY, {"code": wrong})
    assert response.status_code == 200
    assert "The code is not right" in response.content.decode()
    assert client.get(reverse("cases:supervisor"))["Location"].startswith(VERIFY)
    assert _actions(supervisor) == ["auth.2fa_failed"]


def test_a_recovery_code_works_once(client, supervisor):
    _password(client, "supervisor")
    codes = _enrol(client, supervisor)
    client.post(reverse("accounts:logout"))

    _password(client, "supervisor")
    response = client.post(VERIFY, {"code": codes[3].upper()})
    assert response["Location"] == reverse("cases:supervisor")
    client.post(reverse("accounts:logout"))

    _password(client, "supervisor")
    response = client.post(VERIFY, {"code": codes[3]})
    assert response.status_code == 200 and "The code is not right" in response.content.decode()
    assert RecoveryCode.objects.filter(user=supervisor, used_at__isnull=False).count() == 1
    used = AuditEvent.objects.get(action="auth.2fa_recovery_used")
    assert used.changes == {"recovery_codes_left": 9}


def test_wrong_codes_count_towards_the_lockout(client, supervisor, settings):
    settings.LOGIN_FAILURES_PER_USER = 3
    device = two_factor_device(supervisor)
    right = totp_now(device)
    wrong = "123456" if right != "123456" else "654321"
    _password(client, "supervisor")
    client.post(VERIFY, {"code": wrong})
    client.post(VERIFY, {"code": wrong})
    response = client.post(VERIFY, {"code": wrong})
    assert response.status_code == 429
    assert not response.wsgi_request.user.is_authenticated
    # Locked: even the password and the right code do not get in now.
    assert _password(client, "supervisor").status_code == 429


def test_the_right_password_does_not_reset_the_count_of_wrong_codes(client, supervisor, settings):
    settings.LOGIN_FAILURES_PER_USER = 3
    device = two_factor_device(supervisor)
    wrong = "123456" if totp_now(device) != "123456" else "654321"
    for _ in range(2):
        _password(client, "supervisor")
        client.post(VERIFY, {"code": wrong})
        client.post(reverse("accounts:logout"))
    _password(client, "supervisor")
    assert client.post(VERIFY, {"code": wrong}).status_code == 429


def test_the_django_admin_needs_a_verified_session_even_for_an_optional_role(client, collector):
    collector.is_staff = True
    collector.save()
    _password(client, "collector")
    assert client.get("/admin/")["Location"].startswith(ENROL)


def test_an_administrator_resets_another_users_two_factor_and_it_is_audited(admin_user_, supervisor):
    two_factor_device(supervisor)
    RecoveryCode.objects.create(user=supervisor, code_hash="x" * 64)
    two_factor_reset(user_id=supervisor.pk, actor=admin_user_, reason="lost phone")
    assert not TOTPDevice.objects.filter(user=supervisor).exists()
    assert not RecoveryCode.objects.filter(user=supervisor).exists()
    event = AuditEvent.objects.get(action="auth.2fa_reset")
    assert (event.actor, event.target_id, event.reason) == (admin_user_, str(supervisor.pk), "lost phone")


def test_the_reset_is_an_action_in_the_django_admin(client, admin_user_, supervisor):
    two_factor_device(supervisor)
    client.force_login(admin_user_)
    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [supervisor.pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=supervisor).exists()
    assert AuditEvent.objects.filter(action="auth.2fa_reset", target_id=str(supervisor.pk)).exists()


def test_only_an_administrator_resets_and_never_their_own(admin_user_, supervisor, collector):
    from django.core.exceptions import PermissionDenied

    two_factor_device(collector)
    with pytest.raises(PermissionDenied):
        two_factor_reset(user_id=collector.pk, actor=supervisor)
    with pytest.raises(OwnReset):
        two_factor_reset(user_id=admin_user_.pk, actor=admin_user_)
    assert TOTPDevice.objects.filter(user=collector).exists()


def test_a_user_turns_their_own_two_factor_off_only_with_a_code(client, collector):
    _password(client, "collector")
    codes = _enrol(client, collector)
    page = reverse("accounts:two-factor")
    response = client.post(page, {"code": "zzzzz-zzzzz", "action": "disable"})
    assert "The code is not right" in response.content.decode()
    assert TOTPDevice.objects.filter(user=collector, confirmed=True).exists()
    response = client.post(page, {"code": codes[0], "action": "disable"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=collector).exists()
    assert not RecoveryCode.objects.filter(user=collector).exists()
    assert "auth.2fa_disabled" in _actions(collector)


def test_a_supervisor_who_resets_their_own_device_must_enrol_again(client, supervisor):
    _password(client, "supervisor")
    codes = _enrol(client, supervisor)
    client.post(reverse("accounts:two-factor"), {"code": codes[0], "action": "disable"})
    assert client.get(reverse("cases:supervisor"))["Location"].startswith(ENROL)


def test_no_admin_page_shows_an_authenticator_key(client, admin_user_):
    client.force_login(admin_user_)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404


def test_api_tokens_are_unaffected_by_two_factor_login(client, supervisor):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=supervisor)
    response = client.get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200


def test_a_misspelt_role_in_the_setting_is_a_configuration_error(settings):
    from accounts.checks import two_factor_roles_exist

    settings.STAFF_2FA_REQUIRED_ROLES = ["supervisor", "supervsior"]
    errors = two_factor_roles_exist(None)
    assert [error.id for error in errors] == ["accounts.E001"] and "supervsior" in errors[0].msg
    settings.STAFF_2FA_REQUIRED_ROLES = ["supervisor", "legal"]
    assert two_factor_roles_exist(None) == []
