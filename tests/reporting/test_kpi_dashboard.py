"""The KPI dashboard on the hand-made portfolio: each figure, the filters, and what each role sees."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from reporting.kpi_selectors import KpiFilters, ReportScope, kpi_dashboard
from tests.factories import UserFactory
from tests.reporting import dataset
from tests.reporting.conftest import SEPTEMBER

pytestmark = pytest.mark.django_db
KPIS = reverse("reporting:kpis")
SCORECARD = reverse("reporting:scorecard")


def september(user, **filters):
    return kpi_dashboard(
        scope=ReportScope(user), filters=KpiFilters(start=dataset.MONTH_START, end=dataset.DAY, **filters)
    )


@pytest.fixture
def admin(db):
    return UserFactory(username="boss", role="admin", team=None)


@pytest.mark.parametrize(
    "key, expected",
    [
        ("overdue_amount", Decimal("8000.00")),
        ("overdue_cases", 3),
        ("overdue_rate_amount", Decimal("0.1000")),
        ("overdue_rate_accounts", Decimal("0.0300")),
        ("cure_rate", Decimal("0.2500")),
        ("recovery_rate", Decimal("0.3043")),
        ("collected", Decimal("3500.00")),
        ("promise_kept_rate", Decimal("0.3333")),
        ("right_party_contact_rate", Decimal("0.5000")),
        ("plan_acceptance_rate", Decimal("0.5000")),
        ("agreement_breach_rate", Decimal("0.5000")),
        ("average_days_to_agreement", Decimal("73.00")),
        ("complaints_per_thousand", Decimal("250.00")),
        ("satisfaction", Decimal("4.00")),
        ("contacts_per_resolved_case", Decimal("6.00")),
    ],
)
def test_each_kpi_of_the_hand_made_september(portfolio, admin, key, expected):
    assert september(admin).key_figures[key] == expected


def test_overdue_by_class_and_by_bucket_at_the_period_end(portfolio, admin):
    dashboard = september(admin)
    assert [(s.key, s.count, s.amount) for s in dashboard.by_class] == [
        ("early", 2, Decimal("3000.00")),
        ("mid", 1, Decimal("5000.00")),
        ("wilful", 0, Decimal("0.00")),
    ]
    assert [(s.key, s.count, s.amount) for s in dashboard.by_bucket if s.count] == [
        ("special_mention", 2, Decimal("3000.00")),
        ("doubtful", 1, Decimal("5000.00")),
    ]


def test_roll_rates_of_the_month(portfolio, admin):
    month = september(admin).roll_months[0]
    assert month.month_end == dataset.DAY
    assert [(r.from_bucket, r.to_bucket, r.cases, r.rate) for r in month.rolls] == [
        ("current", "special_mention", 1, Decimal("1.0000")),
        ("special_mention", "resolved", 1, Decimal("1.0000")),
        ("substandard", "doubtful", 1, Decimal("1.0000")),
    ]
    assert month.roll_forward_rate == Decimal("0.6667")


def test_the_satisfaction_distribution(portfolio, admin):
    assert [(score, count) for score, count, _share in september(admin).satisfaction] == [
        (1, 0),
        (2, 0),
        (3, 0),
        (4, 1),
        (5, 0),
    ]


def test_the_overdue_trend_has_a_point_a_day_with_the_rate_where_a_total_is_known(portfolio, admin):
    trend = september(admin).trend
    assert len(trend) == 30
    assert (trend[-1].cases, trend[-1].overdue, trend[-1].overdue_rate) == (3, Decimal("8000.00"), Decimal("0.1000"))
    assert trend[0].overdue_rate is None


def test_scorecards_are_by_name_with_a_balanced_set_of_figures(portfolio, admin):
    cards = september(admin).collectors
    assert [card.name for card in cards] == ["Alice", "Arthur", "Bella"]
    alice = cards[0]
    assert (
        alice.contacts,
        alice.right_party_contacts,
        alice.promise_kept_rate,
        alice.policy_blocks,
        alice.complaints,
        alice.satisfaction,
    ) == (4, 2, Decimal("0.5000"), 1, 1, Decimal("4.00"))
    assert (cards[1].plans_signed, cards[2].screening_hits) == (1, 1)


@pytest.mark.parametrize(
    "filters, amount, cases",
    [
        ({"team_id": "team_b"}, Decimal("2000.00"), 1),
        ({"collector_id": "a1"}, Decimal("1000.00"), 1),
        ({"classification": "mid"}, Decimal("5000.00"), 1),
    ],
)
def test_filters_narrow_every_figure(portfolio, admin, filters, amount, cases):
    resolved = {
        key: getattr(portfolio, value).pk if key != "classification" else value for key, value in filters.items()
    }
    figures = september(admin, **resolved).key_figures
    assert (figures["overdue_amount"], figures["overdue_cases"]) == (amount, cases)


def test_a_supervisor_sees_only_the_teams_they_lead(portfolio):
    dashboard = september(portfolio.supervisor)
    assert dashboard.key_figures["overdue_amount"] == Decimal("6000.00")
    assert [card.name for card in dashboard.collectors] == ["Alice", "Arthur"]
    assert [card.name for card in dashboard.teams] == ["Team A"]


def test_the_page_shows_each_kpi_with_its_definition(portfolio, client):
    client.force_login(portfolio.supervisor)
    html = client.get(KPIS, SEPTEMBER, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-kpi="overdue_amount"' in html and "¥6,000.00" in html
    assert "Right-party contact rate" in html and "cardholder was reached" in html
    assert html.count('<details class="definition">') >= 15
    assert "chart-4.6.1.umd.min.js" in html and 'id="chart-data-trend"' in html


def test_a_supervisor_cannot_pick_a_team_they_do_not_lead(portfolio, client):
    client.force_login(portfolio.supervisor)
    response = client.get(KPIS, {**SEPTEMBER, "team": portfolio.team_b.pk})
    assert response.status_code == 400
    assert response.context["tables"] is None


@pytest.mark.parametrize("role", ["compliance", "admin"])
def test_compliance_and_admin_see_every_team(portfolio, client, role):
    client.force_login(UserFactory(username=f"all-{role}", role=role, team=None))
    response = client.get(KPIS, SEPTEMBER)
    assert response.status_code == 200
    assert response.context["dashboard"].key_figures["overdue_amount"] == Decimal("8000.00")


@pytest.mark.parametrize("role", ["collector", "legal"])
def test_collectors_and_legal_are_refused_the_dashboard(portfolio, client, role):
    client.force_login(UserFactory(username=f"no-{role}", role=role, team=portfolio.team_a))
    assert client.get(KPIS, SEPTEMBER).status_code == 403


def test_a_collector_sees_only_their_own_scorecard(portfolio, client):
    client.force_login(portfolio.a1)
    response = client.get(SCORECARD, {**SEPTEMBER, "collector": portfolio.a2.pk})
    assert response.status_code == 400  # another collector cannot be chosen
    response = client.get(SCORECARD, SEPTEMBER)
    assert response.status_code == 200
    tables = response.context["tables"]
    assert list(tables) == ["collectors"]
    assert [row[0] for row in tables["collectors"].rows] == ["Alice"]


def test_legal_has_no_scorecard(portfolio, client):
    client.force_login(UserFactory(username="lawyer", role="legal", team=None))
    assert client.get(SCORECARD, SEPTEMBER).status_code == 403


def test_a_reversed_period_is_refused_with_a_message(portfolio, client):
    client.force_login(portfolio.supervisor)
    response = client.get(KPIS, {"start": "2026-09-30", "end": "2026-09-01"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "The period must start before it ends." in response.content.decode()


@pytest.mark.parametrize("page", [KPIS, SCORECARD, reverse("reporting:export", args=["collectors", "csv"])])
def test_each_page_runs_the_same_queries_whatever_the_number_of_teams_and_collectors(
    portfolio, client, django_assert_num_queries, page
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin = UserFactory(username="counting-admin", role="admin", team=None)
    client.force_login(admin)
    with CaptureQueriesContext(connection) as few:
        client.get(page, SEPTEMBER)
    extra = dataset.TeamFactory(name="Team C")
    for n in range(4):
        collector = UserFactory(username=f"c{n}", first_name=f"Extra{n}", last_name="", role="collector", team=extra)
        dataset._case(
            team=extra,
            collector=collector,
            classification="mid",
            opened=dataset.date(2026, 9, 2),
            delinquent_since=dataset.date(2026, 6, 1),
            overdue="700",
        )
    from reporting.snapshots import snapshot_build

    snapshot_build(start=dataset.date(2026, 8, 31), end=dataset.DAY)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(page, SEPTEMBER)
    assert response.status_code == 200 and "Extra3" in response.content.decode()


def test_the_supervisors_team_page_shows_kpi_tiles_linking_to_the_dashboard(portfolio, client):
    client.force_login(portfolio.supervisor)
    html = client.get(reverse("cases:supervisor"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="kpi-tiles"' in html and f'href="{KPIS}?' in html
    assert 'data-kpi="right_party_contact_rate"' in html


def _tiles(html: str) -> dict[str, str]:
    tile = r'data-kpi="(\w+)">\s*<span class="kpi-label">[^<]*</span>\s*<span class="kpi-value">([^<]*)<'
    return dict(re.findall(tile, html))


@pytest.mark.parametrize("who", ["supervisor", "admin"])
def test_the_team_page_tiles_and_the_kpi_page_show_the_same_figures_for_the_same_period(portfolio, admin, client, who):
    """Both open on the default period, the 30 days up to the last day snapshotted (30 September here, not
    yesterday), read by the same selector; the tiles name that period and link to it."""
    user = portfolio.supervisor if who == "supervisor" else admin
    client.force_login(user)
    team_page = client.get(reverse("cases:supervisor"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    kpi_page = client.get(KPIS, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    tiles, kpis = _tiles(team_page), _tiles(kpi_page)
    assert set(tiles) == {"overdue_amount", "overdue_cases", "right_party_contact_rate", "promise_kept_rate",
                          "complaints_per_thousand", "satisfaction"}
    assert {key: kpis[key] for key in tiles} == tiles
    expected = september(user).key_figures
    assert tiles["overdue_cases"] == f"{expected['overdue_cases']:,}" and tiles["overdue_cases"] != "0"
    assert "Activity from 2026-09-01 to 2026-09-30" in team_page and "complete up to 2026-09-30" in team_page
    assert f'href="{KPIS}?start=2026-09-01&amp;end=2026-09-30"' in team_page
    assert 'data-testid="team-as-of"' in team_page


def test_navigation_offers_the_dashboard_to_supervisors_and_the_scorecard_to_collectors(portfolio):
    from accounts.landing import navigation_for

    assert KPIS in [url for url, _label in navigation_for(portfolio.supervisor)]
    collector_links = [url for url, _label in navigation_for(portfolio.a1)]
    assert SCORECARD in collector_links and KPIS not in collector_links


def test_a_long_period_reads_whole_months_from_the_rollup_and_the_rest_by_day(portfolio, admin):
    filters = KpiFilters(start=date(2026, 8, 31), end=date(2026, 10, 2))
    assert filters.activity_split() == (
        [date(2026, 9, 1)],
        [(date(2026, 8, 31), date(2026, 8, 31)), (date(2026, 10, 1), date(2026, 10, 2))],
    )
    dashboard = kpi_dashboard(scope=ReportScope(admin), filters=filters)
    assert dashboard.figures.contacts == 7  # six in September and one on 31 August
    assert [(point.day, point.contacts) for point in dashboard.activity] == [
        (date(2026, 8, 1), 1),
        (date(2026, 9, 1), 6),
        (date(2026, 10, 1), 0),
    ]
    assert [card.contacts for card in dashboard.collectors] == [5, 0, 2]
