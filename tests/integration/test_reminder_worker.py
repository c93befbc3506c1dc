"""The daily reminder job on a real worker and Redis: run twice, or with the worker killed in the middle,
each reminder exists once and its SMS goes out once."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from negotiation.models import OutboundMessage
from plans.models import Reminder
from plans.tasks import send_installment_reminders
from tests.integration.conftest import wait_for
from tests.plans.followup_setup import agreement_in_force, follow_up_case

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
VISIBILITY_TIMEOUT = 4


@pytest.fixture
def owed(team, collector):
    """Two reminders owed today: one three days before its due date, one on the due day."""
    today = timezone.localdate()
    agreement_in_force(follow_up_case(team, collector), ["2000.00", "2000.00"], today + timedelta(days=3))
    agreement_in_force(follow_up_case(team, collector), ["1500.00", "1500.00"], today)


def environment(workers, tmp_path, pause: int) -> dict:
    return {
        "DJANGO_SETTINGS_MODULE": "tests.integration.reminder_worker_settings",
        "ACCORD_TEST_QUEUE": workers.queue,
        "SMS_FILE_DIR": tmp_path / "sms",
        "SMS_FILE_PAUSE_SECONDS": pause,
        "CELERY_VISIBILITY_TIMEOUT": VISIBILITY_TIMEOUT,
    }


def all_sent() -> bool:
    messages = OutboundMessage.objects.filter(idempotency_key__startswith="installment-")
    return messages.count() == 2 and all(m.status == OutboundMessage.Status.SENT for m in messages)


def assert_each_reminder_once(tmp_path) -> None:
    assert sorted(Reminder.objects.values_list("kind", flat=True)) == ["before", "due_day"]
    keys = sorted(OutboundMessage.objects.values_list("idempotency_key", flat=True))
    assert keys == sorted(f"installment-{r.installment_id}-{r.kind}" for r in Reminder.objects.all())
    assert sorted(path.stem for path in (tmp_path / "sms").glob("*.json")) == keys


def test_the_daily_job_run_twice_by_a_worker_sends_each_reminder_once(workers, tmp_path, owed):
    workers.start(**environment(workers, tmp_path, pause=0))

    send_installment_reminders.apply_async(queue=workers.queue)
    send_installment_reminders.apply_async(queue=workers.queue)

    assert wait_for(all_sent, 90)
    time.sleep(3)  # anything the second run might have handed out has had its turn
    assert_each_reminder_once(tmp_path)


def test_a_worker_killed_while_sending_reminders_leaves_each_reminder_once(workers, tmp_path, owed):
    first = workers.start(**environment(workers, tmp_path, pause=30))
    send_installment_reminders.apply_async(queue=workers.queue)
    assert wait_for(lambda: any((tmp_path / "sms").glob("*.json")), 90)  # one SMS handed over, then a pause
    workers.kill(first)

    time.sleep(VISIBILITY_TIMEOUT + 1)  # the unacknowledged task comes back
    workers.start(**environment(workers, tmp_path, pause=0))
    send_installment_reminders.apply_async(queue=workers.queue)  # and the next scheduled run

    assert wait_for(all_sent, 90)
    time.sleep(3)
    assert_each_reminder_once(tmp_path)
