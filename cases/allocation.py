"""How a payment is split over the overdue parts (CN rule). Pure: Decimal in, Decimal out."""

from dataclasses import dataclass
from decimal import Decimal

PRINCIPAL_FIRST_AFTER_DAYS = 90
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Allocation:
    principal: Decimal
    interest: Decimal
    fees: Decimal
    unapplied: Decimal


def allocate(
    *, amount: Decimal, principal: Decimal, interest: Decimal, fees: Decimal, days_past_due: int
) -> Allocation:
    """Days past due 1–90: interest and fees first, then principal; 91 and over: principal first."""
    if days_past_due > PRINCIPAL_FIRST_AFTER_DAYS:
        order = ("principal", "interest", "fees")
    else:
        order = ("interest", "fees", "principal")
    owed = {"principal": principal, "interest": interest, "fees": fees}
    taken = {"principal": ZERO, "interest": ZERO, "fees": ZERO}
    left = amount
    for part in order:
        take = min(left, owed[part])
        taken[part] = take
        left -= take
    return Allocation(unapplied=left, **taken)
