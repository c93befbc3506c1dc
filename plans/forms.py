from datetime import timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config import bounds
from config.widgets import IsoDateInput
from plans.models import AuthorityLimit, Method, PlanKind

HUNDRED = Decimal("100")
PERCENT_FIELD = {"max_digits": 5, "decimal_places": 2, "min_value": Decimal("0"), "max_value": Decimal("100")}
# A date input only takes ISO dates; the localized format (2026/12/29 in zh-hans) would leave it empty.
# Rates are typed as percentages (12 for 12 % a year) and stored as fractions (0.12), six decimals.
RATE_PERCENT_FIELD = {"max_digits": 7, "decimal_places": 4, "min_value": Decimal("0"), "max_value": Decimal("99.9999")}


def _default_first_due():
    return timezone.localdate() + timedelta(days=30)


class OfferForm(forms.Form):
    """The plan builder's terms. Element ids carry a prefix: the form shares the case page with others."""

    kind = forms.ChoiceField(label=_("Kind of plan"), choices=PlanKind.choices, initial=PlanKind.INSTALLMENTS)
    method = forms.ChoiceField(label=_("Method"), choices=Method.choices, initial=Method.ANNUITY)
    months = forms.IntegerField(label=_("Months"), min_value=1, max_value=60, initial=12)
    first_due_date = bounds.FormDateField(label=_("First due date"), initial=_default_first_due, widget=IsoDateInput)
    annual_rate = forms.DecimalField(label=_("Annual rate (%)"), initial=Decimal("0"), **RATE_PERCENT_FIELD)
    monthly_fee_rate = forms.DecimalField(label=_("Monthly fee rate (%)"), initial=Decimal("0"), **RATE_PERCENT_FIELD)
    interest_waiver_pct = forms.DecimalField(label=_("Interest waiver (%)"), initial=Decimal("0"), **PERCENT_FIELD)
    fee_waiver_pct = forms.DecimalField(label=_("Fee waiver (%)"), initial=Decimal("0"), **PERCENT_FIELD)
    grace_months = forms.IntegerField(label=_("Grace months (pause only)"), min_value=0, max_value=12, initial=0)
    new_limit = forms.DecimalField(
        label=_("Temporary credit limit (¥)"), required=False, **bounds.AMOUNT
    )
    new_limit_expires_on = bounds.FormDateField(label=_("Temporary limit expires"), required=False, widget=IsoDateInput)
    affordability_override = forms.CharField(
        label=_("Why offer it although it is above the disposable income"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "offer-%s")
        super().__init__(*args, **kwargs)
        for name in ("annual_rate", "monthly_fee_rate", "interest_waiver_pct", "fee_waiver_pct", "new_limit"):
            self.fields[name].widget.attrs.update({"inputmode": "decimal", "class": "num"})

    def clean_annual_rate(self):
        return self.cleaned_data["annual_rate"] / HUNDRED

    def clean_monthly_fee_rate(self):
        return self.cleaned_data["monthly_fee_rate"] / HUNDRED

    def terms(self) -> dict:
        """The cleaned terms as offer_create takes them (without the override reason)."""
        return {name: value for name, value in self.cleaned_data.items() if name != "affordability_override"}


class DecisionForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=1000)


class AuthorityLimitForm(forms.ModelForm):
    class Meta:
        model = AuthorityLimit
        fields = ("max_interest_waiver_pct", "max_fee_waiver_pct", "max_months", "max_grace_months", "may_adjust_limit")


AuthorityLimitFormSet = forms.modelformset_factory(AuthorityLimit, form=AuthorityLimitForm, extra=0)
