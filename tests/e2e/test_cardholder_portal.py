"""A cardholder on a phone: opens the link from the SMS, proves identity with the last four of the id and the
code texted to them, compares the plans, accepts one, signs it with a second code and downloads the PDF."""

import json
import re
import time
from pathlib import Path

import pytest

from cases.models import Case, CaseStatus
from plans.models import Agreement, Offer, OneTimeCode, PortalEvent
from plans.portal import portal_link_issue
from tests.plans.portal_support import NATIONAL_ID, make_offer, plan_case

PHONE = {"width": 390, "height": 844}


def texted(folder: Path, key: str, timeout: float = 10.0) -> str:
    """The text of the SMS the file gateway delivered under this idempotency key."""
    path = folder / f"{key}.json"
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"no SMS {key} in {folder}")
        time.sleep(0.1)
    return json.loads(path.read_text(encoding="utf-8"))["text"]


def code_texted(folder: Path, purpose: str) -> str:
    otp = OneTimeCode.objects.filter(purpose=purpose).order_by("-created_at", "-pk").first()
    return re.search(r"\d{6}", texted(folder, f"otp-{otp.pk}")).group()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_cardholder_verifies_accepts_signs_and_downloads_the_agreement_on_a_phone(
    browser, live_server, settings, tmp_path, team, collector, screenshots_dir
):
    sms = tmp_path / "sms"
    settings.SMS_FILE_DIR = str(sms)
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PORTAL_BASE_URL = live_server.url
    case = plan_case(team=team, collector=collector)
    chosen = make_offer(case, created_by=collector, status=Offer.Status.READY, months=3)
    make_offer(case, created_by=collector, status=Offer.Status.READY, months=6)
    link, _token = portal_link_issue(case_id=case.pk, actor=collector)
    link_url = re.search(r"https?://\S+/p/[\w-]+/", texted(sms, f"portal-link-{link.pk}")).group()

    context = browser.new_context(
        locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        # --- Identity: the last four of the id, then the code from the SMS.
        page.goto(link_url)
        assert page.locator("[data-testid=debt-summary]").count() == 0
        assert "王芳" not in page.content()
        page.fill("[name=last_four]", NATIONAL_ID[-4:])
        page.click("[data-testid=identity-form] button[type=submit]")
        page.wait_for_selector("[data-testid=code-form]")
        page.fill("[data-testid=code-form] [name=code]", code_texted(sms, OneTimeCode.Purpose.IDENTITY))
        page.click("[data-testid=code-form] button[type=submit]")

        # --- The debt and the plans side by side (stacked at this width), without sideways scrolling.
        page.wait_for_selector("[data-testid=offer-cards]")
        assert page.locator("[data-testid^=offer-card-]").count() == 2
        assert "¥8,700.00" in page.locator("[data-testid=debt-summary]").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.locator(f"[data-testid=offer-card-{chosen.pk}] details summary").click()
        assert page.locator(f"[data-testid=offer-card-{chosen.pk}] table.schedule tbody tr").count() == 3
        page.screenshot(path=str(screenshots_dir / "portal_1_offers.png"), full_page=True)

        # --- Accept, review, sign with a second code.
        page.click(f"[data-testid=accept-{chosen.pk}]")
        page.wait_for_selector("[data-testid=agreement-review]")
        page.click("[data-testid=request-sign-code]")
        page.wait_for_selector(".notice-success")
        page.fill("[data-testid=sign-form] [name=signer_name]", "王芳")
        page.check("[data-testid=sign-form] [name=consent]")
        page.fill("[data-testid=sign-form] [name=code]", code_texted(sms, OneTimeCode.Purpose.SIGN))
        page.screenshot(path=str(screenshots_dir / "portal_2_sign.png"), full_page=True)
        page.click("[data-testid=sign-button]")

        # --- Done: the agreement, how to pay, the PDF.
        page.wait_for_selector("[data-testid=agreement]")
        assert page.locator("[data-testid=how-to-pay]").is_visible()
        with page.expect_download() as download:
            page.click("[data-testid=download-pdf]")
        assert Path(download.value.path()).read_bytes()[:4] == b"%PDF"
        page.screenshot(path=str(screenshots_dir / "portal_3_signed.png"), full_page=True)
    finally:
        context.close()

    agreement = Agreement.objects.get(offer=chosen)
    assert agreement.installments.count() == 3
    assert Case.objects.get(pk=case.pk).status == CaseStatus.FOLLOW_UP
    kinds = set(PortalEvent.objects.filter(link=link).values_list("kind", flat=True))
    assert {"opened", "verified", "accepted", "signed", "downloaded"} <= kinds
