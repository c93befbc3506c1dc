"""Exactly one SMS per message, even when the worker is killed in the middle of sending it."""

import time
from datetime import UTC, datetime

import pytest

from negotiation.models import OutboundMessage
from negotiation.tasks import send_message
from tests.factories import CaseFactory
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
VISIBILITY_TIMEOUT = 4


def zone_where_it_is_midday() -> str:
    """A fixed-offset zone in which it is about noon now, so contact hours never fail the test."""
    offset = 12 - datetime.now(UTC).hour
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def test_a_worker_killed_after_handing_over_an_sms_does_not_send_it_twice(workers, tmp_path, team):
    sms_dir = tmp_path / "sms"
    case = CaseFactory(team=team, account__debtor__timezone=zone_where_it_is_midday())
    message = OutboundMessage.objects.create(
        case=case, channel="sms", purpose="collection", recipient="13812345678", body="请及时还款。",
        idempotency_key="notice-kill-test",
    )
    common = {"SMS_FILE_DIR": sms_dir, "CELERY_VISIBILITY_TIMEOUT": VISIBILITY_TIMEOUT}
    first = workers.start(SMS_FILE_PAUSE_SECONDS=30, **common)
    send_message.apply_async((message.pk,), queue=workers.queue)

    assert wait_for(lambda: any(sms_dir.glob("*.json")))  # handed over; the worker now pauses
    workers.kill(first)
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENDING

    time.sleep(VISIBILITY_TIMEOUT + 1)  # the unacknowledged task becomes visible again
    workers.start(SMS_FILE_PAUSE_SECONDS=0, **common)
    assert wait_for(lambda: OutboundMessage.objects.get(pk=message.pk).status == OutboundMessage.Status.SENT, 90)

    message.refresh_from_db()
    assert message.attempts == 2
    assert len(list(sms_dir.glob("*.json"))) == 1
