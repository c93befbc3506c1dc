"""The case timeline: every event of a case from every app, newest first, filterable by kind.

It reads cases, negotiation, plans and compliance, so it lives in reporting, the one app above all of them
(the case page loads it through a template tag, never an import). One query per source whatever the number of
events; a kind filter reads only that kind's sources."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal

from django.db.models import DateTimeField, F, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from cases.models import Case, CaseEvidence, CaseTransition, Payment
from compliance.models import AuditEvent, Complaint, Hold
from negotiation.models import (
    Contact,
    FieldVisit,
    Letter,
    LitigationReferral,
    OutboundMessage,
    Placement,
    Promise,
    Verification,
    VerificationDocument,
)
from plans.models import Agreement, Offer, PortalEvent

PAGE_SIZE = 50
MAX_PAGES = 40  # "show more" stops at 2,000 events; the audit log keeps the rest

# The kinds a reader filters by, in the order the filter offers them.
KINDS = {
    "contact": _("Contacts"),
    "message": _("Messages"),
    "letter": _("Letters"),
    "transition": _("State changes"),
    "verification": _("Verification"),
    "promise": _("Promises to pay"),
    "offer": _("Offers"),
    "portal": _("Portal"),
    "agreement": _("Agreement and installments"),
    "payment": _("Payments"),
    "hold": _("Holds"),
    "complaint": _("Complaints"),
    "wilful": _("Wilful"),
    "escalation": _("Escalation"),
    "visit": _("Field visits"),
}

# What happened, for the events the template shows with a generic line.
EVENT_LABELS = {
    "verification_started": _("Verification started"),
    "verification_completed": _("Verification completed"),
    "document_uploaded": _("Document uploaded"),
    "promise_made": _("Promise to pay made"),
    "promise_judged": _("Promise to pay judged"),
    "offer_created": _("Offer made"),
    "offer_approved": _("Offer approved"),
    "offer_rejected": _("Offer rejected"),
    "offer_sent": _("Offer sent to the cardholder"),
    "offer_accepted": _("Offer accepted"),
    "offer_withdrawn": _("Offer withdrawn"),
    "portal": _("Portal"),
    "agreement_signed": _("Agreement signed"),
    "agreement_ended": _("Agreement ended"),
    "installments_paid": _("Installments paid"),
    "installments_missed": _("Installments missed"),
    "hold_set": _("Hold set"),
    "hold_lifted": _("Hold lifted"),
    "complaint_received": _("Complaint received"),
    "complaint_acknowledged": _("Complaint acknowledged"),
    "complaint_resolved": _("Complaint resolved"),
    "wilful_suggested": _("Wilful suggested by the evidence"),
    "wilful_cleared": _("Wilful suggestion cleared"),
    "wilful_confirmed": _("Wilful confirmed"),
    "wilful_dismissed": _("Wilful suggestion dismissed"),
    "placement_proposed": _("Agency placement proposed"),
    "placement_approved": _("Agency placement approved"),
    "placement_notified": _("Cardholder notified of the placement"),
    "placement_handed_over": _("Case handed over to the agency"),
    "placement_recalled": _("Agency placement recalled"),
    "referral_proposed": _("Litigation referral proposed"),
    "referral_approved": _("Litigation referral approved"),
    "referral_filed": _("Litigation filed"),
    "referral_withdrawn": _("Litigation referral withdrawn"),
    "visit_requested": _("Field visit requested"),
    "visit_approved": _("Field visit approved"),
    "visit_rejected": _("Field visit rejected"),
    "visit_cancelled": _("Field visit cancelled"),
    "letter_issued": _("Letter issued"),
    "letter_dispatched": _("Letter dispatched"),
    "letter_delivered": _("Letter delivered"),
    "letter_returned": _("Letter returned undelivered"),
}

# Audit actions that are the only timestamped record of an event, with the kind each belongs to.
AUDIT_KINDS = {
    "offer.withdraw": "offer",
    "agreement.installments_settle": "agreement",
    "agreement.installments_missed": "agreement",
    "case.wilful_suggestion": "wilful",
    "case.confirm_wilful": "wilful",
    "case.dismiss_wilful": "wilful",
}


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # one of KINDS: what the filter selects
    event: str  # what happened: "contact", "offer_approved", ...
    item: object  # the row it comes from
    actor: object = None  # the staff member, if one did it
    cardholder: bool = False  # the cardholder did it (portal, signature)
    detail: tuple = ()  # what an audit-only event carried, e.g. (installment number, amount) pairs

    @property
    def label(self) -> str:
        return EVENT_LABELS.get(self.event, "")


@dataclass(frozen=True)
class TimelineQuery:
    kind: str = ""  # empty: every kind
    page: int = 1

    @classmethod
    def from_params(cls, params) -> "TimelineQuery":
        """The filter and page from a query string; anything unknown falls back to all kinds, page one."""
        kind = params.get("kind", "")
        try:
            page = int(params.get("page", 1))
        except (TypeError, ValueError):
            page = 1
        return cls(kind=kind if kind in KINDS else "", page=min(max(page, 1), MAX_PAGES))

    @property
    def limit(self) -> int:
        return PAGE_SIZE * self.page


@dataclass(frozen=True)
class Timeline:
    entries: list[TimelineEntry]
    has_more: bool
    query: TimelineQuery


def _latest(*fields: str, first: str):
    """The latest of a row's event times, for ordering; a missing time counts as the first one."""
    return Greatest(F(first), *(Coalesce(field, first, output_field=DateTimeField()) for field in fields))


def _rows(queryset: QuerySet, rows: int, *later: str, first: str) -> Iterable:
    """The rows whose latest event is newest; `rows` of them are enough to hold the newest `rows` events."""
    if later:
        queryset = queryset.annotate(latest_event=_latest(*later, first=first)).order_by("-latest_event", "-pk")
    else:
        queryset = queryset.order_by(f"-{first}", "-pk")
    return queryset[:rows]


def _at_midnight(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _contacts(case: Case, rows: int):
    for contact in _rows(Contact.objects.filter(case=case).select_related("recorded_by"), rows, first="at"):
        yield TimelineEntry(contact.at, "contact", "contact", contact, contact.recorded_by)


def _messages(case: Case, rows: int):
    for message in _rows(OutboundMessage.objects.filter(case=case), rows, first="created_at"):
        yield TimelineEntry(message.created_at, "message", "message", message)


def _letters(case: Case, rows: int):
    letters = Letter.objects.filter(case=case).select_related("created_by")
    for letter in _rows(letters, rows, "dispatched_at", "delivered_at", "returned_at", first="created_at"):
        yield TimelineEntry(letter.created_at, "letter", "letter_issued", letter, letter.created_by)
        for event, at in (
            ("letter_dispatched", letter.dispatched_at),
            ("letter_delivered", letter.delivered_at),
            ("letter_returned", letter.returned_at),
        ):
            if at:
                yield TimelineEntry(at, "letter", event, letter)


def _transitions(case: Case, rows: int):
    for step in _rows(CaseTransition.objects.filter(case=case).select_related("actor"), rows, first="at"):
        yield TimelineEntry(step.at, "transition", "transition", step, step.actor)


def _payments(case: Case, rows: int):
    for payment in _rows(Payment.objects.filter(account_id=case.account_id), rows, first="paid_at"):
        yield TimelineEntry(payment.paid_at, "payment", "payment", payment)


def _verifications(case: Case, rows: int):
    verifications = Verification.objects.filter(case=case).select_related("started_by", "completed_by")
    for verification in _rows(verifications, rows, "completed_at", first="started_at"):
        yield TimelineEntry(
            verification.started_at, "verification", "verification_started", verification, verification.started_by
        )
        if verification.completed_at:
            yield TimelineEntry(
                verification.completed_at, "verification", "verification_completed", verification,
                verification.completed_by,
            )


def _documents(case: Case, rows: int):
    documents = VerificationDocument.objects.filter(verification__case=case).select_related("uploaded_by")
    for document in _rows(documents, rows, first="uploaded_at"):
        yield TimelineEntry(document.uploaded_at, "verification", "document_uploaded", document, document.uploaded_by)


def _promises(case: Case, rows: int):
    promises = Promise.objects.filter(case=case).select_related("created_by")
    for promise in _rows(promises, rows, "judged_at", first="created_at"):
        yield TimelineEntry(promise.created_at, "promise", "promise_made", promise, promise.created_by)
        if promise.judged_at:
            yield TimelineEntry(promise.judged_at, "promise", "promise_judged", promise)


def _offers(case: Case, rows: int):
    offers = Offer.objects.filter(case=case).select_related("created_by", "decided_by")
    for offer in _rows(offers, rows, "decided_at", "offered_at", "accepted_at", first="created_at"):
        yield TimelineEntry(offer.created_at, "offer", "offer_created", offer, offer.created_by)
        if offer.decided_at:
            decided = "offer_rejected" if offer.status == Offer.Status.REJECTED else "offer_approved"
            yield TimelineEntry(offer.decided_at, "offer", decided, offer, offer.decided_by)
        if offer.offered_at:
            yield TimelineEntry(offer.offered_at, "offer", "offer_sent", offer)
        if offer.accepted_at:
            yield TimelineEntry(offer.accepted_at, "offer", "offer_accepted", offer, cardholder=True)


def _portal(case: Case, rows: int):
    for event in _rows(PortalEvent.objects.filter(case=case), rows, first="at"):
        yield TimelineEntry(event.at, "portal", "portal", event, cardholder=True)


def _agreements(case: Case, rows: int):
    for agreement in _rows(Agreement.objects.filter(case=case), rows, "ended_at", first="signed_at"):
        yield TimelineEntry(agreement.signed_at, "agreement", "agreement_signed", agreement, cardholder=True)
        if agreement.ended_at:
            yield TimelineEntry(agreement.ended_at, "agreement", "agreement_ended", agreement)


def _holds(case: Case, rows: int):
    holds = Hold.objects.filter(case=case).select_related("set_by", "lifted_by")
    for hold in _rows(holds, rows, "lifted_at", first="set_at"):
        yield TimelineEntry(hold.set_at, "hold", "hold_set", hold, hold.set_by)
        if hold.lifted_at:
            yield TimelineEntry(hold.lifted_at, "hold", "hold_lifted", hold, hold.lifted_by)


def _complaints(case: Case, rows: int):
    complaints = Complaint.objects.filter(case=case).select_related("registered_by", "handler")
    for complaint in _rows(complaints, rows, "acknowledged_at", "resolved_at", first="received_at"):
        yield TimelineEntry(
            complaint.received_at, "complaint", "complaint_received", complaint, complaint.registered_by
        )
        if complaint.acknowledged_at:
            yield TimelineEntry(complaint.acknowledged_at, "complaint", "complaint_acknowledged", complaint)
        if complaint.resolved_at:
            yield TimelineEntry(complaint.resolved_at, "complaint", "complaint_resolved", complaint, complaint.handler)


def _evidence(case: Case, rows: int):
    evidence = CaseEvidence.objects.filter(case=case).select_related("recorded_by")
    for fact in evidence.order_by("-occurred_on", "-pk")[:rows]:
        yield TimelineEntry(_at_midnight(fact.occurred_on), "wilful", "evidence", fact, fact.recorded_by)


def _placements(case: Case, rows: int):
    placements = Placement.objects.filter(case=case).select_related("agency", "proposed_by", "approved_by")
    later = ("approved_at", "debtor_notified_at", "handed_over_at", "recalled_at")
    for placement in _rows(placements, rows, *later, first="proposed_at"):
        yield TimelineEntry(
            placement.proposed_at, "escalation", "placement_proposed", placement, placement.proposed_by
        )
        for event, at, actor in (
            ("placement_approved", placement.approved_at, placement.approved_by),
            ("placement_notified", placement.debtor_notified_at, None),
            ("placement_handed_over", placement.handed_over_at, None),
            ("placement_recalled", placement.recalled_at, None),
        ):
            if at:
                yield TimelineEntry(at, "escalation", event, placement, actor)


def _referrals(case: Case, rows: int):
    referrals = LitigationReferral.objects.filter(case=case).select_related("proposed_by", "approved_by", "legal_owner")
    for referral in _rows(referrals, rows, "approved_at", "filed_at", "withdrawn_at", first="proposed_at"):
        yield TimelineEntry(referral.proposed_at, "escalation", "referral_proposed", referral, referral.proposed_by)
        for event, at, actor in (
            ("referral_approved", referral.approved_at, referral.approved_by),
            ("referral_filed", referral.filed_at, referral.legal_owner),
            ("referral_withdrawn", referral.withdrawn_at, None),
        ):
            if at:
                yield TimelineEntry(at, "escalation", event, referral, actor)


def _visits(case: Case, rows: int):
    visits = FieldVisit.objects.filter(case=case).select_related(
        "requested_by", "decided_by", "cancelled_by", "first_staff", "second_staff"
    )
    for visit in _rows(visits, rows, "decided_at", "cancelled_at", first="requested_at"):
        yield TimelineEntry(visit.requested_at, "visit", "visit_requested", visit, visit.requested_by)
        if visit.decided_at:
            decided = "visit_rejected" if visit.status == FieldVisit.Status.REJECTED else "visit_approved"
            yield TimelineEntry(visit.decided_at, "visit", decided, visit, visit.decided_by)
        if visit.cancelled_at:
            yield TimelineEntry(visit.cancelled_at, "visit", "visit_cancelled", visit, visit.cancelled_by)


AUDIT_EVENTS = {
    "offer.withdraw": "offer_withdrawn",
    "agreement.installments_settle": "installments_paid",
    "agreement.installments_missed": "installments_missed",
    "case.confirm_wilful": "wilful_confirmed",
    "case.dismiss_wilful": "wilful_dismissed",
}


def _audited(case: Case, rows: int, kinds: set[str]):
    actions = [action for action, kind in AUDIT_KINDS.items() if kind in kinds]
    events = AuditEvent.objects.filter(case_id=case.pk, action__in=actions).select_related("actor")
    for event in _rows(events, rows, first="at"):
        if event.action == "case.wilful_suggestion":
            suggested = (event.changes.get("wilful_suggested") or [None, None])[1]
            name = "wilful_suggested" if suggested else "wilful_cleared"
        else:
            name = AUDIT_EVENTS[event.action]
        detail = ()
        if name == "installments_paid":
            detail = tuple(
                (part.get("installment"), Decimal(str(part.get("amount") or "0")))
                for part in event.changes.get("allocations") or []
            )
        yield TimelineEntry(event.at, AUDIT_KINDS[event.action], name, event, event.actor, detail=detail)


SOURCES: dict[str, tuple[Callable, ...]] = {
    "contact": (_contacts,),
    "message": (_messages,),
    "letter": (_letters,),
    "transition": (_transitions,),
    "verification": (_verifications, _documents),
    "promise": (_promises,),
    "offer": (_offers,),
    "portal": (_portal,),
    "agreement": (_agreements,),
    "payment": (_payments,),
    "hold": (_holds,),
    "complaint": (_complaints,),
    "wilful": (_evidence,),
    "escalation": (_placements, _referrals),
    "visit": (_visits,),
}


def case_timeline(*, case: Case, query: TimelineQuery | None = None) -> Timeline:
    """The case's events of the chosen kind (all by default), newest first, `query.limit` of them; one query
    per source (at most 19 for all kinds), whatever the number of events."""
    query = query or TimelineQuery()
    kinds = {query.kind} if query.kind else set(KINDS)
    rows = query.limit + 1  # one more than shown tells whether there is more
    entries: list[TimelineEntry] = []
    for kind in KINDS:
        if kind in kinds:
            for source in SOURCES[kind]:
                entries.extend(source(case, rows))
    if kinds & set(AUDIT_KINDS.values()):
        entries.extend(_audited(case, rows, kinds))
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return Timeline(entries=entries[: query.limit], has_more=len(entries) > query.limit, query=query)


def timeline_context(*, case, params, oob: bool = False) -> dict:
    """What `cases/_timeline.html` renders: the entries, the filter's choices and the next page's query."""
    query = TimelineQuery.from_params(params)
    timeline = case_timeline(case=case, query=query)
    more = {"page": query.page + 1, **({"kind": query.kind} if query.kind else {})}
    return {
        "case": case,
        "timeline": timeline.entries,
        "timeline_query": query,
        "timeline_more": timeline.has_more and query.page < MAX_PAGES,
        "timeline_more_query": urlencode(more),
        "timeline_kinds": list(KINDS.items()),
        "oob": oob,
    }
