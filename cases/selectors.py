"""Reads of cases: who may see what, the worklist, teams and the wilful queue (the case timeline, which reads
every app, is reporting.timeline)."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.apps import apps
from django.db.models import Case as SqlCase
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Role
from cases.models import Case, CaseStatus, Classification


def visible_cases(user) -> QuerySet[Case]:
    """The one place that decides which cases a user may see; every view, API and export starts here."""
    cases = Case.objects.all()
    if not user.is_authenticated or not user.is_active:
        return cases.none()
    if user.sees_all_teams:
        return cases
    if user.role == Role.SUPERVISOR:
        return cases.filter(Q(team__supervisor=user) | Q(team_id=user.team_id, team_id__isnull=False))
    if user.role == Role.COLLECTOR:
        return cases.filter(team_id=user.team_id) if user.team_id else cases.none()
    if user.role == Role.LEGAL:
        return cases.filter(status=CaseStatus.ESCALATED)
    return cases.none()


@dataclass(frozen=True)
class WorklistFilters:
    status: str = ""
    classification: str = ""
    bucket: str = ""
    dpd_min: int | None = None
    dpd_max: int | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    search: str = ""
    assigned_to: int | None = None
    open_only: bool = True

    def apply(self, cases: QuerySet[Case], today: date) -> QuerySet[Case]:
        if self.status:
            cases = cases.filter(status=self.status)
        elif self.open_only:
            cases = cases.filter(status__in=Case.OPEN_STATES)
        if self.classification:
            cases = cases.filter(classification=self.classification)
        if self.bucket:
            cases = cases.filter(bucket=self.bucket)
        # Days past due are derived from delinquent_since, so a day range is a date range.
        if self.dpd_min is not None:
            cases = cases.filter(account__delinquent_since__lte=today - timedelta(days=self.dpd_min))
        if self.dpd_max is not None:
            cases = cases.filter(account__delinquent_since__gte=today - timedelta(days=self.dpd_max))
        if self.amount_min is not None:
            cases = cases.filter(account__overdue_total__gte=self.amount_min)
        if self.amount_max is not None:
            cases = cases.filter(account__overdue_total__lte=self.amount_max)
        if self.assigned_to is not None:
            cases = cases.filter(assigned_to_id=self.assigned_to)
        if self.search:
            term = self.search.strip()
            cases = cases.filter(
                Q(account__external_ref__iexact=term)
                | Q(account__debtor__full_name__startswith=term)
                | Q(pk=_case_number_pk(term))
            )
        return cases


def _case_number_pk(term: str) -> int:
    digits = term.upper().removeprefix("C")
    return int(digits) if digits.isdigit() and len(digits) <= 12 else -1


def worklist_for(*, user, filters: WorklistFilters, today: date | None = None) -> QuerySet[Case]:
    """Cases this user may work, best first. One query, whatever the page size."""
    today = today or timezone.localdate()
    # Promises live in negotiation, above cases: reached by name, never imported.
    promise = apps.get_model("negotiation", "Promise")
    earliest_promise = (
        promise.objects.filter(case=OuterRef("pk"), status="pending").order_by("due_on").values("due_on")[:1]
    )
    return (
        filters.apply(visible_cases(user), today)
        .select_related("account__debtor", "assigned_to", "team")
        .annotate(promise_due_on=Subquery(earliest_promise))
        .annotate(promise_due=SqlCase(When(promise_due_on__lte=today, then=Value(1)), default=Value(0)))
        .order_by("-priority", "-promise_due", "next_action_on", "pk")
    )


def team_load(*, team_id: int) -> dict[int, int]:
    """Open cases per collector of a team (collectors with none count as 0)."""
    from accounts.models import User

    rows = (
        User.objects.filter(team_id=team_id, role=Role.COLLECTOR, is_active=True)
        .annotate(open_cases=Count("assigned_cases", filter=Q(assigned_cases__status__in=Case.OPEN_STATES)))
        .values_list("pk", "open_cases")
    )
    return dict(rows)


def teams_led_by(user):
    """The teams a supervisor leads (supervised or their own); every team for roles that see all."""
    from accounts.models import Team

    if user.sees_all_teams:
        return Team.objects.all()
    if user.role != Role.SUPERVISOR:
        return Team.objects.none()
    return Team.objects.filter(Q(supervisor=user) | Q(pk=user.team_id, pk__isnull=False))


def reassign_candidates(*, user):
    """Active collectors a supervisor may hand cases to: those of the teams they lead."""
    from accounts.models import User

    return (
        User.objects.filter(role=Role.COLLECTOR, is_active=True, team__in=teams_led_by(user))
        .select_related("team")
        .order_by("team__name", "first_name", "username")
    )


def team_table(*, user):
    """Each collector of the teams a supervisor leads, with open cases by class and the overdue they hold.
    One aggregate query."""
    open_case = Q(assigned_cases__status__in=Case.OPEN_STATES)

    def open_of(classification: str) -> Count:
        return Count("assigned_cases", filter=open_case & Q(assigned_cases__classification=classification))

    return reassign_candidates(user=user).annotate(
        open_cases=Count("assigned_cases", filter=open_case),
        early_cases=open_of(Classification.EARLY),
        mid_cases=open_of(Classification.MID),
        wilful_cases=open_of(Classification.WILFUL),
        overdue_held=Coalesce(
            Sum("assigned_cases__account__overdue_total", filter=open_case), Value(Decimal("0.00"))
        ),
    )


def wilful_queue(*, user) -> QuerySet[Case]:
    """Open cases the evidence suggests are wilful, waiting for a supervisor's decision; oldest first."""
    return (
        visible_cases(user)
        .filter(wilful_suggested=True, status__in=Case.OPEN_STATES)
        .select_related("account__debtor", "assigned_to")
        .order_by("opened_at", "pk")
    )
