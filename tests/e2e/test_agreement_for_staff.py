"""After the cardholder signs on a phone, the collector opens the case and finds the agreement: signer, SHA-256 and a
download of the signed PDF whose bytes have that SHA-256; the timeline lists the verification and the promise."""

import hashlib
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from compliance.models import AuditEvent
from negotiation.services import promise_record
from plans.models import Agreement, Offer, OneTimeCode
from plans.portal import portal_link_issue
from tests.conftest import login
from tests.e2e.test_cardholder_portal import PHONE, code_texted, texted
from tests.plans.portal_support import NATIONAL_ID, make_offer, plan_case


def sign_on_a_phone(browser, link_url: str, offer: Offer, sms: Path) -> None:
    phone = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    portal = phone.new_page()
    portal.set_default_timeout(15000)
    try:
        portal.goto(link_url)
        portal.fill("[name=last_four]", NATIONAL_ID[-4:])
        portal.click("[data-testid=identity-form] button[type=submit]")
        portal.wait_for_selector("[data-testid=code-form]")
        portal.fill("[data-testid=code-form] [name=code]", code_texted(sms, OneTimeCode.Purpose.IDENTITY))
        portal.click("[data-testid=code-form] button[type=submit]")
        portal.click(f"[data-testid=accept-{offer.pk}]")
        portal.wait_for_selector("[data-testid=agreement-review]")
        portal.click("[data-testid=request-sign-code]")
        portal.wait_for_selector(".notice-success")
        portal.fill("[data-testid=sign-form] [name=signer_name]", "王芳")
        portal.check("[data-testid=sign-form] [name=consent]")
        portal.fill("[data-testid=sign-form] [name=code]", code_texted(sms, OneTimeCode.Purpose.SIGN))
        portal.click("[data-testid=sign-button]")
        portal.wait_for_selector("[data-testid=agreement]")
    finally:
        phone.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_collector_sees_the_signed_agreement_with_its_hash_and_downloads_the_pdf(
    browser, live_server, settings, tmp_path, team, collector, screenshots_dir
):
    sms = tmp_path / "sms"
    settings.SMS_FILE_DIR = str(sms)
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PORTAL_BASE_URL = live_server.url
    case = plan_case(team=team, collector=collector)
    promise_record(case_id=case.pk, amount="500.00", due_on=date.today() + timedelta(days=5), actor=collector)
    offer = make_offer(case, created_by=collector, status=Offer.Status.READY, months=3)
    link, _token = portal_link_issue(case_id=case.pk, actor=collector)
    link_url = re.search(r"https?://\S+/p/[\w-]+/", texted(sms, f"portal-link-{link.pk}")).group()

    sign_on_a_phone(browser, link_url, offer, sms)
    agreement = Agreement.objects.get(offer=offer)

    desk = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = desk.new_page()
    page.set_default_timeout(15000)
    page.base_url = live_server.url
    try:
        login(page, "collector")
        page.wait_for_url(re.compile(r"/cases/$"))
        page.goto(f"{page.base_url}/cases/{case.pk}/")
        panel = page.locator("[data-testid=agreement-panel]")
        panel.wait_for()
        assert panel.locator("[data-testid=agreement-number]").inner_text() == agreement.number
        assert panel.locator("[data-testid=agreement-sha256]").inner_text() == agreement.sha256
        assert panel.locator("[data-testid=agreement-signer]").inner_text() == "王芳"
        assert panel.locator("[data-testid^=installment-]").count() == 3
        assert panel.locator("[data-testid=agreement-outstanding]").inner_text() == "¥8,700.00"
        # The timeline tells the whole story, the verification and the promise included.
        timeline = page.locator("[data-kind]")
        events = set(timeline.evaluate_all("items => items.map(item => item.dataset.event)"))
        assert {"verification_completed", "promise_made", "agreement_signed"} <= events, events
        # The hash wraps inside the side column instead of widening the page.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(screenshots_dir / "agreement_for_staff_panel.png"), full_page=True)

        with page.expect_download() as download:
            panel.locator("[data-testid=agreement-download]").click()
        content = Path(download.value.path()).read_bytes()
    finally:
        desk.close()

    assert content[:5] == b"%PDF-"
    assert hashlib.sha256(content).hexdigest() == agreement.sha256
    assert download.value.suggested_filename == f"{agreement.number}.pdf"
    event = AuditEvent.objects.get(action="agreement.download")
    assert (event.actor_id, event.case_id) == (collector.pk, case.pk)
