"""The contact policy engine: may this contact happen now, and if not, why and when. Pure: no ORM,
no settings, no clock — everything arrives as arguments, so a table of cases tests it."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class Channel:
    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    LETTER = "letter"
    VISIT = "visit"
    LAWYER_LETTER = "lawyer_letter"
    PORTAL = "portal"

    ALL = (PHONE, SMS, EMAIL, LETTER, VISIT, LAWYER_LETTER, PORTAL)
    # Channels judged by the time of day (post is not delivered at the moment it is sent).
    TIMED = (PHONE, SMS, EMAIL, VISIT)
    # Electronic messages carry an opt-out that is honoured.
    OPT_OUT = {PHONE: "phone", SMS: "sms", EMAIL: "email"}


class Party:
    DEBTOR = "debtor"
    GUARANTOR = "guarantor"
    SPOUSE = "spouse"
    ATTORNEY = "attorney"
    CONTACT_PERSON = "contact_person"

    ALL = (DEBTOR, GUARANTOR, SPOUSE, ATTORNEY, CONTACT_PERSON)


class Outcome:
    RIGHT_PARTY_CONTACT = "right_party_contact"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    WRONG_NUMBER = "wrong_number"
    THIRD_PARTY = "third_party"
    REFUSED = "refused"
    PROMISE_TO_PAY = "promise_to_pay"
    CALLBACK_REQUESTED = "callback_requested"
    DISPUTE_RAISED = "dispute_raised"
    HARDSHIP_STATED = "hardship_stated"

    ALL = (
        RIGHT_PARTY_CONTACT, NO_ANSWER, BUSY, WRONG_NUMBER, THIRD_PARTY, REFUSED,
        PROMISE_TO_PAY, CALLBACK_REQUESTED, DISPUTE_RAISED, HARDSHIP_STATED,
    )
    # A connected conversation with the debtor: counts toward conversation limits and the US cool-off.
    CONVERSATION = frozenset(
        {RIGHT_PARTY_CONTACT, PROMISE_TO_PAY, REFUSED, CALLBACK_REQUESTED, DISPUTE_RAISED, HARDSHIP_STATED}
    )


class Purpose:
    COLLECTION = "collection"  # asking for payment: stopped by every hold
    SERVICE = "service"  # installment reminders, portal links, thanks: allowed while an agreement is kept
    # A message the cardholder asked for this minute in the portal (a one-time code): allowed while an agreement
    # is kept and at any hour, since the contact-hour rule protects people from contact they did not seek.
    REQUESTED = "requested"


class HoldKind:
    DISPUTE = "dispute"
    BREATHING_SPACE = "breathing_space"
    COMPLAINT = "complaint"
    DECEASED = "deceased"
    BANKRUPTCY = "bankruptcy"
    AGREEMENT_IN_FORCE = "agreement_in_force"

    ALL = (DISPUTE, BREATHING_SPACE, COMPLAINT, DECEASED, BANKRUPTCY, AGREEMENT_IN_FORCE)


class ReasonCode:
    OUTSIDE_CONTACT_HOURS = "outside_contact_hours"
    DAILY_ATTEMPT_LIMIT = "daily_attempt_limit"
    DAILY_CONVERSATION_LIMIT = "daily_conversation_limit"
    WEEKLY_ATTEMPT_LIMIT = "weekly_attempt_limit"
    COOLING_OFF_AFTER_CONVERSATION = "cooling_off_after_conversation"
    DO_NOT_CONTACT = "do_not_contact"
    CHANNEL_OPT_OUT = "channel_opt_out"
    DISPUTE_HOLD = "dispute_hold"
    AGREEMENT_IN_FORCE = "agreement_in_force"
    THIRD_PARTY_FORBIDDEN = "third_party_forbidden"
    BREATHING_SPACE = "breathing_space"
    COMPLAINT_HOLD = "complaint_hold"
    DECEASED = "deceased"
    BANKRUPTCY = "bankruptcy"
    PROMISE_PENDING = "promise_pending"


HOLD_REASON = {
    HoldKind.DISPUTE: ReasonCode.DISPUTE_HOLD,
    HoldKind.BREATHING_SPACE: ReasonCode.BREATHING_SPACE,
    HoldKind.COMPLAINT: ReasonCode.COMPLAINT_HOLD,
    HoldKind.DECEASED: ReasonCode.DECEASED,
    HoldKind.BANKRUPTCY: ReasonCode.BANKRUPTCY,
    HoldKind.AGREEMENT_IN_FORCE: ReasonCode.AGREEMENT_IN_FORCE,
}


@dataclass(frozen=True)
class PolicyRules:
    """One jurisdiction's rule set at one version; None switches a limit off."""

    jurisdiction: str
    version: int
    contact_start: time
    contact_end: time
    daily_attempt_limit: int | None = None
    daily_conversation_limit: int | None = None
    weekly_attempt_limit: int | None = None
    cooling_off_days: int | None = None
    allowed_parties: frozenset[str] = frozenset({Party.DEBTOR})
    contact_person_when_unreachable: bool = False
    location_calls: int = 0
    agreement_stops_collection: bool = False


@dataclass(frozen=True)
class ContactFact:
    channel: str
    at: datetime
    outcome: str
    party: str = Party.DEBTOR
    number: str = ""


@dataclass(frozen=True)
class HoldFact:
    kind: str


@dataclass(frozen=True)
class DebtorFacts:
    timezone: str
    do_not_contact: bool = False
    opted_out: frozenset[str] = frozenset()
    unreachable: bool = False
    # The due date of a pending promise to pay: collection calls pause until the morning after it.
    promise_until: date | None = None


@dataclass(frozen=True)
class Reason:
    code: str
    detail: str


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reasons: tuple[Reason, ...]
    next_allowed_at: datetime | None
    policy_version: int = 0
    codes: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class _Block:
    code: str
    detail: str
    not_before: datetime | None  # the earliest moment this block lifts; None: time will not lift it


def evaluate(
    *,
    policy: PolicyRules,
    channel: str,
    party: str,
    when: datetime,
    history: Sequence[ContactFact],
    holds: Sequence[HoldFact],
    debtor: DebtorFacts,
    purpose: str = Purpose.COLLECTION,
    number: str = "",
) -> Decision:
    """Judge one contact against the policy; the time of day is judged in the debtor's zone."""
    if when.tzinfo is None:
        raise ValueError("`when` must be time-zone aware")
    zone = ZoneInfo(debtor.timezone)
    blocks = _blocks_at(policy, channel, party, when, history, holds, debtor, purpose, number, zone)
    reasons = tuple(Reason(b.code, b.detail) for b in blocks)
    if not blocks:
        return Decision(True, (), None, policy.version)
    return Decision(
        False,
        reasons,
        _next_allowed(policy, channel, party, when, history, holds, debtor, purpose, number, zone, blocks),
        policy.version,
        tuple(r.code for r in reasons),
    )


def _next_allowed(policy, channel, party, when, history, holds, debtor, purpose, number, zone, blocks):
    """Move forward to the latest moment each time-bound block lifts, until nothing blocks (or a block
    that time cannot lift remains)."""
    moment = when
    for _ in range(30):
        if not blocks:
            return moment
        if any(b.not_before is None for b in blocks):
            return None
        moment = max(b.not_before for b in blocks)
        blocks = _blocks_at(policy, channel, party, moment, history, holds, debtor, purpose, number, zone)
    return None


def _window_start(day: date, policy: PolicyRules, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, policy.contact_start, tzinfo=zone)


def _blocks_at(policy, channel, party, when, history, holds, debtor, purpose, number, zone) -> list[_Block]:
    if channel == Channel.PORTAL:
        return []  # the cardholder reaching the bank is never blocked
    blocks: list[_Block] = []
    local = when.astimezone(zone)

    if debtor.do_not_contact:
        blocks.append(_Block(ReasonCode.DO_NOT_CONTACT, "The cardholder may not be contacted.", None))
    opt_out = Channel.OPT_OUT.get(channel)
    if opt_out and opt_out in debtor.opted_out:
        blocks.append(_Block(ReasonCode.CHANNEL_OPT_OUT, f"The cardholder opted out of {channel}.", None))

    for hold in holds:
        if hold.kind == HoldKind.AGREEMENT_IN_FORCE:
            if purpose == Purpose.COLLECTION and policy.agreement_stops_collection:
                blocks.append(_Block(ReasonCode.AGREEMENT_IN_FORCE, "A signed agreement is being kept.", None))
            continue
        blocks.append(_Block(HOLD_REASON[hold.kind], f"The case is on a {hold.kind} hold.", None))

    blocks.extend(_party_blocks(policy, party, history, debtor))

    if channel in Channel.TIMED and purpose != Purpose.REQUESTED:
        start = _window_start(local.date(), policy, zone)
        end = datetime.combine(local.date(), policy.contact_end, tzinfo=zone)
        if local < start:
            blocks.append(_Block(ReasonCode.OUTSIDE_CONTACT_HOURS, _hours_detail(policy), start))
        elif local >= end:
            next_start = _window_start(local.date() + timedelta(days=1), policy, zone)
            blocks.append(_Block(ReasonCode.OUTSIDE_CONTACT_HOURS, _hours_detail(policy), next_start))

    if channel == Channel.PHONE:
        if purpose == Purpose.COLLECTION and debtor.promise_until is not None and local.date() <= debtor.promise_until:
            blocks.append(
                _Block(
                    ReasonCode.PROMISE_PENDING,
                    f"The cardholder promised to pay by {debtor.promise_until:%Y-%m-%d}.",
                    _window_start(debtor.promise_until + timedelta(days=1), policy, zone),
                )
            )
        blocks.extend(_call_blocks(policy, local, history, zone, number))
    return blocks


def _hours_detail(policy: PolicyRules) -> str:
    return (
        f"Contact is allowed {policy.contact_start:%H:%M}–{policy.contact_end:%H:%M} "
        "in the cardholder's local time."
    )


def _party_blocks(policy: PolicyRules, party: str, history, debtor: DebtorFacts) -> list[_Block]:
    if party in policy.allowed_parties:
        return []
    if party == Party.CONTACT_PERSON:
        if policy.contact_person_when_unreachable and debtor.unreachable:
            return []
        earlier = sum(1 for fact in history if fact.party == Party.CONTACT_PERSON)
        if policy.location_calls and earlier < policy.location_calls:
            return []
    return [_Block(ReasonCode.THIRD_PARTY_FORBIDDEN, f"Contacting a {party} is not allowed here.", None)]


def _call_blocks(policy: PolicyRules, local: datetime, history, zone: ZoneInfo, number: str) -> list[_Block]:
    blocks: list[_Block] = []
    today = local.date()
    tomorrow_start = _window_start(today + timedelta(days=1), policy, zone)
    calls = [fact for fact in history if fact.channel == Channel.PHONE and fact.at <= local]
    calls_today = [
        fact for fact in calls if fact.at.astimezone(zone).date() == today and (not number or fact.number == number)
    ]
    if policy.daily_attempt_limit is not None and len(calls_today) >= policy.daily_attempt_limit:
        blocks.append(
            _Block(
                ReasonCode.DAILY_ATTEMPT_LIMIT,
                f"{policy.daily_attempt_limit} call attempts to this number today already.",
                tomorrow_start,
            )
        )
    conversations = [fact for fact in calls if fact.outcome in Outcome.CONVERSATION and fact.party == Party.DEBTOR]
    conversations_today = [fact for fact in conversations if fact.at.astimezone(zone).date() == today]
    if policy.daily_conversation_limit is not None and len(conversations_today) >= policy.daily_conversation_limit:
        blocks.append(
            _Block(
                ReasonCode.DAILY_CONVERSATION_LIMIT,
                f"{policy.daily_conversation_limit} conversations with the cardholder today already.",
                tomorrow_start,
            )
        )
    if policy.weekly_attempt_limit is not None:
        # Seven consecutive days ending today.
        first_day = today - timedelta(days=6)
        in_week = sorted(fact.at for fact in calls if fact.at.astimezone(zone).date() >= first_day)
        if len(in_week) >= policy.weekly_attempt_limit:
            # The limit lifts on the day the oldest counted attempt leaves the seven-day period.
            oldest_counted = in_week[len(in_week) - policy.weekly_attempt_limit].astimezone(zone).date()
            blocks.append(
                _Block(
                    ReasonCode.WEEKLY_ATTEMPT_LIMIT,
                    f"{policy.weekly_attempt_limit} call attempts in seven days already.",
                    _window_start(oldest_counted + timedelta(days=7), policy, zone),
                )
            )
    if policy.cooling_off_days is not None and conversations:
        last_day = max(fact.at for fact in conversations).astimezone(zone).date()
        # The conversation day is day 1 of the quiet period.
        allowed_from = last_day + timedelta(days=policy.cooling_off_days)
        if today < allowed_from:
            blocks.append(
                _Block(
                    ReasonCode.COOLING_OFF_AFTER_CONVERSATION,
                    f"No calls within {policy.cooling_off_days} days after a conversation.",
                    _window_start(allowed_from, policy, zone),
                )
            )
    return blocks


CN_RULES = PolicyRules(
    jurisdiction="CN",
    version=1,
    contact_start=time(8, 0),
    contact_end=time(22, 0),
    daily_attempt_limit=6,
    daily_conversation_limit=3,
    allowed_parties=frozenset({Party.DEBTOR, Party.GUARANTOR}),
    contact_person_when_unreachable=True,
    agreement_stops_collection=True,
)

US_RULES = PolicyRules(
    jurisdiction="US",
    version=1,
    contact_start=time(8, 0),
    contact_end=time(21, 0),
    weekly_attempt_limit=7,
    cooling_off_days=7,
    allowed_parties=frozenset({Party.DEBTOR, Party.SPOUSE, Party.ATTORNEY}),
    location_calls=1,
)
