from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from compliance.complaints import WARNING_WINDOW
from compliance.models import Complaint, ContactPolicy, Hold
from compliance.policy import ReasonCode

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


# --- Complaints ----------------------------------------------------------------------------------

_NOTHING = Q(pk__in=[])
# cases.models.CaseStatus.ESCALATED; compliance never imports cases.
_ESCALATED = "escalated"


def case_scope(user, *, path: str = "") -> Q:
    """The cases a user may see, as a condition on `path` (the relation to a case, "" for the case
    itself). It mirrors cases.selectors.visible_cases, which compliance may not import; keep them alike."""
    prefix = f"{path}__" if path else ""
    if not user.is_authenticated or not user.is_active:
        return _NOTHING
    if user.sees_all_teams:
        return Q()
    if user.role == Role.SUPERVISOR:
        own_team = {f"{prefix}team_id": user.team_id, f"{prefix}team_id__isnull": False}
        return Q(**{f"{prefix}team__supervisor": user}) | Q(**own_team)
    if user.role == Role.COLLECTOR:
        return Q(**{f"{prefix}team_id": user.team_id}) if user.team_id else _NOTHING
    if user.role == Role.LEGAL:
        return Q(**{f"{prefix}status": _ESCALATED})
    return _NOTHING


def complaints_visible_to(user) -> QuerySet[Complaint]:
    """Compliance officers and admins see every complaint; supervisors those on their teams' cases and
    the unlinked ones they registered; legal, read-only, those on the cases it sees. Collectors register
    complaints but do not list them."""
    complaints = Complaint.objects.all()
    if not user.is_authenticated or not user.is_active:
        return complaints.none()
    if user.sees_all_teams:
        return complaints
    if user.role == Role.SUPERVISOR:
        return complaints.filter(case_scope(user, path="case") | Q(case__isnull=True, registered_by=user))
    if user.role == Role.LEGAL:
        return complaints.filter(case_scope(user, path="case"))
    return complaints.none()


OPEN = "open"


@dataclass(frozen=True)
class ComplaintFilters:
    status: str = ""  # a Complaint.Status, or "open" for received and acknowledged
    overdue: bool | None = None
    at_risk: bool | None = None
    category: str = ""
    case_id: int | None = None

    def apply(self, complaints: QuerySet[Complaint], now: datetime) -> QuerySet[Complaint]:
        if self.status == OPEN:
            complaints = complaints.exclude(status=Complaint.Status.RESOLVED)
        elif self.status:
            complaints = complaints.filter(status=self.status)
        overdue = ~Q(status=Complaint.Status.RESOLVED) & Q(due_at__lt=now)
        at_risk = ~Q(status=Complaint.Status.RESOLVED) & Q(due_at__gte=now, due_at__lte=now + WARNING_WINDOW)
        if self.overdue is not None:
            complaints = complaints.filter(overdue if self.overdue else ~overdue)
        if self.at_risk is not None:
            complaints = complaints.filter(at_risk if self.at_risk else ~at_risk)
        if self.category:
            complaints = complaints.filter(category=self.category)
        if self.case_id is not None:
            complaints = complaints.filter(case_id=self.case_id)
        return complaints


def complaint_list(*, user, filters: ComplaintFilters, now: datetime | None = None) -> QuerySet[Complaint]:
    """The complaints a user may see, soonest due first. One query, whatever the page size."""
    return (
        filters.apply(complaints_visible_to(user), now or timezone.now())
        .select_related("case__account__debtor", "registered_by", "handler", "extension_approved_by")
        .order_by("due_at", "pk")
    )


# --- Reading holds and decisions (case page, compliance dashboard) -------------------------------------

REASON_LABELS = {
    ReasonCode.OUTSIDE_CONTACT_HOURS: _("outside contact hours"),
    ReasonCode.DAILY_ATTEMPT_LIMIT: _("daily call limit"),
    ReasonCode.DAILY_CONVERSATION_LIMIT: _("daily conversation limit"),
    ReasonCode.WEEKLY_ATTEMPT_LIMIT: _("seven-day call limit"),
    ReasonCode.COOLING_OFF_AFTER_CONVERSATION: _("quiet period after a conversation"),
    ReasonCode.DO_NOT_CONTACT: _("do not contact"),
    ReasonCode.CHANNEL_OPT_OUT: _("opted out of the channel"),
    ReasonCode.DISPUTE_HOLD: _("dispute hold"),
    ReasonCode.AGREEMENT_IN_FORCE: _("agreement in force"),
    ReasonCode.THIRD_PARTY_FORBIDDEN: _("third party not allowed"),
    ReasonCode.BREATHING_SPACE: _("breathing space"),
    ReasonCode.COMPLAINT_HOLD: _("complaint under investigation"),
    ReasonCode.DECEASED: _("deceased"),
    ReasonCode.BANKRUPTCY: _("bankruptcy"),
    ReasonCode.PROMISE_PENDING: _("promise to pay pending"),
}


def reason_label(code: str) -> str:
    """A refusal reason code as people read it; an unknown code as it is."""
    return str(REASON_LABELS.get(code, code))


def holds_in_force(*, now: datetime | None = None) -> QuerySet[Hold]:
    """Holds stopping contact now, on every case: not lifted and not expired."""
    now = now or timezone.now()
    return Hold.objects.filter(lifted_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
