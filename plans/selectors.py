"""Reads of offers: a case's offers side by side, the supervisor's approval queue, the verified income."""

from django.db.models import QuerySet

from accounts.models import Role
from cases.models import Case
from cases.selectors import visible_cases
from plans.models import Offer

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
