"""Classification (early / mid / wilful) and the regulatory five-tier bucket. Pure: no ORM, no clock."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

EARLY = "early"
MID = "mid"
WILFUL = "wilful"

CURRENT = "current"
SPECIAL_MENTION = "special_mention"
SUBSTANDARD = "substandard"
DOUBTFUL = "doubtful"
LOSS = "loss"

# Upper bound (inclusive) of days past due for each regulatory bucket, in order.
BUCKET_UPPER_DAYS: tuple[tuple[str, int | None], ...] = (
    (CURRENT, 0),
    (SPECIAL_MENTION, 90),
    (SUBSTANDARD, 120),
    (DOUBTFUL, 180),
    (LOSS, None),
)

# Evidence kinds that can suggest a wilful classification.
DELIVERED_DEMAND = "delivered_demand"
BROKEN_PROMISE = "broken_promise"
FALSE_INFORMATION = "false_information"
EVASION = "evasion"

# Reason codes of a wilful suggestion.
DEMANDS_IGNORED = "demands_ignored"
PROMISES_BROKEN = "promises_broken"
INFORMATION_FALSE = "information_false"
CONTACT_EVADED = "contact_evaded"


@dataclass(frozen=True)
class Thresholds:
    early_max_days: int = 30
    early_max_amount: Decimal = Decimal("10000.00")
    demand_gap_days: int = 30
    unpaid_days: int = 90
    broken_promises: int = 2
    evasions: int = 3


@dataclass(frozen=True)
class Evidence:
    kind: str
    on: date


@dataclass(frozen=True)
class Suggestion:
    code: str
    dates: tuple[date, ...]


def days_past_due(delinquent_since: date | None, today: date) -> int:
    """Days since the first missed due date; 0 for an account that is not delinquent."""
    if delinquent_since is None or delinquent_since > today:
        return 0
    return (today - delinquent_since).days


def bucket_for(days: int) -> str:
    for bucket, upper in BUCKET_UPPER_DAYS:
        if upper is None or days <= upper:
            return bucket
    return LOSS


def bucket_cutoffs(today: date) -> list[tuple[str, date | None, date | None]]:
    """Each bucket as a range of delinquent_since dates (from, to inclusive), for set-based updates."""
    ranges = []
    lower_days = 1
    for bucket, upper in BUCKET_UPPER_DAYS[1:]:
        newest = today - timedelta(days=lower_days)
        oldest = None if upper is None else today - timedelta(days=upper)
        ranges.append((bucket, oldest, newest))
        lower_days = (upper or 0) + 1
    return ranges


def base_classification(*, days: int, overdue: Decimal, thresholds: Thresholds) -> str:
    """Early or mid by the thresholds; wilful is never reached here, only confirmed by a supervisor."""
    if days <= thresholds.early_max_days and overdue <= thresholds.early_max_amount:
        return EARLY
    return MID


def wilful_suggestions(
    *, evidence: list[Evidence], unpaid_since: date | None, today: date, thresholds: Thresholds
) -> list[Suggestion]:
    """Reasons the evidence gives to suggest a wilful classification; empty when it gives none."""
    suggestions: list[Suggestion] = []
    demands = sorted(e.on for e in evidence if e.kind == DELIVERED_DEMAND)
    unpaid_long = unpaid_since is not None and (today - unpaid_since).days > thresholds.unpaid_days
    if unpaid_long and len(demands) >= 2 and (demands[-1] - demands[0]).days >= thresholds.demand_gap_days:
        suggestions.append(Suggestion(DEMANDS_IGNORED, (demands[0], demands[-1])))
    for kind, code, needed in (
        (BROKEN_PROMISE, PROMISES_BROKEN, thresholds.broken_promises),
        (FALSE_INFORMATION, INFORMATION_FALSE, 1),
        (EVASION, CONTACT_EVADED, thresholds.evasions),
    ):
        dates = tuple(sorted(e.on for e in evidence if e.kind == kind))
        if len(dates) >= needed:
            suggestions.append(Suggestion(code, dates))
    return suggestions
