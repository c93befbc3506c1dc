"""The cardholder portal's forms: short, one question at a time, numeric keyboards on phones."""

from decimal import Decimal

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from config import bounds
from plans.portal import COMMENT_MAX, MAX_MONTHS, REASON_MAX

NUMERIC = {"inputmode": "numeric", "autocomplete": "one-time-code"}


class IdentityForm(forms.Form):
    last_four = forms.CharField(
        label=_("Last four characters of your ID number"),
        min_length=4,
        max_length=4,
        validators=[RegexValidator(r"^[0-9]{3}[0-9Xx]$", _("Enter four digits (the last may be X)."))],
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "size": 6}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=10,
        validators=[RegexValidator(r"^[0-9]+$", _("Enter the digits of the code."))],
        widget=forms.TextInput(attrs={**NUMERIC, "size": 8}),
    )


class SignForm(forms.Form):
    signer_name = forms.CharField(
        label=_("Your full name"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    consent = forms.BooleanField(
        label=_("I have read the agreement and agree to its terms and to signing it electronically."),
        required=False,
    )
    code = forms.CharField(
        label=_("Signing code from the SMS"),
        max_length=10,
        validators=[RegexValidator(r"^[0-9]+$", _("Enter the digits of the code."))],
        widget=forms.TextInput(attrs={**NUMERIC, "size": 8}),
    )


class CounterOfferForm(forms.Form):
    monthly_amount = forms.DecimalField(
        label=_("What you can pay each month (¥)"),
        **{**bounds.AMOUNT, "min_value": Decimal("0.01")},
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )
    months_needed = forms.IntegerField(
        label=_("Months you need"),
        min_value=1,
        max_value=MAX_MONTHS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    reason = forms.CharField(
        label=_("Why none of the plans fits"), max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 4})
    )


class SurveyForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How satisfied are you with how we handled your repayment?"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"),
        max_length=COMMENT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
