"""The one gate every contact passes: the API, the recorded decision, the effect on the case."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from compliance.models import ContactDecision, Hold
from compliance.services import hold_set
from negotiation.models import Contact
from tests.factories import CaseFactory, case_in

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(hhmm: str, days_ago: int = 0) -> str:
    hour, minute = map(int, hhmm.split(":"))
    day = timezone.localdate() - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).isoformat()


@pytest.fixture
def case(team):
    return CaseFactory(team=team)


def post_call(api, user, case, at, outcome="no_answer", **extra):
    body = {"channel": "phone", "outcome": outcome, "at": at, **extra}
    return api(user).post(f"/api/v1/cases/{case.pk}/contacts/", body, format="json")


def test_contact_check_answers_allowed_within_hours(api, collector, case):
    response = api(collector).post(
        f"/api/v1/cases/{case.pk}/contact-check/", {"channel": "phone", "at": shanghai("10:00", 1)}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"allowed": True, "reasons": [], "next_allowed_at": None, "policy_version": 1}


def test_contact_check_at_night_names_the_reason_and_the_next_morning(api, collector, case):
    response = api(collector).post(
        f"/api/v1/cases/{case.pk}/contact-check/", {"channel": "sms", "at": "2026-12-03T14:30:00Z"}, format="json"
    )
    body = response.json()
    assert body["allowed"] is False
    assert [r["code"] for r in body["reasons"]] == ["outside_contact_hours"]
    assert datetime.fromisoformat(body["next_allowed_at"]) == datetime(2026, 12, 4, 8, 0, tzinfo=SHANGHAI)


def test_every_check_is_recorded_with_the_policy_version(api, collector, case):
    api(collector).post(f"/api/v1/cases/{case.pk}/contact-check/", {"channel": "phone"}, format="json")
    decision = ContactDecision.objects.get(case=case)
    assert decision.policy.jurisdiction == "CN" and decision.policy.version == 1
    assert decision.asked_by == collector


def test_a_recorded_call_is_stored_with_its_decision(api, collector, case):
    response = post_call(api, collector, case, shanghai("10:00", 1))
    assert response.status_code == 201, response.content
    contact = Contact.objects.get(pk=response.json()["id"])
    assert contact.decision.allowed is True
    assert contact.recorded_by == collector


def test_the_seventh_call_of_a_day_is_refused_with_409_and_nothing_is_stored(api, collector, case):
    for minute in range(6):
        assert post_call(api, collector, case, shanghai(f"09:0{minute}", 1)).status_code == 201
    response = post_call(api, collector, case, shanghai("15:00", 1))
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "contact_forbidden"
    assert [r["code"] for r in body["reasons"]] == ["daily_attempt_limit"]
    assert body["next_allowed_at"] is not None
    assert Contact.objects.filter(case=case).count() == 6
    assert ContactDecision.objects.filter(case=case, allowed=False).count() == 1


def test_a_call_logged_for_the_night_is_refused(api, collector, case):
    response = post_call(api, collector, case, shanghai("22:30", 1))
    assert response.status_code == 409
    assert response.json()["reasons"][0]["code"] == "outside_contact_hours"


def test_a_right_party_contact_moves_a_notified_case_to_first_contact(api, collector, case):
    post_call(api, collector, case, shanghai("10:00", 1), outcome="right_party_contact")
    case.refresh_from_db()
    assert case.status == "first_contact"
    assert case.transitions.get().actor == collector


def test_an_unanswered_call_leaves_the_case_in_notify(api, collector, case):
    post_call(api, collector, case, shanghai("10:00", 1), outcome="no_answer")
    case.refresh_from_db()
    assert case.status == "notify"


def test_a_dispute_raised_in_a_call_holds_the_case_and_blocks_the_next_call(api, collector, case):
    assert post_call(api, collector, case, shanghai("10:00", 1), outcome="dispute_raised").status_code == 201
    assert Hold.objects.get(case=case).kind == Hold.Kind.DISPUTE
    response = post_call(api, collector, case, shanghai("11:00", 1))
    assert response.status_code == 409
    assert "dispute_hold" in [r["code"] for r in response.json()["reasons"]]


@pytest.mark.parametrize("channel", ["phone", "sms", "email", "letter", "visit", "lawyer_letter"])
def test_a_hold_blocks_every_collection_channel(api, collector, supervisor, case, channel):
    hold_set(case_id=case.pk, kind=Hold.Kind.BREATHING_SPACE, reason="Debt advice", actor=supervisor)
    response = api(collector).post(
        f"/api/v1/cases/{case.pk}/contact-check/", {"channel": channel, "at": shanghai("10:00", 1)}, format="json"
    )
    assert response.json()["allowed"] is False
    assert [r["code"] for r in response.json()["reasons"]] == ["breathing_space"]


def test_a_hold_lets_the_cardholder_reach_the_bank_through_the_portal(api, collector, supervisor, case):
    hold_set(case_id=case.pk, kind=Hold.Kind.COMPLAINT, reason="Complaint", actor=supervisor)
    response = api(collector).post(f"/api/v1/cases/{case.pk}/contact-check/", {"channel": "portal"}, format="json")
    assert response.json()["allowed"] is True


def test_an_inbound_call_is_recorded_even_during_a_hold(api, collector, supervisor, case):
    hold_set(case_id=case.pk, kind=Hold.Kind.DISPUTE, reason="Disputed", actor=supervisor)
    response = post_call(api, collector, case, shanghai("23:00", 1), direction="inbound", outcome="hardship_stated")
    assert response.status_code == 201


def test_a_breathing_space_hold_expires_after_sixty_days(supervisor, case):
    hold = hold_set(case_id=case.pk, kind=Hold.Kind.BREATHING_SPACE, reason="Debt advice", actor=supervisor)
    assert (hold.expires_at - hold.set_at).days == 60


def test_a_contact_in_the_future_is_refused(api, collector, case):
    future = (timezone.now() + timedelta(hours=2)).isoformat()
    response = post_call(api, collector, case, future)
    assert response.status_code == 400
    assert response.json()["code"] == "contact_in_future"


def test_a_collector_cannot_check_or_record_on_another_teams_case(api, collector, other_team):
    foreign = CaseFactory(team=other_team)
    assert post_call(api, collector, foreign, shanghai("10:00", 1)).status_code == 404
    assert api(collector).post(
        f"/api/v1/cases/{foreign.pk}/contact-check/", {"channel": "phone"}, format="json"
    ).status_code == 404


def test_a_compliance_officer_reads_but_does_not_record_contacts(api, compliance_officer, case):
    assert post_call(api, compliance_officer, case, shanghai("10:00", 1)).status_code == 403


def test_a_us_debtor_is_judged_by_the_us_rules_in_new_york_time(api, collector, team):
    case = CaseFactory(team=team, account__debtor__jurisdiction="US", account__debtor__timezone="America/New_York")
    # 01:30 UTC is 20:30 in New York (allowed) and 09:30 in Shanghai.
    ok = api(collector).post(
        f"/api/v1/cases/{case.pk}/contact-check/", {"channel": "phone", "at": "2026-12-04T01:30:00Z"}, format="json"
    )
    assert ok.json()["allowed"] is True
    late = api(collector).post(
        f"/api/v1/cases/{case.pk}/contact-check/", {"channel": "phone", "at": "2026-12-04T02:30:00Z"}, format="json"
    )
    assert late.json()["allowed"] is False


def test_a_signed_agreement_stops_collection_calls_in_cn(api, collector, team):
    case = case_in("follow_up", team=team)
    hold_set(case_id=case.pk, kind=Hold.Kind.AGREEMENT_IN_FORCE, reason="Agreement signed", actor=None)
    response = post_call(api, collector, case, shanghai("10:00", 1))
    assert response.status_code == 409
    assert [r["code"] for r in response.json()["reasons"]] == ["agreement_in_force"]


def test_the_recorded_contact_answer_masks_the_number(api, collector, case):
    response = post_call(api, collector, case, shanghai("10:00", 1), number="13812345678")
    assert response.json()["number"] == "138****5678"


def test_log_lines_mask_personal_data(caplog):
    import logging

    from compliance.masking import PersonalDataLogFilter

    logger = logging.getLogger("accord.test")
    logger.addFilter(PersonalDataLogFilter())
    with caplog.at_level(logging.INFO, logger="accord.test"):
        logger.info("calling %s for %s", "13812345678", "310101199001011234")
    assert "13812345678" not in caplog.text and "138****5678" in caplog.text


def test_the_console_log_handler_carries_the_masking_filter(settings):
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["personal_data"]
    assert settings.LOGGING["filters"]["personal_data"]["()"] == "compliance.masking.PersonalDataLogFilter"
