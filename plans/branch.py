"""An agreement signed on paper at a branch (网点签署): one staff member uploads the signed scan, a supervisor of
the case's team who did not upload it confirms it, and only then is the agreement signed, through the same
`agreements.agreement_keep` as a portal signature. The scan is the agreement's document: its bytes and SHA-256
are what the agreement keeps and serves."""

import hashlib
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.roles import role_require
from cases.models import CardAccount, Case, CaseStatus
from cases.selectors import visible_cases
from compliance import audit
from compliance.reasons import ReasonCode, reason_stored
from config.errors import Conflict, DomainError
from plans.agreements import agreement_keep, agreement_number
from plans.models import Agreement, BranchSignature, Offer

PDF_MAGIC = b"%PDF-"
UPLOADERS = {Role.COLLECTOR, Role.SUPERVISOR, Role.ADMIN}
CONFIRMERS = {Role.SUPERVISOR, Role.ADMIN}
# An offer the cardholder may sign on paper: approved (ready), sent, or accepted in the portal.
SIGNABLE = (Offer.Status.READY, Offer.Status.OFFERED, Offer.Status.ACCEPTED)


class BranchSignatureError:
    NOT_PDF = "scan_not_pdf"
    EMPTY = "scan_empty"
    TOO_LARGE = "scan_too_large"
    CASE_STATE = "case_not_in_plan"
    OFFER_NOT_SIGNABLE = "offer_not_signable"
    OFFER_STALE = "offer_stale"
    PENDING_EXISTS = "branch_signature_pending"
    NOT_PENDING = "branch_signature_not_pending"
    SAME_PERSON = "uploader_cannot_confirm"
    REASON_REQUIRED = "reason_required"
    SCAN_ALTERED = "scan_altered"


def _require_uploader(case: Case, actor: User) -> None:
    """The case's own collector, a supervisor of its team, or an admin."""
    role_require(actor, UPLOADERS, _("Your role does not upload signed agreements."))
    if not visible_cases(actor).filter(pk=case.pk).exists():
        raise PermissionDenied(_("This case is not in your teams."))
    if actor.role == Role.COLLECTOR and not actor.is_superuser and case.assigned_to_id != actor.pk:
        raise PermissionDenied(_("Only the case's own collector or a supervisor uploads its signed agreement."))


def _require_decider(signature: BranchSignature, actor: User) -> None:
    """A supervisor of the case's team, or an admin, who did not upload the scan."""
    role_require(actor, CONFIRMERS, _("Only a supervisor confirms or rejects a branch signature."))
    if not visible_cases(actor).filter(pk=signature.case_id).exists():
        raise PermissionDenied(_("This case is not in your teams."))
    if signature.uploaded_by_id == actor.pk:
        raise PermissionDenied(_("Someone other than the person who uploaded the scan must decide on it."))
    if signature.status != BranchSignature.Status.PENDING:
        raise Conflict(
            _("This branch signature is not awaiting confirmation; it is “%(status)s”.")
            % {"status": signature.get_status_display()},
            code=BranchSignatureError.NOT_PENDING,
        )


def _require_signable(offer: Offer, case: Case, account: CardAccount) -> None:
    if case.status != CaseStatus.PLAN:
        raise Conflict(
            _("Only a case in plan takes a signed agreement; this one is in “%(state)s”.")
            % {"state": case.get_status_display()},
            code=BranchSignatureError.CASE_STATE,
        )
    if offer.case_id != case.pk or offer.status not in SIGNABLE:
        raise Conflict(
            _("This offer cannot be signed: it is “%(status)s”.") % {"status": offer.get_status_display()},
            code=BranchSignatureError.OFFER_NOT_SIGNABLE,
        )
    if (account.principal_overdue, account.interest_overdue, account.fees_overdue) != (
        offer.principal, offer.interest, offer.fees
    ):
        raise Conflict(
            _("The balance has changed since this offer was made; make a new offer and have it signed."),
            code=BranchSignatureError.OFFER_STALE,
        )


def _scan_checked(upload) -> tuple[str, int]:
    """The scan's SHA-256 and size, after checking by its content that it is a PDF within the size limit."""
    if not upload.size:
        raise DomainError(_("The file is empty."), code=BranchSignatureError.EMPTY)
    if upload.size > settings.BRANCH_SCAN_MAX_BYTES:
        raise DomainError(
            _("The scan is larger than %(mb)s MB.") % {"mb": settings.BRANCH_SCAN_MAX_BYTES // (1024 * 1024)},
            code=BranchSignatureError.TOO_LARGE,
        )
    upload.seek(0)
    if not upload.read(len(PDF_MAGIC)).startswith(PDF_MAGIC):
        raise DomainError(
            _("Only a PDF scan is accepted; this file is not a PDF."), code=BranchSignatureError.NOT_PDF
        )
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest(), upload.size


def branch_signature_upload(*, case_id: int, offer_id: int, upload, actor: User) -> BranchSignature:
    """Keep the scan of a paper agreement for one offer of a case in plan; it waits for a supervisor's confirmation
    and signs nothing yet."""
    case = visible_cases(actor).filter(pk=case_id).first() if actor is not None else None
    if case is None:
        raise PermissionDenied(_("This case is not in your teams."))
    _require_uploader(case, actor)
    sha256, size = _scan_checked(upload)
    with transaction.atomic():
        account = CardAccount.objects.select_for_update().get(pk=case.account_id)
        case = Case.objects.select_for_update(of=("self",)).get(pk=case_id)
        offer = Offer.objects.filter(pk=offer_id, case=case).first()
        if offer is None:
            raise DomainError(_("Choose one of this case's offers."), code=BranchSignatureError.OFFER_NOT_SIGNABLE)
        _require_signable(offer, case, account)
        if case.branch_signatures.filter(status=BranchSignature.Status.PENDING).exists():
            raise Conflict(
                _("A signed scan of this case is already awaiting confirmation."),
                code=BranchSignatureError.PENDING_EXISTS,
            )
        signature = BranchSignature(
            case=case,
            offer=offer,
            sha256=sha256,
            size=size,
            original_name=Path(upload.name or "scan.pdf").name[:255],
            uploaded_by=actor,
            uploaded_at=timezone.now(),
        )
        signature.scan.save(f"{uuid.uuid4().hex}.pdf", upload, save=False)
        try:
            signature.save()
            audit.record(
                actor=actor,
                action="branch_signature.upload",
                target=signature,
                case_id=case.pk,
                changes={"offer": offer.pk, "sha256": sha256, "size": size, "name": signature.original_name},
            )
        except Exception:
            signature.scan.delete(save=False)
            raise
    return signature


def _locked_signature(signature_id: int) -> tuple[CardAccount, Case, BranchSignature]:
    """Account, case, then the signature: the lock order of signing and payments."""
    account_id, case_id = (
        BranchSignature.objects.filter(pk=signature_id).values_list("case__account_id", "case_id").get()
    )
    account = CardAccount.objects.select_for_update().get(pk=account_id)
    case = Case.objects.select_for_update(of=("self",)).select_related("account__debtor").get(pk=case_id)
    signature = BranchSignature.objects.select_for_update(of=("self",)).get(pk=signature_id)
    return account, case, signature


def _scan_sha256(signature: BranchSignature) -> str:
    digest = hashlib.sha256()
    with signature.scan.open("rb") as handle:
        for chunk in iter(lambda: handle.read(64 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def branch_signature_confirm(*, signature_id: int, actor: User) -> Agreement:
    """A second person confirms the scan: the agreement is signed from it (channel branch, the scan as its
    document), with the installments, limit change, case moves and hold of any signature."""
    with transaction.atomic():
        account, case, signature = _locked_signature(signature_id)
        _require_decider(signature, actor)
        offer = Offer.objects.select_for_update(of=("self",)).get(pk=signature.offer_id)
        _require_signable(offer, case, account)
        if _scan_sha256(signature) != signature.sha256:
            raise Conflict(
                _("The stored scan no longer matches the one uploaded; upload it again."),
                code=BranchSignatureError.SCAN_ALTERED,
            )
        now = timezone.now()
        number = agreement_number(case=case, signed_at=now)
        agreement = Agreement(
            case=case,
            offer=offer,
            number=number,
            pdf=signature.scan.name,
            sha256=signature.sha256,
            signer_name=case.account.debtor.full_name,
            signed_at=now,
            channel=Agreement.Channel.BRANCH,
            uploaded_by_id=signature.uploaded_by_id,
            confirmed_by=actor,
        )
        signed = {"number": number, "name": actor.get_full_name() or actor.username}
        changes = agreement_keep(
            agreement=agreement,
            offer=offer,
            case=case,
            account=account,
            reason_code=ReasonCode.AGREEMENT_SIGNED_AT_BRANCH,
            reason_params=signed,
        )
        signature.status = BranchSignature.Status.CONFIRMED
        signature.decided_by, signature.decided_at, signature.agreement = actor, now, agreement
        signature.save(update_fields=["status", "decided_by", "decided_at", "agreement"])
        audit.record(
            actor=actor,
            action="agreement.sign",
            target=agreement,
            case_id=case.pk,
            changes={**changes, "branch_signature": signature.pk, "uploaded_by": signature.uploaded_by_id},
            reason=reason_stored(ReasonCode.AGREEMENT_SIGNED_AT_BRANCH, signed),
        )
    return agreement


def branch_signature_reject(*, signature_id: int, actor: User, reason: str) -> BranchSignature:
    """The scan is not accepted (illegible, wrong offer, not signed): nothing is signed, the reason is kept."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Write why the scan is rejected."), code=BranchSignatureError.REASON_REQUIRED)
    with transaction.atomic():
        _account, _case, signature = _locked_signature(signature_id)
        _require_decider(signature, actor)
        signature.status = BranchSignature.Status.REJECTED
        signature.decided_by, signature.decided_at, signature.decision_reason = actor, timezone.now(), reason
        signature.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        audit.record(
            actor=actor,
            action="branch_signature.reject",
            target=signature,
            case_id=signature.case_id,
            changes={"status": [BranchSignature.Status.PENDING, signature.status]},
            reason=reason,
        )
    return signature
