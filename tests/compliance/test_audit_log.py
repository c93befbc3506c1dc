"""The audit log: every service write appends a hash-chained event; tampering is refused or detected."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from cases import services
from cases.models import CardAccount
from compliance import audit
from compliance.models import AuditEvent, AuditLogIsAppendOnly
from tests.factories import CardAccountFactory, UserFactory, case_in

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _chain() -> list[AuditEvent]:
    return list(AuditEvent.objects.order_by("pk"))


def _assert_chained(events: list[AuditEvent]) -> None:
    previous = audit.GENESIS_HASH
    for event in events:
        assert event.prev_hash == previous, f"event {event.pk} does not link to its predecessor"
        assert event.hash == event.compute_hash(), f"event {event.pk} does not match its hash"
        previous = event.hash


# --- Every service write ----------------------------------------------------------------------------


def _transition(ctx):
    services.case_transition(case_id=ctx["case"].pk, name="record_first_contact", actor=ctx["collector"])


def _close(ctx):
    services.case_transition(case_id=ctx["case"].pk, name="close", actor=ctx["supervisor"], reason="duplicate")


def _settle(ctx):
    CardAccount.objects.filter(pk=ctx["case"].account_id).update(
        principal_overdue=0, interest_overdue=0, fees_overdue=0
    )
    services.case_transition_by_system(case_id=ctx["case"].pk, name="settle", reason_code="overdue_paid")


def _open(ctx):
    account = CardAccountFactory()
    assert services.cases_open_for_accounts(account_ids=[account.pk]) == 1


def _reassign(ctx):
    other = UserFactory(username="other", role="collector", team=ctx["team"])
    services.case_reassign(case_ids=[ctx["case"].pk], collector_id=other.pk, actor=ctx["supervisor"])


def _evidence(ctx):
    services.case_evidence_record(
        case_id=ctx["case"].pk, kind="evasion", occurred_on=TODAY, actor=ctx["collector"], source_ref="call:1"
    )


def _suggest(ctx):
    for i in range(3):
        services.case_evidence_record(case_id=ctx["case"].pk, kind="evasion", occurred_on=TODAY - timedelta(days=i))


def _confirm(ctx):
    _suggest(ctx)
    services.case_confirm_wilful(case_id=ctx["case"].pk, actor=ctx["supervisor"], reason="evades every call")


def _dismiss(ctx):
    _suggest(ctx)
    services.case_dismiss_wilful(case_id=ctx["case"].pk, actor=ctx["supervisor"], reason="phone was broken")


def _payment(ctx):
    services.payment_record(
        account_ref=ctx["case"].account.external_ref,
        amount=Decimal("100.00"),
        paid_at=timezone.now() - timedelta(hours=1),
        external_ref="PAY-1",
    )


def _payment_in_full(ctx):
    services.payment_record(
        account_ref=ctx["case"].account.external_ref,
        amount=ctx["case"].account.overdue_total,
        paid_at=timezone.now() - timedelta(hours=1),
        external_ref="PAY-2",
    )


def _aging(ctx):
    services.cases_refresh_aging()


WRITES = {
    "case_transition": (_transition, ["case.record_first_contact"]),
    "case_transition with a reason": (_close, ["case.close"]),
    "case_transition_by_system": (_settle, ["case.settle"]),
    "cases_open_for_accounts": (_open, ["case.open"]),
    "case_reassign": (_reassign, ["case.reassign"]),
    "case_evidence_record": (_evidence, ["case.evidence"]),
    "case_refresh_wilful_suggestion": (_suggest, ["case.evidence"] * 3 + ["case.wilful_suggestion"]),
    "case_confirm_wilful": (_confirm, ["case.evidence"] * 3 + ["case.wilful_suggestion", "case.confirm_wilful"]),
    "case_dismiss_wilful": (_dismiss, ["case.evidence"] * 3 + ["case.wilful_suggestion", "case.dismiss_wilful"]),
    "payment_record": (_payment, ["payment.record"]),
    "payment_record settling the case": (_payment_in_full, ["payment.record", "case.settle"]),
    "cases_refresh_aging": (_aging, ["cases.refresh_aging"]),
}


@pytest.fixture
def ctx(team, collector, supervisor):
    case = case_in("notify", team=team, assigned_to=collector)
    # Something already in the log, so that the new events must chain onto an existing one.
    audit.record(action="test.setup")
    return {"team": team, "collector": collector, "supervisor": supervisor, "case": case}


@pytest.mark.parametrize("write", list(WRITES))
def test_every_service_write_appends_its_events_to_the_chain(write, ctx):
    run, actions = WRITES[write]
    before = AuditEvent.objects.count()

    run(ctx)

    events = _chain()
    assert [e.action for e in events[before:]] == actions
    _assert_chained(events)
    assert audit.first_broken_event() is None


@pytest.mark.parametrize("write", ["case_transition", "case_reassign", "case_confirm_wilful"])
def test_a_staff_write_names_its_actor(write, ctx):
    run, actions = WRITES[write]

    run(ctx)

    event = AuditEvent.objects.get(action=actions[-1])
    assert event.actor_kind == "staff"
    assert event.actor_label == event.actor.username


def test_a_refused_write_appends_nothing(ctx):
    before = AuditEvent.objects.count()

    with pytest.raises(services.TransitionRefused):
        services.case_transition(case_id=ctx["case"].pk, name="complete", actor=ctx["collector"])

    assert AuditEvent.objects.count() == before


def test_an_event_written_in_a_rolled_back_transaction_leaves_the_chain_intact(ctx):
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record(action="test.rolled_back")
        raise RuntimeError

    audit.record(action="test.after")

    _assert_chained(_chain())


# --- verify_audit_log -------------------------------------------------------------------------------


def _some_history(ctx) -> None:
    _transition(ctx)
    _payment(ctx)
    _evidence(ctx)


def test_verify_audit_log_passes_on_an_intact_chain(ctx, capsys):
    _some_history(ctx)

    call_command("verify_audit_log")

    assert f"{AuditEvent.objects.count()} events" in capsys.readouterr().out


def test_verify_audit_log_passes_on_an_empty_log(capsys):
    call_command("verify_audit_log")

    assert "0 events" in capsys.readouterr().out


def _without_the_trigger(sql: str, params: list) -> None:
    """Run a tampering statement; on PostgreSQL the append-only trigger has to be switched off first.

    This happens inside the test's transaction, so the rollback at its end restores the trigger even
    if the test dies half-way; the deferred foreign-key checks are run first because PostgreSQL does
    not alter a table with trigger events pending."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE compliance_auditevent DISABLE TRIGGER compliance_auditevent_append_only")
        try:
            cursor.execute(sql, params)
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("ALTER TABLE compliance_auditevent ENABLE TRIGGER compliance_auditevent_append_only")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.mark.parametrize(
    "column, value",
    [("reason", "nothing to see here"), ("actor_label", "someone else"), ("action", "case.nothing")],
)
def test_verify_audit_log_fails_naming_a_row_edited_in_sql(column, value, ctx):
    _some_history(ctx)
    victim = _chain()[2]

    _without_the_trigger(f"UPDATE compliance_auditevent SET {column} = %s WHERE id = %s", [value, victim.pk])  # noqa: S608

    with pytest.raises(CommandError, match=rf"\bevent {victim.pk}\b"):
        call_command("verify_audit_log")


def test_verify_audit_log_fails_on_a_row_whose_changes_were_edited(ctx):
    _payment(ctx)
    victim = AuditEvent.objects.get(action="payment.record")

    _without_the_trigger(
        "UPDATE compliance_auditevent SET changes = %s WHERE id = %s",
        ['{"amount": "1.00"}', victim.pk],
    )

    with pytest.raises(CommandError, match=rf"\bevent {victim.pk}\b"):
        call_command("verify_audit_log")


def test_verify_audit_log_fails_when_a_row_is_rehashed_after_editing(ctx):
    """Recomputing the edited row's own hash does not help: the next row's link breaks."""
    _some_history(ctx)
    victim, successor = _chain()[1:3]
    victim.reason = "rewritten"
    forged = victim.compute_hash()

    _without_the_trigger(
        "UPDATE compliance_auditevent SET reason = %s, hash = %s WHERE id = %s", ["rewritten", forged, victim.pk]
    )

    with pytest.raises(CommandError, match=rf"\bevent {successor.pk}\b"):
        call_command("verify_audit_log")


def test_verify_audit_log_fails_when_a_row_is_deleted_in_sql(ctx):
    _some_history(ctx)
    victim, successor = _chain()[1:3]

    _without_the_trigger("DELETE FROM compliance_auditevent WHERE id = %s", [victim.pk])

    with pytest.raises(CommandError, match=rf"\bevent {successor.pk}\b"):
        call_command("verify_audit_log")


# --- The database and the ORM refuse changes --------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE compliance_auditevent SET reason = 'edited' WHERE id = %s",
        "DELETE FROM compliance_auditevent WHERE id = %s",
    ],
    ids=["update", "delete"],
)
def test_postgresql_refuses_to_update_or_delete_an_audit_row(sql, ctx):
    victim = _chain()[0]

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [victim.pk])

    assert AuditEvent.objects.get(pk=victim.pk).reason == victim.reason
    call_command("verify_audit_log")


@pytest.fixture
def event(db):
    return audit.record(action="test.event", reason="original")


def test_the_orm_refuses_to_save_an_existing_event(event):
    event.reason = "edited"

    with pytest.raises(AuditLogIsAppendOnly):
        event.save()

    assert AuditEvent.objects.get(pk=event.pk).reason == "original"


def test_the_orm_refuses_to_delete_an_event(event):
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()

    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_orm_refuses_a_queryset_update(event):
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(reason="edited")

    assert AuditEvent.objects.get(pk=event.pk).reason == "original"


def test_the_orm_refuses_a_queryset_delete(event):
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()

    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_orm_refuses_a_bulk_update(event):
    event.reason = "edited"

    with pytest.raises(AuditLogIsAppendOnly), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["reason"])

    assert AuditEvent.objects.get(pk=event.pk).reason == "original"


def test_an_audit_event_written_during_a_request_carries_the_client_address(api, supervisor, team):
    from tests.factories import CaseFactory

    case = CaseFactory(team=team)
    api(supervisor).post(
        f"/api/v1/cases/{case.pk}/transitions/", {"name": "escalate", "reason": "Agency"}, format="json",
        REMOTE_ADDR="10.1.2.3",
    )
    assert AuditEvent.objects.get(action="case.escalate").ip == "10.1.2.3"


def test_behind_one_trusted_proxy_the_address_it_appended_is_used_not_the_clients_own(api, supervisor, team, settings):
    from tests.factories import CaseFactory

    settings.TRUSTED_PROXY_COUNT = 1
    case = CaseFactory(team=team)
    api(supervisor).post(
        f"/api/v1/cases/{case.pk}/transitions/", {"name": "escalate", "reason": "Agency"}, format="json",
        REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7",
    )
    assert AuditEvent.objects.get(action="case.escalate").ip == "198.51.100.7"
