"""The repayment schedule calculator: reference values, invariants (property-based) and refusals."""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from plans.schedule import (
    MAX_MONTHS,
    ErrorCode,
    Method,
    ScheduleError,
    Terms,
    build,
    monthly_due_dates,
)

D = Decimal
CENT = D("0.01")


def terms(**overrides) -> Terms:
    base = {
        "principal": D("12000.00"), "interest": D("0.00"), "fees": D("0.00"), "method": Method.ANNUITY,
        "months": 12, "first_due_date": date(2026, 1, 31), "annual_rate": D("0.12"),
    }
    base.update(overrides)
    return Terms(**base)


# --- Strategies -----------------------------------------------------------------------------------

money = st.decimals(min_value=0, max_value=D("5000000"), places=2)
annual_rates = st.decimals(min_value=0, max_value=1, places=4)
monthly_fee_rates = st.decimals(min_value=0, max_value=D("0.0833"), places=4)
percents = st.decimals(min_value=0, max_value=100, places=2)
first_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@st.composite
def valid_terms(draw) -> Terms:
    """Any valid terms; a principal of at least a fen keeps the financed amount above zero."""
    method = draw(st.sampled_from(Method.ALL))
    return Terms(
        principal=draw(st.decimals(min_value=CENT, max_value=D("5000000"), places=2)), interest=draw(money),
        fees=draw(money), method=method,
        months=draw(st.integers(1, MAX_MONTHS)), first_due_date=draw(first_dates),
        annual_rate=D("0") if method == Method.FLAT_FEE else draw(annual_rates),
        monthly_fee_rate=draw(monthly_fee_rates) if method == Method.FLAT_FEE else D("0"),
        interest_waiver_pct=draw(percents), fee_waiver_pct=draw(percents),
        grace_months=draw(st.integers(0, 12)),
    )


# --- Reference values -----------------------------------------------------------------------------


def test_an_annuity_of_12000_at_12_percent_over_12_months_is_1066_19_a_month():
    schedule = build(terms())
    assert [line.amount for line in schedule.installments[:-1]] == [D("1066.19")] * 11
    assert schedule.installments[-1].amount == D("1066.14")
    assert schedule.total_payable == D("12794.23")


def test_the_annuity_payment_matches_the_standard_formula():
    rate = D("0.12") / 12
    expected = (D("12000") * rate / (1 - (1 + rate) ** -12)).quantize(CENT, ROUND_HALF_UP)
    assert build(terms()).installments[0].amount == expected == D("1066.19")


def test_the_annuity_interest_is_charged_on_the_declining_balance():
    first, second = build(terms()).installments[:2]
    assert (first.principal, first.interest) == (D("946.19"), D("120.00"))
    assert second.interest == ((D("12000") - first.principal) * D("0.01")).quantize(CENT, ROUND_HALF_UP)


def test_equal_principal_repays_1000_a_month_with_falling_interest():
    schedule = build(terms(method=Method.EQUAL_PRINCIPAL))
    assert {line.principal for line in schedule.installments} == {D("1000.00")}
    assert [line.amount for line in schedule.installments[:3]] == [D("1120.00"), D("1110.00"), D("1100.00")]
    assert schedule.installments[-1].amount == D("1010.00")
    assert schedule.total_payable == D("12780.00")


def test_a_flat_fee_of_0_6_percent_a_month_on_12000_over_12_months_is_1072_a_month():
    schedule = build(terms(method=Method.FLAT_FEE, annual_rate=D("0"), monthly_fee_rate=D("0.006")))
    assert {(line.amount, line.principal, line.fee, line.interest) for line in schedule.installments} == {
        (D("1072.00"), D("1000.00"), D("72.00"), D("0.00"))
    }
    assert schedule.total_payable == D("12864.00")


def test_an_annuity_at_zero_rate_splits_the_amount_into_equal_parts_with_the_remainder_last():
    schedule = build(terms(principal=D("100.00"), months=3, annual_rate=D("0")))
    assert [line.amount for line in schedule.installments] == [D("33.33"), D("33.33"), D("33.34")]


def test_waivers_reduce_the_financed_amount_and_are_totalled():
    schedule = build(terms(interest=D("1000.00"), fees=D("300.01"), interest_waiver_pct=D("50"),
                           fee_waiver_pct=D("50")))
    # 300.01 × 50 % = 150.005, rounded half-up to 150.01.
    assert schedule.total_waived == D("650.01")
    assert schedule.financed_amount == D("12000.00") + D("500.00") + D("150.00")
    assert sum(line.principal for line in schedule.installments) == schedule.financed_amount


def test_grace_months_delay_the_first_installment_without_changing_any_amount():
    plain = build(terms())
    graced = build(terms(grace_months=3))
    assert graced.installments[0].due_date == date(2026, 4, 30)
    assert [line.due_date for line in graced.installments[:3]] == [date(2026, 4, 30), date(2026, 5, 31),
                                                                   date(2026, 6, 30)]
    strip = [(line.amount, line.principal, line.interest, line.fee) for line in plain.installments]
    assert [(line.amount, line.principal, line.interest, line.fee) for line in graced.installments] == strip
    assert graced.total_payable == plain.total_payable


def test_the_largest_installment_is_the_largest_amount():
    assert build(terms(method=Method.EQUAL_PRINCIPAL)).largest_installment == D("1120.00")


def test_the_schedule_as_json_has_iso_dates_and_decimal_strings():
    first = build(terms()).as_json()[0]
    assert first == {"number": 1, "due_date": "2026-01-31", "amount": "1066.19", "principal": "946.19",
                     "interest": "120.00", "fee": "0.00"}


def test_amounts_given_without_decimals_still_give_fen_strings():
    schedule = build(terms(principal=D("600"), interest=D("0"), fees=D("0"), months=2, annual_rate=D("0")))
    assert [row["amount"] for row in schedule.as_json()] == ["300.00", "300.00"]
    assert str(schedule.financed_amount) == "600.00"


def test_a_tiny_amount_over_many_months_never_gives_a_negative_part():
    schedule = build(terms(principal=D("1.00"), months=60, annual_rate=D("0"), method=Method.EQUAL_PRINCIPAL))
    assert all(line.principal >= 0 for line in schedule.installments)
    assert sum(line.principal for line in schedule.installments) == D("1.00")


# --- Due dates ------------------------------------------------------------------------------------


def test_due_dates_from_january_31_clamp_to_february_and_return_to_march_31():
    assert monthly_due_dates(date(2026, 1, 31), 4) == [
        date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30),
    ]


def test_due_dates_in_a_leap_year_fall_on_february_29():
    assert monthly_due_dates(date(2028, 1, 31), 3) == [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31)]


def test_due_dates_cross_the_year_end():
    assert monthly_due_dates(date(2026, 11, 30), 3) == [date(2026, 11, 30), date(2026, 12, 30), date(2027, 1, 30)]


def test_a_schedule_running_past_the_year_9999_is_refused_on_the_first_due_date():
    with pytest.raises(ScheduleError) as refused:
        build(terms(first_due_date=date(9999, 6, 1)))
    assert refused.value.field == "first_due_date"


# --- Invariants -----------------------------------------------------------------------------------


@given(valid_terms())
@settings(max_examples=300, deadline=None)
def test_principal_parts_sum_exactly_to_the_financed_amount(t):
    schedule = build(t)
    assert sum(line.principal for line in schedule.installments) == schedule.financed_amount


@given(valid_terms())
@settings(max_examples=300, deadline=None)
def test_amounts_sum_exactly_to_the_total_payable(t):
    schedule = build(t)
    assert sum(line.amount for line in schedule.installments) == schedule.total_payable


@given(valid_terms())
@settings(max_examples=300, deadline=None)
def test_each_amount_is_its_principal_interest_and_fee(t):
    for line in build(t).installments:
        assert line.amount == line.principal + line.interest + line.fee


@given(valid_terms())
@settings(max_examples=300, deadline=None)
def test_every_part_is_non_negative_and_to_the_fen(t):
    schedule = build(t)
    values = [schedule.financed_amount, schedule.total_payable, schedule.total_waived]
    for line in schedule.installments:
        values += [line.amount, line.principal, line.interest, line.fee]
    assert all(value >= 0 and value == value.quantize(CENT) and value.as_tuple().exponent == -2 for value in values)


@given(valid_terms())
@settings(max_examples=200, deadline=None)
def test_the_financed_amount_and_waiver_follow_the_formula(t):
    schedule = build(t)
    waived_interest = (t.interest * t.interest_waiver_pct / 100).quantize(CENT, ROUND_HALF_UP)
    waived_fees = (t.fees * t.fee_waiver_pct / 100).quantize(CENT, ROUND_HALF_UP)
    assert schedule.total_waived == waived_interest + waived_fees
    assert schedule.financed_amount == t.principal + t.interest + t.fees - waived_interest - waived_fees


@given(valid_terms())
@settings(max_examples=200, deadline=None)
def test_there_is_one_installment_a_month_for_the_term(t):
    schedule = build(t)
    assert [line.number for line in schedule.installments] == list(range(1, t.months + 1))


@given(first_dates, st.integers(0, 72))
@settings(max_examples=300, deadline=None)
def test_due_dates_strictly_increase_a_month_apart_clamped_to_the_month_end(first, count):
    dates = monthly_due_dates(first, count)
    assert len(dates) == count
    assert all(earlier < later for earlier, later in zip(dates, dates[1:], strict=False))
    for step, due in enumerate(dates):
        months = first.year * 12 + first.month - 1 + step
        assert (due.year, due.month) == (months // 12, months % 12 + 1)
        next_day = date.fromordinal(due.toordinal() + 1)
        assert due.day == first.day or (due.day < first.day and next_day.day == 1)


@given(valid_terms())
@settings(max_examples=200, deadline=None)
def test_installments_fall_due_from_grace_months_after_the_first_due_date(t):
    expected = monthly_due_dates(t.first_due_date, t.grace_months + t.months)[t.grace_months:]
    assert [line.due_date for line in build(t).installments] == expected


# --- Monotonicity ---------------------------------------------------------------------------------
# On realistic amounts (financed ≥ 10,000, and waivers in whole points on ≥ 10,000 of interest or fees):
# the rounding remainder carried into the last installment is at most about 1.60 (60 months at 36 %),
# while a month more, a higher rate or a larger waiver moves the figures by more than that. On a few fen
# the remainder can outweigh the change, and the property does not hold; that is rounding, not a defect.

realistic_money = st.decimals(min_value=D("10000"), max_value=D("2000000"), places=2)
positive_annual_rates = st.decimals(min_value=D("0.01"), max_value=D("0.36"), places=4)
positive_fee_rates = st.decimals(min_value=D("0.001"), max_value=D("0.02"), places=4)
any_annual_rates = st.decimals(min_value=D("0"), max_value=D("1"), places=6)
any_fee_rates = st.decimals(min_value=D("0"), max_value=D("0.0833"), places=6)
whole_percents = st.integers(0, 100).map(D)


def _rates_for(method, annual, monthly_fee) -> dict:
    if method == Method.FLAT_FEE:
        return {"annual_rate": D("0"), "monthly_fee_rate": monthly_fee}
    return {"annual_rate": annual, "monthly_fee_rate": D("0")}


@given(st.sampled_from(Method.ALL), realistic_money, positive_annual_rates, positive_fee_rates,
       st.integers(1, MAX_MONTHS - 1), st.integers(1, MAX_MONTHS - 1))
@settings(max_examples=500, deadline=None)
def test_more_months_never_make_the_largest_installment_larger(method, principal, annual, fee_rate, short, extra):
    long = min(short + extra, MAX_MONTHS)
    rates = _rates_for(method, annual, fee_rate)
    shorter = build(terms(method=method, principal=principal, months=short, **rates))
    longer = build(terms(method=method, principal=principal, months=long, **rates))
    assert longer.largest_installment <= shorter.largest_installment


@given(st.sampled_from(Method.ALL), realistic_money, st.integers(1, MAX_MONTHS), any_annual_rates,
       any_annual_rates, any_fee_rates, any_fee_rates)
@settings(max_examples=500, deadline=None)
def test_a_higher_rate_never_lowers_the_total_payable(method, principal, months, annual_a, annual_b, fee_a, fee_b):
    low = build(terms(method=method, principal=principal, months=months,
                      **_rates_for(method, min(annual_a, annual_b), min(fee_a, fee_b))))
    high = build(terms(method=method, principal=principal, months=months,
                       **_rates_for(method, max(annual_a, annual_b), max(fee_a, fee_b))))
    assert high.total_payable >= low.total_payable


@given(st.sampled_from(Method.ALL), realistic_money, realistic_money, realistic_money, st.integers(1, MAX_MONTHS),
       positive_annual_rates, positive_fee_rates, whole_percents, whole_percents, whole_percents, whole_percents)
@settings(max_examples=500, deadline=None)
def test_a_larger_waiver_never_raises_the_total_payable(method, principal, interest, fees, months, annual, fee_rate,
                                                         iw_a, iw_b, fw_a, fw_b):
    common = {"method": method, "principal": principal, "interest": interest, "fees": fees, "months": months,
              **_rates_for(method, annual, fee_rate)}
    smaller = build(terms(**common, interest_waiver_pct=min(iw_a, iw_b), fee_waiver_pct=min(fw_a, fw_b)))
    larger = build(terms(**common, interest_waiver_pct=max(iw_a, iw_b), fee_waiver_pct=max(fw_a, fw_b)))
    assert larger.total_payable <= smaller.total_payable
    assert larger.total_waived >= smaller.total_waived


# --- Refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize("field, value, code", [
    ("months", 0, ErrorCode.OUT_OF_RANGE),
    ("months", 61, ErrorCode.OUT_OF_RANGE),
    ("months", -1, ErrorCode.OUT_OF_RANGE),
    ("months", D("12"), ErrorCode.WRONG_TYPE),
    ("months", True, ErrorCode.WRONG_TYPE),
    ("principal", D("-0.01"), ErrorCode.NEGATIVE),
    ("interest", D("-1"), ErrorCode.NEGATIVE),
    ("fees", D("-1"), ErrorCode.NEGATIVE),
    ("principal", D("NaN"), ErrorCode.NOT_FINITE),
    ("interest", D("Infinity"), ErrorCode.NOT_FINITE),
    ("fees", D("-Infinity"), ErrorCode.NOT_FINITE),
    ("principal", D("sNaN"), ErrorCode.NOT_FINITE),
    ("principal", 12000.0, ErrorCode.WRONG_TYPE),
    ("principal", D("12000.005"), ErrorCode.NOT_TO_THE_FEN),
    ("principal", D("10000000000.01"), ErrorCode.TOO_LARGE),
    ("annual_rate", D("-0.01"), ErrorCode.NEGATIVE),
    ("annual_rate", D("1.01"), ErrorCode.OUT_OF_RANGE),
    ("annual_rate", D("NaN"), ErrorCode.NOT_FINITE),
    ("monthly_fee_rate", D("0.006"), ErrorCode.RATE_NOT_USED),
    ("interest_waiver_pct", D("100.01"), ErrorCode.OUT_OF_RANGE),
    ("interest_waiver_pct", D("-1"), ErrorCode.NEGATIVE),
    ("fee_waiver_pct", D("101"), ErrorCode.OUT_OF_RANGE),
    ("fee_waiver_pct", D("Infinity"), ErrorCode.NOT_FINITE),
    ("grace_months", -1, ErrorCode.OUT_OF_RANGE),
    ("grace_months", 13, ErrorCode.OUT_OF_RANGE),
    ("method", "balloon", ErrorCode.UNKNOWN_METHOD),
    ("first_due_date", "2026-01-31", ErrorCode.WRONG_TYPE),
    ("first_due_date", datetime(2026, 1, 31, 9, 0), ErrorCode.WRONG_TYPE),
])
def test_invalid_terms_are_refused_naming_the_field(field, value, code):
    with pytest.raises(ScheduleError) as refused:
        build(terms(**{field: value}))
    assert (refused.value.field, refused.value.code) == (field, code)
    assert str(refused.value)


@pytest.mark.parametrize("field, value", [("monthly_fee_rate", D("0.0834")), ("monthly_fee_rate", D("-0.001"))])
def test_an_absurd_monthly_fee_rate_is_refused(field, value):
    with pytest.raises(ScheduleError) as refused:
        build(terms(method=Method.FLAT_FEE, annual_rate=D("0"), **{field: value}))
    assert refused.value.field == field


def test_a_flat_fee_plan_refuses_an_interest_rate():
    with pytest.raises(ScheduleError) as refused:
        build(terms(method=Method.FLAT_FEE, annual_rate=D("0.12"), monthly_fee_rate=D("0.006")))
    assert (refused.value.field, refused.value.code) == ("annual_rate", ErrorCode.RATE_NOT_USED)


def test_nothing_to_finance_is_refused_on_the_principal():
    with pytest.raises(ScheduleError) as refused:
        build(terms(principal=D("0"), interest=D("100.00"), interest_waiver_pct=D("100")))
    assert (refused.value.field, refused.value.code) == ("principal", ErrorCode.NOTHING_TO_FINANCE)


def test_the_error_is_a_value_error_with_a_message():
    with translation.override("en"), pytest.raises(ValueError, match="months"):
        build(terms(months=0))


def test_a_negative_date_count_is_refused():
    with pytest.raises(ValueError):
        monthly_due_dates(date(2026, 1, 31), -1)
