from datetime import timedelta
from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from negotiation.models import HardshipReason, Verification, VerificationDocument

MONEY_FIELD = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0.00")}


class VerificationForm(forms.Form):
    hardship_reason = forms.ChoiceField(label=_("Hardship reason"), choices=HardshipReason.choices)
    monthly_income = forms.DecimalField(label=_("Monthly income (¥)"), **MONEY_FIELD)
    essential_expenses = forms.DecimalField(label=_("Essential expenses (¥)"), **MONEY_FIELD)
    other_debt_payments = forms.DecimalField(
        label=_("Other debts' monthly payments (¥)"), initial=Decimal("0.00"), **MONEY_FIELD
    )
    dependants = forms.IntegerField(label=_("Dependants"), min_value=0, max_value=50, initial=0)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Verification.Outcome.choices)


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=VerificationDocument.Kind.choices)
    file = forms.FileField(
        label=_("File (PDF, JPEG, PNG)"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )


class PromiseForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount (¥)"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    due_on = forms.DateField(label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["due_on"].widget.attrs.update(
            min=today.isoformat(), max=(today + timedelta(days=settings.PROMISE_MAX_DAYS_AHEAD)).isoformat()
        )
