"""Failed logins lock a user name whatever the address, and an address whatever the user name."""

import pytest

from compliance.models import AuditEvent
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _fail(client, username: str, address: str):
    return client.post("/login/", {"username": username, "password": "wrong-password"}, REMOTE_ADDR=address)


def _log_in(client, username: str, address: str):
    return client.post("/login/", {"username": username, "password": PASSWORD}, REMOTE_ADDR=address)


def test_failures_from_many_addresses_lock_the_user_name(client, collector, settings):
    settings.LOGIN_FAILURES_PER_USER = 5
    for n in range(5):
        _fail(client, "collector", f"10.0.0.{n + 1}")
    response = _log_in(client, "collector", "10.9.9.9")
    assert response.status_code == 429
    assert not response.wsgi_request.user.is_authenticated


def test_a_locked_user_name_does_not_lock_the_address_for_others(client, collector, team, settings):
    settings.LOGIN_FAILURES_PER_USER = 3
    UserFactory(username="colleague", role="collector", team=team)
    for _ in range(3):
        _fail(client, "collector", "10.0.0.1")
    response = _log_in(client, "colleague", "10.0.0.1")
    assert response.status_code == 302
    assert response.wsgi_request.user.username == "colleague"


def test_password_spraying_from_one_address_is_locked_out(client, collector, settings):
    settings.LOGIN_FAILURES_PER_USER = 5
    settings.LOGIN_FAILURES_PER_ADDRESS = 20
    # Never more than two wrong tries per name, so no name reaches its own limit; known and unknown names.
    names = ["collector", "supervisor", "admin"] + [f"nobody{n}" for n in range(20)]
    for name in names:
        for _ in range(2):
            _fail(client, name, "203.0.113.7")
            if AuditEvent.objects.filter(action="auth.locked_out").exists():
                break
    response = _log_in(client, "collector", "203.0.113.7")
    assert response.status_code == 429
    assert not response.wsgi_request.user.is_authenticated
    assert "登录失败次数过多" in response.content.decode()
    # The same user from another address is not locked: the address is.
    assert _log_in(client, "collector", "198.51.100.1").status_code == 302


def test_the_address_limit_counts_failures_across_user_names_exactly(client, collector, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 6
    for n in range(5):
        _fail(client, f"nobody{n}", "203.0.113.8")
    assert _log_in(client, "collector", "203.0.113.8").status_code == 302
    client.logout()
    _fail(client, "nobody5", "203.0.113.8")
    assert _log_in(client, "collector", "203.0.113.8").status_code == 429


def test_the_lockout_ends_after_the_cool_off(client, collector, settings):
    from datetime import timedelta

    from axes.models import AccessAttempt

    settings.LOGIN_FAILURES_PER_USER = 2
    for _ in range(2):
        _fail(client, "collector", "10.0.0.1")
    assert _log_in(client, "collector", "10.0.0.1").status_code == 429
    past = AccessAttempt.objects.first().attempt_time - settings.AXES_COOLOFF_TIME - timedelta(minutes=1)
    AccessAttempt.objects.update(attempt_time=past)
    assert _log_in(client, "collector", "10.0.0.1").status_code == 302


def test_the_start_of_a_lockout_is_audited_once_with_its_scope(client, collector, settings):
    settings.LOGIN_FAILURES_PER_USER = 2
    for _ in range(4):
        _fail(client, "collector", "10.0.0.1")
    events = list(AuditEvent.objects.filter(action="auth.locked_out"))
    assert len(events) == 1
    assert events[0].actor_label == "collector"
    assert events[0].changes["scope"] == ["user"]
    assert events[0].ip == "10.0.0.1"


def test_a_successful_login_clears_only_its_own_user_names_failures(client, collector, settings):
    from axes.models import AccessAttempt

    _fail(client, "collector", "10.0.0.1")
    _fail(client, "nobody", "10.0.0.1")
    assert _log_in(client, "collector", "10.0.0.1").status_code == 302
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["nobody"]


def test_the_lockout_page_is_translated(client, collector, settings):
    settings.LOGIN_FAILURES_PER_USER = 1
    _fail(client, "collector", "10.0.0.1")
    client.cookies["django_language"] = "en"
    response = _log_in(client, "collector", "10.0.0.1")
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()
