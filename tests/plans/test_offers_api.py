"""The offers API: list and create on a case, approve, reject and withdraw; visibility as everywhere."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import CaseStatus
from plans.models import Offer
from tests.factories import UserFactory, case_in, verified

pytestmark = pytest.mark.django_db


def body(**overrides) -> dict:
    return {
        "kind": "installments",
        "method": "annuity",
        "months": 36,
        "first_due_date": (timezone.localdate() + timedelta(days=30)).isoformat(),
        "interest_waiver_pct": "50",
        **overrides,
    }


@pytest.fixture
def case(team):
    case = case_in(CaseStatus.VERIFICATION, team=team)
    verified(case)
    return case


def test_creating_an_offer_answers_201_with_its_reasons_and_schedule(case, collector, api):
    response = api(collector).post(f"/api/v1/cases/{case.pk}/offers/", body(), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "pending_approval"
    assert {reason["code"] for reason in data["approval_reasons"]} == {
        "interest_waiver_over_authority", "term_over_authority",
    }
    assert len(data["schedule"]) == 36


def test_listing_a_cases_offers(case, collector, api):
    api(collector).post(f"/api/v1/cases/{case.pk}/offers/", body(), format="json")
    response = api(collector).get(f"/api/v1/cases/{case.pk}/offers/")
    assert response.status_code == 200 and len(response.json()) == 1


def test_an_unaffordable_offer_blocked_by_the_setting_is_a_400_with_its_code(case, collector, api, settings):
    settings.PLAN_AFFORDABILITY = "block"
    response = api(collector).post(f"/api/v1/cases/{case.pk}/offers/", body(months=2), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "offer_unaffordable"


def test_an_offer_in_notify_is_a_409(team, collector, api):
    case = case_in(CaseStatus.NOTIFY, team=team)
    response = api(collector).post(f"/api/v1/cases/{case.pk}/offers/", body(), format="json")
    assert response.status_code == 409 and response.json()["code"] == "offer_case_state"


def test_approve_then_approve_again_is_a_409(case, collector, supervisor, api):
    offer_id = api(collector).post(f"/api/v1/cases/{case.pk}/offers/", body(), format="json").json()["id"]
    first = api(supervisor).post(f"/api/v1/offers/{offer_id}/approve/", {}, format="json")
    assert first.status_code == 200 and first.json()["status"] == "ready"
    second = api(supervisor).post(f"/api/v1/offers/{offer_id}/approve/", {}, format="json")
    assert second.status_code == 409 and second.json()["code"] == "offer_not_pending"


def test_the_maker_approving_is_a_403(case, supervisor, api):
    from plans.models import AuthorityLimit

    AuthorityLimit.objects.filter(role="supervisor").update(max_months=24)
    offer_id = api(supervisor).post(f"/api/v1/cases/{case.pk}/offers/", body(), format="json").json()["id"]
    assert api(supervisor).post(f"/api/v1/offers/{offer_id}/approve/", {}, format="json").status_code == 403


def test_a_collector_approving_is_a_403(case, collector, team, api):
    offer_id = api(collector).post(f"/api/v1/cases/{case.pk}/offers/", body(), format="json").json()["id"]
    colleague = UserFactory(role="collector", team=team)
    assert api(colleague).post(f"/api/v1/offers/{offer_id}/approve/", {}, format="json").status_code == 403


def test_rejecting_without_a_reason_is_a_400(case, collector, supervisor, api):
    offer_id = api(collector).post(f"/api/v1/cases/{case.pk}/offers/", body(), format="json").json()["id"]
    response = api(supervisor).post(f"/api/v1/offers/{offer_id}/reject/", {"reason": ""}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "reason_required"
    assert Offer.objects.get(pk=offer_id).status == Offer.Status.PENDING_APPROVAL


def test_withdrawing_through_the_api(case, collector, api):
    offer_id = api(collector).post(f"/api/v1/cases/{case.pk}/offers/", body(), format="json").json()["id"]
    response = api(collector).post(f"/api/v1/offers/{offer_id}/withdraw/", {"reason": "Replaced."}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"


def test_another_teams_case_is_404_through_every_api(case, collector, other_team, api):
    offer_id = api(collector).post(f"/api/v1/cases/{case.pk}/offers/", body(), format="json").json()["id"]
    stranger = UserFactory(role="supervisor", team=other_team)
    other_team.supervisor = stranger
    other_team.save()
    client = api(stranger)
    assert client.get(f"/api/v1/cases/{case.pk}/offers/").status_code == 404
    assert client.post(f"/api/v1/cases/{case.pk}/offers/", body(), format="json").status_code == 404
    for action in ("approve", "reject", "withdraw"):
        assert client.post(f"/api/v1/offers/{offer_id}/{action}/", {"reason": "x"}, format="json").status_code == 404
    assert Offer.objects.get(pk=offer_id).status == Offer.Status.PENDING_APPROVAL


def test_the_offer_endpoints_are_in_the_openapi_schema(api, admin_user_):
    schema = api(admin_user_).get("/api/schema/", {"format": "json"}).json()
    assert "/api/v1/cases/{id}/offers/" in schema["paths"]
    for action in ("approve", "reject", "withdraw"):
        assert f"/api/v1/offers/{{id}}/{action}/" in schema["paths"]
