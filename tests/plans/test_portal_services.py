"""The portal's services on their own: one error for every bad link, identity attempts, counter-offer checks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import CaseStatus
from config.errors import Conflict, DomainError
from negotiation.models import Verification
from plans.models import CounterOffer, PortalEvent, PortalLink
from plans.portal import (
    IdentityMismatch,
    LinkInvalid,
    LinkLocked,
    counter_offer_submit,
    portal_identity_check,
    portal_link_resolve,
)
from tests.factories import case_in
from tests.plans.portal_support import NATIONAL_ID, make_link, plan_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(team, collector):
    return plan_case(team=team, collector=collector)


def refusal_of(token: str) -> tuple[str, str, int]:
    with pytest.raises(LinkInvalid) as refused:
        portal_link_resolve(token)
    return refused.value.code, refused.value.message, refused.value.http_status


def test_a_forged_an_expired_and_a_revoked_token_raise_the_very_same_error(case):
    _expired, expired = make_link(case, token="e" * 43, expires_at=timezone.now() - timedelta(minutes=1))
    _revoked, revoked = make_link(case, token="r" * 43, revoked_at=timezone.now())

    assert refusal_of("f" * 43) == refusal_of(expired) == refusal_of(revoked) == refusal_of("")


def test_a_right_answer_clears_earlier_wrong_ones(case):
    link, _token = make_link(case)
    with pytest.raises(IdentityMismatch):
        portal_identity_check(link_id=link.pk, last_four="0000")

    portal_identity_check(link_id=link.pk, last_four=NATIONAL_ID[-4:])

    link.refresh_from_db()
    assert link.identity_failures == 0


def test_after_the_lockout_a_fresh_round_of_attempts_begins(case, settings):
    settings.PORTAL_IDENTITY_ATTEMPTS = 2
    link, _token = make_link(case)
    with pytest.raises(IdentityMismatch):
        portal_identity_check(link_id=link.pk, last_four="0000")
    with pytest.raises(LinkLocked):
        portal_identity_check(link_id=link.pk, last_four="0001")
    PortalLink.objects.filter(pk=link.pk).update(locked_until=timezone.now() - timedelta(seconds=1))

    with pytest.raises(IdentityMismatch) as refused:
        portal_identity_check(link_id=link.pk, last_four="0002")

    assert refused.value.remaining == 1


def test_a_cardholder_without_an_id_number_on_record_is_asked_to_call_and_nothing_is_counted(team, collector):
    case = plan_case(team=team, collector=collector, national_id="")
    link, _token = make_link(case)

    with pytest.raises(DomainError) as refused:
        portal_identity_check(link_id=link.pk, last_four="1234")

    assert refused.value.code == "identity_unavailable"
    link.refresh_from_db()
    assert link.identity_failures == 0
    assert not PortalEvent.objects.exists()


@pytest.mark.parametrize(
    "amount, months, reason, code",
    [
        ("-5", 6, "x", "invalid_amount"),
        ("10.001", 6, "x", "invalid_amount"),
        ("abc", 6, "x", "invalid_amount"),
        ("100", 0, "x", "invalid_months"),
        ("100", 61, "x", "invalid_months"),
        ("100", 6, "   ", "reason_required"),
    ],
)
def test_a_counter_offer_with_bad_figures_is_refused_with_its_reason(case, amount, months, reason, code):
    link, _token = make_link(case)

    with pytest.raises(DomainError) as refused:
        counter_offer_submit(link_id=link.pk, monthly_amount=amount, months_needed=months, reason=reason)

    assert refused.value.code == code
    assert not CounterOffer.objects.exists()


def test_a_counter_offer_without_a_verified_income_is_not_judged(team, collector):
    case = case_in(CaseStatus.PLAN, team=team, assigned_to=collector)
    Verification.objects.filter(case=case).delete()
    link, _token = make_link(case)

    counter = counter_offer_submit(link_id=link.pk, monthly_amount="500", months_needed=12, reason="刚失业")

    assert counter.affordable is None
    assert counter.task.assigned_to == collector
    assert "500" in counter.task.note


def test_a_counter_offer_on_a_closed_case_is_refused(team, collector):
    case = case_in(CaseStatus.CLOSED, team=team, assigned_to=collector)
    link, _token = make_link(case)

    with pytest.raises(Conflict):
        counter_offer_submit(link_id=link.pk, monthly_amount="500", months_needed=12, reason="r")

    assert not CounterOffer.objects.exists()
