"""One-time codes: six digits by SMS through the gate, only a hash kept, a few minutes and a few tries."""

import json
import re
from datetime import timedelta
from unittest import mock

import pytest
from django.db import transaction

from compliance.models import AuditEvent, ContactDecision, Hold
from negotiation.models import OutboundMessage
from plans.codes import (
    RESEND_SECONDS,
    CodeError,
    CodeRefused,
    CodeThrottled,
    LinkNotLive,
    atomic_keeping_code_attempts,
    code_hash,
    code_send,
    code_verify,
)
from plans.models import OneTimeCode
from tests.plans.signing_setup import (
    DAYTIME,
    MOBILE,
    Clock,
    ensure_code_template,
    link_for,
    other_than,
    plan_case,
    sent_code,
)

pytestmark = pytest.mark.django_db
SIGN = OneTimeCode.Purpose.SIGN
IDENTITY = OneTimeCode.Purpose.IDENTITY


@pytest.fixture(autouse=True)
def sms_folder(settings, tmp_path):
    settings.SMS_GATEWAY = "negotiation.gateways.FileSmsGateway"
    settings.SMS_FILE_DIR = str(tmp_path / "sms")
    settings.PORTAL_CODE_MINUTES = 10
    settings.PORTAL_CODE_ATTEMPTS = 5


@pytest.fixture
def clock():
    clock = Clock(DAYTIME)
    with mock.patch("django.utils.timezone.now", side_effect=clock):
        yield clock


@pytest.fixture
def link(db):
    ensure_code_template()
    return link_for(plan_case())


def refusal_code(call) -> str:
    with pytest.raises(CodeRefused) as refused:
        call()
    return refused.value.code


# --- Sending ---------------------------------------------------------------------------------------


def test_a_code_is_six_random_digits_texted_to_the_registered_mobile_as_a_requested_message(clock, link):
    otp = code_send(link_id=link.pk, purpose=SIGN)

    message = otp.message
    assert (message.channel, message.purpose, message.recipient) == ("sms", "requested", MOBILE)
    assert len(sent_code(otp)) == 6
    assert otp.expires_at == DAYTIME + timedelta(minutes=10)


def test_once_sent_the_code_is_masked_in_the_outbox_and_only_the_phone_has_it(
    clock, link, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        otp = code_send(link_id=link.pk, purpose=SIGN)

    message = OutboundMessage.objects.get(pk=otp.message_id)
    assert message.status == OutboundMessage.Status.SENT
    assert "••••••" in message.body
    assert not re.search(r"\d{6}", message.body)
    assert code_hash(link_id=link.pk, purpose=SIGN, code=sent_code(otp)) == otp.code_hash


def test_only_a_keyed_hash_of_the_code_is_stored(clock, link):
    otp = code_send(link_id=link.pk, purpose=SIGN)
    code = sent_code(otp)

    stored = OneTimeCode.objects.filter(pk=otp.pk).values().get()
    assert stored["code_hash"] == code_hash(link_id=link.pk, purpose=SIGN, code=code)
    assert len(stored["code_hash"]) == 64
    assert not any(code in str(value) for value in stored.values())


def test_the_same_code_hashes_differently_on_another_link(clock, link):
    assert code_hash(link_id=link.pk, purpose=SIGN, code="123456") != code_hash(
        link_id=link.pk + 1, purpose=SIGN, code="123456"
    )


def test_sending_a_code_is_audited_without_the_code(clock, link):
    otp = code_send(link_id=link.pk, purpose=SIGN)

    event = AuditEvent.objects.get(action="portal_code.send")
    assert (event.target_id, event.case_id, event.actor_kind) == (str(otp.pk), link.case_id, "cardholder")
    assert sent_code(otp) not in json.dumps(event.changes)


def test_a_second_code_within_a_minute_is_refused_with_the_seconds_to_wait(clock, link):
    code_send(link_id=link.pk, purpose=SIGN)
    clock.advance(seconds=RESEND_SECONDS - 20)

    with pytest.raises(CodeThrottled) as throttled:
        code_send(link_id=link.pk, purpose=SIGN)

    assert (throttled.value.code, throttled.value.http_status, throttled.value.retry_after) == (
        CodeError.TOO_SOON, 429, 20
    )
    assert OneTimeCode.objects.count() == 1


def test_a_new_code_may_be_sent_a_minute_after_the_last(clock, link):
    code_send(link_id=link.pk, purpose=SIGN)
    clock.advance(seconds=RESEND_SECONDS)

    code_send(link_id=link.pk, purpose=SIGN)

    assert OneTimeCode.objects.filter(link=link, purpose=SIGN).count() == 2


def test_the_minute_between_codes_is_counted_per_purpose(clock, link):
    code_send(link_id=link.pk, purpose=IDENTITY)

    code_send(link_id=link.pk, purpose=SIGN)

    assert OneTimeCode.objects.count() == 2


def test_a_revoked_link_gets_no_code(clock, link):
    link.revoked_at = DAYTIME - timedelta(minutes=1)
    link.save()

    with pytest.raises(LinkNotLive):
        code_send(link_id=link.pk, purpose=SIGN)
    assert not OneTimeCode.objects.exists()


def test_the_code_goes_out_while_an_agreement_is_in_force(clock, link, django_capture_on_commit_callbacks):
    Hold.objects.create(case_id=link.case_id, kind=Hold.Kind.AGREEMENT_IN_FORCE, reason="signed", set_at=DAYTIME)

    with django_capture_on_commit_callbacks(execute=True):
        otp = code_send(link_id=link.pk, purpose=SIGN)

    assert OutboundMessage.objects.get(pk=otp.message_id).status == OutboundMessage.Status.SENT


def test_no_code_is_made_while_a_dispute_hold_stops_contact_and_the_decision_is_kept(clock, link):
    Hold.objects.create(case_id=link.case_id, kind=Hold.Kind.DISPUTE, reason="disputed", set_at=DAYTIME)

    assert refusal_code(lambda: code_send(link_id=link.pk, purpose=SIGN)) == CodeError.SMS_NOT_ALLOWED
    assert not OneTimeCode.objects.exists()
    assert not OutboundMessage.objects.exists()
    assert ContactDecision.objects.get(case_id=link.case_id).reason_codes == ["dispute_hold"]


def test_a_code_the_cardholder_asks_for_goes_out_at_night(clock, link, django_capture_on_commit_callbacks):
    clock.at = DAYTIME.replace(hour=22, minute=30)

    with django_capture_on_commit_callbacks(execute=True):
        otp = code_send(link_id=link.pk, purpose=SIGN)

    assert OutboundMessage.objects.get(pk=otp.message_id).status == OutboundMessage.Status.SENT
    assert set(ContactDecision.objects.filter(case_id=link.case_id).values_list("purpose", "allowed")) == {
        ("requested", True)
    }


# --- Verifying -------------------------------------------------------------------------------------


def test_the_right_code_is_accepted_and_marked_used(clock, link):
    otp = code_send(link_id=link.pk, purpose=SIGN)

    accepted = code_verify(link_id=link.pk, purpose=SIGN, code=sent_code(otp))

    assert (accepted.pk, accepted.used_at, accepted.attempts) == (otp.pk, DAYTIME, 0)


def test_a_used_code_is_refused(clock, link):
    otp = code_send(link_id=link.pk, purpose=SIGN)
    code_verify(link_id=link.pk, purpose=SIGN, code=sent_code(otp))

    assert refusal_code(lambda: code_verify(link_id=link.pk, purpose=SIGN, code=sent_code(otp))) == CodeError.USED


@pytest.mark.parametrize("after, accepted", [(timedelta(minutes=10) - timedelta(seconds=1), True),
                                             (timedelta(minutes=10), False)])
def test_a_code_works_until_its_expiry_and_not_at_it(clock, link, after, accepted):
    otp = code_send(link_id=link.pk, purpose=SIGN)
    clock.advance(seconds=after.total_seconds())

    if accepted:
        assert code_verify(link_id=link.pk, purpose=SIGN, code=sent_code(otp)).used_at == clock.at
    else:
        assert refusal_code(lambda: code_verify(link_id=link.pk, purpose=SIGN, code=sent_code(otp))) == \
            CodeError.EXPIRED


def test_a_wrong_code_counts_a_try_and_says_how_many_are_left(clock, link):
    otp = code_send(link_id=link.pk, purpose=SIGN)

    with pytest.raises(CodeRefused) as refused:
        code_verify(link_id=link.pk, purpose=SIGN, code=other_than(sent_code(otp)))

    assert (refused.value.code, refused.value.details) == (CodeError.WRONG, {"tries_left": 4})
    otp.refresh_from_db()
    assert (otp.attempts, otp.used_at) == (1, None)
    assert AuditEvent.objects.filter(action="portal_code.wrong", target_id=str(otp.pk)).count() == 1


def test_after_the_allowed_wrong_tries_even_the_right_code_is_refused(clock, link):
    otp = code_send(link_id=link.pk, purpose=SIGN)
    wrong = other_than(sent_code(otp))
    codes = [refusal_code(lambda: code_verify(link_id=link.pk, purpose=SIGN, code=wrong)) for _try in range(5)]

    assert codes == [CodeError.WRONG] * 4 + [CodeError.TOO_MANY]
    assert refusal_code(lambda: code_verify(link_id=link.pk, purpose=SIGN, code=sent_code(otp))) == \
        CodeError.TOO_MANY
    otp.refresh_from_db()
    assert (otp.attempts, otp.used_at) == (5, None)


def test_a_new_code_supersedes_the_earlier_unused_one(clock, link):
    first = code_send(link_id=link.pk, purpose=SIGN)
    clock.advance(minutes=2)
    second = code_send(link_id=link.pk, purpose=SIGN)

    assert refusal_code(lambda: code_verify(link_id=link.pk, purpose=SIGN, code=sent_code(first))) == CodeError.WRONG
    first.refresh_from_db()
    assert first.expires_at == clock.at
    assert code_verify(link_id=link.pk, purpose=SIGN, code=sent_code(second)).pk == second.pk


def test_a_code_for_one_purpose_does_not_serve_another(clock, link):
    otp = code_send(link_id=link.pk, purpose=IDENTITY)

    assert refusal_code(lambda: code_verify(link_id=link.pk, purpose=SIGN, code=sent_code(otp))) == CodeError.NO_CODE


def test_a_wrong_try_still_counts_when_the_surrounding_write_is_rolled_back(clock, link):
    otp = code_send(link_id=link.pk, purpose=SIGN)

    with pytest.raises(CodeRefused), atomic_keeping_code_attempts():
        code_verify(link_id=link.pk, purpose=SIGN, code=other_than(sent_code(otp)))

    otp.refresh_from_db()
    assert otp.attempts == 1


def test_a_plain_rolled_back_transaction_would_lose_the_try(clock, link):
    """Why atomic_keeping_code_attempts exists: the count made inside a failed transaction is undone."""
    otp = code_send(link_id=link.pk, purpose=SIGN)

    with pytest.raises(CodeRefused), transaction.atomic():
        code_verify(link_id=link.pk, purpose=SIGN, code=other_than(sent_code(otp)))

    otp.refresh_from_db()
    assert otp.attempts == 0
