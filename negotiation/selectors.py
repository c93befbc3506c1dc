"""Reads of contacts: what the contact policy says about a case right now, without recording a decision."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from cases.models import Case
from compliance.models import Hold
from compliance.policy import Channel, ContactFact, HoldFact, Outcome, Party, Purpose, evaluate
from compliance.selectors import active_holds, active_policy, reason_label
from negotiation.models import Channel as ContactChannel
from negotiation.services import contact_history, debtor_facts


@dataclass(frozen=True)
class Usage:
    """One limit of the policy: how much of it the case has used."""

    used: int
    limit: int

    @property
    def reached(self) -> bool:
        return self.used >= self.limit


@dataclass(frozen=True)
class BlockReason:
    code: str
    label: str


@dataclass(frozen=True)
class ContactAllowance:
    """What the policy says about calling the cardholder now: the limits used, the holds, the flags."""

    jurisdiction: str
    policy_version: int
    zone: str
    local_now: datetime
    contact_start: time
    contact_end: time
    call_allowed: bool
    reasons: tuple[BlockReason, ...]
    next_allowed_at: datetime | None  # in the cardholder's zone
    calls_today: Usage | None  # CN: call attempts today to the cardholder's mobile
    conversations_today: Usage | None  # CN: conversations with the cardholder today
    calls_in_week: Usage | None  # US: call attempts in the seven days ending today
    quiet_until: datetime | None  # US: no calls before this, after a conversation (cardholder's zone)
    holds: tuple[Hold, ...]
    do_not_contact: bool
    opted_out: tuple[str, ...]  # channels, in Channel.OPT_OUT order

    @property
    def opted_out_labels(self) -> list[str]:
        return [str(ContactChannel(channel).label) for channel in self.opted_out]

    @property
    def next_allowed_today(self) -> bool:
        return self.next_allowed_at is not None and self.next_allowed_at.date() == self.local_now.date()


def contact_allowance(*, case: Case, now: datetime | None = None) -> ContactAllowance:
    """Judge a call to the cardholder at `now` as the gate would, and count what the limits have used.
    Nothing is recorded. Three queries (policy, history, holds); `case.account.debtor` should be loaded."""
    now = now or timezone.now()
    debtor = case.account.debtor
    policy = active_policy(jurisdiction=debtor.jurisdiction)
    rules = policy.rules()
    history = contact_history(case, now)
    holds = tuple(active_holds(case_id=case.pk).select_related("set_by").order_by("set_at", "pk"))
    facts = debtor_facts(case, history, now)
    decision = evaluate(
        policy=rules,
        channel=Channel.PHONE,
        party=Party.DEBTOR,
        when=now,
        history=history,
        holds=[HoldFact(hold.kind) for hold in holds],
        debtor=facts,
        purpose=Purpose.COLLECTION,
        number=debtor.mobile,
    )
    zone = ZoneInfo(facts.timezone)
    local_now = now.astimezone(zone)
    counts = _call_counts(history, local_now, zone, debtor.mobile)

    def usage(used: int, limit: int | None) -> Usage | None:
        return None if limit is None else Usage(used, limit)

    quiet_until = None
    if rules.cooling_off_days is not None and counts.last_conversation_day is not None:
        allowed_from = counts.last_conversation_day + timedelta(days=rules.cooling_off_days)
        if local_now.date() < allowed_from:
            quiet_until = datetime.combine(allowed_from, rules.contact_start, tzinfo=zone)
    return ContactAllowance(
        jurisdiction=policy.jurisdiction,
        policy_version=policy.version,
        zone=facts.timezone,
        local_now=local_now,
        contact_start=rules.contact_start,
        contact_end=rules.contact_end,
        call_allowed=decision.allowed,
        reasons=tuple(BlockReason(reason.code, reason_label(reason.code)) for reason in decision.reasons),
        next_allowed_at=decision.next_allowed_at.astimezone(zone) if decision.next_allowed_at else None,
        calls_today=usage(counts.calls_today, rules.daily_attempt_limit),
        conversations_today=usage(counts.conversations_today, rules.daily_conversation_limit),
        calls_in_week=usage(counts.calls_in_week, rules.weekly_attempt_limit),
        quiet_until=quiet_until,
        holds=holds,
        do_not_contact=facts.do_not_contact,
        opted_out=tuple(channel for channel in Channel.OPT_OUT.values() if channel in facts.opted_out),
    )


@dataclass(frozen=True)
class _CallCounts:
    calls_today: int
    conversations_today: int
    calls_in_week: int
    last_conversation_day: date | None


def _call_counts(history: list[ContactFact], local_now: datetime, zone: ZoneInfo, number: str) -> _CallCounts:
    """The counts compliance.policy limits calls by, as it counts them (days in the cardholder's zone)."""
    today = local_now.date()
    week_start = today - timedelta(days=6)
    calls = [fact for fact in history if fact.channel == Channel.PHONE and fact.at <= local_now]
    conversations = [fact for fact in calls if fact.outcome in Outcome.CONVERSATION and fact.party == Party.DEBTOR]

    def day(fact: ContactFact) -> date:
        return fact.at.astimezone(zone).date()

    return _CallCounts(
        calls_today=sum(1 for fact in calls if day(fact) == today and (not number or fact.number == number)),
        conversations_today=sum(1 for fact in conversations if day(fact) == today),
        calls_in_week=sum(1 for fact in calls if day(fact) >= week_start),
        last_conversation_day=max((day(fact) for fact in conversations), default=None),
    )


DUE_TASKS_SHOWN = 50


def tasks_due_for(*, user, today: date, limit: int = DUE_TASKS_SHOWN) -> list:
    """The user's open tasks due today or earlier, oldest first, with their cases; one query."""
    from negotiation.models import FollowUpTask

    if not user.is_authenticated:
        return []
    return list(
        FollowUpTask.objects.filter(assigned_to=user, done_at__isnull=True, due_on__lte=today)
        .select_related("case__account__debtor")
        .order_by("due_on", "pk")[:limit]
    )
