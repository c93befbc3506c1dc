from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from cases.selectors import teams_led_by
from reporting.selectors import DashboardFilters

DEFAULT_DAYS = 30
MAX_DAYS = 366


class DashboardFilterForm(forms.Form):
    """The period (default: the last 30 days, today included) and one of the teams the user may see."""

    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_led_by(user).order_by("name")
        self.fields["team"].empty_label = _("All teams") if user.sees_all_teams else _("All my teams")

    @classmethod
    def from_query(cls, query, *, user) -> "DashboardFilterForm":
        """Bound to the query string, with the default period filled in where it says nothing."""
        data = query.copy()
        default = DashboardFilters.last_days(DEFAULT_DAYS)
        for name, value in (("start", default.start), ("end", default.end)):
            if not data.get(name):
                data[name] = value.isoformat()
        return cls(data, user=user)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError(_("The period must start before it ends."), code="reversed")
            if end - start >= timedelta(days=MAX_DAYS):
                raise forms.ValidationError(
                    _("Choose a period of at most %(days)d days."), code="too_long", params={"days": MAX_DAYS}
                )
            if start > timezone.localdate():
                raise forms.ValidationError(_("The period cannot start in the future."), code="future")
        return cleaned

    def filters(self) -> DashboardFilters:
        team = self.cleaned_data.get("team")
        return DashboardFilters(
            start=self.cleaned_data["start"], end=self.cleaned_data["end"], team_id=team.pk if team else None
        )

    def query(self) -> dict[str, str]:
        """The filters as query parameters, for the drill-down links."""
        filters = self.filters()
        query = {"start": filters.start.isoformat(), "end": filters.end.isoformat()}
        if filters.team_id is not None:
            query["team"] = str(filters.team_id)
        return query
