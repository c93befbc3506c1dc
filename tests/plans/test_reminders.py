"""Installment reminders: three days before, on the due day and after a miss, each exactly once, through
the compliance gate as service messages."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance.models import Hold
from compliance.services import hold_set
from negotiation.models import OutboundMessage
from plans.followup import installments_judge, reminder_send, reminders_send
from plans.models import Agreement, Installment, Reminder
from tests.plans.followup_setup import agreement_in_force, follow_up_case, pay

pytestmark = pytest.mark.django_db
DUE = date(2026, 12, 10)


@pytest.fixture(autouse=True)
def rules(settings, tmp_path):
    settings.INSTALLMENT_GRACE_DAYS = 3
    settings.INSTALLMENT_MISSES_TO_BREACH = 2
    settings.SMS_GATEWAY = "negotiation.gateways.FileSmsGateway"
    settings.SMS_FILE_DIR = str(tmp_path / "sms")


@pytest.fixture
def case(team, collector):
    return follow_up_case(team, collector)


@pytest.fixture
def agreement(case):
    return agreement_in_force(case, ["2000.00"] * 3, DUE)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """The daily job with its tasks and the outbox run as they would be after commit."""

    def run_on(today: date) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return reminders_send(today=today)

    return run_on


def kinds_sent() -> list[tuple[int, str]]:
    return sorted(Reminder.objects.values_list("installment__number", "kind"))


@pytest.mark.parametrize(
    "days_from_due, expected",
    [(-4, []), (-3, [(1, "before")]), (-1, [(1, "before")]), (0, [(1, "due_day")]), (1, [])],
)
def test_reminders_go_three_days_before_and_on_the_due_day(agreement, run, days_from_due, expected):
    run(DUE + timedelta(days=days_from_due))

    assert kinds_sent() == expected


def test_no_after_miss_reminder_while_the_grace_days_run(agreement, run):
    installments_judge(today=DUE + timedelta(days=3))
    run(DUE + timedelta(days=3))

    assert kinds_sent() == []


def test_an_after_miss_reminder_goes_the_day_after_the_miss(agreement, run):
    installments_judge(today=DUE + timedelta(days=4))
    run(DUE + timedelta(days=4))

    assert kinds_sent() == [(1, "after_miss")]


def test_a_reminder_goes_once_when_the_job_runs_twice(agreement, run, tmp_path):
    run(DUE - timedelta(days=3))
    second = run(DUE - timedelta(days=3))

    assert second == 0
    [message] = OutboundMessage.objects.all()
    assert message.idempotency_key == f"installment-{agreement.installments.get(number=1).pk}-before"
    assert len(list((tmp_path / "sms").glob("*.json"))) == 1


def test_a_reminder_task_run_twice_queues_one_message(agreement):
    installment = agreement.installments.get(number=1)

    first = reminder_send(installment_id=installment.pk, kind=Reminder.Kind.DUE_DAY)
    again = reminder_send(installment_id=installment.pk, kind=Reminder.Kind.DUE_DAY)

    assert first.message is not None
    assert again is None
    assert OutboundMessage.objects.count() == 1


def test_a_reminder_is_a_service_message_the_agreement_hold_lets_through(agreement, run):
    run(DUE)

    message = Reminder.objects.get().message
    message.refresh_from_db()
    assert message.purpose == "service"
    assert message.status == OutboundMessage.Status.SENT
    assert message.decision.allowed is True


def test_a_reminder_names_the_agreement_the_date_and_the_amount_still_owed(case, agreement, run):
    pay(case, "500.00")

    run(DUE)

    body = Reminder.objects.get().message.body
    assert agreement.number in body
    assert "2026-12-10" in body
    assert "1,500.00" in body


def test_a_dispute_hold_blocks_the_reminder_at_the_gate(case, agreement, run):
    hold_set(case_id=case.pk, kind=Hold.Kind.DISPUTE, reason="The cardholder disputes the debt.")

    run(DUE)

    message = Reminder.objects.get().message
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.BLOCKED
    assert "dispute_hold" in message.decision.reason_codes


def test_a_paid_installment_gets_no_reminder(case, agreement, run):
    pay(case, "2000.00")

    run(DUE)

    assert kinds_sent() == []


def test_a_breached_agreement_gets_no_reminders(agreement, run):
    Agreement.objects.filter(pk=agreement.pk).update(status=Agreement.Status.BREACHED)

    run(DUE)

    assert kinds_sent() == []


def test_a_reminder_whose_installment_was_paid_since_it_was_queued_is_not_sent(case, agreement):
    installment = agreement.installments.get(number=1)
    pay(case, "2000.00")

    assert reminder_send(installment_id=installment.pk, kind=Reminder.Kind.DUE_DAY) is None
    assert Reminder.objects.count() == 0


def selection_queries(today: date) -> int:
    with CaptureQueriesContext(connection) as queries:
        reminders_send(today=today)  # the tasks wait for the commit the test never makes
    return len(queries)


def test_the_daily_selection_does_not_grow_with_the_number_of_installments(team, collector):
    agreement_in_force(follow_up_case(team, collector), ["2000.00"], DUE)
    one = selection_queries(DUE)
    for _ in range(5):
        agreement_in_force(follow_up_case(team, collector), ["2000.00"], DUE)

    assert Installment.objects.filter(due_date=DUE).count() == 6
    assert selection_queries(DUE) == one
