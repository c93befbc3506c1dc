"""Reads of cases: who may see what, the worklist, a case with its timeline."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import Role
from cases.models import Case, CaseStatus


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
    return (
        filters.apply(visible_cases(user), today)
        .select_related("account__debtor", "assigned_to", "team")
        .order_by("-priority", "next_action_on", "pk")
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
