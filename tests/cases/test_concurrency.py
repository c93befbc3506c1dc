"""Two people moving the same case at the same time: exactly one wins, the other is told why.

The threaded tests need PostgreSQL: each thread has its own connection, and the row lock of
`select_for_update()` is what they exercise (SQLite serialises whole transactions instead)."""

import threading
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition
from rest_framework.test import APIClient

from cases.models import Case, CaseTransition
from cases.services import PaymentResult, TransitionRefused, case_evidence_record, case_transition, payment_record
from compliance import audit
from compliance.models import AuditEvent
from tests.factories import case_in

HOLD_SECONDS = 0.5
TIMEOUT = 20


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run_in_threads(*targets) -> list:
    """Run each target in its own thread (and DB connection); return what each returned or raised."""
    results: list = [None] * len(targets)

    def runner(index, target):
        try:
            results[index] = target()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "a thread is stuck: a lock was never released"
    return results


def holding_the_row_lock(barrier: threading.Barrier, **transition):
    """Take a transition, then keep its transaction (and the row lock) open a while before committing."""

    def target():
        with transaction.atomic():
            case = case_transition(**transition)
            barrier.wait(TIMEOUT)
            time.sleep(HOLD_SECONDS)
        return case

    return target


def refusal_of(**transition):
    """A call that runs the transition and returns its refusal (None when it went through)."""

    def call():
        try:
            case_transition(**transition)
        except TransitionRefused as refused:
            return refused

    return call


def after_the_barrier(barrier: threading.Barrier, call):
    def target():
        barrier.wait(TIMEOUT)
        started = time.monotonic()
        result = call()
        return result, time.monotonic() - started

    return target


# --- Service ------------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_second_of_two_concurrent_transitions_waits_for_the_lock_and_is_refused(team, collector, supervisor):
    case = case_in("notify", team=team)
    barrier = threading.Barrier(2)

    winner, (loser, _waited) = run_in_threads(
        holding_the_row_lock(barrier, case_id=case.pk, name="escalate", actor=supervisor, reason="refuses to talk"),
        after_the_barrier(barrier, refusal_of(case_id=case.pk, name="record_first_contact", actor=collector)),
    )

    assert isinstance(winner, Case), winner
    assert isinstance(loser, TransitionRefused), loser
    assert loser.details[0] | {"detail": ""} == {
        "code": "state",
        "transition": "record_first_contact",
        "state": "escalated",
        "detail": "",
    }
    case.refresh_from_db()
    assert case.status == "escalated"
    assert list(CaseTransition.objects.filter(case=case).values_list("name", flat=True)) == ["escalate"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_refused_transition_blocked_until_the_winner_committed(team, collector):
    case = case_in("notify", team=team)
    barrier = threading.Barrier(2)

    winner, (loser, waited) = run_in_threads(
        holding_the_row_lock(barrier, case_id=case.pk, name="record_first_contact", actor=collector),
        after_the_barrier(barrier, refusal_of(case_id=case.pk, name="record_first_contact", actor=collector)),
    )

    assert isinstance(winner, Case), winner
    assert isinstance(loser, TransitionRefused)
    assert waited >= HOLD_SECONDS * 0.8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "state, first, second",
    [
        ("notify", "record_first_contact", "record_first_contact"),
        ("plan", "revise", "revise"),
        ("broken", "renegotiate", "renegotiate"),
        ("escalated", "return_to_negotiation", "return_to_negotiation"),
    ],
)
def test_two_transitions_started_together_from_one_state_have_exactly_one_winner(
    state, first, second, team, supervisor
):
    """Pairs where neither transition is possible after the other, so the loser must be refused."""
    case = case_in(state, team=team)
    barrier = threading.Barrier(2)

    def attempt(name):
        def target():
            barrier.wait(TIMEOUT)
            return case_transition(case_id=case.pk, name=name, actor=supervisor, reason="both at once")

        return target

    results = run_in_threads(attempt(first), attempt(second))

    winners = [r for r in results if isinstance(r, Case)]
    losers = [r for r in results if isinstance(r, TransitionRefused | ConcurrentTransition)]
    assert (len(winners), len(losers)) == (1, 1), results
    assert CaseTransition.objects.filter(case=case).count() == 1
    assert AuditEvent.objects.filter(case_id=case.pk, action__in=[f"case.{first}", f"case.{second}"]).count() == 1
    assert audit.first_broken_event() is None


# --- API ----------------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_api_answers_409_to_the_second_of_two_concurrent_transitions(team, collector, supervisor):
    case = case_in("notify", team=team)
    barrier = threading.Barrier(2)

    def post():
        client = APIClient()
        client.force_authenticate(collector)
        return client.post(f"/api/v1/cases/{case.pk}/transitions/", {"name": "record_first_contact"}, format="json")

    winner, (response, _waited) = run_in_threads(
        holding_the_row_lock(barrier, case_id=case.pk, name="escalate", actor=supervisor, reason="refuses to talk"),
        after_the_barrier(barrier, post),
    )

    assert isinstance(winner, Case), winner
    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    assert response.json()["details"][0]["state"] == "escalated"
    case.refresh_from_db()
    assert case.status == "escalated"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_api_calls_racing_on_one_case_give_one_200_and_one_409(team, collector):
    case = case_in("notify", team=team)
    barrier = threading.Barrier(2)

    def post():
        client = APIClient()
        client.force_authenticate(collector)
        barrier.wait(TIMEOUT)
        return client.post(f"/api/v1/cases/{case.pk}/transitions/", {"name": "record_first_contact"}, format="json")

    responses = run_in_threads(post, post)

    assert sorted(r.status_code for r in responses) == [200, 409], responses
    refused = next(r for r in responses if r.status_code == 409).json()
    assert refused["code"] in ("transition_not_allowed", "stale_state")
    assert CaseTransition.objects.filter(case=case).count() == 1


# --- Stale instances ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_saving_a_stale_instance_after_another_transition_raises_concurrent_transition(team, collector):
    case = case_in("notify", team=team)
    stale = Case.objects.get(pk=case.pk)
    case_transition(case_id=case.pk, name="record_first_contact", actor=collector)

    stale.close()
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()

    case.refresh_from_db()
    assert case.status == "first_contact"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_stale_instance_cannot_overwrite_a_transition_committed_by_another_connection(team, collector):
    case = case_in("notify", team=team)
    stale = Case.objects.get(pk=case.pk)

    (moved,) = run_in_threads(lambda: case_transition(case_id=case.pk, name="record_first_contact", actor=collector))
    assert isinstance(moved, Case), moved

    stale.escalate()
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()

    case.refresh_from_db()
    assert case.status == "first_contact"


@pytest.mark.django_db
def test_the_api_answers_409_stale_state_when_the_case_changed_underneath(team, collector, api):
    case = case_in("notify", team=team)

    with mock.patch("cases.api.case_transition", side_effect=ConcurrentTransition("changed")):
        response = api(collector).post(
            f"/api/v1/cases/{case.pk}/transitions/", {"name": "record_first_contact"}, format="json"
        )

    assert response.status_code == 409
    assert response.json()["code"] == "stale_state"


# --- Lock order: no deadlock between services -----------------------------------------------------------


def pausing_audit(thread_name: str, barrier: threading.Barrier, *, before_write: bool):
    """Patch audit.record so that one thread, at its first audit write, lets the other start and waits."""
    real_record = audit.record
    paused = threading.Event()

    def record(**kwargs):
        if threading.current_thread().name == thread_name and not paused.is_set():
            paused.set()
            if before_write:
                barrier.wait(TIMEOUT)
                time.sleep(HOLD_SECONDS)
                return real_record(**kwargs)
            event = real_record(**kwargs)
            barrier.wait(TIMEOUT)
            time.sleep(HOLD_SECONDS)
            return event
        return real_record(**kwargs)

    return mock.patch.object(audit, "record", side_effect=record)


def run_named(**targets) -> dict:
    """Like run_in_threads, with each thread named after its keyword."""
    results: dict = {}

    def runner(name, target):
        try:
            results[name] = target()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            results[name] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=item, name=item[0]) for item in targets.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "a thread is stuck: a lock was never released"
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("before_write", [True, False], ids=["paused-before-audit", "paused-after-audit"])
def test_a_transition_and_an_evidence_record_on_one_case_at_once_both_succeed(before_write, team, collector):
    case = case_in("notify", team=team)
    barrier = threading.Barrier(2)

    def evidence():
        barrier.wait(TIMEOUT)
        return case_evidence_record(
            case_id=case.pk, kind="evasion", occurred_on=case.opened_at.date(), actor=collector, source_ref="call:9"
        )

    with pausing_audit("transition", barrier, before_write=before_write):
        results = run_named(
            transition=lambda: case_transition(case_id=case.pk, name="record_first_contact", actor=collector),
            evidence=evidence,
        )

    assert isinstance(results["transition"], Case), results
    assert not isinstance(results["evidence"], BaseException), results
    assert audit.first_broken_event() is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("before_write", [True, False], ids=["paused-before-audit", "paused-after-audit"])
def test_a_transition_and_a_settling_payment_on_one_case_at_once_do_not_deadlock(before_write, team, collector):
    case = case_in("notify", team=team)
    barrier = threading.Barrier(2)

    def transition():
        barrier.wait(TIMEOUT)
        try:
            return case_transition(case_id=case.pk, name="record_first_contact", actor=collector)
        except TransitionRefused as refused:
            return refused

    with pausing_audit("payment", barrier, before_write=before_write):
        results = run_named(
            payment=lambda: payment_record(
                account_ref=case.account.external_ref,
                amount=case.account.overdue_total,
                paid_at=timezone.now() - timedelta(minutes=1),
                external_ref="PAY-RACE",
            ),
            transition=transition,
        )

    assert isinstance(results["payment"], PaymentResult), results
    assert isinstance(results["transition"], Case | TransitionRefused), results
    case.refresh_from_db()
    assert case.status == "resolved"
    assert audit.first_broken_event() is None
