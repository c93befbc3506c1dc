"""An installment unpaid after its grace days is missed; enough misses breach the agreement and collection
resumes. The daily judge is safe to run twice."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from cases.models import CaseEvidence, CaseStatus
from compliance.models import Hold
from negotiation.models import FollowUpTask
from plans.followup import installments_judge
from plans.models import Agreement, Installment
from plans.tasks import judge_installments
from tests.plans.followup_setup import agreement_in_force, follow_up_case, pay

pytestmark = pytest.mark.django_db
FIRST_DUE = date(2026, 10, 10)  # the installments fall due 10 Oct, 9 Nov, 9 Dec, 8 Jan


@pytest.fixture(autouse=True)
def rules(settings):
    settings.INSTALLMENT_GRACE_DAYS = 3
    settings.INSTALLMENT_MISSES_TO_BREACH = 2


@pytest.fixture
def case(team, collector):
    return follow_up_case(team, collector)


@pytest.fixture
def agreement(case):
    return agreement_in_force(case, ["2000.00"] * 4, FIRST_DUE)


def first(agreement) -> Installment:
    return agreement.installments.get(number=1)


@pytest.mark.parametrize("days_after_due, status", [(0, "due"), (3, "due"), (4, "missed")])
def test_an_unpaid_installment_is_missed_only_after_the_grace_days(agreement, days_after_due, status):
    installments_judge(today=FIRST_DUE + timedelta(days=days_after_due))

    assert first(agreement).status == status


def test_a_miss_counts_on_the_agreement(agreement):
    result = installments_judge(today=FIRST_DUE + timedelta(days=4))

    agreement.refresh_from_db()
    assert result == {"missed": 1, "breached": 0}
    assert agreement.missed_count == 1


def test_judging_twice_counts_a_miss_once(agreement):
    installments_judge(today=FIRST_DUE + timedelta(days=4))
    installments_judge(today=FIRST_DUE + timedelta(days=4))
    installments_judge(today=FIRST_DUE + timedelta(days=5))

    agreement.refresh_from_db()
    assert agreement.missed_count == 1


def test_a_part_paid_installment_after_the_grace_days_is_missed(case, agreement):
    pay(case, "1999.99")

    installments_judge(today=FIRST_DUE + timedelta(days=4))

    assert (first(agreement).status, first(agreement).paid_amount) == ("missed", Decimal("1999.99"))


def test_a_paid_installment_is_never_missed(case, agreement):
    pay(case, "2000.00")

    installments_judge(today=FIRST_DUE + timedelta(days=30))

    assert first(agreement).status == Installment.Status.PAID


def test_a_missed_installment_paid_later_becomes_paid_and_the_miss_stays_counted(case, agreement):
    installments_judge(today=FIRST_DUE + timedelta(days=4))

    pay(case, "2000.00")

    agreement.refresh_from_db()
    assert first(agreement).status == Installment.Status.PAID
    assert agreement.missed_count == 1


def breach_day() -> date:
    return agreement_second_due() + timedelta(days=4)


def agreement_second_due() -> date:
    return FIRST_DUE + timedelta(days=30)


def test_the_second_miss_breaches_the_agreement(agreement):
    installments_judge(today=FIRST_DUE + timedelta(days=4))
    result = installments_judge(today=breach_day())

    agreement.refresh_from_db()
    assert result == {"missed": 1, "breached": 1}
    assert (agreement.status, agreement.missed_count) == (Agreement.Status.BREACHED, 2)
    assert agreement.ended_at is not None


def test_a_breach_moves_the_case_to_broken(case, agreement):
    installments_judge(today=breach_day())

    case.refresh_from_db()
    assert case.status == CaseStatus.BROKEN
    assert case.transitions.first().name == "breach"


def test_a_breach_lifts_the_agreement_hold_so_collection_resumes(case, agreement):
    installments_judge(today=breach_day())

    assert Hold.objects.get(case=case, kind=Hold.Kind.AGREEMENT_IN_FORCE).lifted_at is not None


def test_a_breach_gives_the_collector_a_call_task(case, agreement, collector):
    installments_judge(today=breach_day())

    task = FollowUpTask.objects.get(case=case, kind=FollowUpTask.Kind.CALL)
    assert (task.assigned_to, task.due_on) == (collector, breach_day())
    assert "AG" in task.note


def test_missed_installments_with_nothing_paid_count_as_broken_promises(case, agreement):
    pay(case, "100.00")  # something paid on the first, nothing on the second
    installments_judge(today=breach_day())

    evidence = CaseEvidence.objects.filter(case=case, kind=CaseEvidence.Kind.BROKEN_PROMISE)
    assert list(evidence.values_list("occurred_on", flat=True)) == [agreement_second_due()]


def test_judging_a_breached_agreement_again_changes_nothing(case, agreement):
    installments_judge(today=breach_day())
    result = installments_judge(today=breach_day() + timedelta(days=1))

    assert result == {"missed": 0, "breached": 0}
    assert FollowUpTask.objects.filter(case=case, kind=FollowUpTask.Kind.CALL).count() == 1


def test_fewer_misses_than_the_setting_do_not_breach(agreement, settings):
    settings.INSTALLMENT_MISSES_TO_BREACH = 3

    installments_judge(today=breach_day())

    agreement.refresh_from_db()
    assert (agreement.status, agreement.missed_count) == (Agreement.Status.IN_FORCE, 2)


def test_an_agreement_past_a_lowered_limit_is_breached_at_the_next_run(agreement, settings):
    installments_judge(today=FIRST_DUE + timedelta(days=4))
    settings.INSTALLMENT_MISSES_TO_BREACH = 1

    installments_judge(today=FIRST_DUE + timedelta(days=5))

    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.BREACHED


def test_the_daily_task_judges_the_installments(agreement, settings):
    settings.INSTALLMENT_GRACE_DAYS = 0  # due before today: the task judges against the real date
    Installment.objects.filter(pk=first(agreement).pk).update(due_date=date.today() - timedelta(days=5))

    judge_installments.delay()

    assert first(agreement).status == Installment.Status.MISSED
