"""The contact policy engine, table by table, at every boundary of docs/architecture.md ("The contact gate")."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from compliance.policy import (
    CN_RULES,
    US_RULES,
    Channel,
    ContactFact,
    DebtorFacts,
    HoldFact,
    HoldKind,
    Outcome,
    Party,
    Purpose,
    ReasonCode,
    evaluate,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")
CN_DEBTOR = DebtorFacts(timezone="Asia/Shanghai")
US_DEBTOR = DebtorFacts(timezone="America/New_York")


def at(day: int, hhmm: str, zone=SHANGHAI) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(2026, 12, day, hour, minute, tzinfo=zone)


def call(when: datetime, outcome: str = Outcome.NO_ANSWER, party: str = Party.DEBTOR, number: str = "") -> ContactFact:
    return ContactFact(channel=Channel.PHONE, at=when, outcome=outcome, party=party, number=number)


def judge(policy=CN_RULES, *, when, channel=Channel.PHONE, party=Party.DEBTOR, history=(), holds=(),
          debtor=CN_DEBTOR, purpose=Purpose.COLLECTION):
    return evaluate(policy=policy, channel=channel, party=party, when=when, history=list(history),
                    holds=list(holds), debtor=debtor, purpose=purpose)


@pytest.mark.parametrize("local_time, allowed", [("07:59", False), ("08:00", True), ("21:59", True), ("22:00", False)])
def test_cn_contact_hours_are_judged_in_the_debtors_zone(local_time, allowed):
    decision = judge(when=at(3, local_time))
    assert decision.allowed is allowed
    if not allowed:
        assert decision.codes == (ReasonCode.OUTSIDE_CONTACT_HOURS,)


@pytest.mark.parametrize("local_time, allowed", [("07:59", False), ("08:00", True), ("20:59", True), ("21:00", False)])
def test_us_contact_hours_are_judged_in_the_debtors_zone(local_time, allowed):
    decision = judge(US_RULES, when=at(3, local_time, NEW_YORK), debtor=US_DEBTOR)
    assert decision.allowed is allowed


def test_a_question_asked_in_utc_is_judged_in_shanghai_time():
    # 14:30 UTC is 22:30 in Shanghai: too late; the next allowed moment is 08:00 there.
    decision = judge(when=datetime(2026, 12, 3, 14, 30, tzinfo=UTC))
    assert not decision.allowed
    assert decision.next_allowed_at == at(4, "08:00")


def test_a_question_asked_in_utc_is_judged_in_new_york_time():
    # 13:30 UTC is 08:30 in New York (EST): allowed, though it is 21:30 in Shanghai.
    assert judge(US_RULES, when=datetime(2026, 12, 3, 13, 30, tzinfo=UTC), debtor=US_DEBTOR).allowed


def test_before_opening_the_next_allowed_moment_is_opening_the_same_day():
    assert judge(when=at(3, "07:10")).next_allowed_at == at(3, "08:00")


@pytest.mark.parametrize("earlier_attempts, allowed", [(5, True), (6, False)])
def test_cn_allows_six_call_attempts_a_day_to_one_number(earlier_attempts, allowed):
    history = [call(at(3, f"09:{i:02d}"), number="13800000000") for i in range(earlier_attempts)]
    decision = evaluate(policy=CN_RULES, channel=Channel.PHONE, party=Party.DEBTOR, when=at(3, "15:00"),
                        history=history, holds=[], debtor=CN_DEBTOR, number="13800000000")
    assert decision.allowed is allowed
    if not allowed:
        assert decision.codes == (ReasonCode.DAILY_ATTEMPT_LIMIT,)
        assert decision.next_allowed_at == at(4, "08:00")


def test_cn_attempts_to_another_number_count_separately():
    history = [call(at(3, f"09:{i:02d}"), number="13800000000") for i in range(6)]
    decision = evaluate(policy=CN_RULES, channel=Channel.PHONE, party=Party.DEBTOR, when=at(3, "15:00"),
                        history=history, holds=[], debtor=CN_DEBTOR, number="13900000000")
    assert decision.allowed


def test_cn_attempts_of_yesterday_do_not_count_today():
    history = [call(at(2, f"20:{i:02d}")) for i in range(6)]
    assert judge(when=at(3, "08:00"), history=history).allowed


@pytest.mark.parametrize("earlier_conversations, allowed", [(2, True), (3, False)])
def test_cn_allows_three_conversations_a_day(earlier_conversations, allowed):
    history = [call(at(3, f"1{i}:00"), Outcome.RIGHT_PARTY_CONTACT) for i in range(earlier_conversations)]
    decision = judge(when=at(3, "18:00"), history=history)
    assert decision.allowed is allowed
    if not allowed:
        assert ReasonCode.DAILY_CONVERSATION_LIMIT in decision.codes


@pytest.mark.parametrize("earlier_attempts, allowed", [(6, True), (7, False)])
def test_us_allows_seven_call_attempts_in_seven_days(earlier_attempts, allowed):
    history = [call(at(1 + i, "10:00", NEW_YORK)) for i in range(earlier_attempts)]
    decision = judge(US_RULES, when=at(7, "15:00", NEW_YORK), history=history, debtor=US_DEBTOR)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.codes == (ReasonCode.WEEKLY_ATTEMPT_LIMIT,)
        # The attempt of Dec 1 leaves the seven-day period on Dec 8.
        assert decision.next_allowed_at == at(8, "08:00", NEW_YORK)


@pytest.mark.parametrize("day, allowed", [(1, False), (7, False), (8, True)])
def test_us_quiet_period_after_a_conversation_counts_the_conversation_day_as_day_one(day, allowed):
    history = [call(at(1, "10:00", NEW_YORK), Outcome.PROMISE_TO_PAY)]
    decision = judge(US_RULES, when=at(day, "12:00", NEW_YORK), history=history, debtor=US_DEBTOR)
    assert decision.allowed is allowed
    if not allowed:
        assert ReasonCode.COOLING_OFF_AFTER_CONVERSATION in decision.codes
        assert decision.next_allowed_at == at(8, "08:00", NEW_YORK)


def test_a_call_that_was_not_answered_starts_no_quiet_period():
    history = [call(at(1, "10:00", NEW_YORK), Outcome.NO_ANSWER)]
    assert judge(US_RULES, when=at(2, "12:00", NEW_YORK), history=history, debtor=US_DEBTOR).allowed


@pytest.mark.parametrize(
    "kind, code",
    [
        (HoldKind.DISPUTE, ReasonCode.DISPUTE_HOLD),
        (HoldKind.BREATHING_SPACE, ReasonCode.BREATHING_SPACE),
        (HoldKind.COMPLAINT, ReasonCode.COMPLAINT_HOLD),
        (HoldKind.DECEASED, ReasonCode.DECEASED),
        (HoldKind.BANKRUPTCY, ReasonCode.BANKRUPTCY),
        (HoldKind.AGREEMENT_IN_FORCE, ReasonCode.AGREEMENT_IN_FORCE),
    ],
)
@pytest.mark.parametrize("channel", [Channel.PHONE, Channel.SMS, Channel.EMAIL, Channel.LETTER, Channel.VISIT,
                                     Channel.LAWYER_LETTER])
def test_each_hold_blocks_every_collection_channel_and_no_time_lifts_it(kind, code, channel):
    decision = judge(when=at(3, "10:00"), channel=channel, holds=[HoldFact(kind)])
    assert not decision.allowed
    assert code in decision.codes
    assert decision.next_allowed_at is None


@pytest.mark.parametrize("kind", HoldKind.ALL)
def test_a_hold_lets_the_cardholder_reach_the_bank_through_the_portal(kind):
    assert judge(when=at(3, "23:30"), channel=Channel.PORTAL, holds=[HoldFact(kind)]).allowed


def test_an_agreement_in_force_lets_installment_reminders_through():
    decision = judge(when=at(3, "10:00"), channel=Channel.SMS, holds=[HoldFact(HoldKind.AGREEMENT_IN_FORCE)],
                     purpose=Purpose.SERVICE)
    assert decision.allowed


def test_a_code_the_cardholder_asked_for_is_sent_at_night_and_while_an_agreement_is_kept():
    decision = judge(when=at(3, "23:30"), channel=Channel.SMS, holds=[HoldFact(HoldKind.AGREEMENT_IN_FORCE)],
                     purpose=Purpose.REQUESTED)
    assert decision.allowed


def test_a_dispute_hold_still_stops_a_requested_code():
    decision = judge(when=at(3, "23:30"), channel=Channel.SMS, holds=[HoldFact(HoldKind.DISPUTE)],
                     purpose=Purpose.REQUESTED)
    assert decision.codes == (ReasonCode.DISPUTE_HOLD,)


def test_do_not_contact_blocks_with_no_next_time():
    decision = judge(when=at(3, "10:00"), debtor=DebtorFacts(timezone="Asia/Shanghai", do_not_contact=True))
    assert decision.codes == (ReasonCode.DO_NOT_CONTACT,)
    assert decision.next_allowed_at is None


def test_an_opt_out_blocks_only_its_channel():
    debtor = DebtorFacts(timezone="Asia/Shanghai", opted_out=frozenset({"sms"}))
    assert judge(when=at(3, "10:00"), channel=Channel.SMS, debtor=debtor).codes == (ReasonCode.CHANNEL_OPT_OUT,)
    assert judge(when=at(3, "10:00"), channel=Channel.PHONE, debtor=debtor).allowed


@pytest.mark.parametrize(
    "party, allowed", [(Party.DEBTOR, True), (Party.GUARANTOR, True), (Party.CONTACT_PERSON, False),
                       (Party.SPOUSE, False)],
)
def test_cn_contacts_only_the_debtor_and_the_guarantor(party, allowed):
    assert judge(when=at(3, "10:00"), party=party).allowed is allowed


def test_cn_contacts_a_contact_person_only_when_the_debtor_is_unreachable():
    debtor = DebtorFacts(timezone="Asia/Shanghai", unreachable=True)
    assert judge(when=at(3, "10:00"), party=Party.CONTACT_PERSON, debtor=debtor).allowed


def test_us_allows_one_location_call_to_a_third_party():
    first = judge(US_RULES, when=at(3, "10:00", NEW_YORK), party=Party.CONTACT_PERSON, debtor=US_DEBTOR)
    assert first.allowed
    history = [call(at(2, "10:00", NEW_YORK), Outcome.THIRD_PARTY, party=Party.CONTACT_PERSON)]
    second = judge(US_RULES, when=at(3, "10:00", NEW_YORK), party=Party.CONTACT_PERSON, history=history,
                   debtor=US_DEBTOR)
    assert second.codes == (ReasonCode.THIRD_PARTY_FORBIDDEN,)


def test_several_blocks_are_all_reported_and_the_next_time_satisfies_every_one():
    history = [call(at(3, f"09:{i:02d}")) for i in range(6)]
    decision = judge(when=at(3, "22:30"), history=history)
    assert set(decision.codes) == {ReasonCode.OUTSIDE_CONTACT_HOURS, ReasonCode.DAILY_ATTEMPT_LIMIT}
    assert decision.next_allowed_at == at(4, "08:00")


def test_letters_are_not_bound_to_the_time_of_day():
    assert judge(when=at(3, "23:00"), channel=Channel.LETTER).allowed


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError):
        judge(when=datetime(2026, 12, 3, 10, 0))


def test_the_decision_records_the_policy_version():
    assert judge(when=at(3, "10:00")).policy_version == CN_RULES.version


def test_the_quiet_period_moves_with_daylight_saving_in_local_time():
    # 2027-03-14 is the US change to daylight time; 08:00 local stays 08:00 local.
    history = [call(datetime(2027, 3, 10, 10, 0, tzinfo=NEW_YORK), Outcome.REFUSED)]
    decision = judge(US_RULES, when=datetime(2027, 3, 12, 12, 0, tzinfo=NEW_YORK), history=history,
                     debtor=US_DEBTOR)
    assert decision.next_allowed_at == datetime(2027, 3, 17, 8, 0, tzinfo=NEW_YORK)


PROMISED_BY_5TH = DebtorFacts(timezone="Asia/Shanghai", promise_until=date(2026, 12, 5))


@pytest.mark.parametrize(
    "channel, purpose, day, allowed",
    [
        (Channel.PHONE, Purpose.COLLECTION, 3, False),
        (Channel.PHONE, Purpose.COLLECTION, 5, False),
        (Channel.PHONE, Purpose.COLLECTION, 6, True),
        (Channel.PHONE, Purpose.SERVICE, 3, True),
        (Channel.SMS, Purpose.COLLECTION, 3, True),
    ],
)
def test_a_pending_promise_pauses_collection_calls_until_its_due_date(channel, purpose, day, allowed):
    decision = judge(when=at(day, "10:00"), channel=channel, purpose=purpose, debtor=PROMISED_BY_5TH)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.codes == (ReasonCode.PROMISE_PENDING,)


def test_calls_paused_by_a_promise_are_allowed_again_the_morning_after_the_due_date():
    decision = judge(when=at(3, "10:00"), debtor=PROMISED_BY_5TH)
    assert decision.next_allowed_at == at(6, "08:00")
