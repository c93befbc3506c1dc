"""Agreements in force made directly (signing is another service's job) for the follow-up tests."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from cases.models import Payment
from cases.services import payment_record
from compliance.models import Hold
from compliance.services import hold_set
from plans.models import Agreement, Installment, Offer, OneTimeCode, PortalLink
from tests.factories import UserFactory, case_in


def zone_where_it_is_midday() -> str:
    """A fixed-offset zone in which it is about noon now, so contact hours never decide a test."""
    offset = 12 - datetime.now(UTC).hour
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def follow_up_case(team, collector, **account):
    """A case in follow-up (overdue ¥8,000 + ¥600 interest + ¥100 fees unless told otherwise)."""
    fields = {f"account__{name}": value for name, value in account.items()}
    return case_in(
        "follow_up",
        team=team,
        assigned_to=collector,
        account__debtor__timezone=zone_where_it_is_midday(),
        account__debtor__mobile="13812345678",
        **fields,
    )


def agreement_in_force(
    case,
    amounts: list[str],
    first_due: date,
    *,
    interest: list[str] | None = None,
    total_waived: str = "700.00",
) -> Agreement:
    """An agreement in force with monthly installments of `amounts` (principal unless `interest` says
    part of each is plan interest) and its agreement_in_force hold, as signing leaves it."""
    account = case.account
    interest = interest or ["0.00"] * len(amounts)
    lines = [
        {
            "number": n,
            "due_date": first_due + timedelta(days=30 * (n - 1)),
            "amount": Decimal(amount),
            "interest": Decimal(extra),
            "principal": Decimal(amount) - Decimal(extra),
        }
        for n, (amount, extra) in enumerate(zip(amounts, interest, strict=True), start=1)
    ]
    total = sum((line["amount"] for line in lines), Decimal("0"))
    financed = sum((line["principal"] for line in lines), Decimal("0"))
    maker = UserFactory(role="collector", team=case.team)
    offer = Offer.objects.create(
        case=case,
        months=len(lines),
        first_due_date=first_due,
        interest_waiver_pct=Decimal("100"),
        fee_waiver_pct=Decimal("100"),
        principal=account.principal_overdue,
        interest=account.interest_overdue,
        fees=account.fees_overdue,
        financed_amount=financed,
        total_payable=total,
        total_waived=Decimal(total_waived),
        largest_installment=max(line["amount"] for line in lines),
        schedule=[],
        status=Offer.Status.SIGNED,
        created_by=maker,
    )
    now = timezone.now()
    link = PortalLink.objects.create(
        case=case, token_hash=uuid.uuid4().hex * 2, channel="sms", expires_at=now + timedelta(days=7)
    )
    code = OneTimeCode.objects.create(
        link=link, purpose=OneTimeCode.Purpose.SIGN, code_hash="0" * 64, expires_at=now, used_at=now
    )
    agreement = Agreement.objects.create(
        case=case,
        offer=offer,
        number=f"AG{case.pk:06d}",
        pdf="private/agreements/test.pdf",
        sha256="0" * 64,
        signer_name=account.debtor.full_name,
        signed_at=now,
        code=code,
    )
    Installment.objects.bulk_create(Installment(agreement=agreement, fee=Decimal("0.00"), **line) for line in lines)
    hold_set(case_id=case.pk, kind=Hold.Kind.AGREEMENT_IN_FORCE, reason="Agreement signed.")
    return agreement


def pay(case, amount: str, ref: str | None = None, paid_at: datetime | None = None) -> Payment:
    """A payment through the ledger, as the card system reports it."""
    result = payment_record(
        account_ref=case.account.external_ref,
        amount=Decimal(amount),
        paid_at=paid_at or timezone.now(),
        external_ref=ref or uuid.uuid4().hex,
    )
    return result.payment


def statuses(agreement) -> list[tuple[str, str, str]]:
    return [
        (i.status, str(i.paid_amount), i.paid_on.isoformat() if i.paid_on else "")
        for i in agreement.installments.order_by("number")
    ]
