"""The bounds of every number and date typed into a form or sent to the API, in one place.

Forms and serializers take their limits from here: days past due 0–36,500, amounts 0–100,000,000, dates
1990–2100 and, where a date records something that has happened, not in the future."""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

DAYS_PAST_DUE_MAX = 36_500
AMOUNT_MAX = Decimal("100000000")
DATE_MIN = date(1990, 1, 1)
DATE_MAX = date(2100, 12, 31)
# A moment "not in the future" may run this far ahead of our clock: a dialer's or gateway's clock drifts.
CLOCK_SKEW = timedelta(minutes=5)

# Keyword arguments for a days-past-due or an amount field (Django forms and DRF alike).
DAYS_PAST_DUE = {"min_value": 0, "max_value": DAYS_PAST_DUE_MAX}
AMOUNT = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0"), "max_value": AMOUNT_MAX}


def _day(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def validate_date_in_range(value: date | datetime) -> None:
    """A date (or a moment) between 1990-01-01 and 2100-12-31."""
    if value is None:
        return
    if not DATE_MIN <= _day(value) <= DATE_MAX:
        raise ValidationError(
            _("Enter a date between %(min)s and %(max)s."),
            code="date_out_of_range",
            params={"min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()},
        )


def validate_not_in_future(value: date | datetime) -> None:
    """Something that has already happened: not later than now (or today)."""
    if value is None:
        return
    later = value > timezone.now() + CLOCK_SKEW if isinstance(value, datetime) else value > timezone.localdate()
    if later:
        raise ValidationError(_("This cannot be in the future."), code="in_future")


def date_validators(*, past: bool = False) -> list:
    return [validate_date_in_range, validate_not_in_future] if past else [validate_date_in_range]


# --- DRF fields ---------------------------------------------------------------------------------


class ApiDateField(serializers.DateField):
    """A date within the bounds; past=True also refuses a day after today."""

    def __init__(self, *, past: bool = False, **kwargs):
        kwargs["validators"] = [*kwargs.get("validators", []), *date_validators(past=past)]
        super().__init__(**kwargs)


class ApiDateTimeField(serializers.DateTimeField):
    """A moment within the bounds; past=True also refuses one after now. A year the time zones cannot
    convert (0001 east of Greenwich) is an invalid value, not a server error."""

    def __init__(self, *, past: bool = False, **kwargs):
        kwargs["validators"] = [*kwargs.get("validators", []), *date_validators(past=past)]
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        try:
            return super().to_internal_value(value)
        except (OverflowError, ValueError):
            self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]")


def api_amount(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(**{**AMOUNT, **kwargs})


def api_days_past_due(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(**{**DAYS_PAST_DUE, **kwargs})


# --- Django form fields -------------------------------------------------------------------------


class FormDateField(forms.DateField):
    def __init__(self, *, past: bool = False, **kwargs):
        kwargs["validators"] = [*kwargs.get("validators", []), *date_validators(past=past)]
        super().__init__(**kwargs)


class FormDateTimeField(forms.DateTimeField):
    def __init__(self, *, past: bool = False, **kwargs):
        kwargs["validators"] = [*kwargs.get("validators", []), *date_validators(past=past)]
        super().__init__(**kwargs)

    def to_python(self, value):
        try:
            return super().to_python(value)
        except (OverflowError, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
