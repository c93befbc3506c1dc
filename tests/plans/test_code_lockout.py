"""Guessing one-time codes is limited per link: wrong codes count across resends and lock the link, a link gets
a few codes a day, and staff see a lock and can lift it."""

from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from compliance.models import AuditEvent
from plans.codes import (
    CodeDailyLimit,
    CodeError,
    CodeRefused,
    LinkLocked,
    atomic_keeping_code_attempts,
    code_send,
    code_verify,
)
from plans.models import OneTimeCode, PortalEvent, PortalLink
from tests.plans import portal_support
from tests.plans.signing_setup import DAYTIME, Clock, ensure_code_template, link_for, other_than, sent_code
from tests.plans.signing_setup import plan_case as bare_plan_case

pytestmark = pytest.mark.django_db
IDENTITY = OneTimeCode.Purpose.IDENTITY


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    settings.SMS_GATEWAY = "negotiation.gateways.FileSmsGateway"
    settings.SMS_FILE_DIR = str(tmp_path / "sms")
    settings.PORTAL_CODE_ATTEMPTS = 5
    settings.PORTAL_CODE_FAILURES_TO_LOCK = 10
    settings.PORTAL_LOCKOUT_MINUTES = 30
    settings.PORTAL_CODES_PER_DAY = 10
    settings.BANK_PHONE = "400-000-0000"


@pytest.fixture
def clock():
    clock = Clock(DAYTIME)
    with mock.patch("django.utils.timezone.now", side_effect=clock):
        yield clock


@pytest.fixture
def link(db):
    ensure_code_template()
    return link_for(bare_plan_case())


def guess_wrong(link, otp) -> CodeRefused:
    with pytest.raises(CodeRefused) as refused:
        code_verify(link_id=link.pk, purpose=IDENTITY, code=other_than(sent_code(otp)))
    return refused.value


def test_ten_wrong_codes_across_resends_lock_the_link_and_the_right_code_no_longer_opens_it(clock, link):
    refusals = []
    for _round in range(2):
        clock.advance(seconds=61)
        otp = code_send(link_id=link.pk, purpose=IDENTITY)
        refusals += [guess_wrong(link, otp).code for _try in range(5)]

    assert refusals[4] == CodeError.TOO_MANY  # the first code was used up after five
    assert refusals[-1] == CodeError.LINK_LOCKED
    link.refresh_from_db()
    assert link.locked_until == clock.at + timedelta(minutes=30)
    with pytest.raises(LinkLocked):
        code_verify(link_id=link.pk, purpose=IDENTITY, code=sent_code(otp))
    with pytest.raises(LinkLocked):
        code_send(link_id=link.pk, purpose=IDENTITY)
    locked = AuditEvent.objects.get(action="portal.locked")
    assert (locked.changes["cause"], locked.changes["failures"], locked.actor_kind) == ("code", 10, "cardholder")
    assert PortalEvent.objects.get(link=link, kind=PortalEvent.Kind.LOCKED).detail["cause"] == "code"


def test_once_the_lock_has_passed_a_new_code_works_and_the_count_starts_again(clock, link):
    PortalLink.objects.filter(pk=link.pk).update(locked_until=clock.at + timedelta(minutes=30), code_failures=0)
    clock.advance(minutes=31)

    otp = code_send(link_id=link.pk, purpose=IDENTITY)
    code_verify(link_id=link.pk, purpose=IDENTITY, code=sent_code(otp))

    link.refresh_from_db()
    assert link.code_failures == 0


def test_the_right_code_clears_the_wrong_ones_counted_on_the_link(clock, link):
    otp = code_send(link_id=link.pk, purpose=IDENTITY)
    for _try in range(4):
        guess_wrong(link, otp)
    assert PortalLink.objects.get(pk=link.pk).code_failures == 4

    code_verify(link_id=link.pk, purpose=IDENTITY, code=sent_code(otp))

    assert PortalLink.objects.get(pk=link.pk).code_failures == 0


def test_a_wrong_code_inside_a_rolled_back_write_still_counts_once_on_the_link(clock, link):
    otp = code_send(link_id=link.pk, purpose=IDENTITY)

    with pytest.raises(CodeRefused), atomic_keeping_code_attempts():
        code_verify(link_id=link.pk, purpose=IDENTITY, code=other_than(sent_code(otp)))

    assert PortalLink.objects.get(pk=link.pk).code_failures == 1


def test_a_link_gets_at_most_the_daily_number_of_codes(clock, link, settings):
    settings.PORTAL_CODES_PER_DAY = 3
    for _code in range(3):
        code_send(link_id=link.pk, purpose=IDENTITY)
        clock.advance(seconds=61)

    with pytest.raises(CodeDailyLimit) as refused:
        code_send(link_id=link.pk, purpose=OneTimeCode.Purpose.SIGN)

    assert refused.value.http_status == 429
    assert "400-000-0000" in refused.value.message
    assert OneTimeCode.objects.filter(link=link).count() == 3
    clock.advance(days=1)
    code_send(link_id=link.pk, purpose=IDENTITY)
    assert OneTimeCode.objects.filter(link=link).count() == 4


# --- Through the portal and the staff side ---------------------------------------------------------


@pytest.fixture
def portal_link(team, collector, client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    case = portal_support.plan_case(team=team, collector=collector)
    portal_support.make_offer(case, created_by=collector)
    return portal_support.make_link(case)


def lock_through_the_portal(client, link, token) -> list:
    url = portal_support.url
    client.post(url("identity", token), {"last_four": portal_support.NATIONAL_ID[-4:]})
    statuses = []
    for _round in range(2):
        code = portal_support.last_code(link, IDENTITY)
        for _try in range(5):
            statuses.append(client.post(url("identity-code", token), {"code": other_than(code)}).status_code)
        OneTimeCode.objects.filter(link=link).update(created_at=timezone.now() - timedelta(seconds=61))
        client.post(url("identity-code-resend", token))
    return statuses


def test_the_cardholder_is_told_when_to_try_again_and_the_banks_number(client, portal_link):
    link, token = portal_link

    statuses = lock_through_the_portal(client, link, token)

    assert statuses[-1] == 403
    right = portal_support.last_code(link, IDENTITY)
    response = client.post(portal_support.url("identity-code", token), {"code": right})
    page = response.content.decode()
    assert response.status_code == 403
    assert "Locked for your security" in page and "400-000-0000" in page
    link.refresh_from_db()
    assert timezone.localtime(link.locked_until).strftime("%H:%M") in page


def test_staff_see_the_lock_on_the_case_page_and_lift_it(client, as_user, collector, portal_link):
    link, token = portal_link
    lock_through_the_portal(client, link, token)
    staff = as_user(collector)

    panel = staff.get(reverse("plans:portal-links", args=[link.case_id])).content.decode()
    assert f'data-testid="portal-link-locked-{link.pk}"' in panel
    assert f'data-testid="portal-link-unlock-{link.pk}"' in panel
    assert 'data-kind="locked"' in staff.get(reverse("plans:portal-activity", args=[link.case_id])).content.decode()

    response = staff.post(reverse("plans:portal-link-unlock", args=[link.pk]), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert f'data-testid="portal-link-locked-{link.pk}"' not in response.content.decode()
    link.refresh_from_db()
    assert (link.locked_until, link.code_failures, link.identity_failures) == (None, 0, 0)
    unlock = AuditEvent.objects.get(action="portal_link.unlock")
    assert (unlock.actor, unlock.case_id) == (collector, link.case_id)


def locked(case, **fields) -> PortalLink:
    link, _token = portal_support.make_link(case, locked_until=timezone.now() + timedelta(minutes=20), **fields)
    return link


def test_the_unlock_api_lifts_the_lock_and_answers_the_link(api, supervisor, team, collector):
    case = portal_support.plan_case(team=team, collector=collector)
    link = locked(case, code_failures=3)

    response = api(supervisor).post(f"/api/v1/portal-links/{link.pk}/unlock/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["locked_until"], body["code_failures"]) == (link.pk, None, 0)
    assert "token" not in str(body) and "token_hash" not in body
    assert AuditEvent.objects.filter(action="portal_link.unlock", actor=supervisor).count() == 1


def test_unlocking_a_link_that_is_not_locked_is_a_409_and_changes_nothing(api, supervisor, team, collector):
    case = portal_support.plan_case(team=team, collector=collector)
    link, _token = portal_support.make_link(case)

    response = api(supervisor).post(f"/api/v1/portal-links/{link.pk}/unlock/")

    assert response.status_code == 409
    assert response.json()["code"] == "portal_link_not_locked"
    assert not AuditEvent.objects.filter(action="portal_link.unlock").exists()


def test_a_link_of_another_teams_case_does_not_exist_for_the_unlock(api, other_team, team, collector):
    from tests.factories import UserFactory

    case = portal_support.plan_case(team=team, collector=collector)
    link = locked(case)
    stranger = UserFactory(username="c9", role="collector", team=other_team)

    assert api(stranger).post(f"/api/v1/portal-links/{link.pk}/unlock/").status_code == 404
    assert PortalLink.objects.get(pk=link.pk).locked_until is not None


def test_a_compliance_officer_sees_the_lock_but_does_not_lift_it(api, compliance_officer, team, collector):
    case = portal_support.plan_case(team=team, collector=collector)
    link = locked(case)

    assert api(compliance_officer).post(f"/api/v1/portal-links/{link.pk}/unlock/").status_code == 403
    assert PortalLink.objects.get(pk=link.pk).locked_until is not None
