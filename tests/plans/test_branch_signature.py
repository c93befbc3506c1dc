"""An agreement signed on paper at a branch: one staff member uploads the scan, another (a supervisor of the team)
confirms it, and only then is the agreement signed, exactly as a portal signature would leave it."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, transaction
from django.urls import reverse

from cases.models import Case, CaseStatus
from compliance.models import AuditEvent, Hold
from plans.agreements import agreement_pdf_bytes
from plans.models import Agreement, BranchSignature, Offer, SignatureChanged
from tests.factories import UserFactory
from tests.plans.signing_setup import offer_for, plan_case

pytestmark = pytest.mark.django_db
SCAN = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n" + bytes(range(256)) * 4


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def case(team, collector, supervisor):
    case = plan_case()
    Case.objects.filter(pk=case.pk).update(team=team, assigned_to=collector)
    case.refresh_from_db()
    return case


@pytest.fixture
def offer(case):
    return offer_for(case, status=Offer.Status.READY, months=24)


@pytest.fixture
def admin(db):
    return UserFactory(username="admin", role="admin", team=None)


def upload(api, user, case, offer, content=SCAN, name="signed.pdf"):
    return api(user).post(
        f"/api/v1/cases/{case.pk}/branch-signatures/",
        {"offer": offer.pk, "file": SimpleUploadedFile(name, content, content_type="application/pdf")},
        format="multipart",
    )


def confirm(api, user, signature_id):
    return api(user).post(f"/api/v1/branch-signatures/{signature_id}/confirm/", {}, format="json")


def test_a_collector_uploads_a_supervisor_confirms_and_the_agreement_is_signed_from_the_scan(
    case, offer, collector, supervisor, api
):
    uploaded = upload(api, collector, case, offer)
    assert uploaded.status_code == 201, uploaded.json()
    case.refresh_from_db()
    assert case.status == CaseStatus.PLAN
    assert not case.agreements.exists()

    response = confirm(api, supervisor, uploaded.json()["id"])

    assert response.status_code == 200, response.json()
    case.refresh_from_db()
    assert case.status == CaseStatus.FOLLOW_UP
    assert list(case.transitions.order_by("at", "pk").values_list("name", flat=True)) == [
        "sign_agreement", "start_follow_up",
    ]
    agreement = Agreement.objects.get(case=case)
    assert agreement.channel == Agreement.Channel.BRANCH
    assert agreement.sha256 == hashlib.sha256(SCAN).hexdigest() == response.json()["sha256"]
    assert (agreement.uploaded_by, agreement.confirmed_by, agreement.code) == (collector, supervisor, None)
    assert agreement_pdf_bytes(agreement=agreement) == SCAN
    assert agreement.installments.count() == 24
    offer.refresh_from_db()
    assert offer.status == Offer.Status.SIGNED
    assert Hold.objects.filter(case=case, kind=Hold.Kind.AGREEMENT_IN_FORCE, lifted_at__isnull=True).exists()
    signature = BranchSignature.objects.get()
    assert (signature.status, signature.agreement, signature.decided_by) == ("confirmed", agreement, supervisor)
    assert list(
        AuditEvent.objects.filter(case_id=case.pk, action__in=["branch_signature.upload", "agreement.sign"])
        .order_by("pk").values_list("action", "actor")
    ) == [("branch_signature.upload", collector.pk), ("agreement.sign", supervisor.pk)]


def test_a_supervisor_uploads_and_an_admin_confirms(case, offer, supervisor, admin, api):
    signature_id = upload(api, supervisor, case, offer).json()["id"]

    assert confirm(api, admin, signature_id).status_code == 200

    assert Agreement.objects.get(case=case).confirmed_by == admin


def test_the_uploader_cannot_confirm_their_own_scan(case, offer, supervisor, api):
    signature_id = upload(api, supervisor, case, offer).json()["id"]

    response = confirm(api, supervisor, signature_id)

    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == CaseStatus.PLAN
    assert not Agreement.objects.exists()
    assert BranchSignature.objects.get().status == BranchSignature.Status.PENDING


def test_a_collector_cannot_confirm(case, offer, supervisor, collector, api):
    signature_id = upload(api, supervisor, case, offer).json()["id"]

    assert confirm(api, collector, signature_id).status_code == 403
    assert not Agreement.objects.exists()


def test_a_file_that_is_not_a_pdf_is_refused_whatever_its_name(case, offer, collector, api):
    response = upload(api, collector, case, offer, content=b"\x89PNG\r\n\x1a\n" + b"0" * 100, name="signed.pdf")

    assert response.status_code == 400
    assert response.json()["code"] == "scan_not_pdf"
    assert not BranchSignature.objects.exists()


def test_a_scan_over_the_size_limit_is_refused(case, offer, collector, api, settings):
    settings.BRANCH_SCAN_MAX_BYTES = len(SCAN) - 1

    response = upload(api, collector, case, offer)

    assert response.status_code == 400
    assert response.json()["code"] == "scan_too_large"
    assert not BranchSignature.objects.exists()


def test_a_collector_of_another_case_of_the_team_may_not_upload(case, offer, team, api):
    other = UserFactory(username="collector9", role="collector", team=team)

    assert upload(api, other, case, offer).status_code == 403
    assert not BranchSignature.objects.exists()


def test_only_one_scan_awaits_confirmation_at_a_time(case, offer, collector, api):
    assert upload(api, collector, case, offer).status_code == 201

    response = upload(api, collector, case, offer)

    assert response.status_code == 409
    assert response.json()["code"] == "branch_signature_pending"


def test_a_rejected_scan_signs_nothing_and_needs_a_reason(case, offer, collector, supervisor, api):
    signature_id = upload(api, collector, case, offer).json()["id"]
    url = f"/api/v1/branch-signatures/{signature_id}/reject/"

    assert api(supervisor).post(url, {"reason": ""}, format="json").json()["code"] == "reason_required"
    response = api(supervisor).post(url, {"reason": "The signature page is missing."}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    case.refresh_from_db()
    assert case.status == CaseStatus.PLAN
    assert not Agreement.objects.exists()
    assert confirm(api, supervisor, signature_id).status_code == 409


def test_an_offer_whose_balance_moved_is_not_signed_from_a_scan(case, offer, collector, supervisor, api):
    signature_id = upload(api, collector, case, offer).json()["id"]
    case.account.principal_overdue -= 100
    case.account.save()

    response = confirm(api, supervisor, signature_id)

    assert response.status_code == 409
    assert response.json()["code"] == "offer_stale"
    assert not Agreement.objects.exists()


def test_a_supervisor_of_another_team_does_not_see_the_scan(case, offer, collector, other_team, api):
    stranger = UserFactory(username="supervisor9", role="supervisor", team=other_team)
    signature_id = upload(api, collector, case, offer).json()["id"]

    assert confirm(api, stranger, signature_id).status_code == 404


def test_the_endpoints_are_in_the_openapi_schema(api, supervisor):
    paths = api(supervisor).get("/api/schema/", {"format": "json"}).json()["paths"]

    assert "post" in paths["/api/v1/cases/{id}/branch-signatures/"]
    assert "post" in paths["/api/v1/branch-signatures/{id}/confirm/"]
    assert "post" in paths["/api/v1/branch-signatures/{id}/reject/"]


def test_who_uploaded_and_who_confirmed_never_change(case, offer, collector, supervisor, admin, api):
    confirm(api, supervisor, upload(api, collector, case, offer).json()["id"])
    agreement = Agreement.objects.get()
    agreement.confirmed_by = admin

    with pytest.raises(SignatureChanged) as refused:
        agreement.save()

    assert refused.value.fields == ["confirmed_by_id"]


@pytest.mark.postgres
def test_postgresql_refuses_a_changed_channel_or_staff_behind_the_models_back(
    case, offer, collector, supervisor, admin, api
):
    confirm(api, supervisor, upload(api, collector, case, offer).json()["id"])

    for change in ({"confirmed_by": admin}, {"uploaded_by": admin}, {"channel": "portal"}):
        with pytest.raises(DatabaseError), transaction.atomic():
            Agreement.objects.update(**change)

    assert Agreement.objects.values_list("channel", "uploaded_by", "confirmed_by").get() == (
        "branch", collector.pk, supervisor.pk,
    )


# --- The case page panel ------------------------------------------------------------------------------


def panel(client, case):
    return client.get(reverse("plans:branch-signatures", args=[case.pk])).content.decode()


def test_the_panel_offers_the_upload_to_the_cases_collector_and_the_decision_to_another_supervisor(
    case, offer, collector, supervisor, as_user
):
    html = panel(as_user(collector), case)
    assert 'data-testid="branch-signature-upload"' in html
    assert f'value="{offer.pk}"' in html

    client = as_user(collector)
    response = client.post(
        reverse("plans:branch-signature-upload", args=[case.pk]),
        {"offer": offer.pk, "file": SimpleUploadedFile("scan.pdf", SCAN, content_type="application/pdf")},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'data-testid="branch-signature-pending"' in response.content.decode()
    assert "Confirm: the cardholder signed this agreement" not in response.content.decode()

    signature = BranchSignature.objects.get()
    html = panel(as_user(supervisor), case)
    assert reverse("plans:branch-signature-confirm", args=[signature.pk]) in html

    response = as_user(supervisor).post(
        reverse("plans:branch-signature-confirm", args=[signature.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.status == CaseStatus.FOLLOW_UP
    assert 'id="case-header"' in response.content.decode()


def test_the_panel_shows_the_refusal_of_a_file_that_is_not_a_pdf(case, offer, collector, as_user):
    response = as_user(collector).post(
        reverse("plans:branch-signature-upload", args=[case.pk]),
        {"offer": offer.pk, "file": SimpleUploadedFile("scan.pdf", b"hello", content_type="application/pdf")},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 400
    assert "Only a PDF scan is accepted" in response.content.decode()
    assert not BranchSignature.objects.exists()
