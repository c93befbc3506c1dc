"""Classification, the regulatory bucket and payment allocation: pure rules, no database."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cases import classification as rules
from cases.allocation import Allocation, allocate

TODAY = date(2025, 3, 31)
DEFAULT = rules.Thresholds()


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


# --- Days past due ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "delinquent_since, days",
    [
        (None, 0),
        (TODAY, 0),
        (TODAY + timedelta(days=3), 0),
        (ago(1), 1),
        (ago(90), 90),
        (date(2024, 2, 29), 396),
    ],
    ids=["never", "today", "in-the-future", "yesterday", "ninety-days", "across-a-leap-day"],
)
def test_days_past_due_count_whole_days_since_the_first_missed_due_date(delinquent_since, days):
    assert rules.days_past_due(delinquent_since, TODAY) == days


# --- The five-tier bucket ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "days, bucket",
    [
        (0, rules.CURRENT),
        (1, rules.SPECIAL_MENTION),
        (90, rules.SPECIAL_MENTION),
        (91, rules.SUBSTANDARD),
        (120, rules.SUBSTANDARD),
        (121, rules.DOUBTFUL),
        (180, rules.DOUBTFUL),
        (181, rules.LOSS),
        (5000, rules.LOSS),
    ],
)
def test_the_bucket_follows_the_regulatory_day_boundaries(days, bucket):
    assert rules.bucket_for(days) == bucket


def _bucket_by_cutoffs(delinquent_since: date, today: date) -> str:
    matches = [
        bucket
        for bucket, oldest, newest in rules.bucket_cutoffs(today)
        if delinquent_since <= newest and (oldest is None or delinquent_since >= oldest)
    ]
    assert len(matches) <= 1, f"{delinquent_since} falls in {matches}"
    return matches[0] if matches else rules.CURRENT


@pytest.mark.parametrize("days", range(0, 401))
def test_bucket_cutoffs_put_every_day_in_the_bucket_that_bucket_for_names(days):
    assert _bucket_by_cutoffs(ago(days), TODAY) == rules.bucket_for(days)


@given(
    today=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    days=st.integers(min_value=-30, max_value=4000),
)
def test_bucket_cutoffs_agree_with_bucket_for_on_any_day(today, days):
    delinquent_since = today - timedelta(days=days)

    assert _bucket_by_cutoffs(delinquent_since, today) == rules.bucket_for(rules.days_past_due(delinquent_since, today))


def test_bucket_cutoffs_cover_the_four_delinquent_buckets_in_order():
    assert [bucket for bucket, _oldest, _newest in rules.bucket_cutoffs(TODAY)] == [
        rules.SPECIAL_MENTION,
        rules.SUBSTANDARD,
        rules.DOUBTFUL,
        rules.LOSS,
    ]


# --- Early and mid ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "days, overdue, expected",
    [
        (0, Decimal("0.01"), rules.EARLY),
        (30, Decimal("10000.00"), rules.EARLY),
        (31, Decimal("10000.00"), rules.MID),
        (30, Decimal("10000.01"), rules.MID),
        (1, Decimal("10000.01"), rules.MID),
        (31, Decimal("1.00"), rules.MID),
        (400, Decimal("999999.99"), rules.MID),
    ],
)
def test_early_is_at_most_30_days_and_at_most_10000_yuan_both_inclusive(days, overdue, expected):
    assert rules.base_classification(days=days, overdue=overdue, thresholds=DEFAULT) == expected


def test_early_and_mid_follow_edited_thresholds():
    stricter = rules.Thresholds(early_max_days=10, early_max_amount=Decimal("500.00"))

    assert rules.base_classification(days=10, overdue=Decimal("500.00"), thresholds=stricter) == rules.EARLY
    assert rules.base_classification(days=11, overdue=Decimal("500.00"), thresholds=stricter) == rules.MID
    assert rules.base_classification(days=10, overdue=Decimal("500.01"), thresholds=stricter) == rules.MID


@given(days=st.integers(min_value=0, max_value=3000), cents=st.integers(min_value=1, max_value=10**9))
def test_base_classification_is_never_wilful(days, cents):
    overdue = Decimal(cents) / 100

    assert rules.base_classification(days=days, overdue=overdue, thresholds=DEFAULT) in (rules.EARLY, rules.MID)


# --- Wilful suggestions -----------------------------------------------------------------------------


def _codes(evidence, unpaid_days=200):
    suggestions = rules.wilful_suggestions(
        evidence=evidence, unpaid_since=ago(unpaid_days), today=TODAY, thresholds=DEFAULT
    )
    return [s.code for s in suggestions]


def demands(gap_days: int) -> list[rules.Evidence]:
    return [rules.Evidence(rules.DELIVERED_DEMAND, ago(60)), rules.Evidence(rules.DELIVERED_DEMAND, ago(60 - gap_days))]


@pytest.mark.parametrize(
    "gap_days, unpaid_days, suggested",
    [
        (30, 91, True),
        (29, 91, False),
        (30, 90, False),
        (29, 90, False),
        (45, 365, True),
    ],
)
def test_two_delivered_demands_30_days_apart_and_over_90_days_unpaid_suggest_wilful(gap_days, unpaid_days, suggested):
    assert (rules.DEMANDS_IGNORED in _codes(demands(gap_days), unpaid_days)) is suggested


def test_a_single_delivered_demand_suggests_nothing_however_long_unpaid():
    assert _codes([rules.Evidence(rules.DELIVERED_DEMAND, ago(100))], unpaid_days=1000) == []


def test_delivered_demands_suggest_nothing_for_an_account_with_no_unpaid_date():
    suggestions = rules.wilful_suggestions(evidence=demands(60), unpaid_since=None, today=TODAY, thresholds=DEFAULT)

    assert suggestions == []


def test_the_demand_suggestion_names_the_first_and_last_demand():
    evidence = [
        rules.Evidence(rules.DELIVERED_DEMAND, ago(10)),
        rules.Evidence(rules.DELIVERED_DEMAND, ago(70)),
        rules.Evidence(rules.DELIVERED_DEMAND, ago(40)),
    ]

    (suggestion,) = rules.wilful_suggestions(evidence=evidence, unpaid_since=ago(120), today=TODAY, thresholds=DEFAULT)

    assert suggestion == rules.Suggestion(rules.DEMANDS_IGNORED, (ago(70), ago(10)))


@pytest.mark.parametrize("count, suggested", [(1, False), (2, True), (3, True)])
def test_two_broken_promises_suggest_wilful(count, suggested):
    evidence = [rules.Evidence(rules.BROKEN_PROMISE, ago(i)) for i in range(count)]

    assert (rules.PROMISES_BROKEN in _codes(evidence, unpaid_days=0)) is suggested


@pytest.mark.parametrize("count, suggested", [(0, False), (1, True)])
def test_one_piece_of_false_information_suggests_wilful(count, suggested):
    evidence = [rules.Evidence(rules.FALSE_INFORMATION, ago(i)) for i in range(count)]

    assert (rules.INFORMATION_FALSE in _codes(evidence, unpaid_days=0)) is suggested


@pytest.mark.parametrize("count, suggested", [(2, False), (3, True)])
def test_three_evasions_suggest_wilful(count, suggested):
    evidence = [rules.Evidence(rules.EVASION, ago(i)) for i in range(count)]

    assert (rules.CONTACT_EVADED in _codes(evidence, unpaid_days=0)) is suggested


def test_each_kind_of_evidence_counts_only_towards_its_own_rule():
    evidence = [
        rules.Evidence(rules.BROKEN_PROMISE, ago(5)),
        rules.Evidence(rules.EVASION, ago(4)),
        rules.Evidence(rules.EVASION, ago(3)),
        rules.Evidence(rules.DELIVERED_DEMAND, ago(2)),
    ]

    assert _codes(evidence) == []


def test_every_rule_that_holds_is_reported():
    evidence = [
        *demands(30),
        rules.Evidence(rules.BROKEN_PROMISE, ago(5)),
        rules.Evidence(rules.BROKEN_PROMISE, ago(4)),
        rules.Evidence(rules.FALSE_INFORMATION, ago(3)),
        *[rules.Evidence(rules.EVASION, ago(i)) for i in range(3)],
    ]

    assert _codes(evidence, unpaid_days=91) == [
        rules.DEMANDS_IGNORED,
        rules.PROMISES_BROKEN,
        rules.INFORMATION_FALSE,
        rules.CONTACT_EVADED,
    ]


def test_wilful_suggestions_follow_edited_thresholds():
    lenient = rules.Thresholds(broken_promises=3, evasions=5, demand_gap_days=60, unpaid_days=180)
    evidence = [
        *demands(59),
        rules.Evidence(rules.BROKEN_PROMISE, ago(5)),
        rules.Evidence(rules.BROKEN_PROMISE, ago(4)),
        *[rules.Evidence(rules.EVASION, ago(i)) for i in range(4)],
    ]

    assert rules.wilful_suggestions(evidence=evidence, unpaid_since=ago(181), today=TODAY, thresholds=lenient) == []


# --- Payment allocation (docs/architecture.md, "The contact gate") ----------------------------------------------------

OWED = {"principal": Decimal("1000.00"), "interest": Decimal("200.00"), "fees": Decimal("50.00")}


def _allocate(amount: str, days: int) -> Allocation:
    return allocate(amount=Decimal(amount), days_past_due=days, **OWED)


@pytest.mark.parametrize(
    "amount, days, expected",
    [
        # 1-90 days: interest, then fees, then principal.
        ("150.00", 90, ("0.00", "150.00", "0.00", "0.00")),
        ("230.00", 90, ("0.00", "200.00", "30.00", "0.00")),
        ("600.00", 90, ("350.00", "200.00", "50.00", "0.00")),
        ("1250.00", 90, ("1000.00", "200.00", "50.00", "0.00")),
        ("1300.50", 90, ("1000.00", "200.00", "50.00", "50.50")),
        ("150.00", 1, ("0.00", "150.00", "0.00", "0.00")),
        # 91 days and over: principal, then interest, then fees.
        ("150.00", 91, ("150.00", "0.00", "0.00", "0.00")),
        ("1100.00", 91, ("1000.00", "100.00", "0.00", "0.00")),
        ("1230.00", 91, ("1000.00", "200.00", "30.00", "0.00")),
        ("1250.00", 91, ("1000.00", "200.00", "50.00", "0.00")),
        ("1300.50", 91, ("1000.00", "200.00", "50.00", "50.50")),
        ("150.00", 400, ("150.00", "0.00", "0.00", "0.00")),
    ],
    ids=[
        "90d-partial-interest",
        "90d-into-fees",
        "90d-into-principal",
        "90d-exact",
        "90d-overpaid",
        "1d-partial-interest",
        "91d-partial-principal",
        "91d-into-interest",
        "91d-into-fees",
        "91d-exact",
        "91d-overpaid",
        "400d-principal-first",
    ],
)
def test_a_payment_is_split_in_the_cn_order_for_its_days_past_due(amount, days, expected):
    principal, interest, fees, unapplied = (Decimal(x) for x in expected)

    assert _allocate(amount, days) == Allocation(principal=principal, interest=interest, fees=fees, unapplied=unapplied)


def test_a_payment_on_an_account_that_owes_nothing_is_all_unapplied():
    zero = Decimal("0.00")

    split = allocate(amount=Decimal("88.00"), principal=zero, interest=zero, fees=zero, days_past_due=0)

    assert split == Allocation(zero, zero, zero, Decimal("88.00"))


@given(
    cents=st.integers(min_value=1, max_value=10**8),
    days=st.integers(min_value=0, max_value=1000),
    owed=st.tuples(*[st.integers(min_value=0, max_value=10**7)] * 3),
)
def test_an_allocation_always_adds_up_to_the_payment_and_never_exceeds_a_part(cents, days, owed):
    principal, interest, fees = (Decimal(x) / 100 for x in owed)
    amount = Decimal(cents) / 100

    split = allocate(amount=amount, principal=principal, interest=interest, fees=fees, days_past_due=days)

    assert split.principal + split.interest + split.fees + split.unapplied == amount
    assert Decimal(0) <= split.principal <= principal
    assert Decimal(0) <= split.interest <= interest
    assert Decimal(0) <= split.fees <= fees
    assert split.unapplied >= 0
    assert split.unapplied == 0 or (split.principal, split.interest, split.fees) == (principal, interest, fees)
