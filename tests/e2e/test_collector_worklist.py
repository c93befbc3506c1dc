"""A collector's day starts here: the worklist, a filter, a case opened from the keyboard."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.classification import bucket_for
from cases.models import CaseStatus
from cases.services import case_transition
from tests.conftest import login
from tests.factories import CardAccountFactory, CaseFactory, DebtorFactory, case_in

NAMES = ["王芳", "李伟", "张敏", "刘洋", "陈静", "杨磊", "赵强", "黄丽", "周杰", "吴婷", "徐明", "孙悦"]


def worklist_cases(team, collector):
    """A morning's worth of cases: both classes, several states, amounts from hundreds to six figures."""
    today = timezone.localdate()
    cases = []
    for n, name in enumerate(NAMES):
        mid = n % 3 == 0
        days = 75 + n * 9 if mid else 5 + n * 2
        account = CardAccountFactory(
            debtor=DebtorFactory(full_name=name),
            principal_overdue=Decimal(18000 + n * 7350) if mid else Decimal(900 + n * 410),
            interest_overdue=Decimal("612.40") + n,
            fees_overdue=Decimal("85.00"),
            delinquent_since=today - timedelta(days=days),
        )
        status = [CaseStatus.NOTIFY, CaseStatus.FIRST_CONTACT, CaseStatus.VERIFICATION, CaseStatus.PLAN][n % 4]
        cases.append(
            case_in(
                status,
                account=account,
                team=team,
                assigned_to=collector,
                classification="mid" if mid else "early",
                bucket=bucket_for(days),
                priority=(300 if mid else 100) + days,
                next_action_on=today + timedelta(days=n % 3 - 1),
            )
        )
    return cases


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_collector_filters_the_worklist_and_opens_a_case_from_the_keyboard(
    page, collector, team, screenshots_dir
):
    cases = worklist_cases(team, collector)
    CaseFactory(team=team, classification="early")  # unassigned, still on the team's list
    first_mid = max((c for c in cases if c.classification == "mid"), key=lambda c: c.priority)
    case_transition(
        case_id=first_mid.pk, name="start_verification", actor=collector, reason="收入下降，提供了工资流水"
    )

    login(page, "collector")
    page.wait_for_url(re.compile(r"/cases/$"))
    page.select_option("#id_classification", "mid")
    page.wait_for_url(re.compile(r"classification=mid"))
    rows = page.locator("table[data-worklist] tbody tr[data-href]")
    page.wait_for_function("() => document.querySelectorAll('table[data-worklist] tbody tr[data-href]').length === 4")
    page.screenshot(path=str(screenshots_dir / "collector_worklist_mid.png"), full_page=True)

    page.keyboard.press("j")
    assert "is-selected" in rows.first.get_attribute("class")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/cases/{first_mid.pk}/$"))

    timeline = page.locator("#case-timeline")
    assert "收入下降，提供了工资流水" in timeline.inner_text()
    assert page.locator("#case-header").get_by_text(first_mid.number).is_visible()
    page.screenshot(path=str(screenshots_dir / "collector_case_page.png"), full_page=True)
