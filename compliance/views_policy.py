"""Contact policies: each jurisdiction's versions, and a form that makes the next version."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from compliance.models import ContactPolicy
from compliance.policy import Party
from compliance.services import POLICY_EDITORS, contact_policy_revise
from config.errors import DomainError

PARTY_CHOICES = [
    (Party.DEBTOR, gettext_lazy("cardholder")),
    (Party.GUARANTOR, gettext_lazy("guarantor")),
    (Party.SPOUSE, gettext_lazy("spouse")),
    (Party.ATTORNEY, gettext_lazy("attorney")),
    (Party.CONTACT_PERSON, gettext_lazy("contact person")),
]


class PolicyForm(forms.ModelForm):
    allowed_parties = forms.MultipleChoiceField(
        label=gettext_lazy("parties who may be contacted"), choices=PARTY_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    reason = forms.CharField(label=gettext_lazy("Why this change"), max_length=500)

    class Meta:
        model = ContactPolicy
        fields = [
            "contact_start",
            "contact_end",
            "daily_attempt_limit",
            "daily_conversation_limit",
            "weekly_attempt_limit",
            "cooling_off_days",
            "allowed_parties",
            "contact_person_when_unreachable",
            "location_calls",
            "agreement_stops_collection",
            "retention_years",
        ]
        widgets = {
            "contact_start": forms.TimeInput(attrs={"type": "time"}),
            "contact_end": forms.TimeInput(attrs={"type": "time"}),
        }


def _require_editor(user) -> None:
    if not (user.is_superuser or user.role in POLICY_EDITORS):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def contact_policies(request, jurisdiction: str = "CN"):
    """Every version of one jurisdiction's rules, newest first, with the form for the next one."""
    _require_editor(request.user)
    versions = list(ContactPolicy.objects.filter(jurisdiction=jurisdiction).select_related("created_by"))
    if not versions:
        raise PermissionDenied
    current = versions[0]
    form = PolicyForm(request.POST or None, instance=ContactPolicy(**{
        name: getattr(current, name) for name in PolicyForm.Meta.fields
    }))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = dict(form.cleaned_data)
            reason = data.pop("reason")
            try:
                revised = contact_policy_revise(jurisdiction=jurisdiction, actor=request.user, reason=reason, **data)
            except DomainError as error:
                form.add_error(None, error.message)
                status = error.http_status
            else:
                messages.success(
                    request, _("Version %(version)s of the %(jurisdiction)s policy is in force.")
                    % {"version": revised.version, "jurisdiction": jurisdiction}
                )
                return redirect("compliance:policies", jurisdiction=jurisdiction)
        else:
            status = 400
    jurisdictions = ContactPolicy.objects.values_list("jurisdiction", flat=True).distinct().order_by("jurisdiction")
    return render(
        request,
        "compliance/policies.html",
        {"jurisdiction": jurisdiction, "jurisdictions": jurisdictions, "versions": versions, "form": form},
        status=status,
    )
