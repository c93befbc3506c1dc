"""Escalation: agency placement, litigation referral, and the supervisor's decision on a dispute.

Collectors (and supervisors, legal) propose; a supervisor other than the proposer approves, which
escalates the case; legal files referrals. An agency receives the case only after the cardholder was
notified (docs/architecture.md), and then only the minimum it needs to collect (`placement_data`): name,
mobile, card tail, overdue amounts and days past due — never the national id, not even masked, nor
email, address or contact persons.
"""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.roles import role_require
from cases.models import ESCALATABLE_STATES, Case, CaseStatus
from cases.services import case_transition, case_transition_by_system
from compliance import audit
from compliance.models import Hold
from compliance.selectors import active_holds
from compliance.services import hold_lift
from config.errors import Conflict, DomainError
from negotiation.dispatch import letter_issue
from negotiation.models import Agency, Channel, Letter, LitigationReferral, OutboundMessage, Placement
from negotiation.services import ContactForbidden, message_queue

PROPOSERS = {Role.COLLECTOR, Role.SUPERVISOR, Role.LEGAL, Role.ADMIN}
APPROVERS = {Role.SUPERVISOR, Role.ADMIN}
PLACEMENT_HANDLERS = {Role.SUPERVISOR, Role.LEGAL, Role.ADMIN}
FILERS = {Role.LEGAL, Role.ADMIN}
WITHDRAWERS = {Role.SUPERVISOR, Role.LEGAL, Role.ADMIN}
DISPUTE_DECIDERS = {Role.SUPERVISOR, Role.ADMIN}
NOTICE_SENT = (OutboundMessage.Status.SENT, OutboundMessage.Status.DELIVERED)


class EscalationErrorCode:
    CASE_CLOSED = "case_closed"
    NOT_ESCALATABLE = "not_escalatable"
    AGENCY_INACTIVE = "agency_inactive"
    ALREADY_PLACED = "already_placed"
    ALREADY_REFERRED = "already_referred"
    WRONG_STATUS = "wrong_status"
    SAME_PERSON = "approver_is_proposer"
    DEBTOR_NOT_NOTIFIED = "debtor_not_notified"
    CASE_ON_HOLD = "case_on_hold"
    REASON_REQUIRED = "reason_required"
    NO_DISPUTE = "no_dispute"
    UNKNOWN_OUTCOME = "unknown_outcome"


class DebtorNotNotified(Conflict):
    """A placement is handed over only after the cardholder's notice went out."""

    code = EscalationErrorCode.DEBTOR_NOT_NOTIFIED


class ApproverIsProposer(PermissionDenied):
    """Four eyes: the person who proposed may not approve."""

    code = EscalationErrorCode.SAME_PERSON


def _reason(reason: str, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(message, code=EscalationErrorCode.REASON_REQUIRED)
    return reason


def _wrong_status(record) -> Conflict:
    return Conflict(
        _("Not possible while it is “%(status)s”.") % {"status": record.get_status_display()},
        code=EscalationErrorCode.WRONG_STATUS,
    )


def _lock_case(case_id: int) -> Case:
    # Row locks before any audit write (see cases.services.case_evidence_record).
    return Case.objects.select_for_update(of=("self",)).select_related("account__debtor").get(pk=case_id)


def _escalate(case: Case, actor, reason: str) -> None:
    """Escalate the case on approval; an already escalated case stays; any other state refuses."""
    if case.status == CaseStatus.ESCALATED:
        return
    if case.status not in ESCALATABLE_STATES:
        raise Conflict(
            _("A case in “%(state)s” cannot be escalated.") % {"state": case.get_status_display()},
            code=EscalationErrorCode.NOT_ESCALATABLE,
        )
    case_transition(case_id=case.pk, name="escalate", actor=actor, reason=reason)


def _return_when_untracked(case_id: int, reason: str) -> None:
    """An escalated case whose last approved placement or referral ended goes back to negotiation: nobody
    outside works it any more, and escalated means somebody does."""
    tracked = (
        Placement.objects.filter(case_id=case_id, status__in=Placement.ACTIVE)
        .exclude(status=Placement.Status.PROPOSED)
        .exists()
        or LitigationReferral.objects.filter(case_id=case_id, status__in=LitigationReferral.ACTIVE)
        .exclude(status=LitigationReferral.Status.PROPOSED)
        .exists()
    )
    if not tracked and Case.objects.filter(pk=case_id, status=CaseStatus.ESCALATED).exists():
        case_transition_by_system(case_id=case_id, name="return_to_negotiation", reason=reason)


def _approver(record, actor) -> None:
    role_require(actor, APPROVERS, _("Only a supervisor approves escalations."))
    if record.proposed_by_id == actor.pk:
        raise ApproverIsProposer(_("Someone other than the proposer must approve."))


# --- Agency placement --------------------------------------------------------------------------------


def placement_data(case: Case) -> dict:
    """The minimum that leaves the bank with a placement."""
    account = case.account
    return {
        "case": case.number,
        "name": account.debtor.full_name,
        "mobile": account.debtor.mobile,
        "card_last4": account.card_last4,
        "currency": account.currency,
        "principal_overdue": str(account.principal_overdue),
        "interest_overdue": str(account.interest_overdue),
        "fees_overdue": str(account.fees_overdue),
        "overdue_total": str(account.principal_overdue + account.interest_overdue + account.fees_overdue),
        "delinquent_since": account.delinquent_since.isoformat() if account.delinquent_since else None,
        "days_past_due": account.days_past_due(),
    }


def placement_propose(*, case_id: int, agency_id: int, actor) -> Placement:
    role_require(actor, PROPOSERS, _("Your role does not propose agency placements."))
    with transaction.atomic():
        case = _lock_case(case_id)
        if not case.is_open:
            raise Conflict(_("The case is closed."), code=EscalationErrorCode.CASE_CLOSED)
        agency = Agency.objects.get(pk=agency_id)
        if not agency.active:
            raise DomainError(_("This agency is not active."), code=EscalationErrorCode.AGENCY_INACTIVE)
        if Placement.objects.filter(case=case, status__in=Placement.ACTIVE).exists():
            raise Conflict(_("The case already has an open placement."), code=EscalationErrorCode.ALREADY_PLACED)
        try:
            with transaction.atomic():
                placement = Placement.objects.create(case=case, agency=agency, proposed_by=actor)
        except IntegrityError as exc:  # another proposal won the race
            message = _("The case already has an open placement.")
            raise Conflict(message, code=EscalationErrorCode.ALREADY_PLACED) from exc
        audit.record(
            actor=actor, action="placement.propose", target=placement, case_id=case.pk,
            changes={"agency": agency.name},
        )
    return placement


def _locked_placement(placement_id: int) -> Placement:
    case_id = Placement.objects.values_list("case_id", flat=True).get(pk=placement_id)
    _lock_case(case_id)
    return Placement.objects.select_for_update(of=("self",)).select_related("agency").get(pk=placement_id)


def placement_approve(*, placement_id: int, actor, reason: str = "") -> Placement:
    """A supervisor other than the proposer approves; the case is escalated."""
    with transaction.atomic():
        placement = _locked_placement(placement_id)
        _approver(placement, actor)
        if placement.status != Placement.Status.PROPOSED:
            raise _wrong_status(placement)
        reason = (reason or "").strip() or _("Agency placement with %(agency)s approved.") % {
            "agency": placement.agency.name
        }
        placement.status = Placement.Status.APPROVED
        placement.approved_by, placement.approved_at = actor, timezone.now()
        placement.save(update_fields=["status", "approved_by", "approved_at"])
        audit.record(
            actor=actor, action="placement.approve", target=placement, case_id=placement.case_id, reason=reason
        )
        _escalate(Case.objects.get(pk=placement.case_id), actor, reason)
    return placement


def placement_notify(*, placement_id: int, actor) -> Placement:
    """Send the cardholder the notice of the placement through the outbox (and so through the gate)."""
    role_require(actor, PLACEMENT_HANDLERS, _("Your role does not handle agency placements."))
    with transaction.atomic():
        placement = _locked_placement(placement_id)
        if placement.status != Placement.Status.APPROVED:
            raise _wrong_status(placement)
        debtor = placement.case.account.debtor
        with translation.override(debtor.preferred_language):
            text = _(
                "Notice on your card ending %(last4)s: from %(date)s your overdue account will be handled by "
                "%(agency)s (licence %(licence)s) on our behalf. Questions: contact us on the number on your "
                "statement."
            ) % {
                "last4": placement.case.account.card_last4,
                "date": timezone.localdate().isoformat(),
                "agency": placement.agency.name,
                "licence": placement.agency.licence_number,
            }
        message = message_queue(
            case_id=placement.case_id, channel=Channel.SMS, text=text,
            idempotency_key=f"placement-notice:{placement.pk}", actor=actor,
        )
        placement.status = Placement.Status.NOTIFIED
        placement.notice = message
        placement.save(update_fields=["status", "notice"])
        audit.record(
            actor=actor, action="placement.notify", target=placement, case_id=placement.case_id,
            changes={"message": message.pk},
        )
    return placement


def placement_hand_over(*, placement_id: int, actor) -> Placement:
    """Hand the minimum data to the agency: only after the notice was sent, and not while the case is held."""
    role_require(actor, PLACEMENT_HANDLERS, _("Your role does not handle agency placements."))
    with transaction.atomic():
        placement = _locked_placement(placement_id)
        if placement.status in (Placement.Status.PROPOSED, Placement.Status.APPROVED):
            raise DebtorNotNotified(_("The cardholder must be notified of the placement before the handover."))
        if placement.status != Placement.Status.NOTIFIED:
            raise _wrong_status(placement)
        notice = OutboundMessage.objects.get(pk=placement.notice_id)
        if notice.status not in NOTICE_SENT:
            raise DebtorNotNotified(
                _("The notice to the cardholder has not been sent yet (it is “%(status)s”).")
                % {"status": notice.get_status_display()}
            )
        if active_holds(case_id=placement.case_id).exists():
            raise Conflict(_("The case is on hold; nothing is handed over."), code=EscalationErrorCode.CASE_ON_HOLD)
        case = Case.objects.select_related("account__debtor").get(pk=placement.case_id)
        placement.debtor_notified_at = notice.sent_at
        placement.data_sent = placement_data(case)
        placement.status = Placement.Status.HANDED_OVER
        placement.handed_over_at = timezone.now()
        placement.save(update_fields=["debtor_notified_at", "data_sent", "status", "handed_over_at"])
        audit.record(
            actor=actor, action="placement.hand_over", target=placement, case_id=placement.case_id,
            changes={"agency": placement.agency.name, "fields": sorted(placement.data_sent)},
        )
    return placement


def placement_recall(*, placement_id: int, actor, reason: str) -> Placement:
    role_require(actor, PLACEMENT_HANDLERS, _("Your role does not handle agency placements."))
    reason = _reason(reason, _("A recall needs a reason."))
    with transaction.atomic():
        placement = _locked_placement(placement_id)
        if placement.status == Placement.Status.RECALLED:
            raise _wrong_status(placement)
        source = placement.status
        placement.status = Placement.Status.RECALLED
        placement.recalled_at, placement.recall_reason = timezone.now(), reason
        placement.save(update_fields=["status", "recalled_at", "recall_reason"])
        audit.record(
            actor=actor, action="placement.recall", target=placement, case_id=placement.case_id,
            changes={"status": [source, placement.status]}, reason=reason,
        )
        _return_when_untracked(placement.case_id, reason)
    return placement


# --- Litigation referral -----------------------------------------------------------------------------


def referral_propose(*, case_id: int, actor, notes: str = "") -> LitigationReferral:
    role_require(actor, PROPOSERS, _("Your role does not propose litigation."))
    with transaction.atomic():
        case = _lock_case(case_id)
        if not case.is_open:
            raise Conflict(_("The case is closed."), code=EscalationErrorCode.CASE_CLOSED)
        if LitigationReferral.objects.filter(case=case, status__in=LitigationReferral.ACTIVE).exists():
            raise Conflict(_("The case already has an open referral."), code=EscalationErrorCode.ALREADY_REFERRED)
        referral = LitigationReferral.objects.create(case=case, proposed_by=actor, notes=notes.strip())
        audit.record(actor=actor, action="litigation.propose", target=referral, case_id=case.pk)
    return referral


def _locked_referral(referral_id: int) -> LitigationReferral:
    case_id = LitigationReferral.objects.values_list("case_id", flat=True).get(pk=referral_id)
    _lock_case(case_id)
    return LitigationReferral.objects.select_for_update().get(pk=referral_id)


def referral_approve(*, referral_id: int, actor, reason: str = "", legal_owner_id: int | None = None):
    """A supervisor other than the proposer approves; the case is escalated and reaches legal."""
    with transaction.atomic():
        referral = _locked_referral(referral_id)
        _approver(referral, actor)
        if referral.status != LitigationReferral.Status.PROPOSED:
            raise _wrong_status(referral)
        reason = (reason or "").strip() or _("Litigation referral approved.")
        referral.status = LitigationReferral.Status.APPROVED
        referral.approved_by, referral.approved_at = actor, timezone.now()
        if legal_owner_id is not None:
            referral.legal_owner_id = legal_owner_id
        referral.save(update_fields=["status", "approved_by", "approved_at", "legal_owner"])
        audit.record(
            actor=actor, action="litigation.approve", target=referral, case_id=referral.case_id, reason=reason,
            changes={"legal_owner": referral.legal_owner_id},
        )
        _escalate(Case.objects.get(pk=referral.case_id), actor, reason)
    return referral


def referral_file(*, referral_id: int, actor, notes: str = "") -> LitigationReferral:
    """Legal records that the claim was filed; the filer becomes the owner if there was none."""
    role_require(actor, FILERS, _("Only legal files litigation."))
    with transaction.atomic():
        referral = _locked_referral(referral_id)
        if referral.status != LitigationReferral.Status.APPROVED:
            raise _wrong_status(referral)
        referral.status = LitigationReferral.Status.FILED
        referral.filed_at = timezone.now()
        referral.legal_owner_id = referral.legal_owner_id or actor.pk
        if notes.strip():
            referral.notes = "\n".join(part for part in (referral.notes, notes.strip()) if part)
        referral.save(update_fields=["status", "filed_at", "legal_owner", "notes"])
        audit.record(actor=actor, action="litigation.file", target=referral, case_id=referral.case_id)
    return referral


def referral_withdraw(*, referral_id: int, actor, reason: str) -> LitigationReferral:
    role_require(actor, WITHDRAWERS, _("Your role does not withdraw litigation."))
    reason = _reason(reason, _("A withdrawal needs a reason."))
    with transaction.atomic():
        referral = _locked_referral(referral_id)
        if referral.status == LitigationReferral.Status.WITHDRAWN:
            raise _wrong_status(referral)
        source = referral.status
        referral.status = LitigationReferral.Status.WITHDRAWN
        referral.withdrawn_at = timezone.now()
        referral.save(update_fields=["status", "withdrawn_at"])
        audit.record(
            actor=actor, action="litigation.withdraw", target=referral, case_id=referral.case_id,
            changes={"status": [source, referral.status]}, reason=reason,
        )
        _return_when_untracked(referral.case_id, reason)
    return referral


# --- Disputes ----------------------------------------------------------------------------------------


class DisputeOutcome:
    UPHELD = "upheld"
    REJECTED = "rejected"
    ALL = (UPHELD, REJECTED)


@dataclass
class DisputeResolution:
    outcome: str
    hold: Hold
    case: Case
    letter: Letter | None = None
    letter_refused: list = field(default_factory=list)


def dispute_resolve(*, case_id: int, outcome: str, reason: str, actor) -> DisputeResolution:
    """A supervisor decides a verified dispute. Upheld: the hold is lifted and the case closed.
    Rejected: the hold is lifted and a collection letter is issued (if the gate allows it then)."""
    role_require(actor, DISPUTE_DECIDERS, _("Only a supervisor decides disputes."))
    if outcome not in DisputeOutcome.ALL:
        message = _("Choose whether the dispute is upheld or rejected.")
        raise DomainError(message, code=EscalationErrorCode.UNKNOWN_OUTCOME)
    reason = _reason(reason, _("Deciding a dispute needs a reason."))
    with transaction.atomic():
        case = _lock_case(case_id)
        hold = active_holds(case_id=case.pk).filter(kind=Hold.Kind.DISPUTE).first()
        if hold is None:
            raise Conflict(_("The case has no open dispute."), code=EscalationErrorCode.NO_DISPUTE)
        hold = hold_lift(hold_id=hold.pk, reason=reason, actor=actor)
        audit.record(
            actor=actor, action="dispute.resolve", target=case, case_id=case.pk,
            changes={"outcome": outcome, "hold": hold.pk}, reason=reason,
        )
        if outcome == DisputeOutcome.UPHELD:
            case = case_transition(case_id=case.pk, name="close", actor=actor, reason=reason)
    result = DisputeResolution(outcome=outcome, hold=hold, case=case)
    if outcome == DisputeOutcome.REJECTED:
        # The decision stands even when the letter cannot go now (another hold, nothing overdue);
        # the refusal is reported and the gate's decision is kept.
        try:
            result.letter = letter_issue(
                case_id=case.pk, kind=Letter.Kind.COLLECTION_LETTER, actor=actor, path="dispute"
            )
        except ContactForbidden as error:
            result.letter_refused = error.decision.reasons
        except DomainError as error:
            result.letter_refused = [{"code": error.code, "detail": error.message}]
    return result


# --- Reads -------------------------------------------------------------------------------------------


def placements_visible(user):
    """Placements of the cases this user may see, newest first; one query with their case and agency."""
    from cases.selectors import visible_cases

    return (
        Placement.objects.filter(case__in=visible_cases(user))
        .select_related("case__account__debtor", "agency", "proposed_by", "approved_by")
        .order_by("-proposed_at", "-pk")
    )


def referrals_visible(user):
    """Litigation referrals of the cases this user may see, newest first."""
    from cases.selectors import visible_cases

    return (
        LitigationReferral.objects.filter(case__in=visible_cases(user))
        .select_related("case__account__debtor", "proposed_by", "approved_by", "legal_owner")
        .order_by("-proposed_at", "-pk")
    )
