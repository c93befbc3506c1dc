"""Demo activity on top of the demo portfolio: calls through the gate (some refused), a flagged note,
disputes, complaints and held notices, so that every screen has something true to show."""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from accounts.models import Role, User
from cases.demo import Escalation
from cases.models import Case, CaseStatus
from cases.services import case_transition
from compliance.models import Complaint
from compliance.services import complaint_mark_complex, complaint_register
from negotiation.escalation import placement_approve, placement_propose, referral_approve, referral_propose
from negotiation.models import Agency, Outcome
from negotiation.services import (
    ContactForbidden,
    contact_record,
    message_queue,
    promise_record,
    verification_complete,
    verification_start,
)

OUTCOMES = [
    Outcome.NO_ANSWER, Outcome.NO_ANSWER, Outcome.BUSY, Outcome.RIGHT_PARTY_CONTACT, Outcome.PROMISE_TO_PAY,
    Outcome.CALLBACK_REQUESTED, Outcome.HARDSHIP_STATED, Outcome.REFUSED, Outcome.WRONG_NUMBER,
]
NOTES = ["持卡人称下周发工资后还款。", "无人接听。", "持卡人表示近期失业，收入下降。", "请持卡人提供收入证明。"]
# A note a supervisor must see: it threatens to tell the cardholder's employer.
FLAGGED_NOTE = "告诉持卡人如果不还款就通知你单位。"


DEMO_AGENCY = {"name": "示例信用管理有限公司", "licence_number": "DEMO-AGENCY-001", "contact": "021-5555 0000"}


def escalations_seed(escalations: list[Escalation]) -> int:
    """Escalate the demo cases the way people do: the collector proposes an agency placement (or, for
    litigation, a referral) and the team's supervisor approves it, which escalates the case."""
    if not escalations:
        return 0
    agency, _created = Agency.objects.get_or_create(
        licence_number=DEMO_AGENCY["licence_number"], defaults=DEMO_AGENCY
    )
    fallback = User.objects.filter(role=Role.SUPERVISOR).order_by("pk").first()
    cases = Case.objects.select_related("assigned_to", "team__supervisor").in_bulk([e.case_id for e in escalations])
    for escalation in escalations:
        case = cases[escalation.case_id]
        supervisor = (case.team.supervisor if case.team else None) or fallback
        if escalation.litigation:
            referral = referral_propose(case_id=case.pk, actor=case.assigned_to, notes=escalation.reason)
            referral_approve(referral_id=referral.pk, actor=supervisor, reason=escalation.reason)
        else:
            placement = placement_propose(case_id=case.pk, agency_id=agency.pk, actor=case.assigned_to)
            placement_approve(placement_id=placement.pk, actor=supervisor, reason=escalation.reason)
        if escalation.returned:
            case_transition(case_id=case.pk, name="return_to_negotiation", actor=supervisor, reason=escalation.returned)
    return len(escalations)


def activity_seed(*, seed: int, now: datetime | None = None) -> dict:
    """Contacts of the last three days on open cases, in each debtor's local hours; a few at night,
    which the gate refuses and records."""
    rng = random.Random(seed)
    now = now or timezone.now()
    counts = {"contacts": 0, "refused": 0, "complaints": 0, "messages": 0}
    cases = list(
        Case.objects.filter(status__in=Case.OPEN_STATES, assigned_to__isnull=False)
        .select_related("account__debtor", "assigned_to", "team__supervisor")
        .order_by("pk")[:90]
    )
    for index, case in enumerate(cases):
        zone = ZoneInfo(case.account.debtor.timezone)
        for days_ago in range(rng.randint(1, 3), 0, -1):
            day = (now - timedelta(days=days_ago)).astimezone(zone).date()
            hour = 22 if index % 15 == 0 else rng.randint(9, 19)
            at = datetime.combine(day, time(hour, rng.randint(0, 59)), tzinfo=zone)
            outcome = Outcome.DISPUTE_RAISED if index % 29 == 3 else rng.choice(OUTCOMES)
            notes = FLAGGED_NOTE if index == 7 else rng.choice(NOTES)
            try:
                contact_record(case_id=case.pk, channel="phone", outcome=outcome, actor=case.assigned_to, at=at,
                               notes=notes, path="demo")
                counts["contacts"] += 1
            except ContactForbidden:
                counts["refused"] += 1
    for case, category in zip(cases[40:43], ("contact_frequency", "amount", "contact_conduct"), strict=False):
        complaint = complaint_register(
            channel=Complaint.Channel.PHONE, category=category, case_id=case.pk, actor=case.assigned_to,
            description="持卡人反映催收电话过于频繁，影响工作。", received_at=now - timedelta(days=rng.randint(3, 13)),
        )
        counts["complaints"] += 1
        if category == "amount" and case.team and case.team.supervisor:
            complaint_mark_complex(complaint_id=complaint.pk, actor=case.team.supervisor, reason="需核对账单明细。")
    for case in cases[50:60]:
        message_queue(
            case_id=case.pk, channel="sms", idempotency_key=f"demo-notice-{case.pk}",
            text=f"【示例银行】尊敬的{case.account.debtor.full_name}，您尾号{case.account.card_last4}的信用卡已逾期，"
            "请及时还款或致电客服协商。",
        )
        counts["messages"] += 1
    counts.update(_verifications_and_promises(rng=rng, cases=cases, today=timezone.localdate(now)))
    return counts


def _verifications_and_promises(*, rng: random.Random, cases: list[Case], today) -> dict:
    """Verify the situation of cases in verification; propose a plan for the affordable half; take a
    few promises to pay."""
    verified = promised = 0
    for case in Case.objects.filter(status=CaseStatus.VERIFICATION).select_related("assigned_to").order_by("pk"):
        if case.assigned_to is None:
            continue
        verification = verification_start(case_id=case.pk, actor=case.assigned_to)
        income = Decimal(rng.randrange(4000, 20000))
        verification_complete(
            verification_id=verification.pk, actor=case.assigned_to, outcome="verified",
            hardship_reason=rng.choice(["unemployment", "income_drop", "illness", "business_failure"]),
            monthly_income=income, essential_expenses=(income * Decimal("0.55")).quantize(Decimal("1")),
            other_debt_payments=Decimal(rng.randrange(0, 1500)), dependants=rng.randint(0, 3),
        )
        verified += 1
        if verified % 2:
            case_transition(case_id=case.pk, name="propose_plan", actor=case.assigned_to, reason="收入可负担分期方案。")
    for case in cases[60:70]:
        overdue = case.account.overdue_total
        if case.is_open and overdue > 0:
            promise_record(
                case_id=case.pk, amount=min(overdue, Decimal(rng.randrange(500, 3000))), actor=case.assigned_to,
                due_on=today + timedelta(days=rng.randint(2, 10)),
            )
            promised += 1
    return {"verifications": verified, "promises": promised}
