"""The register of licensed collection agencies: supervisors and admins keep it, legal and compliance read it.
A deactivated agency takes no new placement; the placements it already has are recalled one by one."""

import re

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Role
from compliance import audit
from config.errors import DomainError
from negotiation.models import Agency, Placement

EDITORS = {Role.SUPERVISOR, Role.ADMIN}
READERS = {Role.SUPERVISOR, Role.ADMIN, Role.LEGAL, Role.COMPLIANCE}
# A licence number as issued: letters, digits and - / . separators, starting with a letter or digit.
LICENCE_PATTERN = re.compile(r"^[A-Za-z0-9\u4e00-\u9fff][A-Za-z0-9\u4e00-\u9fff\-/.]{2,59}$")
NAME_MAX = 120
CONTACT_MAX = 200


class AgencyError:
    NAME_REQUIRED = "agency_name_required"
    NAME_TAKEN = "agency_name_taken"
    LICENCE_INVALID = "agency_licence_invalid"
    LICENCE_TAKEN = "agency_licence_taken"
    CONTACT_TOO_LONG = "agency_contact_too_long"
    REASON_REQUIRED = "reason_required"


def may_edit(user) -> bool:
    return user.is_superuser or user.role in EDITORS


def may_read(user) -> bool:
    return user.is_superuser or user.role in READERS


def _clean(*, name: str, licence_number: str, contact: str, exclude_id: int | None) -> dict:
    name, licence_number, contact = (name or "").strip(), (licence_number or "").strip(), (contact or "").strip()
    errors = {}
    if not name or len(name) > NAME_MAX:
        errors["name"] = (AgencyError.NAME_REQUIRED, _("Give the agency's name (at most %(max)d characters).")
                          % {"max": NAME_MAX})
    if not LICENCE_PATTERN.match(licence_number):
        errors["licence_number"] = (
            AgencyError.LICENCE_INVALID,
            _("A licence number has 3 to 60 letters, digits or the separators - / ."),
        )
    if len(contact) > CONTACT_MAX:
        errors["contact"] = (AgencyError.CONTACT_TOO_LONG, _("Keep the contact within %(max)d characters.")
                             % {"max": CONTACT_MAX})
    others = Agency.objects.exclude(pk=exclude_id) if exclude_id else Agency.objects.all()
    if "name" not in errors and others.filter(name__iexact=name).exists():
        errors["name"] = (AgencyError.NAME_TAKEN, _("Another agency has this name."))
    if "licence_number" not in errors and others.filter(licence_number__iexact=licence_number).exists():
        errors["licence_number"] = (AgencyError.LICENCE_TAKEN, _("Another agency has this licence number."))
    if errors:
        _field, (code, message) = next(iter(errors.items()))
        raise DomainError(message, code=code, details={name: text for name, (_code, text) in errors.items()})
    return {"name": name, "licence_number": licence_number, "contact": contact}


def _require_editor(actor) -> None:
    if not may_edit(actor):
        raise PermissionDenied(_("Only supervisors and administrators keep the agency register."))


def _taken(exc: IntegrityError) -> DomainError:
    # Two people saved the same name or licence at once: the database's unique constraints decided.
    return DomainError(_("Another agency has this name or licence number."), code=AgencyError.NAME_TAKEN)


def agency_create(*, actor, name: str, licence_number: str, contact: str = "") -> Agency:
    _require_editor(actor)
    fields = _clean(name=name, licence_number=licence_number, contact=contact, exclude_id=None)
    try:
        with transaction.atomic():
            agency = Agency.objects.create(**fields)
            audit.record(actor=actor, action="agency.create", target=agency, changes=fields)
    except IntegrityError as exc:
        raise _taken(exc) from exc
    return agency


def agency_update(*, agency_id: int, actor, name: str, licence_number: str, contact: str = "") -> Agency:
    _require_editor(actor)
    fields = _clean(name=name, licence_number=licence_number, contact=contact, exclude_id=agency_id)
    try:
        with transaction.atomic():
            agency = Agency.objects.select_for_update().get(pk=agency_id)
            changes = audit.changes_apply(agency, fields)
            if not changes:
                return agency
            agency.save(update_fields=list(fields))
            audit.record(actor=actor, action="agency.update", target=agency, changes=changes)
    except IntegrityError as exc:
        raise _taken(exc) from exc
    return agency


def agency_set_active(*, agency_id: int, actor, active: bool, reason: str = "") -> Agency:
    """Deactivate (with a reason: no new placements) or reactivate an agency; a repeat changes nothing."""
    _require_editor(actor)
    reason = (reason or "").strip()
    if not active and not reason:
        raise DomainError(_("Deactivating an agency needs a reason."), code=AgencyError.REASON_REQUIRED)
    with transaction.atomic():
        agency = Agency.objects.select_for_update().get(pk=agency_id)
        if agency.active == active:
            return agency
        agency.active = active
        agency.save(update_fields=["active"])
        audit.record(
            actor=actor, action="agency.activate" if active else "agency.deactivate", target=agency,
            changes={"active": [not active, active]}, reason=reason,
        )
    return agency


def agency_register() -> QuerySet:
    """Every agency with the cases placed with it now and the placements still on their way (one query)."""
    on_the_way = [Placement.Status.PROPOSED, Placement.Status.APPROVED, Placement.Status.NOTIFIED]
    return Agency.objects.annotate(
        placed_now=Count("placements", filter=Q(placements__status=Placement.Status.HANDED_OVER)),
        placements_pending=Count("placements", filter=Q(placements__status__in=on_the_way)),
    ).order_by("-active", "name", "pk")
