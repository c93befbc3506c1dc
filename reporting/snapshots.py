"""Build the daily snapshots with set-based SQL: each figure is one INSERT … SELECT … GROUP BY over the
raw tables, never a loop over cases. Re-running a day replaces its rows (delete and insert in one
transaction), so the task and the backfill are safe to repeat."""

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Case as SqlCase
from django.db.models import Count, DecimalField, F, Func, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from cases import classification as rules
from cases.models import Case, CaseStatus, Payment
from compliance import audit
from compliance.models import Complaint, ContactDecision, ScreeningHit
from compliance.policy import Outcome as PolicyOutcome
from negotiation.models import Contact, Party, Promise
from plans.models import Agreement, Offer, SurveyResponse
from reporting.models import ActivityMonth, ActivitySnapshot, PortfolioSnapshot, RollSnapshot

DECIMAL = DecimalField(max_digits=18, decimal_places=2)
ZERO = Value(Decimal("0.00"), output_field=DECIMAL)
SECONDS_PER_DAY = 86400
MAX_BACKFILL_DAYS = 3 * 366


class EpochSeconds(Func):
    """Seconds since 1970 of a timestamp, so that durations sum the same way on PostgreSQL and SQLite."""

    output_field = DecimalField(max_digits=20, decimal_places=6)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)", **extra
        )


@dataclass(frozen=True)
class Metric:
    """One activity column: which rows count, on which moment, for whom, and what value they carry."""

    column: str
    rows: QuerySet
    at: str  # the moment that puts a row on a day
    case: str  # the path to the case ("case__", or "" when the rows are cases)
    collector: str  # the field naming the person credited
    value: object = ZERO


def _allocated() -> F:
    """The part of a payment that reduced the overdue amount (what was left unapplied did not)."""
    return F("to_principal") + F("to_interest") + F("to_fees")


def _paid_since(moment: str | datetime) -> Coalesce:
    """What the case's account paid off its overdue amount since `moment` (a field of the case, or a time)."""
    since = OuterRef(moment) if isinstance(moment, str) else moment
    paid = (
        Payment.objects.filter(account_id=OuterRef("account_id"), paid_at__gte=since)
        .order_by()
        .values("account_id")
        .annotate(total=Sum(_allocated()))
        .values("total")
    )
    return Coalesce(Subquery(paid, output_field=DECIMAL), ZERO)


def metrics() -> list[Metric]:
    conversation = Q(outcome__in=PolicyOutcome.CONVERSATION, party=Party.DEBTOR)
    judged = Promise.objects.filter(judged_at__isnull=False)
    days_to_agreement = (EpochSeconds(F("signed_at")) - EpochSeconds(F("case__opened_at"))) / Value(SECONDS_PER_DAY)
    paid_in_case = Payment.objects.filter(
        Q(account__cases__opened_at__lte=F("paid_at"))
        & (Q(account__cases__closed_at__isnull=True) | Q(account__cases__closed_at__gte=F("paid_at")))
    )
    surveys = [
        Metric(f"survey_{score}", SurveyResponse.objects.filter(score=score), "at", "case__", "case__assigned_to_id")
        for score in range(1, 6)
    ]
    return [
        Metric("contacts", Contact.objects.all(), "at", "case__", "recorded_by_id"),
        Metric("right_party_contacts", Contact.objects.filter(conversation), "at", "case__", "recorded_by_id"),
        Metric("promises_made", Promise.objects.all(), "created_at", "case__", "created_by_id"),
        Metric("promises_kept", judged.filter(status=Promise.Status.KEPT), "judged_at", "case__", "created_by_id"),
        Metric(
            "promises_partially_kept",
            judged.filter(status=Promise.Status.PARTIALLY_KEPT),
            "judged_at",
            "case__",
            "created_by_id",
        ),
        Metric("promises_broken", judged.filter(status=Promise.Status.BROKEN), "judged_at", "case__", "created_by_id"),
        Metric(
            "plans_offered", Offer.objects.filter(offered_at__isnull=False), "offered_at", "case__", "created_by_id"
        ),
        Metric(
            "plans_accepted", Offer.objects.filter(accepted_at__isnull=False), "accepted_at", "case__", "created_by_id"
        ),
        Metric(
            "plans_signed",
            Agreement.objects.all(),
            "signed_at",
            "case__",
            "offer__created_by_id",
            Sum(days_to_agreement, output_field=DECIMAL),
        ),
        Metric(
            "agreements_breached",
            Agreement.objects.filter(status=Agreement.Status.BREACHED, ended_at__isnull=False),
            "ended_at",
            "case__",
            "case__assigned_to_id",
        ),
        Metric(
            "agreements_completed",
            Agreement.objects.filter(status=Agreement.Status.COMPLETED, ended_at__isnull=False),
            "ended_at",
            "case__",
            "case__assigned_to_id",
        ),
        Metric("complaints", Complaint.objects.all(), "received_at", "case__", "case__assigned_to_id"),
        Metric("policy_blocks", ContactDecision.objects.filter(allowed=False), "created_at", "case__", "asked_by_id"),
        Metric("screening_hits", ScreeningHit.objects.all(), "created_at", "case__", "author_id"),
        Metric(
            "payments",
            paid_in_case,
            "paid_at",
            "account__cases__",
            "account__cases__assigned_to_id",
            Sum("amount", output_field=DECIMAL),
        ),
        Metric(
            "cases_opened",
            Case.objects.all(),
            "opened_at",
            "",
            "assigned_to_id",
            Sum(F("account__overdue_total") + F("paid_since_opened"), output_field=DECIMAL),
        ),
        Metric("cases_resolved", Case.objects.filter(status=CaseStatus.RESOLVED), "closed_at", "", "assigned_to_id"),
        Metric(
            "surveys",
            SurveyResponse.objects.all(),
            "at",
            "case__",
            "case__assigned_to_id",
            Sum("score", output_field=DECIMAL),
        ),
        *surveys,
    ]


# The columns a metric's value fills, besides its count.
VALUE_COLUMNS = {
    "plans_signed": "days_to_agreement",
    "payments": "collected",
    "cases_opened": "opened_overdue",
    "surveys": "survey_score_total",
}


def _window(start: date, end: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    return datetime.combine(start, time.min, tzinfo=zone), datetime.combine(
        end + timedelta(days=1), time.min, tzinfo=zone
    )


def _activity_select(metric: Metric, since: datetime, until: datetime) -> tuple[str, list]:
    """Rows of (day, team, collector, class, metric, count, value) for one metric over the window."""
    rows = metric.rows.filter(**{f"{metric.at}__gte": since, f"{metric.at}__lt": until})
    if metric.column == "cases_opened":
        rows = rows.annotate(paid_since_opened=_paid_since("opened_at"))
    query = (
        rows.order_by()
        .values(
            d=TruncDate(metric.at, tzinfo=timezone.get_current_timezone()),
            t=F(f"{metric.case}team_id"),
            c=F(metric.collector),
            k=Coalesce(F(f"{metric.case}classification"), Value("")),
            m=Value(metric.column),
        )
        .annotate(n=Count("pk"), v=metric.value)
        .values_list("d", "t", "c", "k", "m", "n", "v")
    )
    sql, params = query.query.sql_with_params()
    return sql, list(params)


def _insert(model, columns: list[str], sql: str, params: list) -> int:
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(model._meta.get_field(name).column) for name in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({names}) {sql}", params)
        return cursor.rowcount


def _activity_insert(start: date, end: date) -> int:
    """One statement: the metrics' rows stacked (UNION ALL), then pivoted to one row per group."""
    since, until = _window(start, end)
    # Only generated SQL and fixed metric names are interpolated; every value travels as a parameter.
    parts, params = [], []
    for metric in metrics():
        sql, part_params = _activity_select(metric, since, until)
        parts.append(f"SELECT * FROM ({sql}) AS {metric.column}_rows")  # noqa: S608
        params.extend(part_params)
    columns = [metric.column for metric in metrics()]
    sums = [f"SUM(CASE WHEN u.m = '{column}' THEN u.n ELSE 0 END)" for column in columns]
    targets = list(columns)
    for column, value_column in VALUE_COLUMNS.items():
        sums.append(f"COALESCE(SUM(CASE WHEN u.m = '{column}' THEN u.v ELSE 0 END), 0)")
        targets.append(value_column)
    sql = (
        f"SELECT u.d, u.t, u.c, u.k, {', '.join(sums)} FROM ({' UNION ALL '.join(parts)}) AS u "  # noqa: S608
        "GROUP BY u.d, u.t, u.c, u.k"
    )
    return _insert(ActivitySnapshot, ["day", "team", "collector", "classification", *targets], sql, params)


ACTIVITY_FIGURES = [
    field.name
    for field in ActivitySnapshot._meta.concrete_fields
    if field.name not in ("id", "day", "team", "collector", "classification")
]


def month_start(day: date) -> date:
    return day.replace(day=1)


def months_between(start: date, end: date) -> list[date]:
    """The first day of every month that has a day in start..end."""
    months, month = [], month_start(start)
    while month <= end:
        months.append(month)
        month = month_end(month) + timedelta(days=1)
    return months


def activity_months_rebuild(*, start: date, end: date) -> int:
    """Add up the daily activity of every month touched by start..end into ActivityMonth (replacing it)."""
    months = months_between(start, end)
    ActivityMonth.objects.filter(month__in=months).delete()
    inserted = 0
    for month in months:
        query = (
            ActivitySnapshot.objects.filter(day__range=(month, month_end(month)))
            .order_by()
            .values(m=Value(month), t=F("team_id"), c=F("collector_id"), k=F("classification"))
            .annotate(**{f"s_{name}": Sum(name) for name in ACTIVITY_FIGURES})
            .values_list("m", "t", "c", "k", *(f"s_{name}" for name in ACTIVITY_FIGURES))
        )
        sql, params = query.query.sql_with_params()
        columns = ["month", "team", "collector", "classification", *ACTIVITY_FIGURES]
        inserted += _insert(ActivityMonth, columns, sql, list(params))
    return inserted


def bucket_on(day: date, prefix: str = "account__") -> SqlCase:
    """`rules.bucket_for` of the days past due on `day`, as SQL over the account's delinquent_since."""
    whens = []
    for bucket, oldest, newest in rules.bucket_cutoffs(day):
        in_range = Q(**{f"{prefix}delinquent_since__lte": newest})
        if oldest is not None:
            in_range &= Q(**{f"{prefix}delinquent_since__gte": oldest})
        whens.append(When(in_range, then=Value(bucket)))
    return SqlCase(*whens, default=Value(rules.CURRENT))


def open_on(day: date) -> QuerySet[Case]:
    """Cases open at the end of `day`: opened before it ended, not closed by then."""
    _since, until = _window(day, day)
    return Case.objects.filter(opened_at__lt=until).filter(Q(closed_at__isnull=True) | Q(closed_at__gte=until))


def _portfolio_insert(day: date) -> int:
    """Open cases at the end of the day; the overdue amount then is today's plus what was paid since."""
    _since, until = _window(day, day)
    query = (
        open_on(day)
        .annotate(paid_after=_paid_since(until), paid_since_opened=_paid_since("opened_at"))
        .order_by()
        .values(d=Value(day), t=F("team_id"), c=F("assigned_to_id"), k=F("classification"), b=bucket_on(day))
        .annotate(
            n=Count("pk"),
            o=Sum(F("account__overdue_total") + F("paid_after"), output_field=DECIMAL),
            oo=Sum(F("account__overdue_total") + F("paid_since_opened"), output_field=DECIMAL),
        )
        .values_list("d", "t", "c", "k", "b", "n", "o", "oo")
    )
    sql, params = query.query.sql_with_params()
    columns = ["day", "team", "collector", "classification", "bucket", "cases", "overdue", "opening_overdue"]
    return _insert(PortfolioSnapshot, columns, sql, list(params))


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def previous_month_end(day: date) -> date:
    return day.replace(day=1) - timedelta(days=1)


def _roll_insert(day: date) -> int:
    """Cases open at the previous month end: bucket then → bucket (or resolved / closed) at `day`."""
    before = previous_month_end(day)
    _since, until = _window(day, day)
    _before_since, before_until = _window(before, before)
    to_bucket = SqlCase(When(closed_at__lt=until, then=F("status")), default=bucket_on(day))
    query = (
        open_on(before)
        .annotate(paid_after=_paid_since(before_until))
        .order_by()
        .values(
            d=Value(day), t=F("team_id"), c=F("assigned_to_id"), k=F("classification"), f=bucket_on(before), b=to_bucket
        )
        .annotate(n=Count("pk"), o=Sum(F("account__overdue_total") + F("paid_after"), output_field=DECIMAL))
        .values_list("d", "t", "c", "k", "f", "b", "n", "o")
    )
    sql, params = query.query.sql_with_params()
    columns = ["month_end", "team", "collector", "classification", "from_bucket", "to_bucket", "cases", "overdue"]
    return _insert(RollSnapshot, columns, sql, list(params))


@dataclass(frozen=True)
class SnapshotResult:
    start: date
    end: date
    portfolio_rows: int
    activity_rows: int
    roll_rows: int


def snapshot_build(*, start: date, end: date) -> SnapshotResult:
    """Replace the snapshots of every day from start to end (both included); month ends also get roll rates."""
    if start > end:
        raise ValueError("start after end")
    if (end - start).days >= MAX_BACKFILL_DAYS:
        raise ValueError(f"at most {MAX_BACKFILL_DAYS} days at a time")
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    month_ends = [day for day in days if day == month_end(day)]
    with transaction.atomic():
        PortfolioSnapshot.objects.filter(day__range=(start, end)).delete()
        ActivitySnapshot.objects.filter(day__range=(start, end)).delete()
        RollSnapshot.objects.filter(month_end__in=month_ends).delete()
        portfolio = sum(_portfolio_insert(day) for day in days)
        activity = _activity_insert(start, end)
        activity_months_rebuild(start=start, end=end)
        roll = sum(_roll_insert(day) for day in month_ends)
        audit.record(
            action="reporting.snapshot",
            changes={"from": start.isoformat(), "to": end.isoformat(), "rows": portfolio + activity + roll},
        )
    return SnapshotResult(start, end, portfolio, activity, roll)
