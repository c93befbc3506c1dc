"""The repayment schedule calculator. Pure: no ORM, no settings, no clock — terms in, schedule out.

Methods (glossary: 等额本息 / 等额本金 / 分期手续费):
- ``annuity``: equal monthly amounts at ``annual_rate / 12`` a month on the declining balance;
- ``equal_principal``: equal principal parts plus that month's interest on the declining balance;
- ``flat_fee``: the card-installment convention, equal principal parts plus a flat monthly fee of
  ``monthly_fee_rate`` × the financed amount; no interest. A rate the method does not use must be zero.

Financed amount = principal + interest × (1 − interest waiver) + fees × (1 − fee waiver); each waived
part is rounded half-up to the fen.

Grace months are a concession: nothing accrues in them — no interest, no fee — they only move the first
installment ``grace_months`` months after ``first_due_date``. So grace changes dates, never amounts.

Due dates step a month at a time from the first date and are clamped to the month's end, always counted
from that first date (Jan 31 → Feb 28 → Mar 31). Every part is rounded half-up to the fen and the last
installment absorbs the remainder, so principal parts sum to the financed amount and amounts to
``total_payable`` exactly; a part is never larger than the balance left, so no part is negative.
"""

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext

from django.utils.translation import gettext as _

CENT = Decimal("0.01")
MAX_MONTHS = 60
MAX_GRACE_MONTHS = 12
# Each money field stays well inside DecimalField(max_digits=14) even after 60 months at 100 % a year.
MAX_AMOUNT = Decimal("10000000000.00")
MAX_ANNUAL_RATE = Decimal("1")
HUNDRED = Decimal("100")


class Method:
    ANNUITY = "annuity"
    EQUAL_PRINCIPAL = "equal_principal"
    FLAT_FEE = "flat_fee"

    ALL = (ANNUITY, EQUAL_PRINCIPAL, FLAT_FEE)


class ErrorCode:
    WRONG_TYPE = "wrong_type"
    NOT_FINITE = "not_finite"
    NEGATIVE = "negative"
    TOO_LARGE = "too_large"
    NOT_TO_THE_FEN = "not_to_the_fen"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_METHOD = "unknown_method"
    RATE_NOT_USED = "rate_not_used"
    NOTHING_TO_FINANCE = "nothing_to_finance"


class ScheduleError(ValueError):
    """Terms the calculator refuses: ``field`` names the Terms field at fault, ``code`` is an ErrorCode."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Terms:
    principal: Decimal
    interest: Decimal
    fees: Decimal
    method: str
    months: int
    first_due_date: date
    annual_rate: Decimal = Decimal("0")  # fraction: 0.18 = 18 % a year
    monthly_fee_rate: Decimal = Decimal("0")  # fraction of the financed amount, per month (flat_fee)
    interest_waiver_pct: Decimal = Decimal("0")  # 0–100
    fee_waiver_pct: Decimal = Decimal("0")  # 0–100
    grace_months: int = 0


@dataclass(frozen=True)
class Line:
    number: int
    due_date: date
    amount: Decimal
    principal: Decimal
    interest: Decimal
    fee: Decimal


@dataclass(frozen=True)
class Schedule:
    installments: tuple[Line, ...]
    financed_amount: Decimal
    total_payable: Decimal
    total_waived: Decimal

    @property
    def largest_installment(self) -> Decimal:
        return max(line.amount for line in self.installments)

    def as_json(self) -> list[dict]:
        """The installments as stored on an offer and sent by the API: dates ISO, money as strings."""
        return [
            {
                "number": line.number,
                "due_date": line.due_date.isoformat(),
                "amount": str(line.amount),
                "principal": str(line.principal),
                "interest": str(line.interest),
                "fee": str(line.fee),
            }
            for line in self.installments
        ]


def monthly_due_dates(first: date, count: int) -> list[date]:
    """``count`` monthly dates from ``first``, each clamped to its month's end and counted from ``first``."""
    if count < 0:
        raise ValueError("count must not be negative")
    dates = []
    for step in range(count):
        months_since_year_zero = first.month - 1 + step
        year, month = first.year + months_since_year_zero // 12, months_since_year_zero % 12 + 1
        dates.append(date(year, month, min(first.day, calendar.monthrange(year, month)[1])))
    return dates


def build(terms: Terms) -> Schedule:
    """The schedule for valid terms; ScheduleError names the first field that is not."""
    _validate(terms)
    waived_interest = waived(terms.interest, terms.interest_waiver_pct)
    waived_fees = waived(terms.fees, terms.fee_waiver_pct)
    financed = fen(terms.principal + terms.interest - waived_interest + terms.fees - waived_fees)
    if financed == 0:
        raise ScheduleError("principal", ErrorCode.NOTHING_TO_FINANCE, _("There is nothing to finance."))
    try:
        due_dates = monthly_due_dates(terms.first_due_date, terms.grace_months + terms.months)[terms.grace_months:]
    except ValueError:
        raise ScheduleError(
            "first_due_date", ErrorCode.OUT_OF_RANGE, _("The schedule would run past the last supported date.")
        ) from None
    with localcontext() as context:
        context.prec = 34
        parts = _PARTS[terms.method](terms, financed)
    installments = tuple(
        Line(number=number, due_date=due, amount=principal + interest + fee, principal=principal,
             interest=interest, fee=fee)
        for number, (due, (principal, interest, fee)) in enumerate(zip(due_dates, parts, strict=True), start=1)
    )
    return Schedule(
        installments=installments,
        financed_amount=financed,
        total_payable=sum((line.amount for line in installments), Decimal("0.00")),
        total_waived=waived_interest + waived_fees,
    )


def fen(value: Decimal) -> Decimal:
    """Rounded half-up to the fen."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def waived(amount: Decimal, waiver_pct: Decimal) -> Decimal:
    """The part of an amount a waiver forgives, to the fen: what an agreement states and a schedule leaves out."""
    return fen(amount * waiver_pct / HUNDRED)


def _annuity(terms: Terms, financed: Decimal) -> list[tuple[Decimal, Decimal, Decimal]]:
    rate = terms.annual_rate / 12
    if rate == 0:
        return _equal_parts(terms, financed, rate)
    payment = fen(financed * rate / (1 - (1 + rate) ** -terms.months))
    parts, balance = [], financed
    for number in range(1, terms.months + 1):
        interest = fen(balance * rate)
        # The rounded payment always covers the month's interest (payment ≥ financed × rate ≥ balance × rate).
        principal = balance if number == terms.months else min(payment - interest, balance)
        balance -= principal
        parts.append((principal, interest, Decimal("0.00")))
    return parts


def _equal_principal(terms: Terms, financed: Decimal) -> list[tuple[Decimal, Decimal, Decimal]]:
    return _equal_parts(terms, financed, terms.annual_rate / 12)


def _flat_fee(terms: Terms, financed: Decimal) -> list[tuple[Decimal, Decimal, Decimal]]:
    fee = fen(financed * terms.monthly_fee_rate)
    return [(principal, interest, fee) for principal, interest, _unused in _equal_parts(terms, financed, Decimal(0))]


def _equal_parts(terms: Terms, financed: Decimal, rate: Decimal) -> list[tuple[Decimal, Decimal, Decimal]]:
    part = fen(financed / terms.months)
    parts, balance = [], financed
    for number in range(1, terms.months + 1):
        interest = fen(balance * rate)
        principal = balance if number == terms.months else min(part, balance)
        balance -= principal
        parts.append((principal, interest, Decimal("0.00")))
    return parts


_PARTS = {Method.ANNUITY: _annuity, Method.EQUAL_PRINCIPAL: _equal_principal, Method.FLAT_FEE: _flat_fee}


def _validate(terms: Terms) -> None:
    if terms.method not in Method.ALL:
        raise ScheduleError("method", ErrorCode.UNKNOWN_METHOD, _("Unknown repayment method."))
    _check_whole("months", terms.months, 1, MAX_MONTHS)
    _check_whole("grace_months", terms.grace_months, 0, MAX_GRACE_MONTHS)
    for field in ("principal", "interest", "fees"):
        value = _check_decimal(field, getattr(terms, field))
        if value > MAX_AMOUNT:
            raise ScheduleError(field, ErrorCode.TOO_LARGE, _("The amount is too large."))
        if value != value.quantize(CENT):
            raise ScheduleError(field, ErrorCode.NOT_TO_THE_FEN, _("Amounts are given to the fen (0.01)."))
    if _check_decimal("annual_rate", terms.annual_rate) > MAX_ANNUAL_RATE:
        raise ScheduleError("annual_rate", ErrorCode.OUT_OF_RANGE, _("The annual rate may be at most 100 %."))
    if _check_decimal("monthly_fee_rate", terms.monthly_fee_rate) * 12 > MAX_ANNUAL_RATE:
        raise ScheduleError(
            "monthly_fee_rate", ErrorCode.OUT_OF_RANGE, _("The monthly fee rate may be at most 100 % a year.")
        )
    if terms.method == Method.FLAT_FEE and terms.annual_rate != 0:
        raise ScheduleError("annual_rate", ErrorCode.RATE_NOT_USED, _("A flat-fee plan charges no interest rate."))
    if terms.method != Method.FLAT_FEE and terms.monthly_fee_rate != 0:
        raise ScheduleError(
            "monthly_fee_rate", ErrorCode.RATE_NOT_USED, _("Only a flat-fee plan charges a monthly fee.")
        )
    for field in ("interest_waiver_pct", "fee_waiver_pct"):
        if _check_decimal(field, getattr(terms, field)) > HUNDRED:
            raise ScheduleError(field, ErrorCode.OUT_OF_RANGE, _("A waiver is between 0 and 100 %."))
    if not isinstance(terms.first_due_date, date) or isinstance(terms.first_due_date, datetime):
        raise ScheduleError("first_due_date", ErrorCode.WRONG_TYPE, _("The first due date must be a date."))


def _check_whole(field: str, value: int, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ScheduleError(field, ErrorCode.WRONG_TYPE, _("A whole number of months is required."))
    if not low <= value <= high:
        raise ScheduleError(
            field, ErrorCode.OUT_OF_RANGE,
            _("The number of months must be from %(low)d to %(high)d.") % {"low": low, "high": high},
        )


def _check_decimal(field: str, value: Decimal) -> Decimal:
    """A finite, non-negative Decimal; floats are refused because money never touches float."""
    if not isinstance(value, Decimal):
        raise ScheduleError(field, ErrorCode.WRONG_TYPE, _("A decimal number is required."))
    if not value.is_finite():
        raise ScheduleError(field, ErrorCode.NOT_FINITE, _("The number must be finite."))
    if value < 0:
        raise ScheduleError(field, ErrorCode.NEGATIVE, _("The number must not be negative."))
    return value
