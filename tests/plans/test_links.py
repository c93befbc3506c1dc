"""Portal links from the staff side: issued through the gate, bound to one case, expiring, revocable, and the
cardholder's portal activity on the case page."""

import hashlib
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance.models import AuditEvent, ContactDecision
from config.errors import Conflict
from negotiation.models import OutboundMessage
from negotiation.services import message_clear_text
from plans import messages
from plans.models import Agreement, CounterOffer, Offer, OneTimeCode, PortalEvent, PortalLink
from plans.portal import LinkInvalid, portal_link_issue, portal_link_resolve, portal_link_revoke
from tests.factories import UserFactory
from tests.plans.portal_support import make_link, make_offer, plan_case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_and_files(client, settings, tmp_path):
    settings.SMS_FILE_DIR = str(tmp_path / "sms")
    settings.PORTAL_BASE_URL = "https://portal.example.cn"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def case(team, collector):
    return plan_case(team=team, collector=collector)


@pytest.fixture
def ready_offer(case, collector):
    return make_offer(case, created_by=collector, status=Offer.Status.READY)


@pytest.fixture
def stranger(other_team):
    return UserFactory(username="stranger", role="collector", team=other_team)


def send_url(case) -> str:
    return reverse("plans:portal-link-send", args=[case.pk])


# --- Issuing -----------------------------------------------------------------------------------------


def test_a_link_keeps_only_the_tokens_hash_and_its_url_goes_out_by_sms_as_a_service_message(
    case, collector, ready_offer
):
    link, token = portal_link_issue(case_id=case.pk, actor=collector)

    assert len(token) >= 43
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(PortalLink.objects.filter(pk=link.pk).values().get())
    message = OutboundMessage.objects.get(pk=link.message_id)
    assert (message.channel, message.purpose, message.recipient) == ("sms", "service", "13812345678")
    assert f"https://portal.example.cn/p/…{token[-4:]}/" in message.body
    assert token not in message.body
    assert f"https://portal.example.cn/p/{token}/" in message_clear_text(message)[1]


def test_two_links_never_share_a_token(case, collector, ready_offer):
    _first, one = portal_link_issue(case_id=case.pk, actor=collector)
    _second, two = portal_link_issue(case_id=case.pk, actor=collector)

    assert one != two


def test_sending_the_link_offers_the_cases_ready_offers(case, collector, ready_offer):
    pending = make_offer(case, created_by=collector, status=Offer.Status.PENDING_APPROVAL)

    portal_link_issue(case_id=case.pk, actor=collector)

    ready_offer.refresh_from_db()
    pending.refresh_from_db()
    assert ready_offer.status == Offer.Status.OFFERED
    assert ready_offer.offered_at is not None
    assert pending.status == Offer.Status.PENDING_APPROVAL


def test_a_link_expires_after_the_configured_days(case, collector, ready_offer, settings):
    settings.PORTAL_LINK_DAYS = 3
    before = timezone.now()

    link, token = portal_link_issue(case_id=case.pk, actor=collector)

    assert before + timedelta(days=3) <= link.expires_at <= timezone.now() + timedelta(days=3)
    PortalLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(LinkInvalid):
        portal_link_resolve(token)


def test_the_issue_is_audited_with_channel_template_and_offers(case, collector, ready_offer):
    link, _token = portal_link_issue(case_id=case.pk, actor=collector)

    event = AuditEvent.objects.get(action="portal_link.issue")
    assert (event.actor, event.case_id, event.target_id) == (collector, case.pk, str(link.pk))
    assert event.changes["channel"] == "sms"
    assert event.changes["template"] == messages.PORTAL_LINK
    assert event.changes["offered"] == [ready_offer.pk]


def test_a_case_without_an_approved_offer_gets_no_link(case, collector):
    make_offer(case, created_by=collector, status=Offer.Status.PENDING_APPROVAL)

    with pytest.raises(Conflict) as refused:
        portal_link_issue(case_id=case.pk, actor=collector)

    assert refused.value.code == "no_offer_to_send"
    assert not PortalLink.objects.exists()
    assert not OutboundMessage.objects.exists()


def test_the_system_sends_the_thank_you_link_with_the_agreement_number_and_no_offer(case, collector):
    offer = make_offer(case, created_by=collector, status=Offer.Status.SIGNED)
    otp = OneTimeCode.objects.create(link=make_link(case)[0], purpose="sign", code_hash="-", expires_at=timezone.now())
    Agreement.objects.create(
        case=case, offer=offer, number="AG20261129-00000001-1", pdf="private/x.pdf", sha256="0" * 64,
        signer_name="王芳", signed_at=timezone.now(), code=otp, status=Agreement.Status.COMPLETED,
    )

    link, token = portal_link_issue(case_id=case.pk, actor=None, template_code=messages.AGREEMENT_THANKS)

    assert link.created_by is None
    _subject, body = message_clear_text(OutboundMessage.objects.get(pk=link.message_id))
    assert "AG20261129-00000001-1" in body
    assert token in body


def test_a_compliance_officer_does_not_send_links(case, compliance_officer, ready_offer):
    with pytest.raises(PermissionDenied):
        portal_link_issue(case_id=case.pk, actor=compliance_officer)

    assert not PortalLink.objects.exists()


# --- The send box ------------------------------------------------------------------------------------


def test_the_collector_sends_a_link_from_the_case_and_sees_it_listed(client, case, collector, ready_offer):
    client.force_login(collector)

    response = client.post(send_url(case), {"channel": "sms"}, HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="portal-link-sent"' in body
    link = PortalLink.objects.get(case=case)
    assert f'data-testid="portal-link-{link.pk}"' in body
    assert f'data-testid="portal-link-revoke-{link.pk}"' in body


def test_an_opted_out_cardholder_gets_no_link_and_the_refusal_is_shown(client, team, collector):
    case = plan_case(team=team, collector=collector, opt_out_sms=True)
    make_offer(case, created_by=collector, status=Offer.Status.READY)
    client.force_login(collector)

    response = client.post(send_url(case), {"channel": "sms"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 409
    body = response.content.decode()
    assert 'data-testid="portal-link-refused"' in body
    assert "opted out" in body
    assert not PortalLink.objects.exists()
    assert ContactDecision.objects.filter(case=case, allowed=False).exists()


def test_a_link_by_email_to_a_cardholder_without_an_address_is_refused_clearly(client, team, collector):
    case = plan_case(team=team, collector=collector, email="")
    make_offer(case, created_by=collector, status=Offer.Status.READY)
    client.force_login(collector)

    response = client.post(send_url(case), {"channel": "email"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 400
    assert "no address for this channel" in response.content.decode()
    assert not PortalLink.objects.exists()
    assert Offer.objects.get(case=case).status == Offer.Status.READY


def test_staff_of_another_team_cannot_send_a_link(client, case, stranger, ready_offer):
    client.force_login(stranger)

    response = client.post(send_url(case), {"channel": "sms"})

    assert response.status_code == 404
    assert not PortalLink.objects.exists()


def test_staff_of_another_team_cannot_revoke_a_link(client, case, stranger):
    link, _token = make_link(case)
    client.force_login(stranger)

    response = client.post(reverse("plans:portal-link-revoke", args=[link.pk]))

    assert response.status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None


def test_a_revoked_link_no_longer_opens_and_the_revocation_is_audited(client, case, collector):
    link, token = make_link(case)
    client.force_login(collector)

    response = client.post(reverse("plans:portal-link-revoke", args=[link.pk]), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    link.refresh_from_db()
    assert (link.revoked_by, link.revoked_at is not None) == (collector, True)
    assert AuditEvent.objects.filter(action="portal_link.revoke", target_id=str(link.pk)).exists()
    with pytest.raises(LinkInvalid):
        portal_link_resolve(token)
    assert f'data-testid="portal-link-{link.pk}"' not in response.content.decode()


def test_revoking_a_link_twice_is_refused(case, collector):
    link, _token = make_link(case)
    portal_link_revoke(link_id=link.pk, actor=collector)

    with pytest.raises(Conflict):
        portal_link_revoke(link_id=link.pk, actor=collector)


# --- Portal activity on the case page ----------------------------------------------------------------


def add_events(case, link, count: int) -> None:
    now = timezone.now()
    PortalEvent.objects.bulk_create(
        PortalEvent(link=link, case=case, kind=PortalEvent.Kind.OPENED, ip="10.0.0.1", at=now - timedelta(minutes=n))
        for n in range(count)
    )


def test_the_case_page_shows_what_the_cardholder_did_newest_first(client, case, collector):
    link, _token = make_link(case)
    now = timezone.now()
    PortalEvent.objects.create(link=link, case=case, kind=PortalEvent.Kind.OPENED, at=now - timedelta(minutes=5))
    PortalEvent.objects.create(link=link, case=case, kind=PortalEvent.Kind.ACCEPTED, at=now)
    CounterOffer.objects.create(case=case, link=link, monthly_amount="900.00", months_needed=12, reason="失业",
                                affordable=False)
    client.force_login(collector)

    response = client.get(reverse("plans:portal-activity", args=[case.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert body.index('data-kind="accepted"') < body.index('data-kind="opened"')
    assert 'data-affordable="no"' in body
    assert "¥900.00" in body


def test_staff_of_another_team_cannot_see_the_portal_activity(client, case, stranger):
    client.force_login(stranger)

    assert client.get(reverse("plans:portal-activity", args=[case.pk])).status_code == 404


def test_the_portal_activity_takes_the_same_number_of_queries_for_few_or_many_events(client, case, collector):
    link, _token = make_link(case)
    client.force_login(collector)
    activity = reverse("plans:portal-activity", args=[case.pk])
    add_events(case, link, 2)
    with CaptureQueriesContext(connection) as few:
        client.get(activity)
    add_events(case, link, 30)
    for n in range(5):
        CounterOffer.objects.create(case=case, link=link, monthly_amount="100", months_needed=n + 1, reason="r")

    with CaptureQueriesContext(connection) as many:
        client.get(activity)

    assert len(many) == len(few)


def test_the_send_box_takes_the_same_number_of_queries_for_few_or_many_links(client, case, collector, ready_offer):
    client.force_login(collector)
    panel = reverse("plans:portal-links", args=[case.pk])
    make_link(case, token="one-" + "a" * 40)
    with CaptureQueriesContext(connection) as few:
        client.get(panel)
    for n in range(6):
        make_link(case, token=f"more-{n}-" + "b" * 40)

    with CaptureQueriesContext(connection) as many:
        response = client.get(panel)

    assert response.content.decode().count('data-testid="portal-link-revoke-') == 7
    assert len(many) == len(few)
