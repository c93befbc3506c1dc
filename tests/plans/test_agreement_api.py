"""Staff read a signed agreement through the API: the agreements of the cases they may see (else 404), its
signature and schedule, and the PDF itself, its SHA-256 re-checked and every download audited."""

import hashlib
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Case, CaseStatus
from compliance.models import AuditEvent
from plans.agreements import AgreementAltered, agreement_pdf_bytes
from tests.factories import UserFactory
from tests.plans.agreement_staff_setup import BROWSER, SIGNER_IP, private_media, signed_agreement
from tests.plans.followup_setup import pay

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    private_media(settings, tmp_path)


@pytest.fixture
def agreement(team, collector):
    return signed_agreement(team=team, collector=collector)


@pytest.fixture
def stranger(other_team):
    """A collector of another team."""
    return UserFactory(username="collector-south", role="collector", team=other_team)


def escalate(agreement) -> None:
    """Legal sees escalated cases only; the row is moved directly (the state machine is not under test)."""
    Case.objects.filter(pk=agreement.case_id).update(status=CaseStatus.ESCALATED)


def urls(agreement) -> dict[str, str]:
    return {
        "list": f"/api/v1/agreements/?case={agreement.case_id}",
        "detail": f"/api/v1/agreements/{agreement.pk}/",
        "pdf": f"/api/v1/agreements/{agreement.pk}/pdf/",
    }


def downloads(agreement):
    return AuditEvent.objects.filter(action="agreement.download", target_id=str(agreement.pk))


def test_the_detail_shows_the_signature_the_hash_and_the_schedule_with_what_is_paid_and_owed(
    agreement, collector, api
):
    pay(agreement.case, "3000.00")  # the first installment (¥2,900.00) and ¥100.00 of the second

    body = api(collector).get(urls(agreement)["detail"]).json()

    assert {key: body[key] for key in ("number", "case", "status", "signer_name", "signer_ip", "sha256")} == {
        "number": agreement.number, "case": agreement.case_id, "status": "in_force", "signer_name": "王芳",
        "signer_ip": SIGNER_IP, "sha256": agreement.sha256,
    }
    assert body["signer_user_agent"] == BROWSER
    assert body["channel"] == "portal"
    assert body["signed_at"]
    assert body["pdf_url"].endswith(f"/api/v1/agreements/{agreement.pk}/pdf/")
    assert [(row["number"], row["amount"], row["paid_amount"], row["outstanding"], row["status"])
            for row in body["installments"]] == [
        (1, "2900.00", "2900.00", "0.00", "paid"),
        (2, "2900.00", "100.00", "2800.00", "due"),
        (3, "2900.00", "0.00", "2900.00", "due"),
    ]
    assert body["installments"][0]["due_date"] == agreement.installments.get(number=1).due_date.isoformat()
    assert body["totals"] == {"payable": "8700.00", "paid": "3000.00", "outstanding": "5700.00"}


def test_the_list_holds_the_agreements_of_the_case_asked_for(agreement, team, collector, api):
    other = signed_agreement(team=team, collector=collector)

    body = api(collector).get(urls(agreement)["list"]).json()
    everything = api(collector).get("/api/v1/agreements/").json()

    assert [row["number"] for row in body["results"]] == [agreement.number]
    assert body["results"][0]["sha256"] == agreement.sha256
    assert body["results"][0]["totals"]["outstanding"] == "8700.00"
    assert {row["number"] for row in everything["results"]} == {agreement.number, other.number}


def test_a_case_filter_that_is_not_a_number_is_a_400_naming_it(collector, api):
    response = api(collector).get("/api/v1/agreements/?case=abc")

    assert response.status_code == 400
    assert "case" in response.json()


@pytest.mark.parametrize("role", ["collector", "supervisor", "compliance", "admin"])
def test_every_role_that_sees_the_case_reads_and_downloads_the_agreement(role, agreement, team, api):
    user = UserFactory(username=f"{role}-reader", role=role, team=team if role in ("collector", "supervisor") else None)
    client = api(user)

    listed = client.get(urls(agreement)["list"]).json()["results"]
    detail = client.get(urls(agreement)["detail"])
    pdf = client.get(urls(agreement)["pdf"])

    assert [row["id"] for row in listed] == [agreement.pk]
    assert detail.status_code == 200
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"


def test_legal_reads_the_agreement_of_an_escalated_case(agreement, legal_user, api):
    escalate(agreement)
    client = api(legal_user)

    assert [row["id"] for row in client.get(urls(agreement)["list"]).json()["results"]] == [agreement.pk]
    assert client.get(urls(agreement)["detail"]).status_code == 200
    assert client.get(urls(agreement)["pdf"]).status_code == 200


def test_legal_does_not_see_the_agreement_of_a_case_that_is_not_escalated(agreement, legal_user, api):
    client = api(legal_user)

    assert client.get(urls(agreement)["list"]).json()["results"] == []
    assert client.get(urls(agreement)["detail"]).status_code == 404
    assert client.get(urls(agreement)["pdf"]).status_code == 404


def test_a_collector_of_another_team_gets_404_and_nothing_is_audited(agreement, stranger, api):
    client = api(stranger)

    assert client.get(urls(agreement)["list"]).json()["results"] == []
    assert client.get(urls(agreement)["detail"]).status_code == 404
    assert client.get(urls(agreement)["pdf"]).status_code == 404
    assert not downloads(agreement).exists()


def test_without_credentials_nothing_is_served(agreement, api):
    for url in urls(agreement).values():
        assert api().get(url).status_code in (401, 403)


def test_the_served_bytes_have_the_sha256_the_api_shows_and_the_one_kept_at_signing(agreement, collector, api):
    client = api(collector)

    shown = client.get(urls(agreement)["detail"]).json()["sha256"]
    response = client.get(urls(agreement)["pdf"])

    assert response.content.startswith(b"%PDF-")
    assert hashlib.sha256(response.content).hexdigest() == shown == agreement.sha256
    assert response["Content-Disposition"] == f'attachment; filename="{agreement.number}.pdf"'
    assert response["Cache-Control"] == "private, no-store"


def test_every_download_is_audited_with_who_which_agreement_and_which_case(agreement, supervisor, api):
    client = api(supervisor)
    client.get(urls(agreement)["pdf"])
    client.get(urls(agreement)["pdf"])

    events = list(downloads(agreement))
    assert len(events) == 2
    assert {(event.actor_id, event.target_type, event.case_id) for event in events} == {
        (supervisor.pk, "plans.agreement", agreement.case_id)
    }
    assert events[0].changes == {"number": agreement.number, "sha256": agreement.sha256}


def test_a_tampered_file_is_refused_with_409_hash_mismatch_and_audited(agreement, collector, api):
    Path(agreement.pdf.path).write_bytes(b"%PDF-1.7 a different agreement")

    response = api(collector).get(urls(agreement)["pdf"])

    assert response.status_code == 409
    assert response.json()["code"] == "hash_mismatch"
    event = AuditEvent.objects.get(action="agreement.hash_mismatch")
    assert (event.actor_id, event.target_id, event.case_id) == (collector.pk, str(agreement.pk), agreement.case_id)
    assert event.changes["sha256"] == [agreement.sha256, hashlib.sha256(b"%PDF-1.7 a different agreement").hexdigest()]
    assert not downloads(agreement).exists()


def test_a_missing_file_is_refused_with_409_hash_mismatch_as_well(agreement, collector, api):
    Path(agreement.pdf.path).unlink()

    response = api(collector).get(urls(agreement)["pdf"])

    assert (response.status_code, response.json()["code"]) == (409, "hash_mismatch")
    assert AuditEvent.objects.get(action="agreement.hash_mismatch").changes["sha256"] == [agreement.sha256, "missing"]


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


def test_the_detail_runs_as_many_queries_for_24_installments_as_for_3(team, collector, api):
    short = signed_agreement(team=team, collector=collector, months=3)
    long = signed_agreement(team=team, collector=collector, months=24)
    client = api(collector)

    assert len(client.get(urls(long)["detail"]).json()["installments"]) == 24
    assert queries_for(client, urls(long)["detail"]) == queries_for(client, urls(short)["detail"])


def test_the_list_runs_as_many_queries_for_3_agreements_as_for_1(team, collector, api):
    client = api(collector)
    signed_agreement(team=team, collector=collector, months=2)
    with_1 = queries_for(client, "/api/v1/agreements/")

    signed_agreement(team=team, collector=collector, months=12)
    signed_agreement(team=team, collector=collector, months=6)

    assert queries_for(client, "/api/v1/agreements/") == with_1
    assert client.get("/api/v1/agreements/").json()["count"] == 3


def test_the_schema_describes_the_three_endpoints(admin_user_, api):
    schema = api(admin_user_).get("/api/schema/", {"format": "json"}).json()

    assert {"/api/v1/agreements/", "/api/v1/agreements/{id}/", "/api/v1/agreements/{id}/pdf/"} <= set(schema["paths"])
    pdf = schema["paths"]["/api/v1/agreements/{id}/pdf/"]["get"]["responses"]
    assert "application/pdf" in pdf["200"]["content"]
    assert "409" in pdf


def test_amounts_are_decimal_strings_to_the_fen(agreement, collector, api):
    row = api(collector).get(urls(agreement)["detail"]).json()["installments"][0]

    assert Decimal(row["amount"]) == agreement.installments.get(number=1).amount
    assert row["amount"].count(".") == 1 and len(row["amount"].split(".")[1]) == 2


def test_a_mismatch_met_in_the_portal_is_audited_as_the_cardholder(agreement):
    Path(agreement.pdf.path).write_bytes(b"%PDF-1.7 forged")

    with pytest.raises(AgreementAltered):
        agreement_pdf_bytes(
            agreement=agreement, actor_kind=AuditEvent.ActorKind.CARDHOLDER, actor_label="portal link 7"
        )

    event = AuditEvent.objects.get(action="agreement.hash_mismatch")
    assert (event.actor_kind, event.actor_label, event.actor_id) == (
        AuditEvent.ActorKind.CARDHOLDER, "portal link 7", None
    )


def test_a_head_request_is_not_a_download_and_is_not_audited(agreement, collector, api, as_user):
    assert api(collector).head(urls(agreement)["pdf"]).status_code == 405
    assert as_user(collector).head(f"/plans/agreements/{agreement.pk}/pdf/").status_code == 405
    assert not downloads(agreement).exists()
