"""Forms of the complaints pages; the rules themselves live in compliance.services."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from compliance.models import Complaint
from config import bounds
from config.widgets import IsoDateTimeInput

HOLD_DEFAULT, HOLD_YES, HOLD_NO = "", "yes", "no"
_CASE_NUMBER = re.compile(r"^\s*[Cc]?0*(\d{1,12})\s*$")


class ComplaintRegisterForm(forms.Form):
    channel = forms.ChoiceField(label=_("Received by"), choices=Complaint.Channel.choices)
    category = forms.ChoiceField(label=_("Category"), choices=Complaint.Category.choices)
    description = forms.CharField(
        label=_("What the cardholder complains about"), max_length=4000, widget=forms.Textarea(attrs={"rows": 5})
    )
    case = forms.CharField(
        label=_("Case number"),
        required=False,
        max_length=20,
        help_text=_("e.g. C00000012; leave empty when the complaint concerns no case"),
    )
    received_at = bounds.FormDateTimeField(
        past=True,
        label=_("Received"),
        required=False,
        widget=IsoDateTimeInput,
        help_text=_("empty: now"),
    )
    hold = forms.ChoiceField(
        label=_("Contact on the case"),
        required=False,
        choices=[
            (HOLD_DEFAULT, _("Hold it if the complaint is about contact")),
            (HOLD_YES, _("Hold it until the complaint is resolved")),
            (HOLD_NO, _("Do not hold it")),
        ],
    )

    def clean_case(self) -> int | None:
        value = self.cleaned_data["case"]
        if not value.strip():
            return None
        match = _CASE_NUMBER.match(value)
        if match is None:
            raise forms.ValidationError(_("Enter a case number such as C00000012."))
        return int(match.group(1))

    def clean_hold(self) -> bool | None:
        return {HOLD_YES: True, HOLD_NO: False}.get(self.cleaned_data["hold"])


class ComplaintReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ComplaintResolveForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Complaint.Outcome.choices)
    resolution = forms.CharField(
        label=_("Decision and what was done"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
