"""Forms of the case screens. The worklist filters are parsed by WorklistFilterSerializer (cases.api)."""

from django import forms
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from cases.models import Case, ClassificationPolicy
from cases.selectors import reassign_candidates
from cases.services import POLICY_FIELDS
from config import bounds


class TransitionForm(forms.Form):
    # Whether a reason is needed is the service's rule (ReasonRequired), not repeated here.
    name = forms.ChoiceField(choices=[(name, name) for name in Case.TRANSITION_NAMES])
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)


class WilfulDecisionForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=1000, widget=forms.Textarea)


class CaseIdsField(forms.Field):
    """The ticked case ids of the worklist, as integers."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Tick at least one case."),
        "invalid": _("The ticked cases could not be read; reload the worklist."),
    }

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        try:
            return [int(item) for item in value]
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class CollectorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        return f"{user.get_full_name() or user.username} · {user.team}"


class ReassignForm(forms.Form):
    case_ids = CaseIdsField()
    collector = CollectorChoiceField(
        label=_("Reassign to collector"),
        queryset=None,
        empty_label=_("Choose a collector"),
        error_messages={"required": _("Choose a collector."), "invalid_choice": _("Choose a collector.")},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collector"].queryset = reassign_candidates(user=user)


class ClassificationPolicyForm(forms.ModelForm):
    class Meta:
        model = ClassificationPolicy
        fields = POLICY_FIELDS

    DAY_FIELDS = ("early_max_days", "demand_gap_days", "unpaid_days")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limits = {name: bounds.DAYS_PAST_DUE_MAX for name in self.DAY_FIELDS} | {"early_max_amount": bounds.AMOUNT_MAX}
        for name, limit in limits.items():
            field = self.fields[name]
            field.max_value = limit
            field.validators.append(MaxValueValidator(limit))
            field.widget.attrs["max"] = str(limit)


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("Account file (CSV)"))
    encoding = forms.CharField(
        label=_("Encoding"),
        required=False,
        max_length=20,
        help_text=_("Leave empty to detect UTF-8 or GB18030."),
    )
