"""Field visits (上门催收): the mid-class strategy's visit by two staff with a supervisor's approval.

A visit is requested with a planned time, one of the cardholder's addresses on record and exactly two
staff; a supervisor of the case's team (or an admin) who did not request it approves or rejects it with a
reason. Only an approved visit is logged, as a contact on the visit channel through the contact gate
(`services.contact_record` with `visit_id`), which records both staff and marks the visit done.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role
from accounts.roles import role_require
from cases.models import Case
from compliance import audit
from compliance.models import ScreeningHit
from compliance.services import text_screen
from config.errors import Conflict, DomainError
from negotiation.models import Channel, Contact, FieldVisit, Party
from negotiation.services import contact_record

REQUESTERS = {Role.COLLECTOR, Role.SUPERVISOR, Role.ADMIN}
DECIDERS = {Role.SUPERVISOR, Role.ADMIN}
# The people who go: collection staff, never a compliance officer or an administrator's account.
STAFF_ROLES = {Role.COLLECTOR, Role.SUPERVISOR}
STAFF_PER_VISIT = 2
MAX_DAYS_AHEAD = 60


class AddressKind:
    """Which address on record a visit goes to. The cardholder record keeps only the city of residence."""

    RESIDENCE_CITY = "residence_city"
    LABELS = {RESIDENCE_CITY: gettext_lazy("city of residence on record")}


class VisitError:
    TWO_STAFF = "visit_needs_two_distinct_staff"
    STAFF_INVALID = "visit_staff_not_available"
    PLANNED_AT = "visit_planned_time_invalid"
    ADDRESS = "visit_address_not_on_record"
    ALREADY_OPEN = "visit_already_open"
    CASE_CLOSED = "case_closed"
    WRONG_STATUS = "visit_wrong_status"
    REASON_REQUIRED = "reason_required"
    DECIDER_IS_REQUESTER = "visit_decider_is_requester"
    NOT_CASE_SUPERVISOR = "visit_not_case_supervisor"


class VisitDecidedByRequester(PermissionDenied):
    """Four eyes: whoever requested a visit may not approve or reject it."""

    code = VisitError.DECIDER_IS_REQUESTER


class NotCaseSupervisor(PermissionDenied):
    code = VisitError.NOT_CASE_SUPERVISOR


def addresses_on_record(case: Case) -> dict[str, str]:
    """The cardholder's addresses a visit may go to, by kind; empty when the record has none."""
    debtor = case.account.debtor
    return {AddressKind.RESIDENCE_CITY: debtor.city} if debtor.city.strip() else {}


def address_choices(case: Case) -> list[tuple[str, str]]:
    return [(kind, f"{AddressKind.LABELS[kind]}: {address}") for kind, address in addresses_on_record(case).items()]


def staff_candidates(case: Case) -> QuerySet:
    """Who may be named for a visit on this case: active collection staff of its team and its supervisor."""
    users = get_user_model().objects.filter(is_active=True, role__in=STAFF_ROLES)
    team = case.team
    if team is None:
        return users.none()
    return users.filter(team=team) | users.filter(pk=team.supervisor_id)


def _reason(reason: str, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(message, code=VisitError.REASON_REQUIRED)
    return reason


def _staff(staff_ids: Sequence[int]) -> list:
    try:
        ids = [int(pk) for pk in staff_ids if pk not in (None, "")]
    except (TypeError, ValueError):
        ids = []
    if len(ids) != STAFF_PER_VISIT or len(set(ids)) != STAFF_PER_VISIT:
        raise DomainError(_("Name exactly two different staff members for a visit."), code=VisitError.TWO_STAFF)
    found = {user.pk: user for user in get_user_model().objects.filter(pk__in=ids)}
    unavailable = [pk for pk in ids if pk not in found or not found[pk].is_active or found[pk].role not in STAFF_ROLES]
    if unavailable:
        raise DomainError(
            _("Both staff members must be active collectors or supervisors."),
            code=VisitError.STAFF_INVALID,
            details={"staff": unavailable},
        )
    return [found[pk] for pk in ids]


def _planned_at(planned_at: datetime, now: datetime) -> datetime:
    latest = now + timedelta(days=MAX_DAYS_AHEAD)
    if planned_at is None or timezone.is_naive(planned_at) or not now < planned_at <= latest:
        raise DomainError(
            _("Plan the visit for a time after now and within %(days)d days.") % {"days": MAX_DAYS_AHEAD},
            code=VisitError.PLANNED_AT,
        )
    return planned_at


def _lock_case(case_id: int) -> Case:
    # The case row first, before any audit write (see cases.services.case_evidence_record).
    return Case.objects.select_for_update(of=("self",)).select_related("account__debtor", "team").get(pk=case_id)


def visit_request(
    *,
    case_id: int,
    actor,
    planned_at: datetime,
    address_kind: str,
    staff_ids: Sequence[int],
    purpose: str = "",
    now: datetime | None = None,
) -> FieldVisit:
    """Ask for a visit: a time ahead, an address on record and two distinct active staff (the requester may
    be one). One open visit per case."""
    role_require(actor, REQUESTERS, _("Your role does not request field visits."))
    now = now or timezone.now()
    planned_at = _planned_at(planned_at, now)
    first, second = _staff(staff_ids)
    purpose = (purpose or "").strip()
    with transaction.atomic():
        case = _lock_case(case_id)
        if not case.is_open:
            raise Conflict(_("The case is closed."), code=VisitError.CASE_CLOSED)
        addresses = addresses_on_record(case)
        if address_kind not in addresses:
            raise DomainError(
                _("Choose one of the cardholder's addresses on record."),
                code=VisitError.ADDRESS,
                details={"on_record": sorted(addresses)},
            )
        if FieldVisit.objects.filter(case=case, status__in=FieldVisit.OPEN).exists():
            raise Conflict(_("The case already has an open field visit."), code=VisitError.ALREADY_OPEN)
        try:
            with transaction.atomic():
                visit = FieldVisit.objects.create(
                    case=case, planned_at=planned_at, address_kind=address_kind, address=addresses[address_kind],
                    first_staff=first, second_staff=second, purpose=purpose, requested_by=actor, requested_at=now,
                )
        except IntegrityError as exc:  # another request won the race
            raise Conflict(_("The case already has an open field visit."), code=VisitError.ALREADY_OPEN) from exc
        audit.record(
            actor=actor,
            action="visit.request",
            target=visit,
            case_id=case.pk,
            changes={"planned_at": planned_at, "address_kind": address_kind, "staff": [first.pk, second.pk]},
        )
        if purpose:
            text_screen(
                text=purpose, source=ScreeningHit.Source.NOTE, case_id=case.pk, author=actor,
                source_ref=f"visit:{visit.pk}", block=False,
            )
    return visit


def may_decide(actor, case: Case) -> bool:
    """An admin, or a supervisor of the case's team (its named supervisor or a supervisor in it)."""
    if actor.is_superuser or actor.role == Role.ADMIN:
        return True
    if actor.role != Role.SUPERVISOR or case.team_id is None:
        return False
    return case.team.supervisor_id == actor.pk or actor.team_id == case.team_id


def _locked_visit(visit_id: int) -> tuple[Case, FieldVisit]:
    case_id = FieldVisit.objects.values_list("case_id", flat=True).get(pk=visit_id)
    case = _lock_case(case_id)
    return case, FieldVisit.objects.select_for_update(of=("self",)).get(pk=visit_id)


def _wrong_status(visit: FieldVisit) -> Conflict:
    return Conflict(
        _("Not possible while the visit is “%(status)s”.") % {"status": visit.get_status_display()},
        code=VisitError.WRONG_STATUS,
    )


def _decide(*, visit_id: int, actor, reason: str, status: str) -> FieldVisit:
    reason = _reason(reason, _("Approving or rejecting a visit needs a reason."))
    with transaction.atomic():
        case, visit = _locked_visit(visit_id)
        if not may_decide(actor, case):
            raise NotCaseSupervisor(_("Only a supervisor of the case's team approves or rejects field visits."))
        if visit.requested_by_id == actor.pk:
            raise VisitDecidedByRequester(_("Someone other than the requester must decide on the visit."))
        if visit.status != FieldVisit.Status.REQUESTED:
            raise _wrong_status(visit)
        visit.status = status
        visit.decided_by, visit.decided_at, visit.decision_reason = actor, timezone.now(), reason
        visit.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        audit.record(
            actor=actor,
            action=f"visit.{'approve' if status == FieldVisit.Status.APPROVED else 'reject'}",
            target=visit,
            case_id=case.pk,
            changes={"status": [FieldVisit.Status.REQUESTED, status]},
            reason=reason,
        )
    return visit


def visit_approve(*, visit_id: int, actor, reason: str) -> FieldVisit:
    return _decide(visit_id=visit_id, actor=actor, reason=reason, status=FieldVisit.Status.APPROVED)


def visit_reject(*, visit_id: int, actor, reason: str) -> FieldVisit:
    return _decide(visit_id=visit_id, actor=actor, reason=reason, status=FieldVisit.Status.REJECTED)


def may_cancel(actor, visit: FieldVisit, case: Case) -> bool:
    return actor.pk == visit.requested_by_id or actor.pk in visit.staff_ids or may_decide(actor, case)


def visit_cancel(*, visit_id: int, actor, reason: str) -> FieldVisit:
    """Call off an open visit (its requester, its staff or a supervisor of the team), with a reason."""
    reason = _reason(reason, _("Cancelling a visit needs a reason."))
    with transaction.atomic():
        case, visit = _locked_visit(visit_id)
        if not may_cancel(actor, visit, case):
            raise PermissionDenied(_("Only the requester, the visit's staff or a supervisor cancel a visit."))
        if not visit.is_open:
            raise _wrong_status(visit)
        source = visit.status
        visit.status = FieldVisit.Status.CANCELLED
        visit.cancelled_by, visit.cancelled_at, visit.cancel_reason = actor, timezone.now(), reason
        visit.save(update_fields=["status", "cancelled_by", "cancelled_at", "cancel_reason"])
        audit.record(
            actor=actor, action="visit.cancel", target=visit, case_id=case.pk,
            changes={"status": [source, visit.status]}, reason=reason,
        )
    return visit


def visit_log(
    *,
    visit_id: int,
    actor,
    outcome: str,
    at: datetime | None = None,
    party: str = Party.DEBTOR,
    duration_seconds: int | None = None,
    notes: str = "",
    next_step: str = "",
    path: str = "api",
) -> Contact:
    """Log what happened on an approved visit: a contact on the visit channel that the gate judges at `at`."""
    case_id = FieldVisit.objects.values_list("case_id", flat=True).get(pk=visit_id)
    return contact_record(
        case_id=case_id,
        channel=Channel.VISIT,
        outcome=outcome,
        actor=actor,
        party=party,
        at=at,
        duration_seconds=duration_seconds,
        notes=notes,
        next_step=next_step,
        path=path,
        visit_id=visit_id,
    )


# --- Reads -------------------------------------------------------------------------------------------


def visits_pending_for(user) -> QuerySet:
    """Requested visits this user may decide, soonest first; one query with their case and people."""
    from cases.selectors import visible_cases

    if not (user.is_superuser or user.role in (Role.SUPERVISOR, Role.ADMIN)):
        return FieldVisit.objects.none()
    # A supervisor sees the cases of the teams they supervise or belong to: the same people may_decide allows.
    visits = FieldVisit.objects.filter(status=FieldVisit.Status.REQUESTED, case__in=visible_cases(user))
    return visits.select_related(
        "case__account__debtor", "first_staff", "second_staff", "requested_by"
    ).order_by("planned_at", "pk")


def visits_of(case: Case, limit: int = 10) -> list[FieldVisit]:
    """The case's latest visits with their people and contact (one query)."""
    return list(
        case.visits.select_related("first_staff", "second_staff", "requested_by", "decided_by", "contact")
        .order_by("-requested_at", "-pk")[:limit]
    )
