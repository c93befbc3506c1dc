"""The nightly aging of open cases, case opening and assignment, and the wilful evidence path."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import classification as rules
from cases.models import AssignmentRule, Case, CaseTransition, ClassificationPolicy
from cases.services import (
    CLASS_POINTS,
    ReasonRequired,
    _priority,
    case_confirm_wilful,
    case_dismiss_wilful,
    case_evidence_record,
    case_refresh_wilful_suggestion,
    case_transition,
    cases_refresh_aging,
)
from compliance.models import AuditEvent
from config.errors import Conflict
from tests.factories import CardAccountFactory, DebtorFactory, UserFactory, case_in

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def owing(days: int | None, overdue: str = "8700.00", **kwargs):
    """An account `days` past due (None: not delinquent) that owes `overdue` in principal only."""
    return CardAccountFactory(
        delinquent_since=None if days is None else TODAY - timedelta(days=days),
        principal_overdue=Decimal(overdue),
        interest_overdue=Decimal("0.00"),
        fees_overdue=Decimal("0.00"),
        **kwargs,
    )


def paid_off():
    return CardAccountFactory(principal_overdue=0, interest_overdue=0, fees_overdue=0, delinquent_since=None)


def refreshed(case: Case) -> Case:
    case.refresh_from_db()
    return case


# --- Bucket, class and priority of open cases -------------------------------------------------------


@pytest.mark.parametrize(
    "days, bucket",
    [
        (None, "current"),
        (0, "current"),
        (1, "special_mention"),
        (90, "special_mention"),
        (91, "substandard"),
        (120, "substandard"),
        (121, "doubtful"),
        (180, "doubtful"),
        (181, "loss"),
    ],
)
def test_aging_puts_an_open_case_in_the_bucket_of_its_days_past_due(days, bucket, team):
    stale = "loss" if bucket != "loss" else "current"
    case = case_in("verification", team=team, account=owing(days), bucket=stale)

    cases_refresh_aging(today=TODAY)

    assert refreshed(case).bucket == bucket


@pytest.mark.parametrize(
    "days, overdue, classification",
    [
        (30, "10000.00", "early"),
        (31, "10000.00", "mid"),
        (30, "10000.01", "mid"),
        (0, "50.00", "early"),
        (200, "50.00", "mid"),
    ],
)
def test_aging_classifies_an_open_case_early_or_mid_on_the_policy_boundaries(days, overdue, classification, team):
    stale = "mid" if classification == "early" else "early"
    case = case_in("first_contact", team=team, account=owing(days, overdue), classification=stale)

    cases_refresh_aging(today=TODAY)

    assert refreshed(case).classification == classification


def test_aging_applies_the_edited_classification_policy(team):
    ClassificationPolicy.objects.update_or_create(pk=1, defaults={"early_max_days": 5})
    case = case_in("notify", team=team, account=owing(6, "100.00"), classification="early")

    cases_refresh_aging(today=TODAY)

    assert refreshed(case).classification == "mid"


@pytest.mark.parametrize("days, overdue", [(1, "100.00"), (400, "999999.99")])
def test_aging_never_downgrades_a_wilful_case(days, overdue, team):
    case = case_in("plan", team=team, account=owing(days, overdue), classification="wilful")

    cases_refresh_aging(today=TODAY)

    case = refreshed(case)
    assert case.classification == "wilful"
    assert case.priority == _priority("wilful", case.account.overdue_total, days)


def test_priority_from_sql_equals_the_python_priority_for_the_same_inputs(team):
    amounts = ["0.01", "999.99", "1000.00", "8700.00", "10000.00", "10000.01", "123456.78", "400000.00", "999999.99"]
    days = [None, 0, 9, 10, 29, 30, 31, 299, 300, 301, 1000]
    cases = [
        case_in(
            "verification",
            team=team,
            account=owing(d, amount),
            classification="wilful" if i % 7 == 0 else "early",
            priority=0,
        )
        for i, (amount, d) in enumerate((a, d) for a in amounts for d in days)
    ]

    cases_refresh_aging(today=TODAY)

    wrong = []
    for case in cases:
        case = refreshed(case)
        expected = _priority(case.classification, case.account.overdue_total, case.account.days_past_due(TODAY))
        if case.priority != expected:
            wrong.append((case.account.overdue_total, case.account.delinquent_since, case.priority, expected))
    assert wrong == []


def test_sql_classification_and_bucket_equal_the_pure_rules_for_the_same_inputs(team):
    thresholds = ClassificationPolicy.current().thresholds()
    days = [None, 0, 1, 30, 31, 90, 91, 120, 121, 180, 181]
    inputs = [(d, a) for d in days for a in ["9999.99", "10000.00", "10000.01"]]
    cases = [case_in("notify", team=team, account=owing(d, a), bucket="loss", classification="mid") for d, a in inputs]

    cases_refresh_aging(today=TODAY)

    for case in cases:
        case = refreshed(case)
        days = case.account.days_past_due(TODAY)
        assert case.bucket == rules.bucket_for(days)
        assert case.classification == rules.base_classification(
            days=days, overdue=case.account.overdue_total, thresholds=thresholds
        )


def test_aging_runs_the_same_number_of_queries_for_5_and_for_50_cases(team):
    ClassificationPolicy.current()

    def stale_cases(n: int, offset: int) -> None:
        for i in range(n):
            case_in(
                "verification",
                team=team,
                account=owing((offset + i * 13) % 400, f"{1000 + i * 997}.00"),
                bucket="current",
                classification="wilful" if i % 5 == 0 else "early",
                priority=0,
            )

    stale_cases(5, 0)
    with CaptureQueriesContext(connection) as five:
        cases_refresh_aging(today=TODAY)
    stale_cases(45, 7)
    with CaptureQueriesContext(connection) as fifty:
        cases_refresh_aging(today=TODAY)

    assert Case.objects.count() == 50
    assert len(fifty) == len(five), [q["sql"] for q in fifty.captured_queries]


# --- Opening cases ----------------------------------------------------------------------------------


def test_aging_opens_a_case_for_a_delinquent_account_without_one(team):
    account = owing(40, "12000.00")

    result = cases_refresh_aging(today=TODAY)

    case = Case.objects.get(account=account)
    assert result["opened"] == 1
    assert (case.status, case.classification, case.bucket, case.next_action_on) == (
        "notify",
        "mid",
        "special_mention",
        TODAY,
    )
    assert case.priority == _priority("mid", Decimal("12000.00"), 40)
    assert AuditEvent.objects.filter(action="case.open").exists()


@pytest.mark.parametrize(
    "account_kwargs",
    [
        {"delinquent_since": None},
        {"principal_overdue": 0, "interest_overdue": 0, "fees_overdue": 0},
    ],
    ids=["not-delinquent", "owes-nothing"],
)
def test_aging_opens_no_case_for_an_account_that_is_not_in_arrears(account_kwargs):
    CardAccountFactory(**account_kwargs)

    assert cases_refresh_aging(today=TODAY)["opened"] == 0
    assert not Case.objects.exists()


def test_aging_does_not_open_a_second_case_for_an_account_with_an_open_one(team):
    case = case_in("plan", team=team, account=owing(50))

    assert cases_refresh_aging(today=TODAY)["opened"] == 0
    assert list(Case.objects.values_list("pk", flat=True)) == [case.pk]


def test_a_new_case_goes_to_the_team_of_the_first_matching_rule(team, other_team):
    AssignmentRule.objects.create(position=10, classification="mid", team=other_team)
    AssignmentRule.objects.create(position=20, city="上海", team=team)
    AssignmentRule.objects.create(position=30, team=other_team, active=False)
    early_shanghai = owing(5, "100.00", debtor=DebtorFactory(city="上海"))
    mid_shanghai = owing(200, "100.00", debtor=DebtorFactory(city="上海"))
    early_guangzhou = owing(5, "100.00", debtor=DebtorFactory(city="广州"))

    cases_refresh_aging(today=TODAY)

    teams = dict(Case.objects.values_list("account_id", "team_id"))
    assert teams == {early_shanghai.pk: team.pk, mid_shanghai.pk: other_team.pk, early_guangzhou.pk: None}


def test_a_new_case_goes_to_the_least_loaded_collector_of_its_team(team, other_team):
    AssignmentRule.objects.create(position=10, team=team)
    busy = UserFactory(username="busy", role="collector", team=team)
    idle = UserFactory(username="idle", role="collector", team=team)
    UserFactory(username="elsewhere", role="collector", team=other_team)
    UserFactory(username="gone", role="collector", team=team, is_active=False)
    UserFactory(username="boss", role="supervisor", team=team)
    for _ in range(2):
        case_in("verification", team=team, assigned_to=busy)
    for state in ("closed", "resolved", "closed"):
        case_in(state, team=team, assigned_to=idle, account=paid_off())
    case_in("notify", team=team, assigned_to=idle)
    account = owing(20)

    cases_refresh_aging(today=TODAY)

    assert Case.objects.get(account=account).assigned_to == idle


def test_new_cases_are_spread_over_the_collectors_of_a_team(team):
    AssignmentRule.objects.create(position=10, team=team)
    first = UserFactory(username="first", role="collector", team=team)
    second = UserFactory(username="second", role="collector", team=team)
    for days in (10, 20, 30, 40):
        owing(days)

    cases_refresh_aging(today=TODAY)

    loads = sorted(Case.objects.values_list("assigned_to", flat=True))
    assert loads == sorted([first.pk, first.pk, second.pk, second.pk])


# --- Settling and terminal cases --------------------------------------------------------------------


@pytest.mark.parametrize("state", ["notify", "verification", "follow_up", "escalated", "broken"])
def test_aging_resolves_an_open_case_whose_account_owes_nothing(state, team):
    case = case_in(state, team=team, account=paid_off())

    result = cases_refresh_aging(today=TODAY)

    assert result["settled"] == 1
    assert refreshed(case).status == "resolved"
    step = CaseTransition.objects.get(case=case)
    assert (step.name, step.source, step.target, step.actor) == ("settle", state, "resolved", None)


@pytest.mark.parametrize("state", ["closed", "resolved"])
def test_aging_leaves_a_terminal_case_alone(state, team):
    account = owing(200, "50000.00")
    case = case_in(state, team=team, account=account, bucket="current", classification="early", priority=7)
    before = (case.status, case.bucket, case.classification, case.priority, case.closed_at)

    cases_refresh_aging(today=TODAY)

    case = refreshed(case)
    assert (case.status, case.bucket, case.classification, case.priority, case.closed_at) == before
    assert not CaseTransition.objects.filter(case=case).exists()


def test_aging_does_not_reopen_a_delinquency_whose_case_a_supervisor_closed(team):
    closed = case_in("closed", team=team, account=owing(200, "50000.00"))

    assert cases_refresh_aging(today=TODAY)["opened"] == 0
    assert list(Case.objects.filter(account=closed.account).values_list("pk", flat=True)) == [closed.pk]


def test_aging_opens_a_new_case_when_a_settled_account_falls_behind_again(team):
    account = owing(10)
    resolved = case_in("resolved", team=team, account=account)
    Case.objects.filter(pk=resolved.pk).update(opened_at=timezone.now() - timedelta(days=400))

    assert cases_refresh_aging(today=TODAY)["opened"] == 1
    assert Case.objects.get(account=account, status="notify")


@pytest.mark.parametrize("state", ["closed", "resolved"])
def test_aging_does_not_settle_a_terminal_case_again(state, team):
    case_in(state, team=team, account=paid_off())

    assert cases_refresh_aging(today=TODAY)["settled"] == 0
    assert not CaseTransition.objects.exists()


def test_aging_records_its_run_in_the_audit_log(team):
    case_in("notify", team=team, account=paid_off())
    owing(20)

    cases_refresh_aging(today=TODAY)

    event = AuditEvent.objects.get(action="cases.refresh_aging")
    assert event.changes == {"date": TODAY.isoformat(), "opened": 1, "settled": 1}


# --- Evidence, suggestion, confirmation -------------------------------------------------------------


@pytest.fixture
def long_unpaid_case(team):
    return case_in("first_contact", team=team, account=owing(120, "20000.00"), classification="mid")


def _demand(case, days_ago: int, ref: str, actor=None):
    return case_evidence_record(
        case_id=case.pk,
        kind="delivered_demand",
        occurred_on=TODAY - timedelta(days=days_ago),
        actor=actor,
        source_ref=ref,
    )


def test_one_delivered_demand_suggests_nothing(long_unpaid_case):
    _demand(long_unpaid_case, 45, "letter:1")

    case = refreshed(long_unpaid_case)
    assert case.wilful_suggested is False
    assert case.wilful_evidence == []


def test_two_delivered_demands_30_days_apart_on_a_long_unpaid_account_suggest_wilful(long_unpaid_case, collector):
    _demand(long_unpaid_case, 45, "letter:1", collector)
    _demand(long_unpaid_case, 15, "letter:2", collector)

    case = refreshed(long_unpaid_case)
    assert case.wilful_suggested is True
    assert case.classification == "mid"
    assert case.wilful_evidence == [
        {
            "code": "demands_ignored",
            "dates": [(TODAY - timedelta(days=45)).isoformat(), (TODAY - timedelta(days=15)).isoformat()],
        }
    ]
    assert AuditEvent.objects.filter(action="case.wilful_suggestion", case_id=case.pk).count() == 1
    assert AuditEvent.objects.filter(action="case.evidence", case_id=case.pk).count() == 2


def test_two_delivered_demands_29_days_apart_suggest_nothing(long_unpaid_case):
    _demand(long_unpaid_case, 45, "letter:1")
    _demand(long_unpaid_case, 16, "letter:2")

    assert refreshed(long_unpaid_case).wilful_suggested is False


def test_a_recent_payment_means_the_account_is_not_long_unpaid(team):
    account = owing(120, "20000.00", last_payment_on=TODAY - timedelta(days=10))
    case = case_in("first_contact", team=team, account=account)

    _demand(case, 45, "letter:1")
    _demand(case, 15, "letter:2")

    assert refreshed(case).wilful_suggested is False


def test_recording_the_same_evidence_twice_counts_it_once(long_unpaid_case):
    first = _demand(long_unpaid_case, 45, "letter:1")
    again = _demand(long_unpaid_case, 15, "letter:1")

    assert again.pk == first.pk
    assert long_unpaid_case.evidence.count() == 1
    assert refreshed(long_unpaid_case).wilful_suggested is False


@pytest.fixture
def suggested_case(long_unpaid_case):
    _demand(long_unpaid_case, 45, "letter:1")
    _demand(long_unpaid_case, 15, "letter:2")
    return refreshed(long_unpaid_case)


def test_a_supervisor_confirms_a_suggested_case_as_wilful_with_a_reason(suggested_case, supervisor):
    before = suggested_case.priority

    case_confirm_wilful(case_id=suggested_case.pk, actor=supervisor, reason="Ignored two lawyer letters.")

    case = refreshed(suggested_case)
    assert case.classification == "wilful"
    assert case.wilful_suggested is False
    assert case.wilful_confirmed_by == supervisor
    assert case.wilful_confirmed_at is not None
    assert case.wilful_reason == "Ignored two lawyer letters."
    assert case.priority == before - CLASS_POINTS["mid"] + CLASS_POINTS["wilful"]
    event = AuditEvent.objects.get(action="case.confirm_wilful")
    assert (event.actor, event.reason, event.changes) == (
        supervisor,
        "Ignored two lawyer letters.",
        {"classification": ["mid", "wilful"]},
    )


@pytest.mark.parametrize("reason", ["", "   "])
def test_confirming_wilful_needs_a_reason(reason, suggested_case, supervisor):
    with pytest.raises(ReasonRequired):
        case_confirm_wilful(case_id=suggested_case.pk, actor=supervisor, reason=reason)

    assert refreshed(suggested_case).classification == "mid"


@pytest.mark.parametrize("role", ["collector", "legal", "compliance"])
def test_only_a_supervisor_may_confirm_wilful(role, suggested_case, team):
    user = UserFactory(username=role, role=role, team=team)

    with pytest.raises(PermissionDenied):
        case_confirm_wilful(case_id=suggested_case.pk, actor=user, reason="Looks wilful to me.")

    case = refreshed(suggested_case)
    assert case.classification == "mid"
    assert case.wilful_suggested is True


def test_a_confirmed_wilful_case_stays_wilful_through_the_nightly_aging(suggested_case, supervisor):
    case_confirm_wilful(case_id=suggested_case.pk, actor=supervisor, reason="Ignored two lawyer letters.")

    cases_refresh_aging(today=TODAY)

    case = refreshed(suggested_case)
    assert case.classification == "wilful"
    assert case.priority == _priority("wilful", case.account.overdue_total, 120)


def test_a_dismissed_suggestion_comes_back_only_with_new_evidence(suggested_case, supervisor):
    case_dismiss_wilful(case_id=suggested_case.pk, actor=supervisor, reason="Hospitalised; letters unread.")
    case_refresh_wilful_suggestion(case_id=suggested_case.pk, today=TODAY)
    assert refreshed(suggested_case).wilful_suggested is False

    _demand(suggested_case, 5, "letter:3")

    assert refreshed(suggested_case).wilful_suggested is True


def test_a_closed_case_cannot_be_confirmed_wilful(suggested_case, supervisor):
    case_transition(case_id=suggested_case.pk, name="close", actor=supervisor, reason="Sold to an agency.")

    with pytest.raises(Conflict):
        case_confirm_wilful(case_id=suggested_case.pk, actor=supervisor, reason="Ignored two lawyer letters.")


def test_the_nightly_beat_runs_the_aging_task(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["refresh-aging"]
    assert entry["task"] == "cases.tasks.refresh_aging"
    assert entry["schedule"].hour == {1}


def test_the_aging_task_refreshes_open_cases(team):
    from cases.tasks import refresh_aging

    case = case_in("first_contact", team=team, account=owing(100), bucket="special_mention")
    refresh_aging.delay()
    assert refreshed(case).bucket == "substandard"
