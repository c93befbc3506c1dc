"""Letters with proof: issue through the contact gate, keep the PDF unchanged, record dispatch and delivery.

A letter is recorded as its `Letter` row (with the gate's decision) and an audit event, not as a
`Contact`: a contact has an outcome of a conversation, which a posted letter does not have. A delivered
letter is a delivered demand (CaseEvidence), which feeds the wilful suggestion.
"""

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.roles import role_require
from cases.models import Case, CaseEvidence
from cases.services import case_evidence_record
from compliance import audit
from compliance.policy import Party, Purpose
from config.errors import Conflict, DomainError
from negotiation import letters
from negotiation.models import Channel, Letter
from negotiation.services import CONTACT_ROLES, ContactForbidden, _decide

LAWYER_LETTER_ROLES = {Role.LEGAL, Role.SUPERVISOR, Role.ADMIN}
CHANNEL_OF = {Letter.Kind.COLLECTION_LETTER: Channel.LETTER, Letter.Kind.LAWYER_LETTER: Channel.LAWYER_LETTER}
# The kind code negotiation.letters prints in the reference.
RENDER_KIND = {Letter.Kind.COLLECTION_LETTER: "CN", Letter.Kind.LAWYER_LETTER: "LS"}


class LetterErrorCode:
    UNKNOWN_KIND = "unknown_letter_kind"
    CASE_CLOSED = "case_closed"
    NOTHING_OVERDUE = "nothing_overdue"
    GLYPH_MISSING = "glyph_missing"
    PROOF_REQUIRED = "proof_required"
    ALREADY_DISPATCHED = "already_dispatched"
    NOT_DISPATCHED = "not_dispatched"
    ALREADY_DELIVERED = "already_delivered"
    ALREADY_RETURNED = "already_returned"
    INVALID_TIME = "invalid_time"
    PDF_ALTERED = "pdf_altered"


class LetterAltered(Conflict):
    """The stored PDF no longer matches the SHA-256 taken when it was issued."""

    code = LetterErrorCode.PDF_ALTERED


def bank_sender() -> letters.Bank:
    return letters.Bank(
        name=settings.BANK_NAME, address=settings.BANK_ADDRESS, phone=settings.BANK_PHONE, hours=settings.BANK_HOURS,
        complaint_line=settings.BANK_COMPLAINT_LINE, website=settings.BANK_WEBSITE,
    )


def law_firm_sender() -> letters.LawFirm:
    return letters.LawFirm(
        name=settings.LAW_FIRM_NAME, address=settings.LAW_FIRM_ADDRESS, phone=settings.LAW_FIRM_PHONE,
        hours=settings.LAW_FIRM_HOURS, complaint_line=settings.LAW_FIRM_COMPLAINT_LINE,
        website=settings.LAW_FIRM_WEBSITE, lawyer=settings.LAW_FIRM_LAWYER,
    )


def _render(case: Case, kind: str, issued_on) -> bytes:
    try:
        if kind == Letter.Kind.LAWYER_LETTER:
            return letters.render_lawyer_letter(
                case=case, issued_on=issued_on, bank=bank_sender(), law_firm=law_firm_sender()
            )
        return letters.render_collection_letter(case=case, issued_on=issued_on, bank=bank_sender())
    except letters.NothingOverdue:
        message = _("The account has nothing overdue to write about.")
        raise Conflict(message, code=LetterErrorCode.NOTHING_OVERDUE) from None
    except letters.GlyphMissing as error:
        raise DomainError(
            _("The letter font cannot print these characters: %(chars)s") % {"chars": error.characters},
            code=LetterErrorCode.GLYPH_MISSING,
        ) from None


def letter_issue(*, case_id: int, kind: str, actor, path: str = "api") -> Letter:
    """Ask the gate, render the PDF, keep it with its SHA-256. A refusal stores only the decision and
    raises ContactForbidden."""
    if kind not in Letter.Kind.values:
        raise DomainError(_("Choose a collection letter or a lawyer letter."), code=LetterErrorCode.UNKNOWN_KIND)
    if kind == Letter.Kind.LAWYER_LETTER:
        role_require(
            actor, LAWYER_LETTER_ROLES, _("Only legal or a supervisor issues lawyer letters."), system_allowed=True
        )
    else:
        role_require(actor, CONTACT_ROLES, _("Your role does not issue letters."), system_allowed=True)
    refused = None
    letter = None
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).select_related("account__debtor").get(pk=case_id)
        if not case.is_open:
            raise Conflict(_("The case is closed."), code=LetterErrorCode.CASE_CLOSED)
        now = timezone.now()
        decision = _decide(
            case=case, channel=CHANNEL_OF[kind], party=Party.DEBTOR, at=now, purpose=Purpose.COLLECTION, number="",
            actor=actor, path=path,
        )
        if not decision.allowed:
            refused = decision
        else:
            issued_on = timezone.localdate(now)
            content = _render(case, kind, issued_on)
            letter = Letter(
                case=case, kind=kind, sha256=hashlib.sha256(content).hexdigest(), issued_on=issued_on,
                reference=letters.reference_for(case=case, issued_on=issued_on, kind=RENDER_KIND[kind]),
                created_by=actor, decision=decision,
            )
            letter.pdf.save("letter.pdf", ContentFile(content), save=False)
            try:
                letter.save()
                audit.record(
                    actor=actor, action="letter.issue", target=letter, case_id=case.pk,
                    changes={"kind": kind, "reference": letter.reference, "sha256": letter.sha256},
                )
            except Exception:
                letter.pdf.delete(save=False)
                raise
    if refused is not None:
        raise ContactForbidden(refused)
    return letter


def letter_verify(letter: Letter) -> bool:
    """Whether the stored PDF is byte for byte the one issued."""
    digest = hashlib.sha256()
    with letter.pdf.open("rb") as handle:
        for chunk in iter(lambda: handle.read(65536), b""):
            digest.update(chunk)
    return digest.hexdigest() == letter.sha256


def _when(at: datetime | None, not_before: datetime | None) -> datetime:
    now = timezone.now()
    at = at or now
    if at > now + timedelta(minutes=1):
        raise DomainError(_("This cannot be recorded in the future."), code=LetterErrorCode.INVALID_TIME)
    if not_before is not None and at < not_before:
        raise DomainError(_("This cannot be earlier than the step before it."), code=LetterErrorCode.INVALID_TIME)
    return at


def _proof(proof: str) -> str:
    proof = (proof or "").strip()
    if not proof:
        raise DomainError(
            _("Give the proof, e.g. the postal tracking number or the receipt."), code=LetterErrorCode.PROOF_REQUIRED
        )
    return proof


def _locked_letter(letter_id: int) -> Letter:
    # The case first, then the letter: row locks before any audit write (see case_evidence_record).
    case_id = Letter.objects.values_list("case_id", flat=True).get(pk=letter_id)
    Case.objects.select_for_update().filter(pk=case_id).values_list("pk", flat=True).get()
    return Letter.objects.select_for_update().get(pk=letter_id)


def letter_mark_dispatched(*, letter_id: int, proof: str, actor, at: datetime | None = None) -> Letter:
    """Record that the letter was posted, with its proof (e.g. the tracking number)."""
    role_require(actor, CONTACT_ROLES, _("Your role does not record letters."), system_allowed=True)
    proof = _proof(proof)
    with transaction.atomic():
        letter = _locked_letter(letter_id)
        if letter.dispatched_at is not None:
            raise Conflict(_("This letter is already recorded as dispatched."), code=LetterErrorCode.ALREADY_DISPATCHED)
        letter.dispatched_at = _when(at, None)
        letter.dispatch_proof = proof
        letter.save(update_fields=["dispatched_at", "dispatch_proof"])
        audit.record(
            actor=actor, action="letter.dispatched", target=letter, case_id=letter.case_id,
            changes={"at": letter.dispatched_at, "proof": proof},
        )
    return letter


def letter_mark_delivered(*, letter_id: int, proof: str, actor, at: datetime | None = None) -> Letter:
    """Record delivery with its proof; a delivered letter is a delivered demand toward wilful."""
    role_require(actor, CONTACT_ROLES, _("Your role does not record letters."), system_allowed=True)
    proof = _proof(proof)
    with transaction.atomic():
        letter = _locked_letter(letter_id)
        if letter.dispatched_at is None:
            raise Conflict(_("Record the dispatch before the delivery."), code=LetterErrorCode.NOT_DISPATCHED)
        if letter.delivered_at is not None:
            raise Conflict(_("This letter is already recorded as delivered."), code=LetterErrorCode.ALREADY_DELIVERED)
        if letter.returned_at is not None:
            raise Conflict(_("This letter came back undelivered."), code=LetterErrorCode.ALREADY_RETURNED)
        letter.delivered_at = _when(at, letter.dispatched_at)
        letter.delivery_proof = proof
        letter.save(update_fields=["delivered_at", "delivery_proof"])
        audit.record(
            actor=actor, action="letter.delivered", target=letter, case_id=letter.case_id,
            changes={"at": letter.delivered_at, "proof": proof},
        )
        case_evidence_record(
            case_id=letter.case_id, kind=CaseEvidence.Kind.DELIVERED_DEMAND,
            occurred_on=timezone.localdate(letter.delivered_at), actor=actor,
            detail=_("%(kind)s %(reference)s delivered.") % {"kind": letter.get_kind_display(),
                                                             "reference": letter.reference},
            source_ref=f"letter:{letter.pk}",
        )
    return letter


def letter_mark_returned(*, letter_id: int, actor, reason: str = "", at: datetime | None = None) -> Letter:
    """Record that the post brought the letter back undelivered."""
    role_require(actor, CONTACT_ROLES, _("Your role does not record letters."), system_allowed=True)
    with transaction.atomic():
        letter = _locked_letter(letter_id)
        if letter.dispatched_at is None:
            raise Conflict(_("Record the dispatch before the return."), code=LetterErrorCode.NOT_DISPATCHED)
        if letter.delivered_at is not None:
            raise Conflict(_("This letter is already recorded as delivered."), code=LetterErrorCode.ALREADY_DELIVERED)
        if letter.returned_at is not None:
            raise Conflict(_("This letter came back undelivered."), code=LetterErrorCode.ALREADY_RETURNED)
        letter.returned_at = _when(at, letter.dispatched_at)
        letter.save(update_fields=["returned_at"])
        audit.record(
            actor=actor, action="letter.returned", target=letter, case_id=letter.case_id,
            changes={"at": letter.returned_at}, reason=reason.strip(),
        )
    return letter


def letter_read(*, letter_id: int, actor) -> Letter:
    """A letter this person may download (DoesNotExist outside their cases); verified and audited."""
    from cases.selectors import visible_cases

    letter = Letter.objects.filter(case__in=visible_cases(actor), pk=letter_id).first()
    if letter is None:
        raise Letter.DoesNotExist(letter_id)
    if not letter_verify(letter):
        raise LetterAltered(_("The stored letter does not match its fingerprint; it is not served."))
    audit.record(actor=actor, action="letter.read", target=letter, case_id=letter.case_id)
    return letter
