"""The KPI arithmetic, without a database."""

from decimal import Decimal

import pytest

from reporting import kpis
from reporting.kpis import Figures, key_figures


@pytest.mark.parametrize(
    "function, numerator, denominator, expected",
    [
        (kpis.rate, 1, 3, Decimal("0.3333")),
        (kpis.rate, 2, 3, Decimal("0.6667")),
        (kpis.rate, Decimal("3500.00"), Decimal("11500.00"), Decimal("0.3043")),
        (kpis.per_thousand, 1, 4, Decimal("250.00")),
        (kpis.average, Decimal("73"), 1, Decimal("73.00")),
        (kpis.average, 7, 2, Decimal("3.50")),
    ],
)
def test_ratios_are_decimals_rounded_half_up(function, numerator, denominator, expected):
    assert function(numerator, denominator) == expected


@pytest.mark.parametrize("function", [kpis.rate, kpis.per_thousand, kpis.average])
def test_a_ratio_over_nothing_is_none_not_zero(function):
    assert function(5, 0) is None
    assert function(0, None) is None


# September of tests/reporting/dataset.py, every team.
SEPTEMBER = Figures(
    contacts=6,
    right_party_contacts=3,
    promises_kept=1,
    promises_partially_kept=1,
    promises_broken=1,
    plans_offered=2,
    plans_accepted=1,
    plans_signed=1,
    days_to_agreement=Decimal("73"),
    agreements_breached=1,
    agreements_completed=1,
    complaints=1,
    payments=2,
    collected=Decimal("3500.00"),
    cases_opened=1,
    opened_overdue=Decimal("2000.00"),
    cases_resolved=1,
    surveys=1,
    survey_score_total=4,
    open_at_start=3,
    open_at_start_opening_overdue=Decimal("9500.00"),
    open_at_end=3,
    overdue_at_end=Decimal("8000.00"),
    portfolio_accounts=100,
    portfolio_balance=Decimal("80000.00"),
)


@pytest.mark.parametrize(
    "key, expected",
    [
        ("overdue_amount", Decimal("8000.00")),
        ("overdue_cases", 3),
        ("overdue_rate_amount", Decimal("0.1000")),
        ("overdue_rate_accounts", Decimal("0.0300")),
        ("cure_rate", Decimal("0.2500")),
        ("recovery_rate", Decimal("0.3043")),
        ("collected", Decimal("3500.00")),
        ("promise_kept_rate", Decimal("0.3333")),
        ("right_party_contact_rate", Decimal("0.5000")),
        ("plan_acceptance_rate", Decimal("0.5000")),
        ("agreement_breach_rate", Decimal("0.5000")),
        ("average_days_to_agreement", Decimal("73.00")),
        ("complaints_per_thousand", Decimal("250.00")),
        ("satisfaction", Decimal("4.00")),
        ("contacts_per_resolved_case", Decimal("6.00")),
    ],
)
def test_each_key_figure_of_a_known_month(key, expected):
    assert key_figures(SEPTEMBER)[key] == expected


def test_without_a_portfolio_total_the_overdue_rate_is_unknown():
    figures = key_figures(Figures(open_at_end=3, overdue_at_end=Decimal("8000.00")))
    assert figures["overdue_rate_amount"] is None
    assert figures["overdue_rate_accounts"] is None


def test_an_empty_period_has_no_rates_but_zero_amounts():
    figures = key_figures(Figures())
    assert figures["overdue_amount"] == Decimal("0.00")
    assert all(figures[key] is None for key in ("cure_rate", "recovery_rate", "promise_kept_rate", "satisfaction"))


def test_roll_rates_are_shares_of_the_cases_that_started_in_each_bucket():
    rolls = kpis.roll_rates(
        {
            ("special_mention", "special_mention"): 6,
            ("special_mention", "substandard"): 3,
            ("special_mention", "resolved"): 1,
            ("substandard", "doubtful"): 2,
        }
    )
    assert [(r.from_bucket, r.to_bucket, r.cases, r.rate) for r in rolls] == [
        ("special_mention", "special_mention", 6, Decimal("0.6000")),
        ("special_mention", "substandard", 3, Decimal("0.3000")),
        ("special_mention", "resolved", 1, Decimal("0.1000")),
        ("substandard", "doubtful", 2, Decimal("1.0000")),
    ]


def test_the_roll_forward_rate_counts_only_moves_to_a_worse_bucket():
    moves = {
        ("current", "special_mention"): 1,
        ("special_mention", "resolved"): 1,
        ("substandard", "current"): 1,
        ("doubtful", "doubtful"): 1,
    }
    assert kpis.roll_forward_rate(moves) == Decimal("0.2500")


def test_the_satisfaction_distribution_lists_every_score():
    assert kpis.satisfaction_distribution({4: 3, 5: 1}) == [
        (1, 0, Decimal("0.0000")),
        (2, 0, Decimal("0.0000")),
        (3, 0, Decimal("0.0000")),
        (4, 3, Decimal("0.7500")),
        (5, 1, Decimal("0.2500")),
    ]


def test_shares_split_counts_and_amounts():
    rows = kpis.shares([("early", 2, Decimal("3000")), ("mid", 1, Decimal("5000")), ("wilful", 0, Decimal("0"))])
    assert [(s.key, s.count_share, s.amount_share) for s in rows] == [
        ("early", Decimal("0.6667"), Decimal("0.3750")),
        ("mid", Decimal("0.3333"), Decimal("0.6250")),
        ("wilful", Decimal("0.0000"), Decimal("0.0000")),
    ]
