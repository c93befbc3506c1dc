"""A collector works a case from first contact to a plan: a call logged from the keyboard, a promise to pay,
a verification with a figure sheet and a document, and then the "propose plan" step."""

import re
import struct
import zlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.models import Case, CaseStatus
from negotiation.models import Contact, Promise, Verification
from tests.conftest import login
from tests.factories import case_in


def zone_where_it_is_midday() -> str:
    """A fixed-offset zone in which it is about noon now, so contact hours never fail the test."""
    offset = 12 - datetime.now(UTC).hour
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def tiny_png() -> bytes:
    """A valid 1×1 white PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def open_negotiation_tab(page):
    page.click("#tab-negotiation")
    # The panel is loaded by htmx on page load; its forms replace the loader.
    page.wait_for_selector("#negotiation-panel form[action$='/promises/']")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_collector_logs_a_call_records_a_promise_and_verifies_the_situation(
    page, collector, team, screenshots_dir, tmp_path
):
    case = case_in(
        CaseStatus.FIRST_CONTACT,
        team=team,
        assigned_to=collector,
        account__debtor__full_name="王芳",
        account__debtor__mobile="13812345678",
        account__debtor__timezone=zone_where_it_is_midday(),
    )
    due_on = timezone.localdate() + timedelta(days=5)
    evidence = tmp_path / "工资流水.png"
    evidence.write_bytes(tiny_png())

    login(page, "collector")
    page.wait_for_url(re.compile(r"/cases/$"))
    page.goto(f"{page.base_url}/cases/{case.pk}/")
    state = page.locator("#case-header [data-testid=case-state]")
    assert "state-first_contact" in state.get_attribute("class")

    # --- A call logged from the keyboard: `l` focuses the form, the fields are filled, Enter logs it.
    contact_log = page.locator("#contact-log")
    page.keyboard.press("l")
    assert page.evaluate("document.activeElement.name") == "channel"
    assert page.evaluate("document.activeElement.closest('#contact-log') !== null")
    contact_log.locator("[name=channel]").select_option("phone")
    contact_log.locator("[name=party]").select_option("debtor")
    contact_log.locator("[name=outcome]").select_option("promise_to_pay")
    contact_log.locator("[name=duration_seconds]").fill("185")
    contact_log.locator("[name=next_step]").fill("五天后核对还款")
    contact_log.locator("[name=notes]").fill("答应下周五前还1500元")
    contact_log.locator("[name=notes]").press("Enter")

    timeline_contact = page.locator("#case-timeline [data-testid=timeline-contact]")
    timeline_contact.first.wait_for()
    page.locator("#contact-log [role=status]").wait_for()
    assert timeline_contact.count() == 1
    assert timeline_contact.first.locator(".badge.outcome-promise_to_pay").is_visible()
    assert "答应下周五前还1500元" in page.locator("#case-timeline").inner_text()
    assert page.locator("#contact-log [data-testid=contact-refused]").count() == 0
    # The form is fresh again for the next call.
    assert page.locator("#contact-log [name=notes]").input_value() == ""
    page.screenshot(path=str(screenshots_dir / "negotiation_1_contact_logged.png"), full_page=True)

    contact = Contact.objects.get(case=case)
    assert (contact.channel, contact.party, contact.outcome) == ("phone", "debtor", "promise_to_pay")
    assert (contact.duration_seconds, contact.notes, contact.recorded_by) == (185, "答应下周五前还1500元", collector)

    # --- A promise to pay in the verification-and-promises panel.
    open_negotiation_tab(page)
    assert page.locator("#tabpanel-log").is_hidden()
    promise_form = page.locator("#negotiation-panel form[action$='/promises/']")
    promise_form.locator("[name=amount]").fill("1500.00")
    promise_form.locator("[name=due_on]").fill(due_on.isoformat())
    promise_form.locator("button[type=submit]").click()
    promise_row = page.locator("#negotiation-panel .badge.promise-pending")
    promise_row.wait_for()
    assert "1,500.00" in page.locator("#negotiation-panel").inner_text()
    assert due_on.isoformat() in page.locator("#negotiation-panel").inner_text()
    assert page.locator("#negotiation-panel [data-testid=negotiation-refused]").count() == 0
    page.screenshot(path=str(screenshots_dir / "negotiation_2_promise_recorded.png"), full_page=True)

    promise = Promise.objects.get(case=case)
    assert (promise.amount, promise.due_on, promise.created_by) == (Decimal("1500.00"), due_on, collector)

    # --- A verification is started: the case moves to verification.
    page.locator("#negotiation-panel form[action$='/verifications/'] button[type=submit]").click()
    complete_form = page.locator("#negotiation-panel form[action$='/complete/']")
    complete_form.wait_for()
    verification = Verification.objects.get(case=case)
    assert verification.is_open
    case.refresh_from_db()
    assert case.status == CaseStatus.VERIFICATION

    # The header is not part of the panel's swap; the page shows the new state once reloaded.
    page.reload()
    assert "state-verification" in page.locator("#case-header [data-testid=case-state]").get_attribute("class")
    assert page.locator("#case-header button[name=name][value=propose_plan]").count() == 0
    open_negotiation_tab(page)
    complete_form.wait_for()
    page.screenshot(path=str(screenshots_dir / "negotiation_3_verification_started.png"), full_page=True)

    # --- A document for the open verification. Its form swaps the whole panel, so it goes before the figures:
    # figures typed first would be cleared by the upload.
    upload_form = page.locator(f"#negotiation-panel form[action$='/verifications/{verification.pk}/documents/']")
    upload_form.locator("[name=kind]").select_option("income_proof")
    upload_form.locator("input[type=file][name=file]").set_input_files(str(evidence))
    upload_form.locator("button[type=submit]").click()
    documents = page.locator(f"#negotiation-panel [data-testid=verification-{verification.pk}] ul.documents li")
    documents.first.wait_for()
    assert "工资流水.png" in documents.first.inner_text()
    assert page.locator("#negotiation-panel [data-testid=negotiation-refused]").count() == 0

    # --- The figures, with the disposable income worked out while typing, then the outcome.
    complete_form.locator("[name=hardship_reason]").select_option("income_drop")
    complete_form.locator("[name=monthly_income]").fill("9000.00")
    complete_form.locator("[name=essential_expenses]").fill("4200.00")
    complete_form.locator("[name=other_debt_payments]").fill("800.00")
    complete_form.locator("[name=dependants]").fill("1")
    complete_form.locator("[name=notes]").fill("工资流水显示收入下降")
    complete_form.locator("[name=outcome]").select_option("verified")
    page.wait_for_function("() => document.querySelector('#disposable-income').textContent.includes('4,000.00')")
    page.screenshot(path=str(screenshots_dir / "negotiation_4_figures_and_document.png"), full_page=True)

    complete_form.locator("button[type=submit]").click()
    article = page.locator(f"#negotiation-panel [data-testid=verification-{verification.pk}]")
    article.locator(".badge.outcome-verified").wait_for()
    assert page.locator("#negotiation-panel form[action$='/complete/']").count() == 0
    assert "¥4,000.00" in article.inner_text()
    page.screenshot(path=str(screenshots_dir / "negotiation_5_verification_completed.png"), full_page=True)

    verification.refresh_from_db()
    assert verification.outcome == "verified" and verification.completed_by == collector
    assert (verification.hardship_reason, verification.dependants) == ("income_drop", 1)
    assert (verification.monthly_income, verification.essential_expenses, verification.other_debt_payments) == (
        Decimal("9000.00"),
        Decimal("4200.00"),
        Decimal("800.00"),
    )
    assert verification.disposable_income == Decimal("4000.00")
    document = verification.documents.get()
    assert (document.kind, document.original_name, document.content_type) == (
        "income_proof",
        "工资流水.png",
        "image/png",
    )
    assert document.size == len(tiny_png())

    # --- With a verified situation, the plan can be proposed.
    page.reload()
    propose = page.locator("#case-header button[name=name][value=propose_plan]")
    assert propose.is_visible()
    assert "state-verification" in page.locator("#case-header [data-testid=case-state]").get_attribute("class")
    page.screenshot(path=str(screenshots_dir / "negotiation_6_plan_can_be_proposed.png"), full_page=True)

    case = Case.objects.get(pk=case.pk)
    assert case.status == CaseStatus.VERIFICATION
    assert Contact.objects.filter(case=case).count() == 1
    assert Promise.objects.filter(case=case).count() == 1
