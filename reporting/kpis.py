"""KPI arithmetic: pure functions of summed figures. No ORM, no settings, no clock. Every result is a
Decimal (rates as fractions to 4 places, money and averages to 2), or None when its denominator is 0."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

RATE_PLACES = Decimal("0.0001")
CENTS = Decimal("0.01")
SCORES = (1, 2, 3, 4, 5)
# Bucket order, best to worst; a roll "forward" moves right, a cure moves to current or out of collection.
BUCKET_ORDER = ("current", "special_mention", "substandard", "doubtful", "loss")
CURED = ("current", "resolved")


def _quantize(value: Decimal, places: Decimal) -> Decimal:
    return value.quantize(places, rounding=ROUND_HALF_UP)


def rate(numerator, denominator) -> Decimal | None:
    """numerator ÷ denominator as a fraction (0.1234 = 12.34 %); None when there is nothing to divide by."""
    if not denominator:
        return None
    return _quantize(Decimal(numerator) / Decimal(denominator), RATE_PLACES)


def per_thousand(numerator, denominator) -> Decimal | None:
    if not denominator:
        return None
    return _quantize(Decimal(numerator) * 1000 / Decimal(denominator), CENTS)


def average(total, count) -> Decimal | None:
    if not count:
        return None
    return _quantize(Decimal(total) / Decimal(count), CENTS)


def money(value) -> Decimal:
    return _quantize(Decimal(value or 0), CENTS)


@dataclass(frozen=True)
class Figures:
    """What the snapshots sum to over a period (activity) and at its edges (open cases)."""

    contacts: int = 0
    right_party_contacts: int = 0
    promises_made: int = 0
    promises_kept: int = 0
    promises_partially_kept: int = 0
    promises_broken: int = 0
    plans_offered: int = 0
    plans_accepted: int = 0
    plans_signed: int = 0
    days_to_agreement: Decimal = Decimal("0")
    agreements_breached: int = 0
    agreements_completed: int = 0
    complaints: int = 0
    policy_blocks: int = 0
    screening_hits: int = 0
    payments: int = 0
    collected: Decimal = Decimal("0")
    cases_opened: int = 0
    opened_overdue: Decimal = Decimal("0")
    cases_resolved: int = 0
    surveys: int = 0
    survey_score_total: int = 0
    open_at_start: int = 0  # open at the end of the day before the period
    open_at_start_opening_overdue: Decimal = Decimal("0")  # their overdue amount when each was opened
    open_at_end: int = 0
    overdue_at_end: Decimal = Decimal("0")
    portfolio_accounts: int | None = None
    portfolio_balance: Decimal | None = None

    @property
    def cases_worked(self) -> int:
        """Open at the start of the period or opened during it."""
        return self.open_at_start + self.cases_opened

    @property
    def promises_judged(self) -> int:
        return self.promises_kept + self.promises_partially_kept + self.promises_broken

    @property
    def agreements_ended(self) -> int:
        return self.agreements_breached + self.agreements_completed


def key_figures(figures: Figures) -> dict[str, Decimal | int | None]:
    """Every headline KPI of the dashboard, by key (the keys of reporting.definitions.KPI_DEFINITIONS)."""
    f = figures
    return {
        "overdue_amount": money(f.overdue_at_end),
        "overdue_cases": f.open_at_end,
        "overdue_rate_amount": rate(f.overdue_at_end, f.portfolio_balance),
        "overdue_rate_accounts": rate(f.open_at_end, f.portfolio_accounts),
        "cure_rate": rate(f.cases_resolved, f.cases_worked),
        "recovery_rate": rate(f.collected, f.open_at_start_opening_overdue + f.opened_overdue),
        "collected": money(f.collected),
        "promise_kept_rate": rate(f.promises_kept, f.promises_judged),
        "right_party_contact_rate": rate(f.right_party_contacts, f.contacts),
        "plan_acceptance_rate": rate(f.plans_accepted, f.plans_offered),
        "agreement_breach_rate": rate(f.agreements_breached, f.agreements_ended),
        "average_days_to_agreement": average(f.days_to_agreement, f.plans_signed),
        "complaints_per_thousand": per_thousand(f.complaints, f.cases_worked),
        "satisfaction": average(f.survey_score_total, f.surveys),
        "contacts_per_resolved_case": average(f.contacts, f.cases_resolved),
    }


@dataclass(frozen=True)
class Share:
    key: str
    count: int
    amount: Decimal
    count_share: Decimal | None
    amount_share: Decimal | None


def shares(rows: Iterable[tuple[str, int, Decimal]]) -> list[Share]:
    """Each (key, count, amount) with its part of the total count and amount."""
    rows = list(rows)
    total_count = sum(count for _key, count, _amount in rows)
    total_amount = sum((Decimal(amount) for _key, _count, amount in rows), Decimal("0"))
    return [
        Share(key, count, money(amount), rate(count, total_count), rate(amount, total_amount))
        for key, count, amount in rows
    ]


def satisfaction_distribution(counts: Mapping[int, int]) -> list[tuple[int, int, Decimal | None]]:
    """(score, responses, share of responses) for every score 1–5, zeros included."""
    total = sum(counts.get(score, 0) for score in SCORES)
    return [(score, counts.get(score, 0), rate(counts.get(score, 0), total)) for score in SCORES]


@dataclass(frozen=True)
class Roll:
    from_bucket: str
    to_bucket: str
    cases: int
    rate: Decimal | None  # of the cases that started the month in from_bucket


def roll_rates(moves: Mapping[tuple[str, str], int]) -> list[Roll]:
    """Each (from, to) move as a share of the cases that started the month in `from`."""
    starting: dict[str, int] = {}
    for (source, _target), cases in moves.items():
        starting[source] = starting.get(source, 0) + cases
    order = {bucket: n for n, bucket in enumerate(BUCKET_ORDER)}
    return [
        Roll(source, target, cases, rate(cases, starting[source]))
        for (source, target), cases in sorted(
            moves.items(), key=lambda item: (order.get(item[0][0], 99), order.get(item[0][1], 99), item[0][1])
        )
    ]


def roll_forward_rate(moves: Mapping[tuple[str, str], int]) -> Decimal | None:
    """The share of cases open at the last month end that moved to a worse bucket by this one."""
    order = {bucket: n for n, bucket in enumerate(BUCKET_ORDER)}
    total = sum(moves.values())
    worse = sum(
        cases
        for (source, target), cases in moves.items()
        if target in order and source in order and order[target] > order[source]
    )
    return rate(worse, total)
