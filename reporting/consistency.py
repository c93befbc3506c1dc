"""The consistency checker: contradictions between cases, agreements, installments, holds, escalations and
payments that the services should never leave behind. Each check is one set-based query that names the
cases concerned, so a run over a million accounts costs two queries a check (a count and the first ids),
never a loop over cases. `manage.py check_consistency` prints them; the nightly task keeps the result for
the compliance dashboard."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, DecimalField, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import OPEN_STATES, TERMINAL_STATES, Case, CaseStatus
from cases.selectors import visible_cases
from compliance import audit
from compliance.models import Hold
from negotiation.models import LitigationReferral, Placement
from plans.models import Agreement, Installment, InstallmentAllocation
from reporting.models import ConsistencyRun

# Case ids kept per check in a stored run (the count is always complete).
CASES_KEPT = 200
ZERO = Value(0, output_field=DecimalField(max_digits=14, decimal_places=2))
# Sums of money differ when they differ by a fen or more: SQLite adds decimals as floating point, so its
# sums are off by far less than a fen where PostgreSQL's are exact.
HALF_FEN = Decimal("0.005")


def _differs(left, right) -> Q:
    return Q(**{f"{left}__gte": F(right) + HALF_FEN}) | Q(**{f"{left}__lte": F(right) - HALF_FEN})


@dataclass(frozen=True)
class Check:
    code: str
    label: str
    cases: Callable[[datetime], QuerySet[Case]]


def _in_force(case_ref: str = "pk") -> Exists:
    return Exists(Agreement.objects.filter(case_id=OuterRef(case_ref), status=Agreement.Status.IN_FORCE))


def _active_holds(now: datetime) -> QuerySet[Hold]:
    return Hold.objects.filter(lifted_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def ended_with_live_agreement(now: datetime) -> QuerySet[Case]:
    """Resolved or closed, yet an agreement is in force or an installment of a kept agreement is unpaid
    (a breached agreement's unpaid installments are expected: it ended unkept)."""
    unpaid = Installment.objects.filter(
        agreement__case_id=OuterRef("pk"), paid_amount__lt=F("amount")
    ).exclude(agreement__status=Agreement.Status.BREACHED)
    return Case.objects.filter(status__in=TERMINAL_STATES).filter(_in_force() | Exists(unpaid))


def agreement_state_without_agreement(now: datetime) -> QuerySet[Case]:
    return Case.objects.filter(status__in=(CaseStatus.SIGNED_AGREEMENT, CaseStatus.FOLLOW_UP)).exclude(_in_force())


def agreement_without_installments(now: datetime) -> QuerySet[Case]:
    empty = Agreement.objects.filter(case_id=OuterRef("pk")).exclude(
        Exists(Installment.objects.filter(agreement_id=OuterRef("pk")))
    )
    return Case.objects.filter(Exists(empty))


def installments_not_payable(now: datetime) -> QuerySet[Case]:
    """An agreement whose installments do not add up to the payable amount of the offer it signed."""
    total = (
        Installment.objects.filter(agreement_id=OuterRef("pk"))
        .order_by()
        .values("agreement_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    wrong = (
        Agreement.objects.filter(case_id=OuterRef("pk"))
        .annotate(installed=Subquery(total))
        .filter(installed__isnull=False)
        .filter(_differs("installed", "offer__total_payable"))
    )
    return Case.objects.filter(Exists(wrong))


def installment_paid_without_allocation(now: datetime) -> QuerySet[Case]:
    """An installment whose paid amount is not what the payments allocated to it."""
    allocated = (
        InstallmentAllocation.objects.filter(installment_id=OuterRef("pk"))
        .order_by()
        .values("installment_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    wrong = (
        Installment.objects.filter(agreement__case_id=OuterRef("pk"))
        .annotate(allocated=Coalesce(Subquery(allocated), ZERO))
        .filter(_differs("paid_amount", "allocated"))
    )
    return Case.objects.filter(Exists(wrong))


def agreement_hold_missing(now: datetime) -> QuerySet[Case]:
    held = _active_holds(now).filter(case_id=OuterRef("pk"), kind=Hold.Kind.AGREEMENT_IN_FORCE)
    return Case.objects.filter(_in_force()).exclude(Exists(held))


def agreement_hold_without_agreement(now: datetime) -> QuerySet[Case]:
    held = _active_holds(now).filter(case_id=OuterRef("pk"), kind=Hold.Kind.AGREEMENT_IN_FORCE)
    return Case.objects.filter(Exists(held)).exclude(_in_force())


def hold_on_ended_case(now: datetime) -> QuerySet[Case]:
    held = _active_holds(now).filter(case_id=OuterRef("pk"))
    return Case.objects.filter(status__in=TERMINAL_STATES).filter(Exists(held))


def several_open_cases(now: datetime) -> QuerySet[Case]:
    crowded = (
        Case.objects.filter(status__in=OPEN_STATES)
        .order_by()
        .values("account_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values("account_id")
    )
    return Case.objects.filter(status__in=OPEN_STATES, account_id__in=crowded)


def escalated_without_track(now: datetime) -> QuerySet[Case]:
    """Escalated, yet no approved agency placement or litigation referral is active."""
    placed = Placement.objects.filter(case_id=OuterRef("pk"), status__in=Placement.ACTIVE).exclude(
        status=Placement.Status.PROPOSED
    )
    referred = LitigationReferral.objects.filter(
        case_id=OuterRef("pk"), status__in=LitigationReferral.ACTIVE
    ).exclude(status=LitigationReferral.Status.PROPOSED)
    return Case.objects.filter(status=CaseStatus.ESCALATED).exclude(Exists(placed) | Exists(referred))


def payment_allocated_twice(now: datetime) -> QuerySet[Case]:
    """A payment spread over more than it brought, or over the installments of more than one agreement."""
    twice = (
        InstallmentAllocation.objects.order_by()
        .values("payment_id")
        .annotate(total=Sum("amount"), agreements=Count("installment__agreement_id", distinct=True))
        .filter(Q(total__gte=F("payment__amount") + HALF_FEN) | Q(agreements__gt=1))
        .values("payment_id")
    )
    return Case.objects.filter(
        Exists(
            InstallmentAllocation.objects.filter(
                installment__agreement__case_id=OuterRef("pk"), payment_id__in=twice
            )
        )
    )


CHECKS = (
    Check("ended_with_live_agreement", _("Resolved or closed with an agreement in force or unpaid installments"),
          ended_with_live_agreement),
    Check("agreement_state_without_agreement", _("Signed agreement or follow-up without an agreement in force"),
          agreement_state_without_agreement),
    Check("agreement_without_installments", _("Signed agreement without installments"),
          agreement_without_installments),
    Check("installments_not_payable", _("Installments that do not add up to the agreement's payable amount"),
          installments_not_payable),
    Check("installment_paid_without_allocation", _("Installment paid amount differs from the payments allocated"),
          installment_paid_without_allocation),
    Check("agreement_hold_missing", _("Agreement in force without its “agreement in force” hold"),
          agreement_hold_missing),
    Check("agreement_hold_without_agreement", _("“Agreement in force” hold without an agreement in force"),
          agreement_hold_without_agreement),
    Check("hold_on_ended_case", _("Active hold on a resolved or closed case"), hold_on_ended_case),
    Check("several_open_cases", _("More than one open case for an account"), several_open_cases),
    Check("escalated_without_track", _("Escalated without an agency placement or litigation referral"),
          escalated_without_track),
    Check("payment_allocated_twice", _("Payment allocated twice"), payment_allocated_twice),
)
CHECKS_BY_CODE = {check.code: check for check in CHECKS}


@dataclass(frozen=True)
class Finding:
    check: Check
    count: int
    case_ids: list[int]  # the first `limit`, by id


def consistency_check(*, now: datetime | None = None, limit: int | None = CASES_KEPT) -> list[Finding]:
    """Run every check; a finding per check (count 0 when it holds)."""
    now = now or timezone.now()
    findings = []
    for check in CHECKS:
        cases = check.cases(now).order_by("pk").values_list("pk", flat=True)
        ids = list(cases if limit is None else cases[:limit])
        count = len(ids) if limit is None or len(ids) < limit else cases.count()
        findings.append(Finding(check=check, count=count, case_ids=ids))
    return findings


def case_number(case_id: int) -> str:
    return Case(pk=case_id).number


def consistency_run_record(*, now: datetime | None = None) -> ConsistencyRun:
    """Run the checks and keep the result (counts, and up to CASES_KEPT case ids a check); audited."""
    started = timezone.now()
    findings = consistency_check(now=now)
    with transaction.atomic():
        run = ConsistencyRun.objects.create(
            started_at=started,
            finished_at=timezone.now(),
            contradictions=sum(finding.count for finding in findings),
            results={finding.check.code: {"count": finding.count, "cases": finding.case_ids} for finding in findings},
        )
        audit.record(
            action="reporting.consistency_check",
            target=run,
            changes={finding.check.code: finding.count for finding in findings if finding.count},
        )
    return run


# --- The dashboard's view of the latest run -------------------------------------------------------


@dataclass(frozen=True)
class CheckRow:
    code: str
    label: str
    count: int


@dataclass(frozen=True)
class ConsistencySummary:
    run: ConsistencyRun
    rows: list[CheckRow]  # every check, in CHECKS order
    total: int


def consistency_summary(*, user) -> ConsistencySummary | None:
    """The latest stored run as this user may see it: everyone's counts for the roles that see every team,
    else the kept cases of their own teams. One query (two for a supervisor); None before the first run."""
    run = ConsistencyRun.objects.first()
    if run is None:
        return None
    results = {code: run.results.get(code, {"count": 0, "cases": []}) for code in CHECKS_BY_CODE}
    if user.sees_all_teams:
        counts = {code: result["count"] for code, result in results.items()}
    else:
        kept = {case_id for result in results.values() for case_id in result["cases"]}
        visible = set(visible_cases(user).filter(pk__in=kept).values_list("pk", flat=True))
        counts = {code: sum(1 for case_id in result["cases"] if case_id in visible) for code, result in results.items()}
    rows = [CheckRow(check.code, str(check.label), counts[check.code]) for check in CHECKS]
    return ConsistencySummary(run=run, rows=rows, total=sum(row.count for row in rows))


class UnknownCheck(ValueError):
    pass


def consistency_cases(*, user, code: str) -> QuerySet[Case]:
    """The visible cases the latest run found for one check (at most CASES_KEPT), by case number."""
    if code not in CHECKS_BY_CODE:
        raise UnknownCheck(code)
    run = ConsistencyRun.objects.first()
    ids = run.results.get(code, {}).get("cases", []) if run else []
    return (
        visible_cases(user)
        .filter(pk__in=ids)
        .select_related("account__debtor", "team", "assigned_to")
        .order_by("pk")
    )
