"""Object-level permissions: who may see and act on which case, through every URL and API."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Team
from cases.models import CaseTransition
from tests.factories import UserFactory, case_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def own_case(team):
    return case_in("notify", team=team)


@pytest.fixture
def other_case(other_team):
    return case_in("notify", team=other_team)


def _listed_ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- A collector and the other team's case ----------------------------------------------------------


def test_a_collector_cannot_read_another_teams_case_through_the_api(collector, other_case, api):
    response = api(collector).get(f"/api/v1/cases/{other_case.pk}/")

    assert response.status_code == 404


def test_a_collector_can_read_a_case_of_their_own_team_through_the_api(collector, own_case, api):
    response = api(collector).get(f"/api/v1/cases/{own_case.pk}/")

    assert response.status_code == 200
    assert response.json()["id"] == own_case.pk


def test_a_collector_cannot_move_another_teams_case(collector, other_case, api):
    response = api(collector).post(
        f"/api/v1/cases/{other_case.pk}/transitions/", {"name": "record_first_contact"}, format="json"
    )

    assert response.status_code == 404
    other_case.refresh_from_db()
    assert other_case.status == "notify"
    assert not CaseTransition.objects.exists()


def test_a_collector_cannot_open_another_teams_case_page(collector, other_case, client):
    client.force_login(collector)

    response = client.get(f"/cases/{other_case.pk}/")

    assert response.status_code == 404


def test_a_collector_can_open_a_case_page_of_their_own_team(collector, own_case, client):
    client.force_login(collector)

    response = client.get(f"/cases/{own_case.pk}/")

    assert response.status_code == 200


def test_the_case_list_api_leaves_out_another_teams_cases(collector, own_case, other_case, api):
    ids = _listed_ids(api(collector).get("/api/v1/cases/"))

    assert ids == {own_case.pk}


def test_a_search_for_another_teams_case_number_finds_nothing(collector, other_case, api):
    ids = _listed_ids(api(collector).get("/api/v1/cases/", {"q": other_case.number}))

    assert ids == set()


def test_a_collector_without_a_team_sees_no_case(own_case, other_case, api):
    loner = UserFactory(username="loner", role="collector", team=None)

    assert _listed_ids(api(loner).get("/api/v1/cases/")) == set()
    assert api(loner).get(f"/api/v1/cases/{own_case.pk}/").status_code == 404


# --- Supervisors ------------------------------------------------------------------------------------


def test_a_supervisor_sees_their_own_team_only(supervisor, own_case, other_case, api):
    assert _listed_ids(api(supervisor).get("/api/v1/cases/")) == {own_case.pk}
    assert api(supervisor).get(f"/api/v1/cases/{other_case.pk}/").status_code == 404


def test_a_supervisor_cannot_close_another_teams_case(supervisor, other_case, api):
    response = api(supervisor).post(
        f"/api/v1/cases/{other_case.pk}/transitions/", {"name": "close", "reason": "duplicate"}, format="json"
    )

    assert response.status_code == 404
    other_case.refresh_from_db()
    assert other_case.status == "notify"


def test_a_supervisor_also_sees_the_teams_they_lead_without_belonging_to_them(
    supervisor, other_team, own_case, other_case, api
):
    Team.objects.filter(pk=other_team.pk).update(supervisor=supervisor)

    assert _listed_ids(api(supervisor).get("/api/v1/cases/")) == {own_case.pk, other_case.pk}


def test_a_supervisor_cannot_open_another_teams_case_page(supervisor, other_case, client):
    client.force_login(supervisor)

    assert client.get(f"/cases/{other_case.pk}/").status_code == 404


# --- Roles that see everything, and legal -----------------------------------------------------------


@pytest.mark.parametrize("role", ["compliance", "admin"])
def test_compliance_and_admin_see_every_teams_cases(role, own_case, other_case, api):
    user = UserFactory(username=role, role=role, team=None)

    assert _listed_ids(api(user).get("/api/v1/cases/")) == {own_case.pk, other_case.pk}
    assert api(user).get(f"/api/v1/cases/{other_case.pk}/").status_code == 200


@pytest.mark.parametrize("role", ["compliance", "admin"])
def test_compliance_and_admin_can_open_any_teams_case_page(role, other_case):
    client = Client()
    client.force_login(UserFactory(username=role, role=role, team=None))

    assert client.get(f"/cases/{other_case.pk}/").status_code == 200


def test_legal_sees_only_escalated_cases(legal_user, team, other_team, api):
    escalated = case_in("escalated", team=other_team)
    case_in("notify", team=team)
    case_in("plan", team=other_team)

    assert _listed_ids(api(legal_user).get("/api/v1/cases/")) == {escalated.pk}


@pytest.mark.parametrize("state", ["notify", "verification", "broken", "closed"])
def test_legal_cannot_read_a_case_that_is_not_escalated(state, legal_user, team, api):
    case = case_in(state, team=team)

    assert api(legal_user).get(f"/api/v1/cases/{case.pk}/").status_code == 404


def test_legal_can_read_an_escalated_case_of_any_team(legal_user, other_team, api):
    case = case_in("escalated", team=other_team)

    assert api(legal_user).get(f"/api/v1/cases/{case.pk}/").status_code == 200


def test_legal_cannot_open_the_page_of_a_case_that_is_not_escalated(legal_user, own_case, client):
    client.force_login(legal_user)

    assert client.get(f"/cases/{own_case.pk}/").status_code == 404


def test_an_inactive_user_sees_nothing(collector, own_case, api):
    collector.is_active = False
    collector.save()

    response = api(collector).get("/api/v1/cases/")

    assert response.status_code in (401, 403) or _listed_ids(response) == set()


# --- Anonymous callers and tokens -------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/v1/cases/"),
        ("get", "/api/v1/cases/{pk}/"),
        ("post", "/api/v1/cases/{pk}/transitions/"),
    ],
)
def test_an_anonymous_api_caller_is_refused(method, path, own_case):
    response = getattr(APIClient(), method)(path.format(pk=own_case.pk), {"name": "record_first_contact"})

    assert response.status_code in (401, 403)
    own_case.refresh_from_db()
    assert own_case.status == "notify"


@pytest.mark.parametrize("path", ["/cases/", "/cases/{pk}/"])
def test_an_anonymous_visitor_of_a_case_page_is_sent_to_the_login(path, own_case, client):
    url = path.format(pk=own_case.pk)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert f"next={url}" in response["Location"]


def test_a_token_authenticates_an_api_caller(collector, own_case, other_case):
    token = Token.objects.create(user=collector)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert _listed_ids(client.get("/api/v1/cases/")) == {own_case.pk}
    assert client.get(f"/api/v1/cases/{other_case.pk}/").status_code == 404


def test_a_token_caller_can_take_a_transition(collector, own_case):
    token = Token.objects.create(user=collector)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.post(f"/api/v1/cases/{own_case.pk}/transitions/", {"name": "record_first_contact"}, format="json")

    assert response.status_code == 200
    assert CaseTransition.objects.get(case=own_case).actor == collector


def test_a_wrong_token_is_refused(own_case):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)

    assert client.get("/api/v1/cases/").status_code in (401, 403)
