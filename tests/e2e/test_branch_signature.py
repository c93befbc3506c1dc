"""An agreement signed on paper, in the browser: the collector uploads the scan from the case page, the team's
supervisor confirms it in another session, and the case header moves to follow-up in place."""

import re

import pytest

from cases.models import CaseStatus
from plans.models import Agreement, Offer
from tests.conftest import login
from tests.plans.portal_support import make_offer, plan_case

SCAN = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def state_classes(page) -> str:
    return page.locator("#case-header [data-testid=case-state]").get_attribute("class")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_collector_uploads_a_branch_scan_and_the_supervisor_confirms_it(
    page, browser, live_server, settings, tmp_path, team, collector, supervisor, screenshots_dir
):
    settings.MEDIA_ROOT = tmp_path / "media"
    case = plan_case(team=team, collector=collector)
    offer = make_offer(case, created_by=collector, status=Offer.Status.READY, months=6)
    scan = tmp_path / "signed.pdf"
    scan.write_bytes(SCAN)

    login(page, "collector")
    page.wait_for_url(re.compile(r"/cases/$"))
    page.goto(f"{page.base_url}/cases/{case.pk}/")
    page.click("#tab-plans")
    form = page.locator("[data-testid=branch-signature-upload]")
    form.wait_for()
    form.locator("#id_branch_offer").select_option(str(offer.pk))
    form.locator("#id_branch_file").set_input_files(str(scan))
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=branch-signature-pending]")
    assert "state-plan" in state_classes(page)
    page.screenshot(path=str(screenshots_dir / "branch_signature_1_uploaded.png"), full_page=True)

    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    boss = context.new_page()
    boss.set_default_timeout(15000)
    boss.base_url = live_server.url
    login(boss, "supervisor")
    boss.wait_for_url(re.compile(r"/cases/"))
    boss.goto(f"{boss.base_url}/cases/{case.pk}/")
    boss.click("#tab-plans")
    boss.locator("#branch-signature button.primary").click()
    boss.wait_for_function(
        "() => document.querySelector('#case-header [data-testid=case-state]').classList.contains('state-follow_up')"
    )
    boss.screenshot(path=str(screenshots_dir / "branch_signature_2_confirmed.png"), full_page=True)
    context.close()

    case.refresh_from_db()
    assert case.status == CaseStatus.FOLLOW_UP
    agreement = Agreement.objects.get(case=case)
    assert (agreement.channel, agreement.uploaded_by, agreement.confirmed_by) == ("branch", collector, supervisor)
