"""Verification of the cardholder's situation: the state it moves, the plan it unlocks, the evidence it keeps."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import Case, CaseEvidence, CaseStatus
from cases.services import TransitionRefused, case_transition
from compliance.models import AuditEvent
from config.errors import Conflict, DomainError
from negotiation.models import Verification, VerificationDocument
from negotiation.services import verification_complete, verification_document_add, verification_start
from tests.factories import UserFactory, case_in

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def case(team):
    return case_in(CaseStatus.FIRST_CONTACT, team=team)


@pytest.fixture
def verification(case, collector):
    return verification_start(case_id=case.pk, actor=collector)


def complete(verification, actor, outcome="verified", **figures):
    values = {
        "hardship_reason": "unemployment",
        "monthly_income": Decimal("6000.00"),
        "essential_expenses": Decimal("3500.00"),
        "other_debt_payments": Decimal("800.00"),
        "dependants": 2,
        **figures,
    }
    return verification_complete(verification_id=verification.pk, actor=actor, outcome=outcome, **values)


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


# --- Start and complete ---------------------------------------------------------------------------


def test_starting_a_verification_moves_a_first_contact_case_to_verification(case, collector):
    verification_start(case_id=case.pk, actor=collector)

    case.refresh_from_db()
    assert case.status == CaseStatus.VERIFICATION
    assert case.transitions.get().name == "start_verification"


def test_a_second_open_verification_of_the_same_case_is_refused(case, collector, verification):
    with pytest.raises(Conflict) as refused:
        verification_start(case_id=case.pk, actor=collector)

    assert refused.value.code == "verification_open"
    assert Verification.objects.filter(case=case).count() == 1


def test_a_verification_cannot_start_on_a_case_in_notify(team, collector):
    case = case_in(CaseStatus.NOTIFY, team=team)

    with pytest.raises(Conflict):
        verification_start(case_id=case.pk, actor=collector)

    assert not Verification.objects.exists()


def test_a_compliance_officer_may_not_start_a_verification(case, compliance_officer):
    with pytest.raises(PermissionDenied):
        verification_start(case_id=case.pk, actor=compliance_officer)


def test_completing_stores_the_disposable_income_and_who_completed_it(verification, collector):
    done = complete(verification, collector)

    assert done.disposable_income == Decimal("1700.00")
    assert done.computed_disposable_income == Decimal("1700.00")
    assert done.completed_by == collector and done.completed_at is not None
    assert AuditEvent.objects.filter(action="verification.complete", target_id=str(done.pk)).exists()


def test_a_negative_figure_is_refused_and_nothing_changes(verification, collector):
    with pytest.raises(DomainError) as refused:
        complete(verification, collector, monthly_income=Decimal("-1.00"))

    assert refused.value.code == "invalid_figure"
    verification.refresh_from_db()
    assert verification.is_open and verification.outcome == ""


def test_a_completed_verification_cannot_be_completed_again(verification, collector):
    complete(verification, collector)

    with pytest.raises(Conflict):
        complete(verification, collector, outcome="unverified")


# --- The plan guard -------------------------------------------------------------------------------


def test_propose_plan_is_refused_with_the_guard_message_before_a_verified_verification(case, collector, verification):
    with pytest.raises(TransitionRefused) as refused:
        case_transition(case_id=case.pk, name="propose_plan", actor=collector)

    assert refused.value.details[0]["code"] == "verification_not_completed"
    assert "尚未核实" in refused.value.details[0]["detail"]


def test_an_unverified_outcome_does_not_unlock_propose_plan(case, collector, verification):
    complete(verification, collector, outcome="unverified")

    with pytest.raises(TransitionRefused):
        case_transition(case_id=case.pk, name="propose_plan", actor=collector)


def test_a_verified_outcome_unlocks_propose_plan(case, collector, verification):
    complete(verification, collector)

    case_transition(case_id=case.pk, name="propose_plan", actor=collector)

    assert Case.objects.get(pk=case.pk).status == CaseStatus.PLAN


def test_the_case_api_offers_propose_plan_only_after_verification(api, case, collector, verification):
    before = api(collector).get(f"/api/v1/cases/{case.pk}/").json()["available_transitions"]
    complete(verification, collector)
    after = api(collector).get(f"/api/v1/cases/{case.pk}/").json()["available_transitions"]

    assert "propose_plan" not in before
    assert "propose_plan" in after


# --- False information ----------------------------------------------------------------------------


def test_false_information_records_wilful_evidence_for_the_case(case, collector, verification):
    complete(verification, collector, outcome="false_information")

    evidence = CaseEvidence.objects.get(case=case)
    assert evidence.kind == CaseEvidence.Kind.FALSE_INFORMATION
    assert evidence.source_ref == f"verification:{verification.pk}"
    assert evidence.recorded_by == collector


def test_a_verified_outcome_records_no_wilful_evidence(case, collector, verification):
    complete(verification, collector)

    assert not CaseEvidence.objects.filter(case=case).exists()


# --- Evidence documents ---------------------------------------------------------------------------


def test_a_pdf_is_kept_with_its_hash_size_and_type(verification, collector):
    document = verification_document_add(
        verification_id=verification.pk, actor=collector, upload=upload("工资单.pdf", PDF), kind="income_proof"
    )

    assert document.content_type == "application/pdf"
    assert document.size == len(PDF)
    assert len(document.sha256) == 64
    assert document.original_name == "工资单.pdf"
    assert document.file.name.startswith(f"private/evidence/{verification.pk}/")


@pytest.mark.parametrize("content, content_type", [(PNG, "image/png"), (JPEG, "image/jpeg")])
def test_images_are_accepted_by_their_content(verification, collector, content, content_type):
    document = verification_document_add(verification_id=verification.pk, actor=collector, upload=upload("x", content))

    assert document.content_type == content_type


def test_a_file_named_pdf_with_png_content_is_judged_by_its_content(verification, collector):
    document = verification_document_add(
        verification_id=verification.pk, actor=collector, upload=upload("scan.pdf", PNG, "application/pdf")
    )

    assert document.content_type == "image/png"
    assert document.file.name.endswith(".png")


def test_an_executable_renamed_pdf_is_refused_and_nothing_is_stored(verification, collector, settings):
    with pytest.raises(DomainError) as refused:
        verification_document_add(
            verification_id=verification.pk, actor=collector, upload=upload("statement.pdf", EXE, "application/pdf")
        )

    assert refused.value.code == "file_type_not_allowed"
    assert not VerificationDocument.objects.exists()
    assert not (settings.MEDIA_ROOT / "private").exists()


def test_a_file_over_the_size_limit_is_refused(verification, collector, settings):
    settings.EVIDENCE_MAX_BYTES = len(PDF) - 1

    with pytest.raises(DomainError) as refused:
        verification_document_add(verification_id=verification.pk, actor=collector, upload=upload("a.pdf", PDF))

    assert refused.value.code == "file_too_large"


def test_a_file_at_the_size_limit_is_accepted(verification, collector, settings):
    settings.EVIDENCE_MAX_BYTES = len(PDF)

    verification_document_add(verification_id=verification.pk, actor=collector, upload=upload("a.pdf", PDF))

    assert VerificationDocument.objects.count() == 1


# --- Downloads ------------------------------------------------------------------------------------


@pytest.fixture
def document(verification, collector):
    return verification_document_add(verification_id=verification.pk, actor=collector, upload=upload("a.pdf", PDF))


def download_url(document) -> str:
    return f"/negotiation/documents/{document.pk}/"


@pytest.mark.parametrize("role", ["collector", "supervisor", "compliance"])
def test_a_role_of_the_case_downloads_the_document_as_an_attachment(client, team, document, role):
    client.force_login(UserFactory(username=f"{role}-reader", role=role, team=team))

    response = client.get(download_url(document))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"


def test_a_collector_of_another_team_gets_404(client, other_team, document):
    client.force_login(UserFactory(username="stranger", role="collector", team=other_team))

    assert client.get(download_url(document)).status_code == 404


def test_legal_gets_404_for_a_case_that_is_not_escalated(client, legal_user, document):
    client.force_login(legal_user)

    assert client.get(download_url(document)).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(client, document):
    response = client.get(download_url(document))

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_stored_file_is_not_reachable_under_the_static_or_media_urls(client, collector, document, settings):
    client.force_login(collector)

    for prefix in (f"/{settings.STATIC_URL.strip('/')}/", "/media/", "/"):
        assert client.get(prefix + document.file.name).status_code == 404


# --- API -------------------------------------------------------------------------------------------


def test_the_api_starts_a_verification(api, case, collector):
    response = api(collector).post(f"/api/v1/cases/{case.pk}/verifications/")

    assert response.status_code == 201
    assert Case.objects.get(pk=case.pk).status == CaseStatus.VERIFICATION


def test_the_api_answers_404_for_a_case_of_another_team(api, case, other_team):
    stranger = UserFactory(username="stranger", role="collector", team=other_team)

    assert api(stranger).post(f"/api/v1/cases/{case.pk}/verifications/").status_code == 404


def test_the_api_completes_a_verification_with_its_figures(api, verification, collector):
    body = {"outcome": "verified", "hardship_reason": "illness", "monthly_income": "5000.00",
            "essential_expenses": "3000.00", "other_debt_payments": "500.00", "dependants": 1}

    response = api(collector).post(f"/api/v1/verifications/{verification.pk}/complete/", body, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["disposable_income"] == "1500.00"


def test_the_api_completion_of_another_teams_verification_is_404(api, verification, other_team):
    stranger = UserFactory(username="stranger", role="collector", team=other_team)
    body = {"outcome": "verified", "monthly_income": "1", "essential_expenses": "1"}

    response = api(stranger).post(f"/api/v1/verifications/{verification.pk}/complete/", body, format="json")

    assert response.status_code == 404


def test_the_api_takes_a_multipart_document_and_refuses_an_executable(api, verification, collector):
    url = f"/api/v1/verifications/{verification.pk}/documents/"

    accepted = api(collector).post(url, {"file": upload("a.pdf", PDF), "kind": "bank_statement"}, format="multipart")
    refused = api(collector).post(url, {"file": upload("b.pdf", EXE)}, format="multipart")

    assert accepted.status_code == 201
    assert accepted.json()["download_url"] == f"/negotiation/documents/{accepted.json()['id']}/"
    assert refused.status_code == 400
    assert refused.json()["code"] == "file_type_not_allowed"


def test_the_new_endpoints_are_in_the_openapi_schema(api, collector):
    schema = api(collector).get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()

    for path in ("/api/v1/cases/{id}/verifications/", "/api/v1/verifications/{id}/complete/",
                 "/api/v1/verifications/{id}/documents/", "/api/v1/cases/{id}/promises/"):
        assert path in schema


# --- HTML ------------------------------------------------------------------------------------------


def test_the_case_page_loads_the_verification_panel(client, case, collector):
    client.force_login(collector)

    html = client.get(f"/cases/{case.pk}/").content.decode()

    assert f'hx-get="/negotiation/cases/{case.pk}/panel/"' in html


def test_the_panel_starts_a_verification_and_shows_the_figures_form(client, case, collector):
    client.force_login(collector)

    response = client.post(f"/negotiation/cases/{case.pk}/verifications/", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    html = response.content.decode()
    assert "情况核实已开始。" in html
    assert 'name="monthly_income"' in html


def test_the_live_preview_computes_the_disposable_income(client, verification, collector):
    client.force_login(collector)

    response = client.post(
        f"/negotiation/verifications/{verification.pk}/preview/",
        {"monthly_income": "6000", "essential_expenses": "3500.50", "other_debt_payments": "0"},
    )

    assert "¥2,499.50" in response.content.decode()


def test_the_panel_shows_a_refused_upload_with_its_reason(client, verification, collector):
    client.force_login(collector)

    response = client.post(
        f"/negotiation/verifications/{verification.pk}/documents/",
        {"kind": "other", "file": upload("x.pdf", EXE)}, HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 400
    assert "仅接受 PDF、JPEG 和 PNG 文件" in response.content.decode()


def test_the_panel_lists_documents_with_their_download_link(client, document, collector):
    client.force_login(collector)

    html = client.get(f"/negotiation/cases/{document.verification.case_id}/panel/").content.decode()

    assert f'href="/negotiation/documents/{document.pk}/"' in html


def test_half_typed_verification_figures_do_not_block_the_upload_or_promise_forms_that_carry_them():
    """The upload and promise forms include the verification form (htmx), and htmx refuses to send included
    fields the browser finds invalid; so the figures are checked by the server, not marked required."""
    from negotiation.forms import VerificationForm

    html = str(VerificationForm())

    assert 'name="monthly_income"' in html
    assert "required" not in html
