"""The contact strategy of a class, as a pure rule: which steps are due for a case and which comes next.
No ORM, no clock: the steps, the dates and the contacts arrive as arguments."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# The contact channel that carries out an action; an action without one (a referral, a placement)
# is done only when its task is ticked done.
ACTION_CHANNEL = {
    "sms": "sms",
    "call": "phone",
    "visit": "visit",
    "lawyer_letter": "lawyer_letter",
    "litigation_referral": "",
    "agency_placement": "",
}
OPENED = "opened"
LAST_CONTACT = "last_contact"


@dataclass(frozen=True)
class Step:
    id: int
    order: int
    action: str
    basis: str  # OPENED: once, `days` after the case opened; LAST_CONTACT: `days` after the last such contact
    days: int
    needs_supervisor_approval: bool = False


@dataclass(frozen=True)
class Recommendation:
    step: Step
    due_on: date

    def is_due(self, today: date) -> bool:
        return self.due_on <= today


def step_due_on(
    step: Step, *, opened_on: date, last_contact_on: Mapping[str, date], done_step_ids: frozenset[int]
) -> date | None:
    """When the step is next due, or None when it is done for good."""
    channel = ACTION_CHANNEL.get(step.action, "")
    last = last_contact_on.get(channel) if channel else None
    if step.basis == LAST_CONTACT:
        return (last + timedelta(days=step.days)) if last else opened_on
    if step.id in done_step_ids or (last is not None and last >= opened_on):
        return None
    return opened_on + timedelta(days=step.days)


def recommendations(
    *,
    steps: Sequence[Step],
    opened_on: date,
    last_contact_on: Mapping[str, date],
    done_step_ids: frozenset[int] = frozenset(),
) -> list[Recommendation]:
    """Every step not done for good with its due date, earliest first (the step order breaks ties)."""
    found = []
    for step in steps:
        due_on = step_due_on(step, opened_on=opened_on, last_contact_on=last_contact_on, done_step_ids=done_step_ids)
        if due_on is not None:
            found.append(Recommendation(step, due_on))
    return sorted(found, key=lambda r: (r.due_on, r.step.order, r.step.id))


def next_action(
    *,
    steps: Sequence[Step],
    opened_on: date,
    last_contact_on: Mapping[str, date],
    done_step_ids: frozenset[int] = frozenset(),
) -> Recommendation | None:
    """The step to take next: the earliest due one; None when the strategy has nothing left."""
    found = recommendations(
        steps=steps, opened_on=opened_on, last_contact_on=last_contact_on, done_step_ids=done_step_ids
    )
    return found[0] if found else None


def due_steps(
    *,
    steps: Sequence[Step],
    opened_on: date,
    last_contact_on: Mapping[str, date],
    done_step_ids: frozenset[int],
    today: date,
) -> list[Recommendation]:
    """The steps due today or earlier."""
    return [
        r
        for r in recommendations(
            steps=steps, opened_on=opened_on, last_contact_on=last_contact_on, done_step_ids=done_step_ids
        )
        if r.is_due(today)
    ]
