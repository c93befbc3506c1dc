from datetime import timedelta
from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config import bounds
from config.widgets import IsoDateInput, IsoDateTimeInput
from negotiation.models import (
    Channel,
    ContactStrategy,
    HardshipReason,
    MessageTemplate,
    Outcome,
    Party,
    Verification,
    VerificationDocument,
)

MONEY_FIELD = bounds.AMOUNT
CHOOSE = [("", _("— choose —"))]


def chosen(choices) -> list:
    """Choices that start empty: a collector must pick an outcome, never inherit the first one."""
    return CHOOSE + list(choices)


class PanelForm(forms.Form):
    """The panel's forms share the case page with the contact form: their element ids get a prefix."""

    id_prefix = "panel"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


class VerificationForm(PanelForm):
    # The document upload and the promise form carry what is typed here along (htmx hx-include), and htmx
    # checks included fields: half-typed figures must not stop them. The server checks it on completion.
    use_required_attribute = False
    id_prefix = "verification"
    hardship_reason = forms.ChoiceField(label=_("Hardship reason"), choices=chosen(HardshipReason.choices))
    monthly_income = forms.DecimalField(label=_("Monthly income (¥)"), **MONEY_FIELD)
    essential_expenses = forms.DecimalField(label=_("Essential expenses (¥)"), **MONEY_FIELD)
    other_debt_payments = forms.DecimalField(
        label=_("Other debts' monthly payments (¥)"), initial=Decimal("0.00"), **MONEY_FIELD
    )
    dependants = forms.IntegerField(label=_("Dependants"), min_value=0, max_value=50, initial=0)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    outcome = forms.ChoiceField(label=_("Outcome"), choices=chosen(Verification.Outcome.choices))


class DocumentForm(PanelForm):
    id_prefix = "document"

    kind = forms.ChoiceField(label=_("Kind"), choices=VerificationDocument.Kind.choices)
    file = forms.FileField(
        label=_("File (PDF, JPEG, PNG)"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )


class PromiseForm(PanelForm):
    id_prefix = "promise"

    amount = forms.DecimalField(label=_("Amount (¥)"), **{**bounds.AMOUNT, "min_value": Decimal("0.01")})
    due_on = bounds.FormDateField(label=_("Due on"), widget=IsoDateInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["due_on"].widget.attrs.update(
            min=today.isoformat(), max=(today + timedelta(days=settings.PROMISE_MAX_DAYS_AHEAD)).isoformat()
        )


class ContactOutcomeFields(forms.Form):
    """Who was reached and what came of it: the part a call and a visit log alike."""

    party = forms.ChoiceField(label=_("Party"), choices=Party.choices, initial=Party.DEBTOR)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=chosen(Outcome.choices))
    duration_seconds = forms.IntegerField(
        label=_("Duration (s)"), required=False, min_value=0, max_value=24 * 3600,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "size": 5}),
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=4000)
    next_step = forms.CharField(label=_("Next step"), required=False, max_length=200)


class ContactLogForm(ContactOutcomeFields):
    """What a collector logs after a call or a visit; compact, tabbed through with the keyboard."""

    field_order = ["channel"]

    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)


class StrategyStepForm(forms.ModelForm):
    class Meta:
        model = ContactStrategy
        fields = ["order", "basis", "days", "needs_supervisor_approval", "active"]

    def cleaned_data_for_update(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


StrategyStepFormSet = forms.modelformset_factory(ContactStrategy, form=StrategyStepForm, extra=0)


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["subject", "body", "active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}

    def clean(self):
        cleaned = super().clean()
        from negotiation.rendering import TemplateProblem, template_check

        try:
            template_check(cleaned.get("subject", "") or "")
            template_check(cleaned.get("body", "") or "")
        except TemplateProblem as problem:
            raise forms.ValidationError(str(problem)) from None
        return cleaned


class VisitRequestForm(PanelForm):
    """A field visit asked for: when, which address on record, and the two staff who go."""

    id_prefix = "visit"

    planned_at = bounds.FormDateTimeField(label=_("Planned for"), widget=IsoDateTimeInput)
    address_kind = forms.ChoiceField(label=_("Address on record"))
    first_staff = forms.ModelChoiceField(label=_("First staff member"), queryset=None)
    second_staff = forms.ModelChoiceField(label=_("Second staff member"), queryset=None)
    purpose = forms.CharField(
        label=_("Purpose"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, addresses, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["address_kind"].choices = chosen(addresses)
        for name in ("first_staff", "second_staff"):
            self.fields[name].queryset = staff
            self.fields[name].label_from_instance = lambda user: user.get_full_name() or user.username

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("first_staff"), cleaned.get("second_staff")
        if first is not None and first == second:
            self.add_error("second_staff", _("Name two different staff members."))
        return cleaned

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "planned_at": data["planned_at"],
            "address_kind": data["address_kind"],
            "staff_ids": [data["first_staff"].pk, data["second_staff"].pk],
            "purpose": data["purpose"],
        }


class VisitDecisionForm(PanelForm):
    id_prefix = "visit-decision"

    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.TextInput(attrs={"autocomplete": "off"}))


class VisitLogForm(PanelForm, ContactOutcomeFields):
    """What happened on an approved visit; the channel is the visit."""

    id_prefix = "visit-log"


class AgencyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    licence_number = forms.CharField(label=_("Licence number"), max_length=60)
    contact = forms.CharField(label=_("Contact"), required=False, max_length=200)
