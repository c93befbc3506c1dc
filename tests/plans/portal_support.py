"""Builders shared by the portal tests: a case in plan with offers, a link, and a verified portal session."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from cases.models import CaseStatus
from negotiation.models import OutboundMessage
from negotiation.services import message_clear_text
from plans.models import Offer, OneTimeCode, PortalLink
from plans.portal import token_hash
from tests.factories import case_in, verified

NATIONAL_ID = "31010119800101123X"


def zone_where_it_is_midday() -> str:
    """A fixed-offset zone in which it is about noon now, so contact hours never fail a test."""
    offset = 12 - datetime.now(UTC).hour
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def plan_case(*, team, collector=None, status: str = CaseStatus.PLAN, **debtor):
    """A case in plan whose cardholder may be texted now; balance 8000 + 600 + 100."""
    fields = {
        "account__debtor__full_name": "王芳",
        "account__debtor__national_id": NATIONAL_ID,
        "account__debtor__mobile": "13812345678",
        "account__debtor__timezone": zone_where_it_is_midday(),
        "account__card_last4": "4321",
        **{f"account__debtor__{name}": value for name, value in debtor.items()},
    }
    case = case_in(status, team=team, assigned_to=collector, **fields)
    verified(case)
    return case


def make_offer(case, *, created_by, status: str = Offer.Status.OFFERED, months: int = 3) -> Offer:
    """An offer built on the case's current balance with an equal schedule (rounding in the last row)."""
    account = case.account
    total = account.principal_overdue + account.interest_overdue + account.fees_overdue
    each = (total / months).quantize(Decimal("0.01"))
    first = timezone.localdate() + timedelta(days=10)
    rows = []
    for number in range(1, months + 1):
        amount = each if number < months else total - each * (months - 1)
        rows.append(
            {
                "number": number,
                "due_date": (first + timedelta(days=30 * (number - 1))).isoformat(),
                "amount": str(amount),
                "principal": str(amount),
                "interest": "0.00",
                "fee": "0.00",
            }
        )
    return Offer.objects.create(
        case=case,
        months=months,
        first_due_date=first,
        principal=account.principal_overdue,
        interest=account.interest_overdue,
        fees=account.fees_overdue,
        financed_amount=total,
        total_payable=total,
        total_waived=Decimal("0.00"),
        largest_installment=max(Decimal(row["amount"]) for row in rows),
        schedule=rows,
        status=status,
        created_by=created_by,
        offered_at=timezone.now() if status == Offer.Status.OFFERED else None,
    )


def make_link(case, *, token: str = "test-token-" + "x" * 32, **fields) -> tuple[PortalLink, str]:
    link = PortalLink.objects.create(
        case=case,
        token_hash=token_hash(token),
        channel="sms",
        expires_at=fields.pop("expires_at", timezone.now() + timedelta(days=7)),
        **fields,
    )
    return link, token


def url(name: str, token: str, *args) -> str:
    return reverse(f"portal:{name}", args=[token, *args])


def last_code(link: PortalLink, purpose: str) -> str:
    """The code as the cardholder reads it: from the text of the SMS in the outbox."""
    otp = OneTimeCode.objects.filter(link=link, purpose=purpose).order_by("-created_at", "-pk").first()
    _subject, body = message_clear_text(OutboundMessage.objects.get(pk=otp.message_id))
    return re.search(r"\d{6}", body).group()


def verify(client, link: PortalLink, token: str) -> None:
    """Pass both identity steps in this client's session."""
    national_id = PortalLink.objects.values_list("case__account__debtor__national_id", flat=True).get(pk=link.pk)
    response = client.post(url("identity", token), {"last_four": national_id[-4:]})
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post(url("identity-code", token), {"code": last_code(link, OneTimeCode.Purpose.IDENTITY)})
    assert response.status_code == 302, response.content.decode()[:2000]
