"""A supervisor's compliance review: the dashboard from the navigation, a figure, the cases behind it, a case."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from compliance.models import Complaint, ContactDecision, ContactPolicy, Hold, ScreeningHit
from compliance.services import hold_set
from negotiation.models import Contact
from tests.conftest import login
from tests.factories import CardAccountFactory, CaseFactory, DebtorFactory, UserFactory

NAMES = ["王芳", "李伟", "张敏", "刘洋", "陈静", "杨磊", "赵强", "黄丽", "周杰", "吴婷"]
# Reasons the gate gave, case by case (one list per refused attempt).
REFUSALS = [
    [["outside_contact_hours"], ["daily_attempt_limit"], ["outside_contact_hours"]],
    [["daily_attempt_limit"], ["daily_conversation_limit"]],
    [["dispute_hold"], ["dispute_hold", "outside_contact_hours"]],
    [["outside_contact_hours"]],
    [["channel_opt_out"], ["third_party_forbidden"]],
    [],
    [["outside_contact_hours"], ["daily_attempt_limit"]],
    [],
    [["complaint_hold"]],
    [],
]


def refuse(case, codes, asked_by, days_ago: int) -> None:
    decision = ContactDecision.objects.create(
        case=case, channel="phone", party="debtor", purpose="collection", at=timezone.now(), allowed=False,
        reasons=[{"code": code, "detail": code} for code in codes], reason_codes=codes,
        policy=ContactPolicy.objects.get(jurisdiction="CN"), asked_by=asked_by, path="web",
    )
    ContactDecision.objects.filter(pk=decision.pk).update(created_at=timezone.now() - timedelta(days=days_ago))


def allowed_call(case, collector, hours_ago: int) -> None:
    at = timezone.now() - timedelta(hours=hours_ago)
    decision = ContactDecision.objects.create(
        case=case, channel="phone", party="debtor", purpose="collection", at=at, allowed=True,
        policy=ContactPolicy.objects.get(jurisdiction="CN"), asked_by=collector, path="web",
    )
    Contact.objects.create(
        case=case, channel="phone", outcome="no_answer", number=case.account.debtor.mobile, at=at,
        recorded_by=collector, decision=decision,
    )


def review_portfolio(team, supervisor):
    collectors = [
        UserFactory(username=f"c{n}", first_name=name, last_name="", role="collector", team=team)
        for n, name in enumerate(["陈晓", "林峰", "郑敏"])
    ]
    now = timezone.now()
    cases = []
    for n, name in enumerate(NAMES):
        collector = collectors[n % 3]
        account = CardAccountFactory(
            debtor=DebtorFactory(full_name=name), principal_overdue=Decimal(3000 + n * 2150),
            delinquent_since=timezone.localdate() - timedelta(days=12 + n * 9),
        )
        classification = "mid" if n % 3 else "early"
        case = CaseFactory(team=team, account=account, assigned_to=collector, classification=classification)
        for attempt, codes in enumerate(REFUSALS[n]):
            refuse(case, codes, collector if attempt % 3 else None, days_ago=1 + attempt * 3)
        allowed_call(case, collector, hours_ago=2 + n)
        cases.append(case)
    for n, kind, reason, actor in (
        (2, Hold.Kind.DISPUTE, "持卡人对年费金额有异议，待核实账单", collectors[2]),
        (8, Hold.Kind.COMPLAINT, "投诉调查中（催收频率）", supervisor),
        (5, Hold.Kind.BREATHING_SPACE, "债务咨询机构介入", supervisor),
    ):
        hold_set(case_id=cases[n].pk, kind=kind, reason=reason, actor=actor)
    for case, author in ((cases[0], collectors[0]), (cases[4], collectors[1])):
        ScreeningHit.objects.create(
            source="note", action="blocked", case=case, author=author, terms=["法院"],
            categories=["impersonation"], excerpt="……再不还款法院明天就上门……",
        )
    for case, due_in, category in (
        (cases[8], timedelta(days=2), "contact_frequency"),
        (cases[1], -timedelta(hours=20), "contact_conduct"),
        (cases[3], timedelta(days=9), "amount"),
    ):
        Complaint.objects.create(
            case=case, channel="phone", category=category, description="持卡人来电投诉",
            received_at=now - timedelta(days=10), due_at=now + due_in, registered_by=supervisor,
        )
    return cases


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_supervisor_drills_down_from_a_blocked_reason_to_a_case(page, supervisor, team, screenshots_dir):
    cases = review_portfolio(team, supervisor)

    login(page, "supervisor")
    page.wait_for_url(re.compile(r"/cases/supervisor/$"))
    page.click('nav.mainnav a[href="/reporting/compliance/"]')
    page.wait_for_url(re.compile(r"/reporting/compliance/$"))

    blocked = page.locator('[data-testid="blocked-panel"]')
    assert blocked.locator('[data-testid="blocked-total"]').inner_text() == "13"
    hours = blocked.locator('tr[data-reason="outside_contact_hours"] td.num a')
    assert hours.inner_text() == "5"
    assert page.locator('[data-testid="outside-policy"] .figure').inner_text() == "0"
    page.screenshot(path=str(screenshots_dir / "supervisor_compliance_dashboard.png"), full_page=True)

    hours.click()
    page.wait_for_url(re.compile(r"figure=blocked&key=outside_contact_hours"))
    rows = page.locator('[data-testid="drill-down"] tbody tr[data-case]')
    listed = {int(pk) for pk in rows.evaluate_all("rows => rows.map(r => r.dataset.case)")}
    assert listed == {cases[n].pk for n in (0, 2, 3, 6)}
    page.screenshot(path=str(screenshots_dir / "supervisor_compliance_drill_down.png"), full_page=True)

    page.click(f'[data-testid="drill-down"] tr[data-case="{cases[2].pk}"] a[href="/cases/{cases[2].pk}/"]')
    page.wait_for_url(re.compile(rf"/cases/{cases[2].pk}/$"))
    compliance_box = page.locator('[data-testid="compliance-box"]')
    assert compliance_box.locator('[data-testid="hold-dispute"]').is_visible()
    assert "持卡人对年费金额有异议" in compliance_box.inner_text()
    page.screenshot(path=str(screenshots_dir / "supervisor_compliance_case.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_supervisor_lifts_a_collectors_dispute_hold_in_the_compliance_box(
    page, supervisor, collector, team, screenshots_dir
):
    account = CardAccountFactory(debtor=DebtorFactory(full_name="李伟"))
    case = CaseFactory(team=team, assigned_to=collector, account=account)
    hold_set(case_id=case.pk, kind=Hold.Kind.DISPUTE, reason="持卡人称该笔消费非本人所为", actor=collector)

    login(page, "supervisor")
    page.goto(f"{page.base_url}/cases/{case.pk}/")
    compliance_box = page.locator('[data-testid="compliance-box"]')
    compliance_box.locator('[data-testid="hold-dispute"] summary').click()
    compliance_box.locator('[data-testid="hold-dispute"] button[type=submit]').click()
    page.wait_for_selector('[data-testid="compliance-box"] .message-error')
    assert Hold.objects.get(case=case).lifted_at is None
    page.screenshot(path=str(screenshots_dir / "supervisor_hold_lift_refused.png"), full_page=True)

    page.locator('[data-testid="hold-dispute"] input[name=reason]').fill("已调取签购单，确认本人消费")
    page.locator('[data-testid="hold-dispute"] button[type=submit]').click()
    page.wait_for_selector('[data-testid="compliance-box"] [data-testid="hold-dispute"]', state="detached")
    assert Hold.objects.get(case=case).lifted_by == supervisor
    page.screenshot(path=str(screenshots_dir / "supervisor_hold_lifted.png"), full_page=True)
