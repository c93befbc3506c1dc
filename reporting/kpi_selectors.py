"""Reads for the KPI dashboard and the scorecards. They only read the snapshot tables (indexed by day and
team, and by collector and day), never the raw ones: a fixed number of small aggregate queries per page."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Max, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Role, Team
from cases.models import Bucket, Classification
from cases.selectors import teams_led_by
from reporting import kpis
from reporting.models import ActivityMonth, ActivitySnapshot, PortfolioSnapshot, PortfolioTotal, RollSnapshot
from reporting.snapshots import month_end, month_start, months_between

ACTIVITY_COLUMNS = (
    "contacts",
    "right_party_contacts",
    "promises_made",
    "promises_kept",
    "promises_partially_kept",
    "promises_broken",
    "plans_offered",
    "plans_accepted",
    "plans_signed",
    "days_to_agreement",
    "agreements_breached",
    "agreements_completed",
    "complaints",
    "policy_blocks",
    "screening_hits",
    "payments",
    "collected",
    "cases_opened",
    "opened_overdue",
    "cases_resolved",
    "surveys",
    "survey_score_total",
    "survey_1",
    "survey_2",
    "survey_3",
    "survey_4",
    "survey_5",
)
DEFAULT_PERIOD_DAYS = 30
DAILY_TREND_MAX_DAYS = 31
ROLL_MONTHS = 12
TOTAL_LOOKBACK_DAYS = 40  # a portfolio total counts for the days after it until the next one, up to this


class ReportScope:
    """Which snapshot rows a user may read: all of them, the teams they lead, or their own as a collector."""

    def __init__(self, user):
        self.user = user
        self.all_teams = user.sees_all_teams
        self.team_ids = None if self.all_teams else list(teams_led_by(user).values_list("pk", flat=True))
        self.own_only = user.role == Role.COLLECTOR and not self.all_teams

    @property
    def may_see_dashboard(self) -> bool:
        return self.user.is_authenticated and (self.all_teams or self.user.role == Role.SUPERVISOR)

    @property
    def may_see_scorecard(self) -> bool:
        return self.may_see_dashboard or self.user.role == Role.COLLECTOR

    def restrict(self, rows: QuerySet) -> QuerySet:
        if self.own_only:
            return rows.filter(collector_id=self.user.pk)
        if self.team_ids is not None:
            return rows.filter(team_id__in=self.team_ids)
        return rows


@dataclass(frozen=True)
class KpiFilters:
    """Whole days, both ends included; a team, a collector and a class narrow every figure."""

    start: date
    end: date
    team_id: int | None = None
    collector_id: int | None = None
    classification: str = ""

    def apply(self, rows: QuerySet) -> QuerySet:
        if self.team_id is not None:
            rows = rows.filter(team_id=self.team_id)
        if self.collector_id is not None:
            rows = rows.filter(collector_id=self.collector_id)
        if self.classification:
            rows = rows.filter(classification=self.classification)
        return rows

    @property
    def long(self) -> bool:
        return (self.end - self.start).days >= DAILY_TREND_MAX_DAYS

    def activity_split(self) -> tuple[list[date], list[tuple[date, date]]]:
        """A long period as the whole calendar months in it (read from ActivityMonth) and the days around them;
        a short one as its days."""
        if not self.long:
            return [], [(self.start, self.end)]
        months = [m for m in months_between(self.start, self.end) if m >= self.start and month_end(m) <= self.end]
        if not months:
            return [], [(self.start, self.end)]
        ranges = []
        if self.start < months[0]:
            ranges.append((self.start, months[0] - timedelta(days=1)))
        if month_end(months[-1]) < self.end:
            ranges.append((month_end(months[-1]) + timedelta(days=1), self.end))
        return months, ranges

    def trend_days(self) -> list[date]:
        """Every day for a short period, else each month end in it and the last day."""
        if (self.end - self.start).days < DAILY_TREND_MAX_DAYS:
            return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]
        days, day = [], month_end(self.start)
        while day < self.end:
            days.append(day)
            day = month_end(day + timedelta(days=1))
        return [*days, self.end]


def _rows(model, scope: ReportScope, filters: KpiFilters) -> QuerySet:
    return filters.apply(scope.restrict(model.objects.all())).order_by()


def _activity_parts(scope: ReportScope, filters: KpiFilters) -> tuple[QuerySet, QuerySet]:
    """The period's activity: daily rows for loose days, monthly rows for the whole months of a long period."""
    months, ranges = filters.activity_split()
    in_ranges = Q()
    for first, last in ranges:
        in_ranges |= Q(day__range=(first, last))
    daily = _rows(ActivitySnapshot, scope, filters).filter(in_ranges) if ranges else ActivitySnapshot.objects.none()
    monthly = _rows(ActivityMonth, scope, filters).filter(month__in=months)
    return daily, monthly


MONEY_COLUMNS = {"days_to_agreement", "collected", "opened_overdue"}


def _sums(columns) -> dict:
    return {column: Coalesce(Sum(column), Decimal("0") if column in MONEY_COLUMNS else 0) for column in columns}


@dataclass(frozen=True)
class TrendPoint:
    day: date
    cases: int
    overdue: Decimal
    overdue_rate: Decimal | None


@dataclass(frozen=True)
class DailyActivity:
    day: date
    contacts: int
    right_party_contacts: int


@dataclass(frozen=True)
class RollMonth:
    month_end: date
    rolls: list[kpis.Roll]
    roll_forward_rate: Decimal | None


@dataclass
class ScorecardRow:
    key: int | None
    name: str
    contacts: int = 0
    right_party_contacts: int = 0
    right_party_contact_rate: Decimal | None = None
    plans_signed: int = 0
    promises_judged: int = 0
    promise_kept_rate: Decimal | None = None
    policy_blocks: int = 0
    screening_hits: int = 0
    complaints: int = 0
    surveys: int = 0
    satisfaction: Decimal | None = None
    collected: Decimal = Decimal("0.00")


def _scorecard_row(key, name: str, sums: dict) -> ScorecardRow:
    judged = sums["promises_kept"] + sums["promises_partially_kept"] + sums["promises_broken"]
    return ScorecardRow(
        key=key,
        name=name,
        contacts=sums["contacts"],
        right_party_contacts=sums["right_party_contacts"],
        right_party_contact_rate=kpis.rate(sums["right_party_contacts"], sums["contacts"]),
        plans_signed=sums["plans_signed"],
        promises_judged=judged,
        promise_kept_rate=kpis.rate(sums["promises_kept"], judged),
        policy_blocks=sums["policy_blocks"],
        screening_hits=sums["screening_hits"],
        complaints=sums["complaints"],
        surveys=sums["surveys"],
        satisfaction=kpis.average(sums["survey_score_total"], sums["surveys"]),
        collected=kpis.money(sums["collected"]),
    )


def _person_name(person: dict) -> str:
    return f"{person['first_name'] or ''} {person['last_name'] or ''}".strip() or person["username"]


def _add(into: dict, row: dict) -> None:
    for column in ACTIVITY_COLUMNS:
        into[column] = into.get(column, 0) + row[column]


@dataclass(frozen=True)
class ActivityGroups:
    """A period's activity summed per (collector, team): the totals and both scorecards add up from these few
    hundred rows, so the snapshot rows are read once."""

    rows: list[dict]
    collector_names: dict[int, str]
    team_names: dict[int, str]

    def total(self) -> dict:
        sums = dict.fromkeys(ACTIVITY_COLUMNS, 0)
        for row in self.rows:
            _add(sums, row)
        return sums

    def _cards(self, key: str, names: dict[int, str]) -> list[ScorecardRow]:
        groups: dict = {}
        for row in self.rows:
            if row[key] is not None:
                _add(groups.setdefault(row[key], {}), row)
        cards = [_scorecard_row(pk, names.get(pk, ""), group) for pk, group in groups.items()]
        return sorted(cards, key=lambda card: (card.name, card.key))

    def collectors(self) -> list[ScorecardRow]:
        """One row a collector, by name (never ranked by amount)."""
        return self._cards("collector_id", self.collector_names)

    def teams(self) -> list[ScorecardRow]:
        return self._cards("team_id", self.team_names)


def activity_groups(*, scope: ReportScope, filters: KpiFilters) -> ActivityGroups:
    """Grouped by ids only (cheap), then the names of the few people and teams: up to four small queries."""
    rows = []
    for part in _activity_parts(scope, filters):
        rows.extend(part.values("collector_id", "team_id").annotate(**_sums(ACTIVITY_COLUMNS)))
    collector_ids = {row["collector_id"] for row in rows if row["collector_id"] is not None}
    team_ids = {row["team_id"] for row in rows if row["team_id"] is not None}
    people = get_user_model().objects.filter(pk__in=collector_ids).values("pk", "username", "first_name", "last_name")
    return ActivityGroups(
        rows,
        {person["pk"]: _person_name(person) for person in people} if collector_ids else {},
        dict(Team.objects.filter(pk__in=team_ids).values_list("pk", "name")) if team_ids else {},
    )


def collector_scorecards(*, scope: ReportScope, filters: KpiFilters) -> list[ScorecardRow]:
    return activity_groups(scope=scope, filters=filters).collectors()


def team_scorecards(*, scope: ReportScope, filters: KpiFilters) -> list[ScorecardRow]:
    return activity_groups(scope=scope, filters=filters).teams()


@dataclass
class KpiDashboard:
    filters: KpiFilters
    figures: kpis.Figures
    key_figures: dict
    by_class: list[kpis.Share]
    by_bucket: list[kpis.Share]
    trend: list[TrendPoint]
    activity: list[DailyActivity]
    roll_months: list[RollMonth]
    satisfaction: list[tuple[int, int, Decimal | None]]
    collectors: list[ScorecardRow] = field(default_factory=list)
    teams: list[ScorecardRow] = field(default_factory=list)
    snapshot_through: date | None = None


def _portfolio_totals(days: list[date]) -> dict[date, PortfolioTotal]:
    """The total that applies to each day: that day's, else the latest before it (within the lookback)."""
    totals = list(
        PortfolioTotal.objects.filter(
            date__gte=days[0] - timedelta(days=TOTAL_LOOKBACK_DAYS), date__lte=days[-1]
        ).order_by("date")
    )
    applied, current, index = {}, None, 0
    for day in days:
        while index < len(totals) and totals[index].date <= day:
            current, index = totals[index], index + 1
        applied[day] = current
    return applied


def _figures(portfolio: QuerySet, sums: dict, filters: KpiFilters, matrix: list[dict], end_total) -> kpis.Figures:
    """The KPI inputs: the period's activity sums, and the open cases at its edges (one query)."""
    at_start = portfolio.filter(day=filters.start - timedelta(days=1)).aggregate(
        n=Coalesce(Sum("cases"), 0), oo=Coalesce(Sum("opening_overdue"), Decimal("0"))
    )
    return kpis.Figures(
        **{name: sums[name] for name in ACTIVITY_COLUMNS if not name.startswith("survey_")},
        survey_score_total=sums["survey_score_total"],
        open_at_start=at_start["n"],
        open_at_start_opening_overdue=at_start["oo"],
        open_at_end=sum(row["n"] for row in matrix),
        overdue_at_end=sum((row["o"] for row in matrix), Decimal("0")),
        portfolio_accounts=end_total.accounts if end_total else None,
        portfolio_balance=end_total.balance if end_total else None,
    )


def _end_matrix(portfolio: QuerySet, filters: KpiFilters) -> list[dict]:
    """Open cases and overdue amount at the end of the period, by class × bucket."""
    return list(
        portfolio.filter(day=filters.end).values("classification", "bucket").annotate(n=Sum("cases"), o=Sum("overdue"))
    )


def kpi_tile_figures(*, scope: ReportScope, filters: KpiFilters) -> dict:
    """The headline KPIs alone, for tiles on other pages. Four queries."""
    portfolio = _rows(PortfolioSnapshot, scope, filters)
    end_total = _portfolio_totals([filters.end])[filters.end]
    sums = dict.fromkeys(ACTIVITY_COLUMNS, 0)
    for part in _activity_parts(scope, filters):
        _add(sums, part.aggregate(**_sums(ACTIVITY_COLUMNS)))
    return kpis.key_figures(_figures(portfolio, sums, filters, _end_matrix(portfolio, filters), end_total))


def _activity_points(scope: ReportScope, filters: KpiFilters) -> list[DailyActivity]:
    """Contacts per day of a short period, per month (its first day) of a long one. Up to two queries."""
    daily, monthly = _activity_parts(scope, filters)
    points: dict[date, list[int]] = {}
    for key, rows in (
        ("day", daily.values("day").annotate(n=Sum("contacts"), r=Sum("right_party_contacts"))),
        ("month", monthly.values("month").annotate(n=Sum("contacts"), r=Sum("right_party_contacts"))),
    ):
        for row in rows:
            point = points.setdefault(month_start(row[key]) if filters.long else row[key], [0, 0])
            point[0] += row["n"]
            point[1] += row["r"]
    if filters.long:
        labels = months_between(filters.start, filters.end)
    else:
        labels = [filters.start + timedelta(days=n) for n in range((filters.end - filters.start).days + 1)]
    return [DailyActivity(label, *points.get(label, [0, 0])) for label in labels]


def kpi_dashboard(*, scope: ReportScope, filters: KpiFilters) -> KpiDashboard:
    """Every figure of the KPI dashboard for this scope and filters: about a dozen small queries, whatever the
    volume (the activity of a long period comes from the monthly rollup)."""
    portfolio = _rows(PortfolioSnapshot, scope, filters)

    matrix = _end_matrix(portfolio, filters)
    by_class = {key: [0, Decimal("0")] for key in Classification.values}
    by_bucket = {key: [0, Decimal("0")] for key in Bucket.values}
    for row in matrix:
        for table, key in ((by_class, row["classification"]), (by_bucket, row["bucket"])):
            table.setdefault(key, [0, Decimal("0")])
            table[key][0] += row["n"]
            table[key][1] += row["o"]
    days = filters.trend_days()
    totals = _portfolio_totals(days)
    per_day = {
        row["day"]: row
        for row in portfolio.filter(day__in=days).values("day").annotate(n=Sum("cases"), o=Sum("overdue"))
    }
    trend = []
    for day in days:
        row = per_day.get(day, {"n": 0, "o": Decimal("0")})
        total = totals[day]
        trend.append(TrendPoint(day, row["n"], kpis.money(row["o"]), kpis.rate(row["o"], total and total.balance)))
    end_total = totals[filters.end]

    daily_activity = _activity_points(scope, filters)

    moves: dict[date, dict[tuple[str, str], int]] = {}
    roll_rows = (
        _rows(RollSnapshot, scope, filters)
        .filter(month_end__gt=month_end(filters.end - timedelta(days=31 * ROLL_MONTHS)), month_end__lte=filters.end)
        .values("month_end", "from_bucket", "to_bucket")
        .annotate(n=Sum("cases"))
    )
    for row in roll_rows:
        moves.setdefault(row["month_end"], {})[(row["from_bucket"], row["to_bucket"])] = row["n"]
    roll_months = [
        RollMonth(month, kpis.roll_rates(moves[month]), kpis.roll_forward_rate(moves[month]))
        for month in sorted(moves, reverse=True)
    ]

    groups = activity_groups(scope=scope, filters=filters)
    sums = groups.total()
    figures = _figures(portfolio, sums, filters, matrix, end_total)
    return KpiDashboard(
        filters=filters,
        figures=figures,
        key_figures=kpis.key_figures(figures),
        by_class=kpis.shares((key, count, amount) for key, (count, amount) in by_class.items()),
        by_bucket=kpis.shares((key, count, amount) for key, (count, amount) in by_bucket.items()),
        trend=trend,
        activity=daily_activity,
        roll_months=roll_months,
        satisfaction=kpis.satisfaction_distribution({score: sums[f"survey_{score}"] for score in kpis.SCORES}),
        collectors=groups.collectors(),
        teams=groups.teams(),
        snapshot_through=last_snapshot_day(),
    )


def default_period(*, last_day: date | None) -> tuple[date, date]:
    """The period a page shows when nobody chose one: the DEFAULT_PERIOD_DAYS up to the last day snapshotted
    (yesterday before the first snapshot). The KPI page, the scorecards and the tiles on other pages all start
    here, so the same figure never shows two values."""
    end = last_day or timezone.localdate() - timedelta(days=1)
    return end - timedelta(days=DEFAULT_PERIOD_DAYS - 1), end


def last_snapshot_day() -> date | None:
    """The last day the snapshots cover (an index-only look-up)."""
    return PortfolioSnapshot.objects.aggregate(last=Max("day"))["last"]


def collectors_for(scope: ReportScope) -> QuerySet:
    """People a user may pick in the collector filter: collectors of the teams in scope."""
    users = get_user_model().objects.filter(role=Role.COLLECTOR)
    if scope.own_only:
        return users.filter(pk=scope.user.pk)
    if scope.team_ids is not None:
        users = users.filter(team_id__in=scope.team_ids)
    return users.order_by("first_name", "last_name", "username")
