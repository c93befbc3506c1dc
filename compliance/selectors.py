from django.db.models import Q, QuerySet
from django.utils import timezone

from compliance.models import ContactPolicy, Hold

DEFAULT_JURISDICTION = "CN"


def active_policy(*, jurisdiction: str) -> ContactPolicy:
    """The newest version for the jurisdiction; the default jurisdiction's when it has none."""
    policy = ContactPolicy.objects.filter(jurisdiction=jurisdiction).order_by("-version").first()
    if policy is None:
        policy = ContactPolicy.objects.filter(jurisdiction=DEFAULT_JURISDICTION).order_by("-version").first()
    return policy


def active_holds(*, case_id: int) -> QuerySet[Hold]:
    now = timezone.now()
    return Hold.objects.filter(case_id=case_id, lifted_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )
