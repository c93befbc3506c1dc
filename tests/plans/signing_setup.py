"""Builders shared by the code, agreement and signing tests: a case in `plan` with accepted offers and a
portal link, and a clock the services read through django.utils.timezone.now."""

import hashlib
import json
import re
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings

from cases.models import Case
from negotiation.models import MessageTemplate, OutboundMessage
from negotiation.services import message_clear_text
from plans.models import Offer, PortalLink
from plans.schedule import Terms, build
from tests.factories import CaseFactory, DebtorFactory, UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAYTIME = datetime(2026, 12, 3, 10, 0, tzinfo=SHANGHAI)
MOBILE = "13812345678"


class Clock:
    """The time every service sees; tests move it forward."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def advance(self, **delta) -> datetime:
        self.at += timedelta(**delta)
        return self.at

    def __call__(self) -> datetime:
        return self.at


def ensure_code_template() -> None:
    MessageTemplate.objects.get_or_create(
        code="one_time_code", channel="sms", language="zh-hans",
        defaults={"subject": "", "body": "您的验证码为{{ code }}，请勿告诉任何人。"},
    )


def plan_case(**account) -> Case:
    debtor = DebtorFactory(full_name="王芳", mobile=MOBILE)
    case = CaseFactory(account__debtor=debtor, account__card_last4="4821", **{f"account__{k}": v for k, v in
                                                                              account.items()})
    Case.objects.filter(pk=case.pk).update(status="plan")
    case.refresh_from_db()
    return case


def offer_for(case: Case, *, status: str = Offer.Status.ACCEPTED, months: int = 6, method: str = "annuity",
              annual_rate: Decimal = Decimal("0.06"), monthly_fee_rate: Decimal = Decimal("0"),
              interest_waiver_pct: Decimal = Decimal("50"), fee_waiver_pct: Decimal = Decimal("100"),
              grace_months: int = 0, first_due_date: date = date(2027, 1, 15), **extra) -> Offer:
    account = case.account
    terms = Terms(
        principal=account.principal_overdue, interest=account.interest_overdue, fees=account.fees_overdue,
        method=method, months=months, first_due_date=first_due_date, annual_rate=annual_rate,
        monthly_fee_rate=monthly_fee_rate, interest_waiver_pct=interest_waiver_pct, fee_waiver_pct=fee_waiver_pct,
        grace_months=grace_months,
    )
    schedule = build(terms)
    return Offer.objects.create(
        case=case, method=method, months=months, annual_rate=annual_rate, monthly_fee_rate=monthly_fee_rate,
        interest_waiver_pct=interest_waiver_pct, fee_waiver_pct=fee_waiver_pct, grace_months=grace_months,
        first_due_date=first_due_date, principal=account.principal_overdue, interest=account.interest_overdue,
        fees=account.fees_overdue, financed_amount=schedule.financed_amount, total_payable=schedule.total_payable,
        total_waived=schedule.total_waived, largest_installment=schedule.largest_installment,
        schedule=schedule.as_json(), status=status, created_by=UserFactory(), **extra,
    )


def link_for(case: Case, *, expires_at: datetime | None = None, **fields) -> PortalLink:
    return PortalLink.objects.create(
        case=case, token_hash=hashlib.sha256(uuid.uuid4().bytes).hexdigest(), channel="sms",
        expires_at=expires_at or DAYTIME + timedelta(days=7), **fields,
    )


def sent_code(otp) -> str:
    """The digits in the text message as the phone received it, or in the sealed clear text when it has not
    gone out yet: the only places the code itself exists (the outbox stores it masked)."""
    message = OutboundMessage.objects.get(pk=otp.message_id)
    sms = Path(settings.SMS_FILE_DIR) / f"{message.idempotency_key}.json"
    text = json.loads(sms.read_text(encoding="utf-8"))["text"] if sms.exists() else message_clear_text(message)[1]
    return re.search(r"\d{6}", text).group(0)


def other_than(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"
