"""Letters with proof: issued through the gate, kept unchanged, dispatched and delivered with proof."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from compliance.models import AuditEvent, ContactDecision, Hold
from compliance.services import hold_set
from negotiation.dispatch import letter_issue, letter_mark_delivered, letter_mark_dispatched, letter_verify
from negotiation.models import Letter
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def case(team):
    return CaseFactory(team=team)


def issue(api, user, case, kind="collection_letter"):
    return api(user).post(f"/api/v1/cases/{case.pk}/letters/", {"kind": kind}, format="json")


def test_a_collection_letter_is_issued_when_the_gate_allows_it(api, collector, case):
    response = issue(api, collector, case)
    assert response.status_code == 201
    letter = Letter.objects.get(pk=response.json()["id"])
    assert letter.decision.allowed and letter.decision.channel == "letter"
    assert AuditEvent.objects.filter(action="letter.issue", target_id=str(letter.pk)).exists()


def test_a_letter_is_refused_with_409_during_a_dispute_hold_and_only_the_decision_is_kept(api, collector, case):
    hold_set(case_id=case.pk, kind=Hold.Kind.DISPUTE, reason="amount disputed", actor=collector)
    response = issue(api, collector, case)
    assert response.status_code == 409
    assert response.json()["code"] == "contact_forbidden"
    assert "dispute_hold" in [r["code"] for r in response.json()["reasons"]]
    assert not Letter.objects.exists()
    assert ContactDecision.objects.filter(case=case, allowed=False, channel="letter").count() == 1


def test_the_stored_pdf_has_the_sha256_it_was_issued_with(collector, case):
    letter = letter_issue(case_id=case.pk, kind="collection_letter", actor=collector)
    content = letter.pdf.read()
    assert content.startswith(b"%PDF-")
    assert hashlib.sha256(content).hexdigest() == letter.sha256
    assert letter.pdf.name.startswith("private/letters/")
    assert letter_verify(letter)


def test_an_altered_pdf_no_longer_verifies_and_is_not_served(api, collector, case):
    letter = letter_issue(case_id=case.pk, kind="collection_letter", actor=collector)
    with open(letter.pdf.path, "ab") as handle:
        handle.write(b"tampered")
    assert not letter_verify(letter)
    assert api(collector).get(f"/api/v1/letters/{letter.pk}/pdf/").status_code == 409


def test_a_collector_may_not_issue_a_lawyer_letter(api, collector, case):
    assert issue(api, collector, case, kind="lawyer_letter").status_code == 403
    assert not Letter.objects.exists()


def test_a_supervisor_issues_a_lawyer_letter(api, supervisor, case):
    response = issue(api, supervisor, case, kind="lawyer_letter")
    assert response.status_code == 201
    assert response.json()["kind"] == "lawyer_letter"


def test_the_pdf_downloads_as_an_attachment_for_the_team(api, collector, case):
    letter = letter_issue(case_id=case.pk, kind="collection_letter", actor=collector)
    response = api(collector).get(f"/api/v1/letters/{letter.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == letter.sha256


def test_another_team_gets_404_for_the_pdf(api, collector, case, other_team):
    letter = letter_issue(case_id=case.pk, kind="collection_letter", actor=collector)
    outsider = UserFactory(username="outsider", role="collector", team=other_team)
    assert api(outsider).get(f"/api/v1/letters/{letter.pk}/pdf/").status_code == 404
    assert api(outsider).post(f"/api/v1/letters/{letter.pk}/dispatched/", {"proof": "X"}).status_code == 404


def test_delivery_needs_a_dispatch_first(api, collector, case):
    letter = letter_issue(case_id=case.pk, kind="collection_letter", actor=collector)
    response = api(collector).post(f"/api/v1/letters/{letter.pk}/delivered/", {"proof": "signed"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "not_dispatched"


def test_dispatch_needs_a_proof(api, collector, case):
    letter = letter_issue(case_id=case.pk, kind="collection_letter", actor=collector)
    response = api(collector).post(f"/api/v1/letters/{letter.pk}/dispatched/", {"proof": " "}, format="json")
    assert response.status_code == 400


def test_a_delivered_letter_records_a_delivered_demand(api, collector, case):
    letter = letter_issue(case_id=case.pk, kind="collection_letter", actor=collector)
    api(collector).post(f"/api/v1/letters/{letter.pk}/dispatched/", {"proof": "EMS123"}, format="json")
    response = api(collector).post(f"/api/v1/letters/{letter.pk}/delivered/", {"proof": "signed"}, format="json")
    assert response.status_code == 200
    evidence = case.evidence.get()
    assert (evidence.kind, evidence.source_ref) == ("delivered_demand", f"letter:{letter.pk}")


def test_two_delivered_letters_30_days_apart_on_a_long_unpaid_account_suggest_wilful(collector, team):
    case = CaseFactory(team=team, account__delinquent_since=timezone.localdate() - timedelta(days=120))
    now = timezone.now()
    for days_ago in (40, 5):
        letter = letter_issue(case_id=case.pk, kind="collection_letter", actor=collector)
        letter_mark_dispatched(letter_id=letter.pk, proof="EMS", actor=collector, at=now - timedelta(days=days_ago + 2))
        letter_mark_delivered(letter_id=letter.pk, proof="signed", actor=collector, at=now - timedelta(days=days_ago))
    case.refresh_from_db()
    assert case.wilful_suggested
    assert [e["code"] for e in case.wilful_evidence] == ["demands_ignored"]


def test_one_delivered_letter_does_not_suggest_wilful(collector, team):
    case = CaseFactory(team=team, account__delinquent_since=timezone.localdate() - timedelta(days=120))
    letter = letter_issue(case_id=case.pk, kind="collection_letter", actor=collector)
    letter_mark_dispatched(letter_id=letter.pk, proof="EMS", actor=collector)
    letter_mark_delivered(letter_id=letter.pk, proof="signed", actor=collector)
    case.refresh_from_db()
    assert not case.wilful_suggested
