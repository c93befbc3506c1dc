"""Reads of offers and agreements: a case's offers side by side, the supervisor's approval queue, the verified
income, and the signed agreements staff may see."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from accounts.models import Role
from cases.models import Case
from cases.selectors import visible_cases
from plans.models import Agreement, Installment, Offer

APPROVAL_QUEUE_SIZE = 100


def latest_verified_verification(case: Case):
    """The newest completed verification with the outcome verified, or None (read through the reverse relation)."""
    return (
        case.verifications.filter(outcome="verified", completed_at__isnull=False)
        .order_by("-completed_at", "-pk")
        .first()
    )


def offers_for_case(*, case: Case) -> QuerySet[Offer]:
    """The case's offers, newest first, with their makers and deciders (one query)."""
    return case.offers.select_related("created_by", "decided_by").order_by("-created_at", "-pk")


def approval_queue(*, user) -> QuerySet[Offer]:
    """Offers awaiting approval in the user's teams, oldest first; nothing for roles that do not approve."""
    if not (user.is_superuser or user.role in (Role.SUPERVISOR, Role.ADMIN)):
        return Offer.objects.none()
    return (
        Offer.objects.filter(status=Offer.Status.PENDING_APPROVAL, case__in=visible_cases(user))
        .select_related("case__account__debtor", "case__team", "created_by")
        .order_by("created_at", "pk")
    )


def pending_approval_count(*, user) -> int:
    return approval_queue(user=user).count()


def _with_installments(agreements: QuerySet[Agreement]) -> QuerySet[Agreement]:
    return agreements.prefetch_related(
        Prefetch("installments", queryset=Installment.objects.order_by("number"))
    ).order_by("-signed_at", "-pk")


def agreements_visible(*, user, case_id: int | None = None) -> QuerySet[Agreement]:
    """Signed agreements of the cases this user may see (visible_cases), newest first, with their installments
    in order: two queries, however many agreements and installments."""
    agreements = Agreement.objects.filter(case__in=visible_cases(user))
    if case_id is not None:
        agreements = agreements.filter(case_id=case_id)
    return _with_installments(agreements)


def agreements_of_case(*, case: Case) -> QuerySet[Agreement]:
    """The agreements of a case its caller has already found among visible_cases, as agreements_visible gives them."""
    return _with_installments(Agreement.objects.filter(case=case))


@dataclass(frozen=True)
class AgreementTotals:
    payable: Decimal
    paid: Decimal
    outstanding: Decimal


def agreement_totals(agreement: Agreement) -> AgreementTotals:
    """What the schedule asks in all, what is paid and what is still owed (from the prefetched installments)."""
    rows = agreement.installments.all()
    zero = Decimal("0.00")
    return AgreementTotals(
        payable=sum((row.amount for row in rows), zero),
        paid=sum((row.paid_amount for row in rows), zero),
        outstanding=sum((row.outstanding for row in rows), zero),
    )
