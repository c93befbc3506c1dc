"""Issue 6's whole path in the browser: a collector builds an offer on a verified case with the live schedule,
saves it and texts the portal link; the cardholder, on a phone, verifies, accepts, signs and downloads the
agreement; the collector's case page then shows follow-up, the twelve installments and the signature."""

import re
from decimal import Decimal
from pathlib import Path

import pytest

from cases.models import Case, CaseStatus
from plans.models import Agreement, Installment, Offer, OneTimeCode, PortalLink
from tests.conftest import login
from tests.e2e.test_cardholder_portal import PHONE, code_texted, texted
from tests.plans.portal_support import NATIONAL_ID, plan_case

SCHEDULE_ROWS = "#plan-preview table.plan-schedule tbody tr"


def wait_for_schedule_rows(page, count: int) -> None:
    page.wait_for_function(
        "([selector, count]) => document.querySelectorAll(selector).length === count", arg=[SCHEDULE_ROWS, count]
    )


def state_classes(page) -> str:
    return page.locator("#case-header [data-testid=case-state]").get_attribute("class")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_collector_sends_an_offer_the_cardholder_signs_it_on_a_phone_and_the_case_follows_up(
    page, browser, live_server, settings, tmp_path, team, collector, screenshots_dir
):
    sms = tmp_path / "sms"
    settings.SMS_FILE_DIR = str(sms)
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PORTAL_BASE_URL = live_server.url
    case = plan_case(team=team, collector=collector, status=CaseStatus.VERIFICATION)

    # --- The collector opens the verified case and its plan builder.
    login(page, "collector")
    page.wait_for_url(re.compile(r"/cases/$"))
    page.goto(f"{page.base_url}/cases/{case.pk}/")
    assert "state-verification" in state_classes(page)
    page.click("#tab-plans")
    page.wait_for_selector("#offer-form")
    assert page.locator("#tabpanel-plans").is_visible()

    # --- The terms typed in; the schedule follows them without a page load.
    offer_form = page.locator("#offer-form")
    offer_form.locator("#offer-kind").select_option("installments")
    offer_form.locator("#offer-method").select_option("annuity")
    offer_form.locator("#offer-months").fill("6")
    wait_for_schedule_rows(page, 6)
    assert page.locator("#plan-preview [data-testid=largest-installment]").inner_text() == "¥1,450.00"
    offer_form.locator("#offer-months").fill("12")
    wait_for_schedule_rows(page, 12)
    assert page.locator("#plan-preview [data-testid=largest-installment]").inner_text() == "¥725.00"
    assert page.locator("#plan-preview [data-testid=total-payable]").inner_text() == "¥8,700.00"
    assert page.locator("#plan-preview [data-testid=warning-unaffordable]").count() == 0
    assert page.locator("#plan-preview [data-testid=warning-approval]").count() == 0
    page.screenshot(path=str(screenshots_dir / "whole_path_1_builder_preview.png"), full_page=True)

    # --- Saved: ready to send, and the case is now in plan.
    page.click("[data-testid=save-offer]")
    page.wait_for_selector("#plan-builder [data-testid=builder-done]")
    offer = Offer.objects.get(case=case)
    assert (offer.status, offer.method, offer.months, offer.largest_installment) == (
        Offer.Status.READY,
        "annuity",
        12,
        Decimal("725.00"),
    )
    assert Case.objects.get(pk=case.pk).status == CaseStatus.PLAN
    assert page.locator(f"#case-offers [data-testid=offer-{offer.pk}]").get_attribute("data-status") == "ready"

    # --- Sent to the cardholder by SMS.
    page.check("#portal-links input[name=channel][value=sms]")
    page.click("[data-testid=portal-link-send]")
    page.wait_for_selector("#portal-links [data-testid=portal-link-sent]")
    assert page.locator("#portal-links [data-testid=portal-link-refused]").count() == 0
    assert page.evaluate("(box => box.scrollWidth <= box.clientWidth)(document.querySelector('#portal-links'))")
    page.screenshot(path=str(screenshots_dir / "whole_path_2_link_sent.png"), full_page=True)
    link = PortalLink.objects.get(case=case)
    assert link.channel == "sms"
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.OFFERED
    link_url = re.search(r"https?://\S+/p/[\w-]+/", texted(sms, f"portal-link-{link.pk}")).group()

    # --- The cardholder, on a phone: identity, the offer, accept, sign, download.
    phone = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True, accept_downloads=True)
    portal = phone.new_page()
    portal.set_default_timeout(15000)
    try:
        portal.goto(link_url)
        portal.fill("[name=last_four]", NATIONAL_ID[-4:])
        portal.click("[data-testid=identity-form] button[type=submit]")
        portal.wait_for_selector("[data-testid=code-form]")
        portal.fill("[data-testid=code-form] [name=code]", code_texted(sms, OneTimeCode.Purpose.IDENTITY))
        portal.click("[data-testid=code-form] button[type=submit]")

        portal.wait_for_selector("[data-testid=offer-cards]")
        assert portal.locator("[data-testid^=offer-card-]").count() == 1
        assert "¥725.00" in portal.locator(f"[data-testid=offer-card-{offer.pk}]").inner_text()
        portal.screenshot(path=str(screenshots_dir / "whole_path_3_portal_offer.png"), full_page=True)
        portal.click(f"[data-testid=accept-{offer.pk}]")

        portal.wait_for_selector("[data-testid=agreement-review]")
        portal.click("[data-testid=request-sign-code]")
        portal.wait_for_selector(".notice-success")
        portal.fill("[data-testid=sign-form] [name=signer_name]", "王芳")
        portal.check("[data-testid=sign-form] [name=consent]")
        portal.fill("[data-testid=sign-form] [name=code]", code_texted(sms, OneTimeCode.Purpose.SIGN))
        portal.screenshot(path=str(screenshots_dir / "whole_path_4_portal_sign.png"), full_page=True)
        portal.click("[data-testid=sign-button]")

        portal.wait_for_selector("[data-testid=agreement]")
        with portal.expect_download() as download:
            portal.click("[data-testid=download-pdf]")
        assert Path(download.value.path()).read_bytes()[:4] == b"%PDF"
        portal.screenshot(path=str(screenshots_dir / "whole_path_5_portal_signed.png"), full_page=True)
    finally:
        phone.close()

    # --- Back on the collector's page: follow-up, twelve installments, the signature in the portal activity.
    page.reload()
    assert "state-follow_up" in state_classes(page)
    installments = page.locator("#installments [data-testid^=installment-]")
    assert installments.count() == 12
    assert "¥725.00" in page.locator("#installments [data-testid=installment-12]").inner_text()
    assert "state-follow_up" in page.locator("#installments [data-testid=agreement-status]").get_attribute("class")
    page.click("#tab-plans")
    page.wait_for_selector("#portal-activity [data-kind=signed]")
    assert page.locator("#portal-activity [data-kind=downloaded]").count() >= 1
    page.screenshot(path=str(screenshots_dir / "whole_path_6_case_follow_up.png"), full_page=True)

    agreement = Agreement.objects.get(offer=offer)
    assert agreement.signer_name == "王芳"
    assert Installment.objects.filter(agreement=agreement).count() == 12
    assert Case.objects.get(pk=case.pk).status == CaseStatus.FOLLOW_UP
