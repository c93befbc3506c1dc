"""The compliance dashboard: each figure on a small hand-made portfolio with known answers, who sees
what, the cases behind each figure, and a fixed number of queries."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance.models import Complaint, ContactDecision, ContactPolicy, Hold, ScreeningHit
from negotiation.models import Contact
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("reporting:compliance")
CASES = reverse("reporting:compliance_cases")


def decision(case, codes=(), *, asked_by=None, allowed=None, days_ago: int = 1) -> ContactDecision:
    """A gate decision as compliance.services.decision_record stores it, `days_ago` days old."""
    allowed = not codes if allowed is None else allowed
    row = ContactDecision.objects.create(
        case=case, channel="phone", party="debtor", purpose="collection", at=timezone.now(), allowed=allowed,
        reasons=[{"code": code, "detail": code} for code in codes], reason_codes=list(codes),
        policy=ContactPolicy.objects.get(jurisdiction="CN"), asked_by=asked_by, path="test",
    )
    ContactDecision.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    return row


def hit(case, author) -> ScreeningHit:
    return ScreeningHit.objects.create(
        source="note", action="blocked", case=case, author=author, terms=["法院"], categories=["impersonation"],
        excerpt="……法院……",
    )


def hold(case, kind, **extra) -> Hold:
    return Hold.objects.create(case=case, kind=kind, reason="test", set_at=timezone.now(), **extra)


def complaint(case, *, due_in: timedelta, **extra) -> Complaint:
    now = timezone.now()
    return Complaint.objects.create(
        case=case, channel="phone", category="contact_frequency", description="too many calls",
        received_at=now - timedelta(days=5), due_at=now + due_in, **extra,
    )


def contact(case, decision_row=None, *, direction="outbound", days_ago: int = 1) -> Contact:
    return Contact.objects.create(
        case=case, channel="phone", outcome="no_answer", direction=direction, decision=decision_row,
        at=timezone.now() - timedelta(days=days_ago),
    )


@pytest.fixture
def portfolio(team, other_team, collector, supervisor):
    """Two cases of the supervisor's team (a1, a2), one of another team (b1); the answers are in the tests."""
    second = UserFactory(username="second", first_name="Second", last_name="", role="collector", team=team)
    elsewhere = UserFactory(username="elsewhere", first_name="Elsewhere", last_name="", role="collector",
                            team=other_team)
    a1, a2 = CaseFactory(team=team, assigned_to=collector), CaseFactory(team=team, assigned_to=second)
    b1 = CaseFactory(team=other_team, assigned_to=elsewhere)

    decision(a1, ["outside_contact_hours"], asked_by=collector)
    decision(a1, ["daily_attempt_limit"], asked_by=collector)
    decision(a1, ["outside_contact_hours", "dispute_hold"], asked_by=second)
    decision(a2, ["daily_attempt_limit"])  # the outbox: nobody asked by hand
    decision(b1, ["outside_contact_hours"], asked_by=elsewhere)
    decision(a1, [], asked_by=collector)  # allowed
    decision(a2, ["daily_attempt_limit"], asked_by=collector, days_ago=40)  # before the period

    hit(a1, collector)
    hit(a1, collector)
    hit(b1, elsewhere)
    hit(None, collector)  # a template: no case

    hold(a1, Hold.Kind.DISPUTE)
    hold(a2, Hold.Kind.BREATHING_SPACE, expires_at=timezone.now() + timedelta(days=60))
    hold(a2, Hold.Kind.COMPLAINT, lifted_at=timezone.now())
    hold(b1, Hold.Kind.DISPUTE)
    hold(b1, Hold.Kind.BREATHING_SPACE, expires_at=timezone.now() - timedelta(days=1))

    complaint(a1, due_in=timedelta(days=10))
    complaint(a1, due_in=timedelta(days=2))
    complaint(a2, due_in=-timedelta(hours=20), complex=True)
    complaint(a2, due_in=-timedelta(days=3), status=Complaint.Status.RESOLVED, resolved_at=timezone.now())
    complaint(b1, due_in=-timedelta(hours=5))

    contact(a1, decision(a1, [], asked_by=collector))
    contact(a2, direction="inbound")  # the cardholder called: no gate
    return SimpleNamespace(a1=a1, a2=a2, b1=b1, second=second, elsewhere=elsewhere)


def dashboard(client, **params):
    response = client.get(DASHBOARD, params)
    assert response.status_code == 200, response.content.decode()
    return response.context["dashboard"]


def by_reason(board) -> dict[str, int]:
    return {row.code: row.count for row in board.blocked_by_reason}


def drill(client, figure: str, key: str = "", **params) -> set[int]:
    response = client.get(CASES, {"figure": figure, "key": key, **params})
    assert response.status_code == 200, response.content.decode()
    return {case.pk for case in response.context["page"].object_list}


# --- The figures ---------------------------------------------------------------------------------


def test_blocked_attempts_are_counted_by_reason_code(as_user, supervisor, portfolio):
    board = dashboard(as_user(supervisor))

    assert by_reason(board) == {"outside_contact_hours": 2, "daily_attempt_limit": 2, "dispute_hold": 1}


def test_the_blocked_total_counts_each_attempt_once_whatever_its_reasons(as_user, supervisor, portfolio):
    assert dashboard(as_user(supervisor)).blocked_total == 4


def test_allowed_decisions_and_refusals_before_the_period_are_not_counted(as_user, supervisor, portfolio):
    board = dashboard(as_user(supervisor), start=(timezone.localdate() - timedelta(days=45)).isoformat())

    assert board.blocked_total == 5
    assert by_reason(board)["daily_attempt_limit"] == 3


def test_policy_blocks_and_screening_hits_are_counted_per_collector(as_user, supervisor, collector, portfolio):
    board = dashboard(as_user(supervisor))

    rows = {row.key: (row.blocked, row.screening_hits) for row in board.collectors}
    assert rows == {str(collector.pk): (2, 2), str(portfolio.second.pk): (1, 0), "system": (1, 0)}
    assert board.screening_total == 2


def test_holds_in_force_are_counted_by_kind_without_lifted_or_expired_ones(as_user, compliance_officer, portfolio):
    board = dashboard(as_user(compliance_officer))

    assert board.holds_by_kind == [("dispute", "dispute", 2), ("breathing_space", "breathing space", 1)]
    assert board.holds_total == 3


def test_open_complaints_are_counted_with_those_at_risk_and_overdue(as_user, supervisor, portfolio):
    board = dashboard(as_user(supervisor))

    assert (board.complaints_open, board.complaints_at_risk, board.complaints_overdue) == (3, 1, 1)


def test_the_urgent_complaints_show_their_sla_and_clock_soonest_due_first(as_user, supervisor, portfolio):
    client = as_user(supervisor)

    board = dashboard(client)

    assert [(row.clock.status, row.sla_days) for row in board.urgent_complaints] == [
        ("overdue", 30),
        ("at_risk", 15),
    ]
    html = client.get(DASHBOARD).content.decode()
    assert "1 day overdue" in html
    assert "30 days" in html


def test_no_contact_is_outside_policy_when_every_contact_passed_the_gate(as_user, supervisor, portfolio):
    response = as_user(supervisor).get(DASHBOARD)

    assert response.context["dashboard"].outside_policy == 0
    assert 'class="card outside-policy is-zero"' in response.content.decode()


def test_a_contact_recorded_against_a_refusal_counts_as_outside_policy(as_user, supervisor, collector, portfolio):
    contact(portfolio.a2, decision(portfolio.a2, ["daily_attempt_limit"], asked_by=collector))

    response = as_user(supervisor).get(DASHBOARD)

    assert response.context["dashboard"].outside_policy == 1
    assert 'class="card outside-policy is-bad"' in response.content.decode()


def test_an_outbound_contact_without_a_decision_counts_as_outside_policy(as_user, supervisor, portfolio):
    contact(portfolio.a1)

    assert dashboard(as_user(supervisor)).outside_policy == 1


def test_the_figures_link_to_the_cases_behind_them(as_user, supervisor, portfolio):
    html = as_user(supervisor).get(DASHBOARD).content.decode()

    assert "figure=blocked&amp;key=dispute_hold" in html
    assert "figure=holds&amp;key=breathing_space" in html
    assert "figure=complaints&amp;key=overdue" in html
    assert "figure=outside_policy" in html


# --- Who sees what -------------------------------------------------------------------------------


def test_a_supervisor_sees_only_the_figures_of_their_teams(as_user, supervisor, portfolio):
    board = dashboard(as_user(supervisor))

    assert (board.holds_total, board.complaints_overdue) == (2, 1)
    assert str(portfolio.elsewhere.pk) not in {row.key for row in board.collectors}


def test_a_compliance_officer_sees_every_team(as_user, compliance_officer, collector, portfolio):
    board = dashboard(as_user(compliance_officer))

    assert board.blocked_total == 5
    assert by_reason(board)["outside_contact_hours"] == 3
    assert (board.complaints_open, board.complaints_at_risk, board.complaints_overdue) == (4, 1, 2)
    hits = {row.key: row.screening_hits for row in board.collectors}
    assert (hits[str(collector.pk)], hits[str(portfolio.elsewhere.pk)]) == (3, 1)


def test_an_admin_sees_the_dashboard(as_user, admin_user_, portfolio):
    assert dashboard(as_user(admin_user_)).blocked_total == 5


@pytest.mark.parametrize("url", [DASHBOARD, CASES + "?figure=blocked"])
def test_collectors_may_not_open_the_dashboard(as_user, collector, url):
    assert as_user(collector).get(url).status_code == 403


def test_the_team_filter_narrows_every_figure_to_that_team(as_user, compliance_officer, other_team, portfolio):
    board = dashboard(as_user(compliance_officer), team=other_team.pk)

    assert (board.blocked_total, board.screening_total, board.holds_total, board.complaints_open) == (1, 1, 1, 1)


def test_a_supervisor_cannot_choose_a_team_they_do_not_lead(as_user, supervisor, other_team, portfolio):
    response = as_user(supervisor).get(DASHBOARD, {"team": other_team.pk})

    assert response.status_code == 400
    assert response.context["dashboard"] is None


def test_a_period_that_ends_before_it_starts_is_refused_with_a_clear_message(as_user, supervisor):
    response = as_user(supervisor).get(DASHBOARD, {"start": "2026-03-10", "end": "2026-03-01"})

    assert response.status_code == 400
    assert "The period must start before it ends." in response.content.decode()


def test_the_default_period_is_the_last_30_days_including_today(as_user, supervisor):
    filters = dashboard(as_user(supervisor)).filters

    assert (filters.start, filters.end) == (timezone.localdate() - timedelta(days=29), timezone.localdate())


def test_supervisors_and_compliance_officers_find_the_dashboard_in_the_navigation(
    as_user, supervisor, compliance_officer
):
    for user in (supervisor, compliance_officer):
        assert (DASHBOARD, "Compliance") in [(url, str(label)) for url, label in
                                              as_user(user).get(DASHBOARD).context["navigation"]]


# --- Drill-down ----------------------------------------------------------------------------------


def test_the_cases_behind_a_reason_are_exactly_those_with_such_a_refusal(as_user, compliance_officer, portfolio):
    client = as_user(compliance_officer)

    assert drill(client, "blocked", "dispute_hold") == {portfolio.a1.pk}
    assert drill(client, "blocked", "outside_contact_hours") == {portfolio.a1.pk, portfolio.b1.pk}
    assert drill(client, "blocked") == {portfolio.a1.pk, portfolio.a2.pk, portfolio.b1.pk}


def test_the_cases_behind_a_collectors_blocks_and_hits(as_user, supervisor, collector, portfolio):
    client = as_user(supervisor)

    assert drill(client, "blocked_by", str(collector.pk)) == {portfolio.a1.pk}
    assert drill(client, "blocked_by", "system") == {portfolio.a2.pk}
    assert drill(client, "screening", str(collector.pk)) == {portfolio.a1.pk}


def test_the_cases_behind_holds_and_complaints(as_user, supervisor, portfolio):
    client = as_user(supervisor)

    assert drill(client, "holds", "breathing_space") == {portfolio.a2.pk}
    assert drill(client, "holds") == {portfolio.a1.pk, portfolio.a2.pk}
    assert drill(client, "complaints", "at_risk") == {portfolio.a1.pk}
    assert drill(client, "complaints", "overdue") == {portfolio.a2.pk}


def test_the_cases_behind_contacts_outside_policy(as_user, supervisor, portfolio):
    contact(portfolio.a2)
    client = as_user(supervisor)

    assert drill(client, "outside_policy") == {portfolio.a2.pk}


def test_a_supervisors_drill_down_never_lists_another_teams_case(as_user, supervisor, portfolio):
    assert portfolio.b1.pk not in drill(as_user(supervisor), "blocked", "outside_contact_hours")


def test_the_drill_down_counts_each_cases_rows_and_links_to_the_case_and_its_audit_trail(
    as_user, compliance_officer, portfolio
):
    response = as_user(compliance_officer).get(CASES, {"figure": "blocked", "key": "outside_contact_hours"})

    counts = {case.pk: case.items for case in response.context["page"].object_list}
    assert counts == {portfolio.a1.pk: 2, portfolio.b1.pk: 1}
    html = response.content.decode()
    assert reverse("cases:detail", args=[portfolio.a1.pk]) in html
    assert f"/compliance/audit/?case={portfolio.a1.pk}" in html


@pytest.mark.parametrize("figure, key", [("bogus", ""), ("blocked", "no_such_code"), ("holds", "x"),
                                         ("blocked_by", "abc"), ("complaints", "")])
def test_an_unknown_figure_or_key_is_refused(as_user, supervisor, figure, key):
    response = as_user(supervisor).get(CASES, {"figure": figure, "key": key})

    assert response.status_code == 400
    assert "The dashboard has no such figure." in response.content.decode()


# --- Queries -------------------------------------------------------------------------------------


def grow(team, collector, n: int) -> None:
    """`n` more cases, each with blocked attempts, a hit, a hold, a complaint and a contact."""
    for _ in range(n):
        case = CaseFactory(team=team, assigned_to=UserFactory(role="collector", team=team))
        decision(case, ["outside_contact_hours", "dispute_hold"], asked_by=case.assigned_to)
        decision(case, ["daily_attempt_limit"], asked_by=collector)
        hit(case, case.assigned_to)
        hold(case, Hold.Kind.DISPUTE)
        complaint(case, due_in=-timedelta(days=1))
        contact(case, decision(case, ["weekly_attempt_limit"]))


def count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params or {}).status_code == 200
    return len(captured)


def test_the_dashboard_runs_the_same_number_of_queries_for_3_and_30_cases(as_user, supervisor, collector, team):
    client = as_user(supervisor)
    grow(team, collector, 3)
    three = count_queries(client, DASHBOARD)

    grow(team, collector, 27)

    assert count_queries(client, DASHBOARD) == three


@pytest.mark.parametrize("figure, key", [("blocked", "dispute_hold"), ("blocked_by", "system"), ("screening", ""),
                                         ("holds", "dispute"), ("complaints", "overdue"), ("outside_policy", "")])
def test_a_drill_down_runs_the_same_number_of_queries_for_3_and_30_cases(
    as_user, compliance_officer, collector, team, figure, key
):
    client = as_user(compliance_officer)
    params = {"figure": figure, "key": key}
    grow(team, collector, 3)
    three = count_queries(client, CASES, params)

    grow(team, collector, 27)

    assert count_queries(client, CASES, params) == three
