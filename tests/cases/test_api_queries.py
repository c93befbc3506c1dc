"""The cases API runs a constant number of queries, whatever the number of rows (docs/architecture.md)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import CaseTransition
from tests.factories import UserFactory, case_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def add_cases(n: int, team, collectors) -> list:
    return [
        case_in(
            ("notify", "verification", "plan", "escalated")[i % 4],
            team=team,
            assigned_to=collectors[i % len(collectors)],
            classification=("early", "mid", "wilful")[i % 3],
        )
        for i in range(n)
    ]


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


@pytest.fixture
def collectors(team):
    return [UserFactory(username=f"c{i}", role="collector", team=team) for i in range(3)]


def test_the_case_list_runs_as_many_queries_for_30_cases_as_for_3(team, supervisor, collectors, api):
    client = api(supervisor)
    add_cases(3, team, collectors)
    with_3 = queries_for(client, "/api/v1/cases/")

    add_cases(27, team, collectors)
    with_30 = queries_for(client, "/api/v1/cases/")

    assert client.get("/api/v1/cases/").json()["count"] == 30
    assert with_30 == with_3


def test_the_filtered_case_list_runs_as_many_queries_for_30_cases_as_for_3(team, collector, collectors, api):
    client = api(collector)
    url = "/api/v1/cases/?classification=mid&dpd_min=1&amount_min=100"
    add_cases(9, team, collectors)
    with_3 = queries_for(client, url)

    add_cases(81, team, collectors)
    with_30 = queries_for(client, url)

    assert client.get(url).json()["count"] == 30
    assert with_30 == with_3


def test_a_session_caller_runs_as_many_queries_for_30_cases_as_for_3(team, supervisor, collectors, client):
    client.force_login(supervisor)
    add_cases(3, team, collectors)
    with_3 = queries_for(client, "/api/v1/cases/")

    add_cases(27, team, collectors)
    with_30 = queries_for(client, "/api/v1/cases/")

    assert with_30 == with_3


def _add_transitions(case, n: int, actors) -> None:
    for i in range(n):
        CaseTransition.objects.create(
            case=case, name="revise", source="plan", target="verification", actor=actors[i % len(actors)]
        )


def test_a_case_runs_as_many_queries_with_10_transitions_as_with_1(team, supervisor, collectors, api):
    client = api(supervisor)
    # Both in the same state: a guard of the state's transitions (e.g. a verification) costs its own query.
    one, *_others, ten = add_cases(5, team, collectors)
    _add_transitions(one, 1, collectors)
    _add_transitions(ten, 10, [*collectors, None])

    with_1 = queries_for(client, f"/api/v1/cases/{one.pk}/")
    with_10 = queries_for(client, f"/api/v1/cases/{ten.pk}/")

    assert len(client.get(f"/api/v1/cases/{ten.pk}/").json()["transitions"]) == 10
    assert with_10 == with_1


def test_a_transition_answer_runs_as_many_queries_with_10_earlier_transitions_as_with_1(
    team, supervisor, collectors, api
):
    client = api(supervisor)
    one, ten = (case_in("notify", team=team) for _ in range(2))
    _add_transitions(one, 1, collectors)
    _add_transitions(ten, 10, collectors)

    def post(case) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                f"/api/v1/cases/{case.pk}/transitions/", {"name": "record_first_contact"}, format="json"
            )
        assert response.status_code == 200, response.content
        return len(queries)

    assert post(ten) == post(one)


@pytest.mark.parametrize("page_size, shown", [(2, 2), (5, 5), (50, 12)])
def test_page_size_sets_how_many_cases_a_page_holds(page_size, shown, team, supervisor, collectors, api):
    add_cases(12, team, collectors)

    body = api(supervisor).get("/api/v1/cases/", {"page_size": page_size}).json()

    assert body["count"] == 12
    assert len(body["results"]) == shown
    assert (body["next"] is None) is (shown == 12)


def test_the_pages_together_hold_every_case_once_in_worklist_order(team, supervisor, collectors, api):
    cases = add_cases(7, team, collectors)
    client = api(supervisor)

    ids = []
    for page in (1, 2, 3):
        ids += [row["id"] for row in client.get("/api/v1/cases/", {"page_size": 3, "page": page}).json()["results"]]

    assert sorted(ids) == sorted(c.pk for c in cases)
    assert len(ids) == 7


def test_the_page_size_is_capped(team, supervisor, collectors, api):
    add_cases(3, team, collectors)

    response = api(supervisor).get("/api/v1/cases/", {"page_size": 100000})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


def test_without_page_size_a_page_holds_50_cases(team, supervisor, collectors, api):
    add_cases(51, team, collectors)

    body = api(supervisor).get("/api/v1/cases/").json()

    assert len(body["results"]) == 50
    assert body["next"] is not None
