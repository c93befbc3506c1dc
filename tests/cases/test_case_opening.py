"""Opening cases for delinquent accounts in one INSERT … SELECT: the SQL gives what the pure rules give."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import classification as rules
from cases.models import AssignmentRule, Case, ClassificationPolicy
from cases.services import _priority, cases_open_for_accounts
from compliance.models import AuditEvent
from tests.factories import CardAccountFactory, DebtorFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def owing(days: int, overdue: str = "8700.00", city: str = "上海"):
    return CardAccountFactory(
        debtor=DebtorFactory(city=city),
        delinquent_since=TODAY - timedelta(days=days),
        principal_overdue=Decimal(overdue),
        interest_overdue=Decimal("0.00"),
        fees_overdue=Decimal("0.00"),
    )


def test_opening_cases_runs_the_same_number_of_queries_for_10_and_for_100_accounts(team, other_team):
    ClassificationPolicy.current()
    AssignmentRule.objects.create(position=10, classification="mid", team=other_team)
    AssignmentRule.objects.create(position=20, city="上海", team=team)
    for name in ("a", "b", "c"):
        UserFactory(username=f"{name}-here", role="collector", team=team)
        UserFactory(username=f"{name}-there", role="collector", team=other_team)

    def opening(n: int, offset: int) -> CaptureQueriesContext:
        ids = [owing(days=(offset + i * 7) % 60, overdue=f"{500 + i * 997}.00").pk for i in range(n)]
        with CaptureQueriesContext(connection) as queries:
            assert cases_open_for_accounts(account_ids=ids, today=TODAY) == n
        return queries

    ten, hundred = opening(10, 0), opening(100, 3)

    assert set(Case.objects.values_list("team_id", flat=True)) == {team.pk, other_team.pk}
    assert len(hundred) == len(ten), [q["sql"][:120] for q in hundred.captured_queries]


def test_an_opened_case_has_the_class_bucket_and_priority_the_pure_rules_give():
    thresholds = ClassificationPolicy.current().thresholds()
    days = [1, 9, 10, 30, 31, 90, 91, 120, 121, 180, 181, 299, 300, 301, 1000]
    amounts = ["0.01", "999.99", "1000.00", "9999.99", "10000.00", "10000.01", "400000.00", "999999.99"]
    accounts = [owing(d, a) for d in days for a in amounts]

    cases_open_for_accounts(account_ids=[account.pk for account in accounts], today=TODAY)

    wrong = []
    for case in Case.objects.select_related("account"):
        d, overdue = case.account.days_past_due(TODAY), case.account.overdue_total
        cls = rules.base_classification(days=d, overdue=overdue, thresholds=thresholds)
        expected = (cls, rules.bucket_for(d), _priority(cls, overdue, d), "notify", TODAY)
        found = (case.classification, case.bucket, case.priority, case.status, case.next_action_on)
        if found != expected:
            wrong.append((d, overdue, found, expected))
    assert Case.objects.count() == len(accounts)
    assert wrong == []


def test_a_new_case_goes_to_the_team_of_the_first_matching_rule_as_the_python_rule_says(team, other_team):
    AssignmentRule.objects.create(position=10, classification="mid", city="广州", team=other_team)
    AssignmentRule.objects.create(position=20, classification="early", team=team)
    AssignmentRule.objects.create(position=30, city="广州", team=team)
    AssignmentRule.objects.create(position=40, classification="wilful", team=other_team)
    AssignmentRule.objects.create(position=50, city="北京", team=other_team, active=False)
    accounts = [owing(d, "100.00", city) for d in (5, 200) for city in ("上海", "广州", "北京")]

    cases_open_for_accounts(account_ids=[account.pk for account in accounts], today=TODAY)

    active = list(AssignmentRule.objects.filter(active=True).order_by("position", "pk"))
    for case in Case.objects.select_related("account__debtor"):
        rule = next((r for r in active if r.matches(case)), None)
        assert case.team_id == (rule.team_id if rule else None), (case.classification, case.account.debtor.city)


def test_a_rule_for_any_class_and_city_takes_every_case_the_earlier_rules_leave(team, other_team):
    AssignmentRule.objects.create(position=10, city="广州", team=other_team)
    AssignmentRule.objects.create(position=20, team=team)
    AssignmentRule.objects.create(position=30, city="上海", team=other_team)
    guangzhou, shanghai = owing(5, city="广州"), owing(5, city="上海")

    cases_open_for_accounts(account_ids=[guangzhou.pk, shanghai.pk], today=TODAY)

    teams = dict(Case.objects.values_list("account_id", "team_id"))
    assert teams == {guangzhou.pk: other_team.pk, shanghai.pk: team.pk}


def test_new_cases_even_out_the_load_of_a_teams_collectors(team):
    AssignmentRule.objects.create(position=10, team=team)
    busy = UserFactory(username="busy", role="collector", team=team)
    idle = UserFactory(username="idle", role="collector", team=team)
    for _ in range(3):
        Case.objects.create(account=owing(50), team=team, assigned_to=busy)
    accounts = [owing(d) for d in range(10, 17)]

    cases_open_for_accounts(account_ids=[account.pk for account in accounts], today=TODAY)

    new = Case.objects.filter(account__in=accounts)
    assert new.filter(assigned_to=idle).count() == 5
    assert new.filter(assigned_to=busy).count() == 2


def test_opening_twice_opens_nothing_the_second_time_and_records_one_event_per_chunk():
    ids = [owing(d).pk for d in (10, 20, 30)]

    assert cases_open_for_accounts(account_ids=ids, today=TODAY) == 3
    assert cases_open_for_accounts(account_ids=ids, today=TODAY) == 0

    event = AuditEvent.objects.get(action="case.open")
    assert event.changes == {"cases": 3, "accounts": ids}
