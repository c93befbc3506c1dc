"""Escalation: agency placement (four eyes, notice before handover, minimum data) and litigation referral."""

from datetime import datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from cases.models import CaseStatus
from compliance.models import AuditEvent
from negotiation.models import Agency, LitigationReferral, Placement
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sms_folder(settings, tmp_path):
    settings.SMS_GATEWAY = "negotiation.gateways.FileSmsGateway"
    settings.SMS_FILE_DIR = str(tmp_path / "sms")


@pytest.fixture
def case(team):
    return CaseFactory(team=team)


@pytest.fixture
def agency(db):
    return Agency.objects.create(name="华安资产管理", licence_number="SH-2026-001", contact="021-5555-0000")


@pytest.fixture
def second_supervisor(team):
    return UserFactory(username="supervisor-b", role="supervisor", team=team)


def yesterday_morning() -> datetime:
    """Within the SMS contact hours, whenever the suite runs."""
    return datetime.combine(timezone.localdate() - timedelta(days=1), time(10), tzinfo=ZoneInfo("Asia/Shanghai"))


def post(api, user, url, body=None):
    return api(user).post(url, body or {}, format="json")


def proposed(api, collector, case, agency) -> int:
    response = post(api, collector, f"/api/v1/cases/{case.pk}/placements/", {"agency": agency.pk})
    assert response.status_code == 201
    return response.json()["id"]


def approved(api, collector, supervisor, case, agency) -> int:
    pk = proposed(api, collector, case, agency)
    response = post(api, supervisor, f"/api/v1/placements/{pk}/approve/", {"reason": "no payment in 4 months"})
    assert response.status_code == 200
    return pk


def test_a_collector_proposes_a_placement(api, collector, case, agency):
    pk = proposed(api, collector, case, agency)
    placement = Placement.objects.get(pk=pk)
    assert (placement.status, placement.proposed_by) == ("proposed", collector)
    assert AuditEvent.objects.filter(action="placement.propose", target_id=str(pk)).exists()


def test_a_collector_may_not_approve_a_placement(api, collector, case, agency):
    pk = proposed(api, collector, case, agency)
    assert post(api, collector, f"/api/v1/placements/{pk}/approve/").status_code == 403


def test_the_proposing_supervisor_may_not_approve_their_own_placement(api, supervisor, case, agency):
    pk = proposed(api, supervisor, case, agency)
    assert post(api, supervisor, f"/api/v1/placements/{pk}/approve/").status_code == 403
    assert Placement.objects.get(pk=pk).status == "proposed"


def test_a_supervisors_approval_escalates_the_case(api, collector, supervisor, case, agency):
    pk = approved(api, collector, supervisor, case, agency)
    case.refresh_from_db()
    assert case.status == CaseStatus.ESCALATED
    assert Placement.objects.get(pk=pk).approved_by == supervisor
    assert case.transitions.get(name="escalate").actor == supervisor


def test_handover_is_refused_before_the_cardholder_was_notified(api, collector, supervisor, case, agency):
    pk = approved(api, collector, supervisor, case, agency)
    response = post(api, supervisor, f"/api/v1/placements/{pk}/hand-over/")
    assert response.status_code == 409
    assert response.json()["code"] == "debtor_not_notified"
    assert Placement.objects.get(pk=pk).data_sent == {}


def test_handover_is_refused_while_the_notice_is_not_yet_sent(api, collector, supervisor, case, agency):
    pk = approved(api, collector, supervisor, case, agency)
    assert post(api, supervisor, f"/api/v1/placements/{pk}/notify/").status_code == 200  # queued, not sent
    response = post(api, supervisor, f"/api/v1/placements/{pk}/hand-over/")
    assert response.status_code == 409
    assert response.json()["code"] == "debtor_not_notified"


def test_handover_after_the_notice_was_sent_passes_only_the_minimum_data(
    api, collector, supervisor, case, agency, django_capture_on_commit_callbacks
):
    pk = approved(api, collector, supervisor, case, agency)
    daytime = mock.patch("django.utils.timezone.now", return_value=yesterday_morning())
    with daytime, django_capture_on_commit_callbacks(execute=True):
        post(api, supervisor, f"/api/v1/placements/{pk}/notify/")
    response = post(api, supervisor, f"/api/v1/placements/{pk}/hand-over/")
    assert response.status_code == 200
    placement = Placement.objects.get(pk=pk)
    assert placement.status == "handed_over"
    assert placement.debtor_notified_at is not None and placement.debtor_notified_at <= placement.handed_over_at
    debtor = case.account.debtor
    sent = placement.data_sent
    assert sent["name"] == debtor.full_name and sent["card_last4"] == case.account.card_last4
    assert debtor.national_id not in str(sent) and debtor.national_id[-4:] not in str(sent)
    assert not {"national_id", "email", "city"} & set(sent)


def test_a_recall_needs_a_reason_and_is_recorded(api, collector, supervisor, case, agency):
    pk = approved(api, collector, supervisor, case, agency)
    assert post(api, supervisor, f"/api/v1/placements/{pk}/recall/", {"reason": ""}).status_code == 400
    assert post(api, supervisor, f"/api/v1/placements/{pk}/recall/", {"reason": "paid in branch"}).status_code == 200
    placement = Placement.objects.get(pk=pk)
    assert (placement.status, placement.recall_reason) == ("recalled", "paid in branch")
    assert placement.recalled_at is not None


def test_another_team_cannot_see_a_placement(api, collector, case, agency, other_team):
    pk = proposed(api, collector, case, agency)
    outsider = UserFactory(username="outsider-sup", role="supervisor", team=other_team)
    assert post(api, outsider, f"/api/v1/placements/{pk}/approve/").status_code == 404


def test_referral_approval_escalates_the_case_and_legal_then_sees_it(
    api, collector, supervisor, legal_user, case, client
):
    response = post(api, collector, f"/api/v1/cases/{case.pk}/litigation/", {"notes": "ignored two letters"})
    pk = response.json()["id"]
    assert post(api, legal_user, f"/api/v1/litigation/{pk}/approve/").status_code == 404  # not escalated yet
    assert post(api, supervisor, f"/api/v1/litigation/{pk}/approve/", {"reason": "wilful"}).status_code == 200
    case.refresh_from_db()
    assert case.status == CaseStatus.ESCALATED
    client.force_login(legal_user)
    page = client.get("/negotiation/escalations/")
    assert page.status_code == 200
    assert case.number in page.content.decode()


def test_legal_files_an_approved_referral(api, collector, supervisor, legal_user, case):
    pk = post(api, collector, f"/api/v1/cases/{case.pk}/litigation/").json()["id"]
    post(api, supervisor, f"/api/v1/litigation/{pk}/approve/", {"reason": "wilful"})
    assert post(api, supervisor, f"/api/v1/litigation/{pk}/file/").status_code == 403
    assert post(api, legal_user, f"/api/v1/litigation/{pk}/file/").status_code == 200
    referral = LitigationReferral.objects.get(pk=pk)
    assert (referral.status, referral.legal_owner) == ("filed", legal_user)
