from datetime import date, timedelta
from html import escape

from django import forms
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from cases.selectors import teams_led_by
from config import bounds
from config.widgets import IsoDateInput
from reporting.selectors import DashboardFilters

DEFAULT_DAYS = 30
MAX_DAYS = 366


class PeriodForm(forms.Form):
    """A period of whole days, at most MAX_DAYS long, not starting in the future; and a team."""

    start = bounds.FormDateField(label=_("From"), widget=IsoDateInput)
    end = bounds.FormDateField(label=_("To"), widget=IsoDateInput)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)

    @staticmethod
    def with_default_period(query, *, period: tuple[date, date]):
        """The query string with `period` filled in where it names no start or end."""
        data = query.copy()
        for name, value in zip(("start", "end"), period, strict=True):
            if not data.get(name):
                data[name] = value.isoformat()
        return data

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


class DashboardFilterForm(PeriodForm):
    """The period (default: the last 30 days, today included) and one of the teams the user may see."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_led_by(user).order_by("name")
        self.fields["team"].empty_label = _("All teams") if user.sees_all_teams else _("All my teams")

    @classmethod
    def from_query(cls, query, *, user) -> "DashboardFilterForm":
        """Bound to the query string, with the default period filled in where it says nothing."""
        today = timezone.localdate()
        return cls(cls.with_default_period(query, period=(today - timedelta(days=DEFAULT_DAYS - 1), today)), user=user)

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


class KpiFilterForm(PeriodForm):
    """The KPI filters: a period of whole days (default: the 30 days up to yesterday, the last day snapshotted),
    and optionally a team, a collector and a class among those the user may see."""

    collector = forms.ModelChoiceField(label=_("Collector"), queryset=Team.objects.none(), required=False)
    classification = forms.ChoiceField(label=_("Class"), required=False)

    def __init__(self, *args, scope, **kwargs):
        from cases.models import Classification
        from reporting.kpi_selectors import collectors_for

        super().__init__(*args, **kwargs)
        teams = Team.objects.all() if scope.all_teams else Team.objects.filter(pk__in=scope.team_ids or [])
        self.fields["team"].queryset = teams.order_by("name")
        self.fields["team"].empty_label = _("All teams") if scope.all_teams else _("All my teams")
        self.fields["collector"].queryset = collectors_for(scope)
        self.fields["collector"].label_from_instance = lambda user: user.get_full_name() or user.username
        self.fields["collector"].empty_label = _("All collectors")
        self.fields["classification"].choices = [("", _("All classes")), *Classification.choices]
        if scope.own_only:
            for name in ("team", "collector", "classification"):
                self.fields[name].widget = forms.HiddenInput()

    @classmethod
    def from_query(cls, query, *, scope, last_day: date | None = None) -> "KpiFilterForm":
        """Bound to the query string; the period defaults to the 30 days up to the last day snapshotted."""
        from reporting.kpi_selectors import default_period

        return cls(cls.with_default_period(query, period=default_period(last_day=last_day)), scope=scope)

    def collector_options(self) -> SafeString:
        """The collector menu's options, built here: hundreds of options through Django's per-option widget
        templates would cost more than every query of the page."""
        field = self.fields["collector"]
        selected = str(self.data.get("collector") or "")
        people = field.queryset.values_list("pk", "first_name", "last_name", "username")
        options = [("", str(field.empty_label))] + [
            (str(pk), f"{first or ''} {last or ''}".strip() or username) for pk, first, last, username in people
        ]
        # Every value and label is escaped; the markup around them is fixed.
        return mark_safe(  # noqa: S308
            "".join(
                f'<option value="{escape(value)}"{" selected" if value == selected else ""}>{escape(label)}</option>'
                for value, label in options
            )
        )

    def filters(self):
        from reporting.kpi_selectors import KpiFilters

        data = self.cleaned_data
        return KpiFilters(
            start=data["start"],
            end=data["end"],
            team_id=data["team"].pk if data.get("team") else None,
            collector_id=data["collector"].pk if data.get("collector") else None,
            classification=data.get("classification") or "",
        )

    def query(self) -> dict[str, str]:
        """The filters as query parameters, for the export links."""
        filters = self.filters()
        query = {"start": filters.start.isoformat(), "end": filters.end.isoformat()}
        for name, value in (
            ("team", filters.team_id),
            ("collector", filters.collector_id),
            ("classification", filters.classification),
        ):
            if value:
                query[name] = str(value)
        return query
