"""The outbox: every send asks the gate when it goes out; held messages wait, nothing is sent twice."""

import json
import uuid
from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from compliance.models import AuditEvent, Hold
from compliance.services import hold_set
from negotiation.models import OutboundMessage
from negotiation.services import message_queue, message_send, messages_release_held
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def sms_folder(settings, tmp_path):
    settings.SMS_GATEWAY = "negotiation.gateways.FileSmsGateway"
    settings.SMS_FILE_DIR = str(tmp_path / "sms")
    return tmp_path / "sms"


@pytest.fixture
def case(team):
    return CaseFactory(team=team, account__debtor__mobile="13812345678")


def at_shanghai(day: int, hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


def queue(case, key=None, when=None, **extra):
    with mock.patch("django.utils.timezone.now", return_value=when or at_shanghai(3, "10:00")):
        return message_queue(
            case_id=case.pk,
            channel="sms",
            text="您的账户已逾期，请及时还款。",
            idempotency_key=key or uuid.uuid4().hex,
            **extra,
        )


def send_at(message, when):
    with mock.patch("django.utils.timezone.now", return_value=when):
        return message_send(message_id=message.pk)


def sent_files(folder):
    return sorted(folder.glob("*.json")) if folder.exists() else []


def test_a_message_queued_within_hours_is_sent_once_through_the_gateway(
    case, sms_folder, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = queue(case)
    assert len(callbacks) == 1
    message = send_at(message, at_shanghai(3, "10:00"))
    assert message.status == OutboundMessage.Status.SENT
    assert message.decision.allowed is True
    [sent] = sent_files(sms_folder)
    assert json.loads(sent.read_text())["to"] == "13812345678"


def test_a_reminder_at_half_past_ten_at_night_is_held_until_eight_and_then_sent(case, sms_folder):
    message = queue(case, when=at_shanghai(3, "22:30"))
    message = send_at(message, at_shanghai(3, "22:30"))
    assert message.status == OutboundMessage.Status.SCHEDULED
    assert message.scheduled_for == at_shanghai(4, "08:00")
    assert sent_files(sms_folder) == []
    assert messages_release_held(now=at_shanghai(4, "07:59")) == []
    assert messages_release_held(now=at_shanghai(4, "08:00")) == [message.pk]
    message = send_at(message, at_shanghai(4, "08:00"))
    assert message.status == OutboundMessage.Status.SENT
    assert len(sent_files(sms_folder)) == 1


def test_a_held_message_is_not_sent_early_even_if_its_task_runs_again(case, sms_folder):
    message = send_at(queue(case), at_shanghai(3, "23:00"))
    assert send_at(message, at_shanghai(4, "06:00")).status == OutboundMessage.Status.SCHEDULED
    assert sent_files(sms_folder) == []


def test_a_message_on_a_disputed_case_is_blocked_and_never_sent(case, supervisor, sms_folder):
    hold_set(case_id=case.pk, kind=Hold.Kind.DISPUTE, reason="Cardholder disputes the debt", actor=supervisor)
    message = send_at(queue(case), at_shanghai(3, "10:00"))
    assert message.status == OutboundMessage.Status.BLOCKED
    assert message.decision.reason_codes == ["dispute_hold"]
    assert messages_release_held(now=at_shanghai(9, "10:00")) == []
    assert sent_files(sms_folder) == []


def test_an_installment_reminder_passes_while_an_agreement_is_kept(case, sms_folder):
    hold_set(case_id=case.pk, kind=Hold.Kind.AGREEMENT_IN_FORCE, reason="Agreement signed", actor=None)
    message = send_at(queue(case, purpose="service"), at_shanghai(3, "10:00"))
    assert message.status == OutboundMessage.Status.SENT


def test_the_same_idempotency_key_queues_one_message(case):
    first = queue(case, key="notice-42")
    second = queue(case, key="notice-42")
    assert first.pk == second.pk
    assert OutboundMessage.objects.count() == 1


def test_sending_twice_delivers_once(case, sms_folder):
    message = queue(case)
    send_at(message, at_shanghai(3, "10:00"))
    send_at(message, at_shanghai(3, "10:01"))
    assert len(sent_files(sms_folder)) == 1
    assert AuditEvent.objects.filter(action="message.sent").count() == 1


def test_a_send_that_died_after_the_hand_over_is_finished_without_a_second_delivery(case, sms_folder):
    message = queue(case)
    # The first attempt handed the SMS over and died before its bookkeeping: the row says SENDING.
    send_at(message, at_shanghai(3, "10:00"))
    OutboundMessage.objects.filter(pk=message.pk).update(status=OutboundMessage.Status.SENDING, sent_at=None)
    message = send_at(message, at_shanghai(3, "10:20"))
    assert message.status == OutboundMessage.Status.SENT
    assert message.attempts == 2
    assert len(sent_files(sms_folder)) == 1


def test_a_message_whose_task_was_lost_is_released_again(case):
    message = queue(case)
    OutboundMessage.objects.filter(pk=message.pk).update(updated_at=at_shanghai(3, "10:00"))
    assert messages_release_held(now=at_shanghai(3, "10:05")) == []
    assert messages_release_held(now=at_shanghai(3, "10:10")) == [message.pk]


def test_email_goes_through_django_email_with_the_key_as_message_id(case, mailoutbox):
    with mock.patch("django.utils.timezone.now", return_value=at_shanghai(3, "10:00")):
        message = message_queue(case_id=case.pk, channel="email", text="Hello", subject="Notice", idempotency_key="k-1")
    send_at(message, at_shanghai(3, "10:00"))
    assert len(mailoutbox) == 1
    assert mailoutbox[0].extra_headers["Message-ID"].startswith("<k-1@")
