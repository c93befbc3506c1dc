"""Logging contacts from the case page: the gate decides, the timeline and the compliance box follow."""

from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from negotiation.models import Contact, OutboundMessage
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def case(team):
    return CaseFactory(team=team, account__debtor__mobile="13812345678")


@pytest.fixture
def as_user(client, settings):
    # The tests move the clock a few days ahead; the session must outlive that.
    settings.SESSION_COOKIE_AGE = 60 * 24 * 3600

    def login(user):
        client.force_login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return login


def at_shanghai(hhmm: str, day: int = 3) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


def log(client, case, when, **fields):
    data = {"channel": "phone", "party": "debtor", "outcome": "no_answer", "duration_seconds": "", "notes": "",
            "next_step": "", **fields}
    with mock.patch("django.utils.timezone.now", return_value=when):
        return client.post(reverse("negotiation:contact-log", args=[case.pk]), data, HTTP_HX_REQUEST="true")


def test_logging_a_call_from_the_case_page_records_it_and_refreshes_the_timeline(as_user, collector, case):
    response = log(as_user(collector), case, at_shanghai("10:00"), outcome="callback_requested", notes="回电 明天")

    html = response.content.decode()
    assert response.status_code == 200
    contact = Contact.objects.get(case=case)
    assert (contact.channel, contact.outcome, contact.recorded_by) == ("phone", "callback_requested", collector)
    assert 'id="case-timeline"' in html and 'hx-swap-oob="true"' in html
    assert 'data-testid="timeline-contact"' in html and "回电 明天" in html
    assert 'id="compliance-box"' in html


def test_a_contact_refused_by_the_gate_shows_the_reasons_and_next_allowed_time_and_stores_nothing(
    as_user, collector, case
):
    response = log(as_user(collector), case, at_shanghai("23:00"))

    html = response.content.decode()
    assert response.status_code == 409
    assert 'data-testid="contact-refused"' in html
    assert "2026-12-04 08:00" in html
    assert not Contact.objects.filter(case=case).exists()


def test_the_timeline_shows_contacts_and_messages_newest_first_with_notes_masked(as_user, collector, case):
    log(as_user(collector), case, at_shanghai("09:00"), notes="客户说新号码 13912345678")
    message = OutboundMessage.objects.create(
        case=case, channel="sms", purpose="collection", recipient="13812345678", body="您的账户已逾期",
        idempotency_key="k-1", status=OutboundMessage.Status.SCHEDULED, scheduled_for=at_shanghai("08:00", 4),
    )
    OutboundMessage.objects.filter(pk=message.pk).update(created_at=at_shanghai("22:30"))

    html = as_user(collector).get(reverse("cases:detail", args=[case.pk])).content.decode()

    assert "139****5678" in html and "13912345678" not in html
    assert html.index('data-testid="timeline-message"') < html.index('data-testid="timeline-contact"')
    assert "held until allowed" in html


def test_the_case_page_runs_the_same_number_of_queries_whatever_the_contacts_and_messages(
    as_user, collector, case
):
    client = as_user(collector)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(reverse("cases:detail", args=[case.pk]))
        return len(captured)

    log(client, case, at_shanghai("09:00"))
    OutboundMessage.objects.create(case=case, channel="sms", purpose="collection", recipient="1", body="a",
                                   idempotency_key="k-0")
    few = queries()
    for n in range(4):
        log(client, case, at_shanghai(f"1{n}:00"), notes=f"note {n}")
        OutboundMessage.objects.create(case=case, channel="sms", purpose="collection", recipient="1", body="b",
                                       idempotency_key=f"k-{n + 1}")

    assert queries() == few


def test_the_case_page_offers_the_contact_log_tab_focused_with_l(as_user, collector, case):
    html = as_user(collector).get(reverse("cases:detail", args=[case.pk])).content.decode()

    assert 'id="contact-log"' in html
    assert "js/case.js" in html
