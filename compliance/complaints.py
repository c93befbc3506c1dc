"""The complaint SLA clock (docs/architecture.md, CN): decide within 15 days of receipt, 30 when the complaint
is complex, and 30 more when a supervisor approves an extension of a complex complaint. Pure: no ORM,
no settings, no clock; every moment arrives as an argument.

Days are calendar days counted from the moment of receipt (received 3 May 10:00 → due 18 May 10:00),
which is never later than the regulation's "within 15 days of receipt"; decided exactly at the due
moment is still on time.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

BASE_DAYS = 15
COMPLEX_DAYS = 30
EXTENSION_DAYS = 30
# A complaint is at risk, and its handlers are warned, from this long before it is due.
WARNING_WINDOW = timedelta(days=3)


class ClockStatus:
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Clock:
    due_at: datetime
    remaining: timedelta  # negative once overdue
    status: str

    @property
    def days_left(self) -> int:
        """Whole days left (0 on the last day); once overdue, minus the days overdue."""
        if self.remaining < timedelta(0):
            return -self.days_overdue
        return self.remaining // timedelta(days=1)

    @property
    def days_overdue(self) -> int:
        """Whole days past due, at least 1 once overdue; 0 before."""
        if self.remaining >= timedelta(0):
            return 0
        return max(1, -self.remaining // timedelta(days=1))


def decision_days(*, complex: bool, extended: bool) -> int:
    """How many days the complaint may take. An extension only ever follows the complex period."""
    if extended and not complex:
        raise ValueError("only a complex complaint can be extended")
    days = COMPLEX_DAYS if complex else BASE_DAYS
    return days + (EXTENSION_DAYS if extended else 0)


def due_at(*, received_at: datetime, complex: bool = False, extended: bool = False) -> datetime:
    """The moment by which the complaint must be decided."""
    return received_at + timedelta(days=decision_days(complex=complex, extended=extended))


def clock(*, due_at: datetime, now: datetime) -> Clock:
    """Where the clock stands at `now`: on track, at risk (3 days or less left) or overdue (past due).
    For a decided complaint pass the moment it was decided: the clock stops there."""
    remaining = due_at - now
    if remaining < timedelta(0):
        status = ClockStatus.OVERDUE
    elif remaining <= WARNING_WINDOW:
        status = ClockStatus.AT_RISK
    else:
        status = ClockStatus.ON_TRACK
    return Clock(due_at=due_at, remaining=remaining, status=status)
