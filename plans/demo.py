"""Demo plans on top of the demo portfolio, made through the real services: offers within and beyond a
collector's authority, links sent, agreements signed with a one-time code and a first installment paid,
so that the plan builder, the approval queue, the portal and the dashboards have something true to show."""

import re
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from cases.models import Case, CaseStatus
from cases.services import payment_record
from negotiation.models import OutboundMessage
from negotiation.services import ContactForbidden, message_clear_text
from plans.agreements import agreement_sign
from plans.codes import code_send
from plans.models import Method, Offer, OneTimeCode, PlanKind
from plans.portal import portal_link_issue, portal_offer_accept, portal_url
from plans.services import offer_create, offers_suggest

AFFORDABILITY_NOTE = "演示：持卡人表示家人可协助按月还款。"
PENDING_EVERY = 4  # every fourth plan case gets an offer beyond a collector's authority
SIGNED = 3  # agreements signed in the demo


def _offer_for(case: Case, *, beyond_authority: bool) -> Offer:
    """The first suggestion that fits the verified income; beyond authority, a 36-month plan with a 60 % waiver."""
    today = timezone.localdate()
    suggestion = next(iter(offers_suggest(case=case, today=today)), None)
    if beyond_authority or suggestion is None:
        terms = {
            "kind": PlanKind.INSTALLMENTS, "method": Method.ANNUITY, "months": 36,
            "first_due_date": today + timedelta(days=30), "annual_rate": Decimal("0.12"),
            "interest_waiver_pct": Decimal("60"), "fee_waiver_pct": Decimal("60"),
        }
    else:
        terms = {
            name: getattr(suggestion.terms, name)
            for name in ("kind", "method", "months", "first_due_date", "annual_rate", "monthly_fee_rate",
                         "interest_waiver_pct", "fee_waiver_pct", "grace_months")
        }
    return offer_create(case_id=case.pk, actor=case.assigned_to, affordability_override=AFFORDABILITY_NOTE, **terms)


def _code_from_outbox(otp: OneTimeCode) -> str:
    """What the cardholder reads on their phone; in the demo the queued text stands in for the phone."""
    _subject, body = message_clear_text(OutboundMessage.objects.get(pk=otp.message_id))
    return re.search(r"\d{6}", body).group(0)


def _sign(offer: Offer) -> None:
    """The cardholder's side of the portal, step by step: link, accept, sign code, signature."""
    case = offer.case
    link, _token = portal_link_issue(case_id=case.pk, actor=case.assigned_to)
    portal_offer_accept(link_id=link.pk, offer_id=offer.pk)
    otp = code_send(link_id=link.pk, purpose=OneTimeCode.Purpose.SIGN)
    agreement = agreement_sign(
        offer_id=offer.pk, link_id=link.pk, signer_name=case.account.debtor.full_name, consent=True,
        code=_code_from_outbox(otp), ip="127.0.0.1", user_agent="Accord demo",
    )
    first = agreement.installments.order_by("number").first()
    payment_record(
        account_ref=case.account.external_ref, amount=first.amount, paid_at=timezone.now(),
        external_ref=f"DEMO-PLAN-{agreement.pk}-1",
    )


def plans_seed() -> dict[str, int]:
    """Offers on the demo cases in `plan`; a few beyond authority wait for the supervisor; a few are signed."""
    counts = {"offers": 0, "pending": 0, "signed": 0}
    cases = Case.objects.filter(status=CaseStatus.PLAN, assigned_to__isnull=False).select_related(
        "account__debtor", "assigned_to"
    ).order_by("pk")
    for index, case in enumerate(cases):
        offer = _offer_for(case, beyond_authority=index % PENDING_EVERY == PENDING_EVERY - 1)
        counts["offers"] += 1
        if offer.status == Offer.Status.PENDING_APPROVAL:
            counts["pending"] += 1
        elif counts["signed"] < SIGNED:
            try:
                _sign(offer)
            except ContactForbidden:
                continue  # a hold or an opt-out: the gate keeps the link from this cardholder
            counts["signed"] += 1
    return counts


def portal_demo_link() -> tuple[str, str] | None:
    """A fresh portal link for a demo case with an offer ready to send, and the last four of its id (the first
    identity question), printed by `make run`. Only the token's hash is stored, so each run issues a new one."""
    offers = (
        Offer.objects.filter(status__in=(Offer.Status.READY, Offer.Status.OFFERED), case__status=CaseStatus.PLAN)
        .exclude(case__account__debtor__national_id="")
        .select_related("case__account__debtor", "case__assigned_to")
        .order_by("case_id")
    )
    for offer in offers:
        case = offer.case
        try:
            _link, token = portal_link_issue(case_id=case.pk, actor=case.assigned_to)
        except ContactForbidden:
            continue
        return portal_url(token), case.account.debtor.national_id[-4:]
    return None
