"""The portal's front door: bad links, the two identity steps, lockout, codes, rate limit, CSRF."""

from datetime import timedelta

import pytest
from django.test import Client as WebClient
from django.utils import timezone

from compliance.models import AuditEvent
from plans.models import OneTimeCode, PortalEvent, PortalLink
from tests.plans.portal_support import NATIONAL_ID, last_code, make_link, make_offer, plan_case, url, verify

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_and_files(client, settings, tmp_path):
    settings.SMS_FILE_DIR = str(tmp_path / "sms")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def case(team, collector):
    case = plan_case(team=team, collector=collector)
    make_offer(case, created_by=collector)
    return case


@pytest.fixture
def link_and_token(case):
    return make_link(case)


def personal_data_of(case) -> list[str]:
    account = case.account
    return [account.debtor.full_name, account.card_last4, f"{account.overdue_total:,.2f}", account.debtor.mobile]


@pytest.mark.parametrize("kind", ["forged", "expired", "revoked"])
def test_a_forged_expired_or_revoked_link_gets_the_same_404_page_and_nothing_of_the_case(client, case, kind):
    token = "forged-" + "a" * 40
    if kind == "expired":
        _link, token = make_link(case, token=token, expires_at=timezone.now() - timedelta(seconds=1))
    elif kind == "revoked":
        _link, token = make_link(case, token=token, revoked_at=timezone.now())

    response = client.get(url("home", token))

    assert response.status_code == 404
    assert [t.name for t in response.templates][0] == "portal/invalid.html"
    body = response.content.decode()
    assert "This link cannot be opened" in body
    assert not any(value in body for value in personal_data_of(case))
    assert not PortalEvent.objects.exists()


def test_an_unknown_token_on_an_action_url_gets_the_404_page(client):
    response = client.post(url("identity", "nope" * 10), {"last_four": "123X"})

    assert response.status_code == 404
    assert "This link cannot be opened" in response.content.decode()


def test_the_first_page_asks_for_the_last_four_and_shows_no_personal_data(client, case, link_and_token):
    link, token = link_and_token

    response = client.get(url("home", token))

    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="last_four"' in body
    assert not any(value in body for value in personal_data_of(case))
    assert "portal/base.html" in [t.name for t in response.templates]
    assert "mainnav" not in body


def test_opening_the_link_is_recorded_once_per_session_with_ip_and_browser(client, link_and_token):
    link, token = link_and_token

    client.get(url("home", token), HTTP_USER_AGENT="PhoneBrowser/1.0")
    client.get(url("home", token), HTTP_USER_AGENT="PhoneBrowser/1.0")

    [event] = PortalEvent.objects.filter(link=link, kind=PortalEvent.Kind.OPENED)
    assert (event.ip, event.user_agent) == ("127.0.0.1", "PhoneBrowser/1.0")
    link.refresh_from_db()
    assert link.last_opened_at is not None


def test_a_wrong_last_four_is_counted_on_the_link_and_recorded(client, link_and_token):
    link, token = link_and_token

    response = client.post(url("identity", token), {"last_four": "9999"}, HTTP_USER_AGENT="PhoneBrowser/1.0")

    assert response.status_code == 400
    assert "does not match" in response.content.decode()
    link.refresh_from_db()
    assert link.identity_failures == 1
    event = PortalEvent.objects.get(link=link, kind=PortalEvent.Kind.IDENTITY_FAILED)
    assert (event.ip, event.user_agent, event.detail) == ("127.0.0.1", "PhoneBrowser/1.0", {"failures": 1})
    assert not OneTimeCode.objects.exists()


def test_guessing_the_last_four_locks_the_link_records_it_and_shows_the_lock(client, settings, link_and_token):
    settings.PORTAL_IDENTITY_ATTEMPTS = 3
    settings.PORTAL_LOCKOUT_MINUTES = 30
    link, token = link_and_token

    statuses = [client.post(url("identity", token), {"last_four": f"000{n}"}).status_code for n in range(3)]

    assert statuses == [400, 400, 403]
    link.refresh_from_db()
    assert link.locked_until > timezone.now() + timedelta(minutes=29)
    assert PortalEvent.objects.filter(link=link, kind=PortalEvent.Kind.LOCKED).count() == 1
    assert AuditEvent.objects.filter(action="portal.locked", case_id=link.case_id).exists()
    page = client.get(url("home", token))
    assert page.status_code == 403
    assert "Locked for your security" in page.content.decode()


def test_the_right_last_four_is_refused_while_the_link_is_locked(client, link_and_token):
    link, token = link_and_token
    PortalLink.objects.filter(pk=link.pk).update(locked_until=timezone.now() + timedelta(minutes=5))

    response = client.post(url("identity", token), {"last_four": NATIONAL_ID[-4:]})

    assert response.status_code == 403
    assert not OneTimeCode.objects.exists()


def test_the_right_last_four_sends_an_identity_code_to_the_registered_mobile(client, case, link_and_token):
    link, token = link_and_token

    response = client.post(url("identity", token), {"last_four": NATIONAL_ID[-4:].lower()})

    assert response.status_code == 302
    otp = OneTimeCode.objects.get(link=link)
    assert otp.purpose == OneTimeCode.Purpose.IDENTITY
    assert otp.message.recipient == case.account.debtor.mobile
    assert otp.message.purpose != "collection"
    page = client.get(url("home", token))
    assert 'name="code"' in page.content.decode()


def test_the_right_code_verifies_the_session_and_shows_the_debt_and_offers(client, case, link_and_token):
    link, token = link_and_token

    verify(client, link, token)
    response = client.get(url("home", token))

    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="debt-summary"' in body
    assert "¥8,700.00" in body
    assert 'data-testid="offer-cards"' in body
    assert PortalEvent.objects.filter(link=link, kind=PortalEvent.Kind.VERIFIED).count() == 1


def test_a_wrong_code_is_shown_and_recorded(client, link_and_token):
    link, token = link_and_token
    client.post(url("identity", token), {"last_four": NATIONAL_ID[-4:]})
    right = last_code(link, OneTimeCode.Purpose.IDENTITY)
    wrong = "000000" if right != "000000" else "111111"

    response = client.post(url("identity-code", token), {"code": wrong})

    assert response.status_code == 400
    assert "not correct" in response.content.decode()
    event = PortalEvent.objects.get(link=link, kind=PortalEvent.Kind.CODE_FAILED)
    assert event.detail == {"purpose": "identity", "error": "code_wrong"}
    assert 'data-testid="debt-summary"' not in client.get(url("home", token)).content.decode()


def test_after_too_many_wrong_codes_even_the_right_one_is_refused(client, settings, link_and_token):
    settings.PORTAL_CODE_ATTEMPTS = 2
    link, token = link_and_token
    client.post(url("identity", token), {"last_four": NATIONAL_ID[-4:]})
    right = last_code(link, OneTimeCode.Purpose.IDENTITY)
    wrong = "000000" if right != "000000" else "111111"
    client.post(url("identity-code", token), {"code": wrong})
    client.post(url("identity-code", token), {"code": wrong})

    response = client.post(url("identity-code", token), {"code": right})

    assert response.status_code == 400
    assert "Too many wrong codes" in response.content.decode()
    assert not PortalEvent.objects.filter(kind=PortalEvent.Kind.VERIFIED).exists()


def test_a_new_code_within_a_minute_is_refused(client, link_and_token):
    link, token = link_and_token
    client.post(url("identity", token), {"last_four": NATIONAL_ID[-4:]})

    response = client.post(url("identity-code-resend", token))

    assert response.status_code == 429
    assert OneTimeCode.objects.filter(link=link).count() == 1


def test_a_verified_session_of_one_link_does_not_open_another_link(client, team, collector, link_and_token):
    link, token = link_and_token
    verify(client, link, token)
    other_case = plan_case(team=team, collector=collector, national_id="310101199001019876")
    make_offer(other_case, created_by=collector)
    _other, other_token = make_link(other_case, token="other-" + "b" * 40)

    response = client.get(url("home", other_token))

    assert 'name="last_four"' in response.content.decode()
    assert 'data-testid="debt-summary"' not in response.content.decode()


def test_too_many_requests_from_one_address_get_the_friendly_429_page(client, settings, link_and_token):
    settings.PORTAL_RATE = "3/minute"
    _link, token = link_and_token

    statuses = [client.get(url("home", token)).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert "Please wait a moment" in client.get(url("home", token)).content.decode()


def test_one_token_is_limited_whatever_address_asks(settings, link_and_token):
    settings.PORTAL_RATE = "2/minute"
    _link, token = link_and_token

    statuses = [
        WebClient(REMOTE_ADDR=f"10.0.0.{n}").get(url("home", token)).status_code for n in range(1, 4)
    ]

    assert statuses == [200, 200, 429]


def test_a_portal_form_without_its_csrf_token_is_refused(link_and_token):
    _link, token = link_and_token
    browser = WebClient(enforce_csrf_checks=True)

    response = browser.post(url("identity", token), {"last_four": NATIONAL_ID[-4:]})

    assert response.status_code == 403
    assert not OneTimeCode.objects.exists()


def test_the_portal_speaks_chinese_by_default(link_and_token):
    _link, token = link_and_token

    response = WebClient().get(url("home", token))

    assert '<html lang="zh-hans">' in response.content.decode()
