"""Reads for the dashboards. The compliance dashboard (docs/architecture.md): what the contact gate refused,
screening hits, holds in force, complaint clocks and contacts that got past the gate, each figure with
the cases behind it. Every figure is a fixed number of aggregate queries, whatever the number of rows."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Max, Min, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from cases.models import Case
from cases.selectors import visible_cases
from compliance.complaints import WARNING_WINDOW, Clock, clock, decision_days
from compliance.models import Complaint, ContactDecision, Hold, ScreeningHit
from compliance.policy import ReasonCode
from compliance.selectors import holds_in_force, reason_label
from negotiation.models import Contact

REASON_CODES = tuple(value for name, value in vars(ReasonCode).items() if name.isupper())
URGENT_COMPLAINTS = 10
SYSTEM = "system"  # the drill-down key for decisions nobody asked for by hand (the outbox, reminders)


@dataclass(frozen=True)
class DashboardFilters:
    """Dates are whole days in the bank's time zone, both ends included."""

    start: date
    end: date
    team_id: int | None = None

    @classmethod
    def last_days(cls, days: int = 30, *, today: date | None = None, team_id: int | None = None):
        today = today or timezone.localdate()
        return cls(start=today - timedelta(days=days - 1), end=today, team_id=team_id)

    def window(self) -> tuple[datetime, datetime]:
        zone = timezone.get_current_timezone()
        since = datetime.combine(self.start, time.min, tzinfo=zone)
        until = datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone)
        return since, until


def _scoped(rows: QuerySet, *, user, filters: DashboardFilters) -> QuerySet:
    """Rows whose case this user may see (and of the chosen team). Roles that see every team also see
    rows that have no case (a screened template, an unlinked complaint)."""
    if filters.team_id is not None:
        rows = rows.filter(case__team_id=filters.team_id)
    if not user.sees_all_teams:
        rows = rows.filter(case__in=visible_cases(user))
    return rows


# --- The rows behind each figure -----------------------------------------------------------------


def blocked_decisions(*, user, filters: DashboardFilters) -> QuerySet[ContactDecision]:
    """Contacts the gate refused in the period (decision_allowed_idx: allowed, -created_at)."""
    since, until = filters.window()
    rows = ContactDecision.objects.filter(allowed=False, created_at__gte=since, created_at__lt=until)
    return _scoped(rows, user=user, filters=filters)


def _has_code(code: str) -> Q:
    """A refusal that names `code`. SQLite has no JSON containment, so the JSON list is matched as text;
    a code in it is always a quoted string, and no code is part of another one's quoted form."""
    return Q(codes_text__contains=f'"{code}"')


def _with_codes_text(rows: QuerySet[ContactDecision]) -> QuerySet[ContactDecision]:
    return rows.alias(codes_text=Cast("reason_codes", output_field=TextField()))


def screening_hits(*, user, filters: DashboardFilters) -> QuerySet[ScreeningHit]:
    since, until = filters.window()
    rows = ScreeningHit.objects.filter(created_at__gte=since, created_at__lt=until)
    return _scoped(rows, user=user, filters=filters)


def holds_now(*, user, filters: DashboardFilters, now: datetime | None = None) -> QuerySet[Hold]:
    """Holds in force now (not limited to the period: a hold set long ago still stops contact today)."""
    return _scoped(holds_in_force(now=now), user=user, filters=filters)


def open_complaints(*, user, filters: DashboardFilters) -> QuerySet[Complaint]:
    """Complaints not yet decided, whenever they were received: their clocks are running now."""
    return _scoped(Complaint.objects.exclude(status=Complaint.Status.RESOLVED), user=user, filters=filters)


def _complaint_state(state: str, now: datetime) -> Q:
    return {
        "open": Q(),
        "at_risk": Q(due_at__gte=now, due_at__lte=now + WARNING_WINDOW),
        "overdue": Q(due_at__lt=now),
    }[state]


COMPLAINT_STATES = ("open", "at_risk", "overdue")


def contacts_outside_policy(*, user, filters: DashboardFilters) -> QuerySet[Contact]:
    """Outbound contacts in the period with no decision, or with a refusal: each is a gate bypassed.
    It must be none."""
    since, until = filters.window()
    rows = Contact.objects.filter(direction=Contact.Direction.OUTBOUND, at__gte=since, at__lt=until).filter(
        Q(decision__isnull=True) | Q(decision__allowed=False)
    )
    return _scoped(rows, user=user, filters=filters)


# --- The dashboard -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeCount:
    code: str
    label: str
    count: int


@dataclass
class CollectorRow:
    key: str  # a user id, or SYSTEM
    name: str
    blocked: int = 0
    screening_hits: int = 0


@dataclass(frozen=True)
class UrgentComplaint:
    complaint: Complaint
    clock: Clock
    sla_days: int


@dataclass(frozen=True)
class ComplianceDashboard:
    filters: DashboardFilters
    blocked_total: int
    blocked_by_reason: list[CodeCount]
    collectors: list[CollectorRow]
    screening_total: int
    holds_total: int
    holds_by_kind: list[tuple[str, str, int]]  # kind, label, count
    complaints_open: int
    complaints_at_risk: int
    complaints_overdue: int
    urgent_complaints: list[UrgentComplaint]
    outside_policy: int
    now: datetime


def compliance_dashboard(*, user, filters: DashboardFilters, now: datetime | None = None) -> ComplianceDashboard:
    """Every figure of the compliance dashboard for what this user may see. Seven queries."""
    now = now or timezone.now()
    blocked = blocked_decisions(user=user, filters=filters)
    by_code = _with_codes_text(blocked).aggregate(
        total=Count("pk"), **{code: Count("pk", filter=_has_code(code)) for code in REASON_CODES}
    )
    reasons = sorted(
        (CodeCount(code, reason_label(code), by_code[code]) for code in REASON_CODES if by_code[code]),
        key=lambda row: (-row.count, row.label),
    )
    hits = screening_hits(user=user, filters=filters)
    collectors = _collector_rows(blocked, hits)
    holds = {
        row["kind"]: row["n"]
        for row in holds_now(user=user, filters=filters, now=now).values("kind").annotate(n=Count("pk")).order_by()
    }
    complaints = open_complaints(user=user, filters=filters)
    clocks = complaints.aggregate(
        open=Count("pk"),
        **{state: Count("pk", filter=_complaint_state(state, now)) for state in ("at_risk", "overdue")},
    )
    urgent = (
        complaints.filter(due_at__lte=now + WARNING_WINDOW)
        .select_related("case__account__debtor", "handler")
        .order_by("due_at", "pk")[:URGENT_COMPLAINTS]
    )
    return ComplianceDashboard(
        filters=filters,
        blocked_total=by_code["total"],
        blocked_by_reason=reasons,
        collectors=collectors,
        screening_total=sum(row.screening_hits for row in collectors),
        holds_total=sum(holds.values()),
        holds_by_kind=[(kind, label, holds[kind]) for kind, label in Hold.Kind.choices if kind in holds],
        complaints_open=clocks["open"],
        complaints_at_risk=clocks["at_risk"],
        complaints_overdue=clocks["overdue"],
        urgent_complaints=[
            UrgentComplaint(
                complaint=complaint,
                clock=clock(due_at=complaint.due_at, now=now),
                # An extension only ever follows the complex period; a stray flag does not break the page.
                sla_days=decision_days(complex=complaint.complex, extended=complaint.extended and complaint.complex),
            )
            for complaint in urgent
        ],
        outside_policy=contacts_outside_policy(user=user, filters=filters).count(),
        now=now,
    )


def _person(prefix: str) -> dict:
    return {
        "who": F(prefix),
        "username": F(f"{prefix}__username"),
        "first_name": F(f"{prefix}__first_name"),
        "last_name": F(f"{prefix}__last_name"),
    }


def _collector_rows(blocked: QuerySet[ContactDecision], hits: QuerySet[ScreeningHit]) -> list[CollectorRow]:
    """Policy blocks (by who asked) and screening hits (by who wrote), one row a person. Two queries."""
    rows: dict[str, CollectorRow] = {}

    def row_for(values: dict) -> CollectorRow:
        key = str(values["who"]) if values["who"] is not None else SYSTEM
        if key not in rows:
            name = f"{values['first_name']} {values['last_name']}".strip() or values["username"] or ""
            rows[key] = CollectorRow(key=key, name=name)
        return rows[key]

    for values in blocked.values(**_person("asked_by")).annotate(n=Count("pk")).order_by():
        row_for(values).blocked = values["n"]
    for values in hits.values(**_person("author")).annotate(n=Count("pk")).order_by():
        row_for(values).screening_hits = values["n"]
    return sorted(rows.values(), key=lambda row: (-(row.blocked + row.screening_hits), row.name, row.key))


# --- Drill-down ----------------------------------------------------------------------------------


class Figure:
    BLOCKED = "blocked"  # key: a reason code, or "" for every blocked attempt
    BLOCKED_BY = "blocked_by"  # key: a user id, or SYSTEM
    SCREENING = "screening"  # key: a user id, or "" for every hit
    HOLDS = "holds"  # key: a hold kind, or "" for every hold in force
    COMPLAINTS = "complaints"  # key: open, at_risk or overdue
    OUTSIDE_POLICY = "outside_policy"  # no key

    ALL = (BLOCKED, BLOCKED_BY, SCREENING, HOLDS, COMPLAINTS, OUTSIDE_POLICY)


class UnknownFigure(ValueError):
    pass


@dataclass(frozen=True)
class FigureRows:
    rows: QuerySet
    at_field: str
    earliest: bool = False  # list by the earliest moment (complaint due dates), else the latest


def figure_rows(
    *, user, filters: DashboardFilters, figure: str, key: str = "", now: datetime | None = None
) -> FigureRows:
    """The rows one figure of the dashboard counts; raises UnknownFigure for a figure or key it has not."""
    now = now or timezone.now()
    if figure == Figure.BLOCKED:
        rows = blocked_decisions(user=user, filters=filters)
        if key:
            if key not in REASON_CODES:
                raise UnknownFigure(key)
            rows = _with_codes_text(rows).filter(_has_code(key))
        return FigureRows(rows, "created_at")
    if figure == Figure.BLOCKED_BY:
        rows = blocked_decisions(user=user, filters=filters)
        return FigureRows(rows.filter(**_person_lookup("asked_by", key)), "created_at")
    if figure == Figure.SCREENING:
        rows = screening_hits(user=user, filters=filters)
        return FigureRows(rows.filter(**_person_lookup("author", key)) if key else rows, "created_at")
    if figure == Figure.HOLDS:
        if key and key not in Hold.Kind.values:
            raise UnknownFigure(key)
        rows = holds_now(user=user, filters=filters, now=now)
        return FigureRows(rows.filter(kind=key) if key else rows, "set_at")
    if figure == Figure.COMPLAINTS:
        if key not in COMPLAINT_STATES:
            raise UnknownFigure(key)
        rows = open_complaints(user=user, filters=filters).filter(_complaint_state(key, now))
        return FigureRows(rows, "due_at", earliest=True)
    if figure == Figure.OUTSIDE_POLICY:
        return FigureRows(contacts_outside_policy(user=user, filters=filters), "at")
    raise UnknownFigure(figure)


def _person_lookup(relation: str, key: str) -> dict:
    if key == SYSTEM:
        return {f"{relation}__isnull": True}
    if not key.isdigit():
        raise UnknownFigure(key)
    return {f"{relation}_id": int(key)}


def cases_behind(*, user, figure: FigureRows) -> QuerySet[Case]:
    """The visible cases the figure's rows belong to, each with how many rows and the latest (or
    earliest) moment; most recent first. One query (and one to count a page)."""
    per_case = figure.rows.filter(case_id=OuterRef("pk")).order_by().values("case_id")
    moment = (Min if figure.earliest else Max)(figure.at_field)
    return (
        visible_cases(user)
        .filter(pk__in=figure.rows.values("case_id"))
        .annotate(
            items=Subquery(per_case.annotate(n=Count("pk")).values("n")),
            moment=Subquery(per_case.annotate(m=moment).values("m")),
        )
        .select_related("account__debtor", "team", "assigned_to")
        .order_by(F("moment").asc() if figure.earliest else F("moment").desc(), "pk")
    )
