"""Side-panel actions refresh the case page's header strip, timeline and compliance box out of band, and the
verification panel keeps the figures a collector typed when another of its forms re-renders it."""

import re
from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.models import CaseStatus
from negotiation.models import Agency, Placement
from negotiation.services import verification_start
from tests.factories import case_in

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=SHANGHAI)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
TYPED = {
    "hardship_reason": "income_drop",
    "monthly_income": "9000.00",
    "essential_expenses": "4200.00",
    "other_debt_payments": "800.00",
    "dependants": "1",
    "notes": "工资流水显示收入下降",
    "outcome": "",
}


@pytest.fixture(autouse=True)
def _clock_and_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SESSION_COOKIE_AGE = 60 * 24 * 3600
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield


def oob_section(html: str, element_id: str) -> str:
    """The out-of-band element with this id, up to its closing tag."""
    found = re.search(rf'<(section|div) id="{element_id}"[^>]*hx-swap-oob="true"[^>]*>.*?</\1>', html, re.S)
    assert found, f"no out-of-band #{element_id}"
    return found.group(0)


def test_a_right_party_contact_on_a_notify_case_refreshes_the_header_state_and_the_compliance_box(
    as_user, team, collector
):
    case = case_in(CaseStatus.NOTIFY, team=team, account__debtor__mobile="13812345678")
    response = as_user(collector).post(reverse("negotiation:contact-log", args=[case.pk]), {
        "channel": "phone", "party": "debtor", "outcome": "right_party_contact",
    }, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    header = oob_section(html, "case-header")
    assert 'class="badge state-first_contact" data-testid="case-state"' in header
    assert 'value="start_verification"' in header
    box = oob_section(html, "compliance-box")
    assert re.search(r'data-testid="calls-today">1/6<', box)
    assert re.search(r'data-testid="conversations-today">1/3<', box)


def test_starting_a_verification_in_the_panel_refreshes_the_header_with_the_new_state(as_user, team, collector):
    case = case_in(CaseStatus.FIRST_CONTACT, team=team)
    response = as_user(collector).post(reverse("negotiation:verification-start", args=[case.pk]),
                                       HTTP_HX_REQUEST="true")

    header = oob_section(response.content.decode(), "case-header")
    assert response.status_code == 200
    assert "state-verification" in header
    assert 'value="start_verification"' not in header


def test_a_promise_recorded_in_the_panel_refreshes_the_compliance_box_with_the_promise_pause(
    as_user, team, collector
):
    case = case_in(CaseStatus.FIRST_CONTACT, team=team)
    response = as_user(collector).post(reverse("negotiation:promise-create", args=[case.pk]), {
        "amount": "500.00", "due_on": (NOW.date() + timedelta(days=3)).isoformat(),
    }, HTTP_HX_REQUEST="true")

    box = oob_section(response.content.decode(), "compliance-box")
    assert response.status_code == 200
    assert "is-blocked" in box.split(">", 1)[0]


def test_the_refreshed_header_does_not_repeat_the_panels_messages(as_user, team, collector):
    case = case_in(CaseStatus.FIRST_CONTACT, team=team)
    response = as_user(collector).post(reverse("negotiation:verification-start", args=[case.pk]),
                                       HTTP_HX_REQUEST="true")
    header = oob_section(response.content.decode(), "case-header")
    assert 'role="status"' not in header and 'data-testid="transition-refused"' not in header


def test_loading_the_panel_adds_no_out_of_band_parts(as_user, team, collector):
    case = case_in(CaseStatus.FIRST_CONTACT, team=team)
    response = as_user(collector).get(reverse("negotiation:panel", args=[case.pk]), HTTP_HX_REQUEST="true")
    assert "hx-swap-oob" not in response.content.decode()


def test_approving_a_placement_in_the_escalation_panel_refreshes_the_header_to_escalated(
    as_user, team, collector, supervisor
):
    case = case_in(CaseStatus.FIRST_CONTACT, team=team)
    agency = Agency.objects.create(name="华安资产管理", licence_number="SH-1")
    placement = Placement.objects.create(case=case, agency=agency, proposed_by=collector)
    response = as_user(supervisor).post(
        reverse("negotiation:placement-action", args=[placement.pk, "approve"]), {"reason": "恶意逾期"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "state-escalated" in oob_section(response.content.decode(), "case-header")


# --- The verification panel keeps what was typed -----------------------------------------------------------


@pytest.fixture
def open_verification(team, collector):
    case = case_in(CaseStatus.FIRST_CONTACT, team=team)
    return verification_start(case_id=case.pk, actor=collector)


def assert_figures_kept(html: str) -> None:
    assert re.search(r'name="monthly_income" value="9000.00"', html)
    assert re.search(r'name="essential_expenses" value="4200.00"', html)
    assert re.search(r'name="other_debt_payments" value="800.00"', html)
    assert re.search(r'name="dependants" value="1"', html)
    assert '<option value="income_drop" selected>' in html
    assert "工资流水显示收入下降</textarea>" in html


def test_uploading_a_document_keeps_the_figures_typed_in_the_verification_form(
    as_user, open_verification, collector
):
    upload = SimpleUploadedFile("流水.png", PNG, content_type="image/png")
    response = as_user(collector).post(
        reverse("negotiation:document-upload", args=[open_verification.pk]),
        {"kind": "income_proof", "file": upload, **TYPED}, HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert open_verification.documents.count() == 1
    assert_figures_kept(html)
    assert re.search(r'id="disposable-income"[^>]*>¥?4,000\.00<', html)


def test_a_refused_upload_keeps_the_typed_figures_too(as_user, open_verification, collector):
    upload = SimpleUploadedFile("virus.pdf", b"MZ\x90\x00" + b"\x00" * 32)
    response = as_user(collector).post(
        reverse("negotiation:document-upload", args=[open_verification.pk]),
        {"kind": "other", "file": upload, **TYPED}, HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert open_verification.documents.count() == 0
    assert_figures_kept(response.content.decode())


def test_recording_a_promise_keeps_the_typed_figures(as_user, open_verification, collector):
    response = as_user(collector).post(
        reverse("negotiation:promise-create", args=[open_verification.case_id]),
        {"amount": "500.00", "due_on": (NOW.date() + timedelta(days=3)).isoformat(), **TYPED},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert_figures_kept(response.content.decode())


def test_the_upload_and_promise_forms_send_the_verification_figures_along(as_user, open_verification, collector):
    html = as_user(collector).get(
        reverse("negotiation:panel", args=[open_verification.case_id]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'id="verification-form"' in html
    assert html.count('hx-include="#verification-form"') == 2


def test_typed_figures_are_never_stored_by_an_upload(as_user, open_verification, collector):
    upload = SimpleUploadedFile("流水.png", PNG, content_type="image/png")
    as_user(collector).post(
        reverse("negotiation:document-upload", args=[open_verification.pk]),
        {"kind": "income_proof", "file": upload, **TYPED}, HTTP_HX_REQUEST="true",
    )
    open_verification.refresh_from_db()
    assert open_verification.is_open and open_verification.monthly_income == 0

