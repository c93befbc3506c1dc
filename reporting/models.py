"""Daily aggregates the KPI dashboards read, so no request scans the raw tables (docs/architecture.md)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

AMOUNT = {"max_digits": 18, "decimal_places": 2}
# Snapshots keep the ids of teams and people as they were; deleting a user or team never touches them.
KEPT_ID = {"null": True, "blank": True, "on_delete": models.DO_NOTHING, "db_constraint": False, "related_name": "+"}


class PortfolioTotal(models.Model):
    """The bank's whole card portfolio on a day (accounts and balance), the denominator of the overdue rate."""

    date = models.DateField(_("date"), unique=True)
    accounts = models.PositiveIntegerField(_("accounts"))
    balance = models.DecimalField(_("balance"), max_digits=18, decimal_places=2)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, **KEPT_ID)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date"]
        verbose_name = _("portfolio total")
        verbose_name_plural = _("portfolio totals")
        constraints = [
            models.CheckConstraint(condition=models.Q(balance__gte=0), name="portfolio_total_balance_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d}: {self.accounts} / {self.balance}"


class PortfolioSnapshot(models.Model):
    """Open cases at the end of a day, per team × collector × class × regulatory bucket (bucket as of that day)."""

    day = models.DateField()
    team = models.ForeignKey("accounts.Team", **KEPT_ID)
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, **KEPT_ID)
    classification = models.CharField(max_length=10)
    bucket = models.CharField(max_length=20)
    cases = models.PositiveIntegerField(default=0)
    overdue = models.DecimalField(**AMOUNT, default=0)
    opening_overdue = models.DecimalField(**AMOUNT, default=0)

    class Meta:
        indexes = [
            models.Index(fields=["day", "team"], name="portfolio_snap_day_team_idx"),
            models.Index(fields=["collector", "day"], name="portfolio_snap_collector_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.team_id}/{self.collector_id} {self.classification} {self.bucket}: {self.cases}"


class ActivityFigures(models.Model):
    """What happened, per team × collector × class: one column per activity (see reporting.snapshots.metrics)."""

    team = models.ForeignKey("accounts.Team", **KEPT_ID)
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, **KEPT_ID)
    classification = models.CharField(max_length=10)
    contacts = models.PositiveIntegerField(default=0)
    right_party_contacts = models.PositiveIntegerField(default=0)
    promises_made = models.PositiveIntegerField(default=0)
    promises_kept = models.PositiveIntegerField(default=0)
    promises_partially_kept = models.PositiveIntegerField(default=0)
    promises_broken = models.PositiveIntegerField(default=0)
    plans_offered = models.PositiveIntegerField(default=0)
    plans_accepted = models.PositiveIntegerField(default=0)
    plans_signed = models.PositiveIntegerField(default=0)
    days_to_agreement = models.DecimalField(**AMOUNT, default=0)
    agreements_breached = models.PositiveIntegerField(default=0)
    agreements_completed = models.PositiveIntegerField(default=0)
    complaints = models.PositiveIntegerField(default=0)
    policy_blocks = models.PositiveIntegerField(default=0)
    screening_hits = models.PositiveIntegerField(default=0)
    payments = models.PositiveIntegerField(default=0)
    collected = models.DecimalField(**AMOUNT, default=0)
    cases_opened = models.PositiveIntegerField(default=0)
    opened_overdue = models.DecimalField(**AMOUNT, default=0)
    cases_resolved = models.PositiveIntegerField(default=0)
    surveys = models.PositiveIntegerField(default=0)
    survey_score_total = models.PositiveIntegerField(default=0)
    survey_1 = models.PositiveIntegerField(default=0)
    survey_2 = models.PositiveIntegerField(default=0)
    survey_3 = models.PositiveIntegerField(default=0)
    survey_4 = models.PositiveIntegerField(default=0)
    survey_5 = models.PositiveIntegerField(default=0)


    class Meta:
        abstract = True


class ActivitySnapshot(ActivityFigures):
    """One day's activity."""

    day = models.DateField()

    class Meta:
        indexes = [
            models.Index(fields=["day", "team"], name="activity_snap_day_team_idx"),
            models.Index(fields=["collector", "day"], name="activity_snap_collector_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.team_id}/{self.collector_id} {self.classification}"


class ActivityMonth(ActivityFigures):
    """A calendar month's activity, added up from the days, so a long period reads twelve rows, not 365."""

    month = models.DateField()  # its first day

    class Meta:
        indexes = [
            models.Index(fields=["month", "team"], name="activity_month_team_idx"),
            models.Index(fields=["collector", "month"], name="activity_month_collector_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.team_id}/{self.collector_id} {self.classification}"


class RollSnapshot(models.Model):
    """Cases open at the previous month end, by the bucket they were in then and where they are at this
    month end (a bucket, or resolved / closed)."""

    month_end = models.DateField()
    team = models.ForeignKey("accounts.Team", **KEPT_ID)
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, **KEPT_ID)
    classification = models.CharField(max_length=10)
    from_bucket = models.CharField(max_length=20)
    to_bucket = models.CharField(max_length=20)
    cases = models.PositiveIntegerField(default=0)
    overdue = models.DecimalField(**AMOUNT, default=0)

    class Meta:
        indexes = [models.Index(fields=["month_end", "team"], name="roll_snap_month_team_idx")]

    def __str__(self) -> str:
        return f"{self.month_end} {self.from_bucket}→{self.to_bucket}: {self.cases}"


class ConsistencyRun(models.Model):
    """One run of the consistency checker (reporting.consistency): when, how many contradictions, and per
    check its count and the first case ids it found."""

    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"))
    contradictions = models.PositiveIntegerField(_("contradictions"))
    results = models.JSONField(_("results"), default=dict)  # {check code: {"count": n, "cases": [ids]}}

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("consistency check")
        verbose_name_plural = _("consistency checks")

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}: {self.contradictions}"
