"""A supervisor decides a dispute: upheld closes the case, rejected lifts the hold and sends a letter."""

import pytest

from cases.models import CaseStatus
from compliance.models import AuditEvent, Hold
from compliance.services import hold_set
from negotiation.models import Letter
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def disputed(team, collector):
    case = CaseFactory(team=team)
    hold_set(case_id=case.pk, kind=Hold.Kind.DISPUTE, reason="the cardholder disputes the fees", actor=collector)
    return case


def resolve(api, user, case, outcome, reason="checked the statements"):
    return api(user).post(
        f"/api/v1/cases/{case.pk}/dispute/resolve/", {"outcome": outcome, "reason": reason}, format="json"
    )


def test_an_upheld_dispute_closes_the_case_and_lifts_the_hold(api, supervisor, disputed):
    response = resolve(api, supervisor, disputed, "upheld")
    assert response.status_code == 200
    disputed.refresh_from_db()
    assert disputed.status == CaseStatus.CLOSED
    assert not Hold.objects.filter(case=disputed, lifted_at__isnull=True).exists()
    assert disputed.transitions.get(name="close").reason == "checked the statements"


def test_a_rejected_dispute_lifts_the_hold_and_issues_a_collection_letter(api, supervisor, disputed):
    response = resolve(api, supervisor, disputed, "rejected")
    assert response.status_code == 200
    assert response.json()["letter"]["kind"] == "collection_letter"
    disputed.refresh_from_db()
    assert disputed.status == CaseStatus.NOTIFY
    assert Hold.objects.get(case=disputed).lift_reason == "checked the statements"
    assert Letter.objects.filter(case=disputed).count() == 1
    assert AuditEvent.objects.filter(action="dispute.resolve", case_id=disputed.pk).exists()


def test_deciding_a_dispute_needs_a_reason(api, supervisor, disputed):
    assert resolve(api, supervisor, disputed, "upheld", reason="").status_code == 400
    assert Hold.objects.get(case=disputed).lifted_at is None


def test_a_collector_may_not_decide_a_dispute(api, collector, disputed):
    assert resolve(api, collector, disputed, "rejected").status_code == 403


def test_a_case_without_an_open_dispute_has_nothing_to_decide(api, supervisor, team):
    case = CaseFactory(team=team)
    response = resolve(api, supervisor, case, "rejected")
    assert response.status_code == 409
    assert response.json()["code"] == "no_dispute"
