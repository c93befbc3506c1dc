"""Complaints: the SLA clock (15 / 30 / +30 days), handling rules and roles, the deadline warning, the API
and the pages."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance import audit, services
from compliance import complaints as sla
from compliance.models import AuditEvent, Complaint, Hold
from compliance.services import (
    complaint_acknowledge,
    complaint_extend,
    complaint_mark_complex,
    complaint_register,
    complaint_resolve,
    complaints_warn_due,
)
from compliance.tasks import warn_complaint_deadlines
from config.errors import Conflict, DomainError
from tests.factories import CaseFactory, UserFactory, case_in

RECEIVED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


# --- The clock (pure) ----------------------------------------------------------------------------


def test_a_complaint_is_due_15_days_after_receipt():
    assert sla.due_at(received_at=RECEIVED) == RECEIVED + timedelta(days=15)


def test_a_complex_complaint_is_due_30_days_after_receipt():
    assert sla.due_at(received_at=RECEIVED, complex=True) == RECEIVED + timedelta(days=30)


def test_an_approved_extension_gives_a_complex_complaint_30_more_days():
    assert sla.due_at(received_at=RECEIVED, complex=True, extended=True) == RECEIVED + timedelta(days=60)


def test_the_clock_refuses_an_extension_without_the_complex_period():
    with pytest.raises(ValueError):
        sla.due_at(received_at=RECEIVED, extended=True)


DUE = RECEIVED + timedelta(days=15)


@pytest.mark.parametrize(
    "now, status",
    [
        (DUE - timedelta(days=3, seconds=1), "on_track"),
        (DUE - timedelta(days=3), "at_risk"),
        (DUE - timedelta(seconds=1), "at_risk"),
        (DUE, "at_risk"),
        (DUE + timedelta(seconds=1), "overdue"),
    ],
)
def test_a_complaint_is_at_risk_from_3_days_before_its_deadline_and_overdue_only_after_it(now, status):
    assert sla.clock(due_at=DUE, now=now).status == status


@pytest.mark.parametrize(
    "now, days_left, days_overdue",
    [
        (RECEIVED, 15, 0),
        (DUE - timedelta(days=2, hours=12), 2, 0),
        (DUE - timedelta(hours=1), 0, 0),
        (DUE + timedelta(seconds=1), -1, 1),
        (DUE + timedelta(days=1, hours=23), -1, 1),
        (DUE + timedelta(days=4, hours=1), -4, 4),
    ],
)
def test_the_clock_counts_whole_days_left_and_whole_days_overdue_from_the_first(now, days_left, days_overdue):
    clock = sla.clock(due_at=DUE, now=now)

    assert (clock.days_left, clock.days_overdue) == (days_left, days_overdue)


# --- Services ------------------------------------------------------------------------------------

pytest_db = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def case(team):
    return CaseFactory(team=team)


@pytest.fixture
def other_supervisor(team):
    return UserFactory(username="supervisor2", role="supervisor", team=team)


def register(actor, *, case=None, category="contact_conduct", days_ago: float = 0, **kwargs) -> Complaint:
    return complaint_register(
        actor=actor,
        channel="phone",
        category=category,
        description="The collector called my employer.",
        case_id=case.pk if case else None,
        received_at=timezone.now() - timedelta(days=days_ago),
        **kwargs,
    )


def active_complaint_holds(case) -> list[Hold]:
    return list(Hold.objects.filter(case=case, kind=Hold.Kind.COMPLAINT, lifted_at__isnull=True))


@pytest_db
def test_registering_starts_a_15_day_clock_from_receipt(compliance_officer, case):
    complaint = register(compliance_officer, case=case, days_ago=2)

    assert complaint.due_at == complaint.received_at + timedelta(days=15)
    assert complaint.status == Complaint.Status.RECEIVED
    assert complaint.registered_by == compliance_officer


@pytest_db
def test_registering_is_recorded_in_the_audit_log(compliance_officer, case):
    complaint = register(compliance_officer, case=case)

    event = AuditEvent.objects.get(action="complaint.register")
    assert (event.target_id, event.case_id, event.actor) == (str(complaint.pk), case.pk, compliance_officer)
    assert event.changes["category"] == "contact_conduct"


@pytest_db
def test_a_complaint_about_contact_holds_the_case_and_resolving_it_lifts_the_hold(compliance_officer, case):
    complaint = register(compliance_officer, case=case, category="contact_frequency")
    assert len(active_complaint_holds(case)) == 1

    complaint_resolve(complaint_id=complaint.pk, actor=compliance_officer, outcome="upheld", resolution="Apologised.")

    assert active_complaint_holds(case) == []
    hold = Hold.objects.get(case=case, kind=Hold.Kind.COMPLAINT)
    assert hold.lifted_by == compliance_officer


@pytest_db
def test_a_complaint_about_the_amount_does_not_hold_the_case_unless_asked(compliance_officer, case):
    register(compliance_officer, case=case, category="amount")
    assert active_complaint_holds(case) == []

    register(compliance_officer, case=case, category="amount", hold=True)
    assert len(active_complaint_holds(case)) == 1


@pytest_db
def test_a_complaint_about_contact_can_be_registered_without_a_hold(compliance_officer, case):
    register(compliance_officer, case=case, category="contact_conduct", hold=False)

    assert active_complaint_holds(case) == []


@pytest_db
def test_a_hold_is_refused_for_a_complaint_without_a_case(compliance_officer):
    with pytest.raises(DomainError) as refused:
        register(compliance_officer, hold=True)

    assert refused.value.code == "hold_needs_case"
    assert not Complaint.objects.exists()


@pytest_db
def test_a_complaint_cannot_be_received_in_the_future(compliance_officer, case):
    with pytest.raises(DomainError) as refused:
        register(compliance_officer, case=case, days_ago=-1)

    assert refused.value.code == "received_in_future"
    assert not Complaint.objects.exists()


@pytest_db
def test_a_complaint_on_a_case_the_registrar_cannot_see_is_refused(collector, other_team):
    elsewhere = CaseFactory(team=other_team)

    with pytest.raises(DomainError) as refused:
        register(collector, case=elsewhere)

    assert refused.value.code == "unknown_case"
    assert not Complaint.objects.exists()
    assert not Hold.objects.exists()


@pytest_db
def test_a_collector_registers_a_complaint_received_on_a_call_and_the_case_is_held(collector, case):
    complaint = register(collector, case=case)

    assert complaint.registered_by == collector
    [hold] = active_complaint_holds(case)
    assert hold.set_by is None  # collectors may not set complaint holds; the system does it for them


@pytest_db
def test_a_collector_cannot_resolve_a_complaint(collector, case):
    complaint = register(collector, case=case)

    with pytest.raises(PermissionDenied):
        complaint_resolve(complaint_id=complaint.pk, actor=collector, outcome="not_upheld", resolution="No.")

    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.RECEIVED


@pytest_db
def test_legal_can_neither_register_nor_acknowledge_a_complaint(legal_user, compliance_officer, case):
    with pytest.raises(PermissionDenied):
        register(legal_user, case=case)
    complaint = register(compliance_officer, case=case)

    with pytest.raises(PermissionDenied):
        complaint_acknowledge(complaint_id=complaint.pk, actor=legal_user)


@pytest_db
def test_acknowledging_makes_the_acknowledger_the_handler(supervisor, case):
    complaint = register(supervisor, case=case)

    complaint = complaint_acknowledge(complaint_id=complaint.pk, actor=supervisor)

    assert complaint.status == Complaint.Status.ACKNOWLEDGED
    assert complaint.acknowledged_at is not None
    assert complaint.handler == supervisor


@pytest_db
def test_a_complaint_cannot_be_acknowledged_twice(compliance_officer, case):
    complaint = register(compliance_officer, case=case)
    complaint_acknowledge(complaint_id=complaint.pk, actor=compliance_officer)

    with pytest.raises(Conflict) as refused:
        complaint_acknowledge(complaint_id=complaint.pk, actor=compliance_officer)

    assert refused.value.code == "already_acknowledged"


@pytest_db
def test_a_complaint_cannot_be_resolved_twice(compliance_officer, case):
    complaint = register(compliance_officer, case=case)
    complaint_resolve(complaint_id=complaint.pk, actor=compliance_officer, outcome="upheld", resolution="Fixed.")

    with pytest.raises(Conflict) as refused:
        complaint_resolve(complaint_id=complaint.pk, actor=compliance_officer, outcome="not_upheld", resolution="x")

    assert refused.value.code == "already_resolved"
    complaint.refresh_from_db()
    assert complaint.outcome == "upheld"


@pytest_db
def test_resolving_needs_a_written_decision(compliance_officer, case):
    complaint = register(compliance_officer, case=case)

    with pytest.raises(DomainError) as refused:
        complaint_resolve(complaint_id=complaint.pk, actor=compliance_officer, outcome="upheld", resolution="  ")

    assert refused.value.code == "resolution_required"


@pytest_db
def test_resolving_stops_the_clock_and_records_whether_it_was_on_time(compliance_officer, case):
    complaint = register(compliance_officer, case=case, days_ago=16)

    complaint = complaint_resolve(complaint_id=complaint.pk, actor=compliance_officer, outcome="upheld", resolution="x")

    assert complaint.resolved_at > complaint.due_at
    assert AuditEvent.objects.get(action="complaint.resolve").changes["on_time"] is False


@pytest_db
def test_marking_a_complaint_complex_moves_its_deadline_to_30_days_after_receipt(compliance_officer, case):
    complaint = register(compliance_officer, case=case, days_ago=10)

    complaint = complaint_mark_complex(complaint_id=complaint.pk, actor=compliance_officer, reason="three branches")

    assert complaint.complex is True
    assert complaint.due_at == complaint.received_at + timedelta(days=30)
    event = AuditEvent.objects.get(action="complaint.mark_complex")
    assert event.reason == "three branches"


@pytest_db
def test_a_complaint_cannot_be_marked_complex_twice(compliance_officer, case):
    complaint = register(compliance_officer, case=case)
    complaint_mark_complex(complaint_id=complaint.pk, actor=compliance_officer, reason="many parties")

    with pytest.raises(Conflict) as refused:
        complaint_mark_complex(complaint_id=complaint.pk, actor=compliance_officer, reason="again")

    assert refused.value.code == "already_complex"


@pytest_db
def test_an_overdue_complaint_cannot_be_made_complex_to_hide_the_delay(compliance_officer, case):
    complaint = register(compliance_officer, case=case, days_ago=16)

    with pytest.raises(Conflict) as refused:
        complaint_mark_complex(complaint_id=complaint.pk, actor=compliance_officer, reason="late")

    assert refused.value.code == "deadline_passed"
    complaint.refresh_from_db()
    assert complaint.complex is False


@pytest_db
def test_marking_complex_needs_a_reason(compliance_officer, case):
    complaint = register(compliance_officer, case=case)

    with pytest.raises(DomainError) as refused:
        complaint_mark_complex(complaint_id=complaint.pk, actor=compliance_officer, reason="")

    assert refused.value.code == "reason_required"


@pytest_db
def test_a_supervisor_extends_a_complex_complaint_by_30_days(compliance_officer, supervisor, case):
    complaint = register(compliance_officer, case=case, days_ago=10)
    complaint_mark_complex(complaint_id=complaint.pk, actor=compliance_officer, reason="needs the card system")

    complaint = complaint_extend(complaint_id=complaint.pk, actor=supervisor, reason="waiting for the branch")

    assert complaint.extended is True
    assert complaint.extension_approved_by == supervisor
    assert complaint.due_at == complaint.received_at + timedelta(days=60)


@pytest_db
def test_only_a_complex_complaint_can_be_extended(compliance_officer, supervisor, case):
    complaint = register(compliance_officer, case=case)

    with pytest.raises(Conflict) as refused:
        complaint_extend(complaint_id=complaint.pk, actor=supervisor, reason="more time")

    assert refused.value.code == "extension_requires_complex"


@pytest_db
def test_a_complaint_cannot_be_extended_twice(compliance_officer, supervisor, case):
    complaint = register(compliance_officer, case=case)
    complaint_mark_complex(complaint_id=complaint.pk, actor=compliance_officer, reason="complex")
    complaint_extend(complaint_id=complaint.pk, actor=supervisor, reason="more time")

    with pytest.raises(Conflict) as refused:
        complaint_extend(complaint_id=complaint.pk, actor=supervisor, reason="even more")

    assert refused.value.code == "already_extended"


@pytest_db
def test_a_compliance_officer_cannot_approve_an_extension(compliance_officer, case):
    complaint = register(compliance_officer, case=case)
    complaint_mark_complex(complaint_id=complaint.pk, actor=compliance_officer, reason="complex")
    other_officer = UserFactory(username="compliance2", role="compliance", team=None)

    with pytest.raises(PermissionDenied):
        complaint_extend(complaint_id=complaint.pk, actor=other_officer, reason="more time")


@pytest_db
def test_nobody_approves_the_extension_of_a_complaint_they_registered(supervisor, compliance_officer, case):
    complaint = register(supervisor, case=case)
    complaint_mark_complex(complaint_id=complaint.pk, actor=compliance_officer, reason="complex")

    with pytest.raises(DomainError) as refused:
        complaint_extend(complaint_id=complaint.pk, actor=supervisor, reason="more time")

    assert (refused.value.code, refused.value.http_status) == ("own_complaint", 403)


@pytest_db
def test_nobody_approves_the_extension_of_a_complaint_they_handle(supervisor, other_supervisor, case):
    complaint = register(other_supervisor, case=case)
    complaint_acknowledge(complaint_id=complaint.pk, actor=supervisor)
    complaint_mark_complex(complaint_id=complaint.pk, actor=supervisor, reason="complex")

    with pytest.raises(DomainError) as refused:
        complaint_extend(complaint_id=complaint.pk, actor=supervisor, reason="more time")

    assert refused.value.code == "own_complaint"


@pytest_db
def test_an_overdue_complex_complaint_cannot_be_extended(compliance_officer, supervisor, case):
    complaint = register(compliance_officer, case=case, days_ago=14)
    complaint_mark_complex(complaint_id=complaint.pk, actor=compliance_officer, reason="complex")
    thirty_one_days_ago = timezone.now() - timedelta(days=31)
    Complaint.objects.filter(pk=complaint.pk).update(
        received_at=thirty_one_days_ago, due_at=thirty_one_days_ago + timedelta(days=30)
    )

    with pytest.raises(Conflict) as refused:
        complaint_extend(complaint_id=complaint.pk, actor=supervisor, reason="too late")

    assert refused.value.code == "deadline_passed"


@pytest_db
def test_a_supervisor_resolving_a_complaint_lifts_its_hold_on_behalf_of_the_system(supervisor, case):
    complaint = register(supervisor, case=case)

    complaint_resolve(complaint_id=complaint.pk, actor=supervisor, outcome="partly_upheld", resolution="Coached.")

    hold = Hold.objects.get(case=case, kind=Hold.Kind.COMPLAINT)
    assert hold.lifted_at is not None
    assert hold.lifted_by is None  # only compliance lifts complaint holds by hand


@pytest_db
def test_two_complaints_share_one_hold_that_stays_until_both_are_resolved(compliance_officer, case):
    first = register(compliance_officer, case=case)
    second = register(compliance_officer, case=case, category="third_party")
    assert Hold.objects.filter(case=case).count() == 1

    complaint_resolve(complaint_id=first.pk, actor=compliance_officer, outcome="upheld", resolution="x")
    assert len(active_complaint_holds(case)) == 1

    complaint_resolve(complaint_id=second.pk, actor=compliance_officer, outcome="upheld", resolution="y")
    assert active_complaint_holds(case) == []


@pytest_db
def test_a_complaint_hold_set_by_hand_is_not_lifted_by_resolving_a_complaint(compliance_officer, case):
    services.hold_set(
        case_id=case.pk, kind=Hold.Kind.COMPLAINT, reason="letter from the regulator", actor=compliance_officer
    )
    complaint = register(compliance_officer, case=case)

    complaint_resolve(complaint_id=complaint.pk, actor=compliance_officer, outcome="upheld", resolution="x")

    assert len(active_complaint_holds(case)) == 1


@pytest_db
def test_handling_a_complaint_keeps_the_audit_chain_intact(compliance_officer, supervisor, case):
    complaint = register(compliance_officer, case=case)
    complaint_acknowledge(complaint_id=complaint.pk, actor=compliance_officer)
    complaint_mark_complex(complaint_id=complaint.pk, actor=compliance_officer, reason="complex")
    complaint_extend(complaint_id=complaint.pk, actor=supervisor, reason="more time")
    complaint_resolve(complaint_id=complaint.pk, actor=compliance_officer, outcome="upheld", resolution="x")

    events = AuditEvent.objects.filter(target_id=str(complaint.pk), target_type="compliance.complaint")
    actions = list(events.order_by("pk").values_list("action", flat=True))
    assert actions == [
        "complaint.register",
        "complaint.acknowledge",
        "complaint.mark_complex",
        "complaint.extend",
        "complaint.resolve",
    ]
    assert audit.first_broken_event() is None


# --- The deadline warning ------------------------------------------------------------------------


@pytest.fixture
def officer_with_mail(compliance_officer):
    compliance_officer.email = "compliance@bank.example"
    compliance_officer.save()
    return compliance_officer


@pytest_db
def test_the_warning_task_warns_once_of_a_complaint_inside_the_window(officer_with_mail, case, mailoutbox):
    complaint = register(officer_with_mail, case=case, days_ago=13)

    warn_complaint_deadlines.delay()
    warn_complaint_deadlines.delay()

    complaint.refresh_from_db()
    assert complaint.warned_at is not None
    assert len(mailoutbox) == 1
    assert f"#{complaint.pk}" in mailoutbox[0].body
    assert AuditEvent.objects.filter(action="complaint.warn_deadline", target_id=str(complaint.pk)).count() == 1


@pytest_db
def test_the_warning_task_does_not_warn_before_the_window(officer_with_mail, case, mailoutbox):
    complaint = register(officer_with_mail, case=case, days_ago=11)

    warn_complaint_deadlines.delay()

    complaint.refresh_from_db()
    assert complaint.warned_at is None
    assert mailoutbox == []


@pytest_db
def test_the_warning_window_opens_exactly_3_days_before_the_deadline(officer_with_mail, case, mailoutbox):
    complaint = register(officer_with_mail, case=case, days_ago=5)
    opens = complaint.due_at - sla.WARNING_WINDOW

    assert complaints_warn_due(now=opens - timedelta(seconds=1)) == 0
    assert complaints_warn_due(now=opens) == 1


@pytest_db
def test_the_warning_goes_to_the_active_compliance_officers_only(officer_with_mail, supervisor, case, mailoutbox):
    supervisor.email = "supervisor@bank.example"
    supervisor.save()
    UserFactory(username="retired", role="compliance", email="retired@bank.example", is_active=False, team=None)
    register(officer_with_mail, case=case, days_ago=14)

    warn_complaint_deadlines.delay()

    [mail] = mailoutbox
    assert mail.to == ["compliance@bank.example"]


@pytest_db
def test_an_overdue_complaint_never_warned_is_warned(officer_with_mail, case, mailoutbox):
    complaint = register(officer_with_mail, case=case, days_ago=20)

    warn_complaint_deadlines.delay()

    complaint.refresh_from_db()
    assert complaint.warned_at is not None
    assert len(mailoutbox) == 1


@pytest_db
def test_a_resolved_complaint_is_not_warned(officer_with_mail, case, mailoutbox):
    complaint = register(officer_with_mail, case=case, days_ago=14)
    complaint_resolve(complaint_id=complaint.pk, actor=officer_with_mail, outcome="upheld", resolution="x")

    warn_complaint_deadlines.delay()

    assert mailoutbox == []


@pytest_db
def test_a_moved_deadline_gets_its_own_warning(officer_with_mail, case, mailoutbox):
    complaint = register(officer_with_mail, case=case, days_ago=13)
    warn_complaint_deadlines.delay()
    complaint_mark_complex(complaint_id=complaint.pk, actor=officer_with_mail, reason="complex")

    warn_complaint_deadlines.delay()  # 17 days left now: no warning yet
    assert len(mailoutbox) == 1

    complaint.refresh_from_db()
    assert complaints_warn_due(now=complaint.due_at - timedelta(days=1)) == 1
    assert len(mailoutbox) == 2


def test_the_warning_runs_hourly_and_the_anonymisation_daily_in_the_beat_schedule():
    tasks = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    warning = tasks["compliance.tasks.warn_complaint_deadlines"]
    assert warning.hour == set(range(24)) and len(warning.minute) == 1
    anonymising = tasks["compliance.tasks.anonymise_expired_records"]
    assert len(anonymising.hour) == 1 and len(anonymising.minute) == 1


# --- API -----------------------------------------------------------------------------------------

COMPLAINTS = "/api/v1/complaints/"


def new_complaint(**overrides) -> dict:
    return {"channel": "phone", "category": "contact_conduct", "description": "Called at 23:00.", **overrides}


@pytest_db
def test_a_collector_registers_a_complaint_through_the_api(api, collector, case):
    response = api(collector).post(COMPLAINTS, new_complaint(case=case.pk), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["case"] == case.pk and body["case_number"] == case.number
    assert body["status"] == "received"
    clock = body["clock"]
    assert (clock["status"], clock["days_left"], clock["days_overdue"], clock["stopped"]) == ("on_track", 14, 0, False)
    assert 14 * 86400 < clock["remaining_seconds"] <= 15 * 86400
    assert len(active_complaint_holds(case)) == 1


@pytest_db
def test_legal_cannot_register_through_the_api(api, legal_user):
    response = api(legal_user).post(COMPLAINTS, new_complaint(), format="json")

    assert response.status_code == 403
    assert not Complaint.objects.exists()


@pytest_db
def test_a_bad_registration_names_the_refusal_and_stores_nothing(api, compliance_officer):
    response = api(compliance_officer).post(COMPLAINTS, new_complaint(hold=True), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "hold_needs_case"
    assert not Complaint.objects.exists()


@pytest_db
def test_a_collector_cannot_list_complaints(api, collector):
    assert api(collector).get(COMPLAINTS).status_code == 403


@pytest_db
def test_compliance_officers_list_every_complaint(api, compliance_officer, supervisor, case, other_team):
    register(supervisor, case=case)
    register(compliance_officer, case=CaseFactory(team=other_team))
    register(compliance_officer)

    assert api(compliance_officer).get(COMPLAINTS).json()["count"] == 3


@pytest_db
def test_supervisors_list_their_teams_complaints_and_the_unlinked_ones_they_registered(
    api, compliance_officer, supervisor, case, other_team
):
    mine = register(compliance_officer, case=case)
    mine_unlinked = register(supervisor)
    register(compliance_officer, case=CaseFactory(team=other_team))
    register(compliance_officer)

    listed = {row["id"] for row in api(supervisor).get(COMPLAINTS).json()["results"]}

    assert listed == {mine.pk, mine_unlinked.pk}


@pytest_db
def test_legal_reads_complaints_on_escalated_cases_only(api, legal_user, compliance_officer, case):
    escalated = case_in("escalated", team=case.team)
    on_escalated = register(compliance_officer, case=escalated)
    register(compliance_officer, case=case)

    listed = {row["id"] for row in api(legal_user).get(COMPLAINTS).json()["results"]}

    assert listed == {on_escalated.pk}


@pytest_db
def test_the_list_filters_open_and_overdue_complaints(api, compliance_officer, case):
    overdue = register(compliance_officer, case=case, days_ago=16)
    register(compliance_officer, case=case)
    resolved = register(compliance_officer, case=case, days_ago=20)
    complaint_resolve(complaint_id=resolved.pk, actor=compliance_officer, outcome="upheld", resolution="x")
    client = api(compliance_officer)

    assert client.get(COMPLAINTS + "?status=open").json()["count"] == 2
    assert [row["id"] for row in client.get(COMPLAINTS + "?overdue=true").json()["results"]] == [overdue.pk]
    assert client.get(COMPLAINTS + "?status=resolved").json()["results"][0]["clock"]["stopped"] is True


@pytest_db
def test_the_list_filters_complaints_at_risk(api, compliance_officer, case):
    at_risk = register(compliance_officer, case=case, days_ago=13)
    register(compliance_officer, case=case, days_ago=1)

    rows = api(compliance_officer).get(COMPLAINTS + "?at_risk=true").json()["results"]

    assert [(row["id"], row["clock"]["status"]) for row in rows] == [(at_risk.pk, "at_risk")]


@pytest_db
def test_an_unknown_filter_value_is_a_400(api, compliance_officer):
    response = api(compliance_officer).get(COMPLAINTS + "?status=lost")

    assert response.status_code == 400
    assert "status" in response.json()


@pytest_db
def test_the_handling_steps_run_through_the_api(api, compliance_officer, supervisor, case):
    complaint = register(compliance_officer, case=case)
    officer, approver = api(compliance_officer), api(supervisor)
    url = f"{COMPLAINTS}{complaint.pk}/"

    assert officer.post(url + "acknowledge/").json()["status"] == "acknowledged"
    assert officer.post(url + "complex/", {"reason": "two banks"}, format="json").json()["complex"] is True
    assert approver.post(url + "extend/", {"reason": "card system"}, format="json").json()["extended"] is True
    body = officer.post(url + "resolve/", {"outcome": "upheld", "resolution": "Refunded fee."}, format="json").json()

    assert body["status"] == "resolved" and body["outcome"] == "upheld"
    assert body["due_at"] == api(compliance_officer).get(url).json()["due_at"]
    assert active_complaint_holds(case) == []


@pytest_db
def test_a_collector_cannot_resolve_through_the_api(api, collector, case):
    complaint = register(collector, case=case)

    response = api(collector).post(
        f"{COMPLAINTS}{complaint.pk}/resolve/", {"outcome": "upheld", "resolution": "x"}, format="json"
    )

    assert response.status_code == 403


@pytest_db
def test_resolving_twice_through_the_api_is_a_409_with_its_code(api, compliance_officer, case):
    complaint = register(compliance_officer, case=case)
    url = f"{COMPLAINTS}{complaint.pk}/resolve/"
    api(compliance_officer).post(url, {"outcome": "upheld", "resolution": "x"}, format="json")

    response = api(compliance_officer).post(url, {"outcome": "upheld", "resolution": "x"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "already_resolved"


@pytest_db
def test_extending_ones_own_complaint_through_the_api_is_a_403_with_its_code(
    api, supervisor, compliance_officer, case
):
    complaint = register(supervisor, case=case)
    complaint_mark_complex(complaint_id=complaint.pk, actor=compliance_officer, reason="complex")

    response = api(supervisor).post(f"{COMPLAINTS}{complaint.pk}/extend/", {"reason": "x"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "own_complaint"


@pytest_db
def test_a_supervisor_cannot_act_on_another_teams_complaint(api, supervisor, compliance_officer, other_team):
    complaint = register(compliance_officer, case=CaseFactory(team=other_team))

    response = api(supervisor).post(f"{COMPLAINTS}{complaint.pk}/acknowledge/")

    assert response.status_code == 404
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.RECEIVED


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


def _add_complaints(n: int, actor, team) -> None:
    handler = UserFactory(username=f"handler{Complaint.objects.count()}", role="compliance", team=None)
    for i in range(n):
        complaint = register(actor, case=CaseFactory(team=team), days_ago=i % 20, category="amount")
        if i % 2:
            complaint_acknowledge(complaint_id=complaint.pk, actor=handler)


@pytest_db
def test_the_complaint_list_runs_as_many_queries_for_30_complaints_as_for_3(api, supervisor, team):
    client = api(supervisor)
    _add_complaints(3, supervisor, team)
    with_3 = _queries(client, COMPLAINTS)

    _add_complaints(27, supervisor, team)
    with_30 = _queries(client, COMPLAINTS)

    assert client.get(COMPLAINTS).json()["count"] == 30
    assert with_30 == with_3


@pytest_db
def test_the_schema_documents_the_complaint_endpoints(client, compliance_officer):
    client.force_login(compliance_officer)
    schema = client.get("/api/schema/").content.decode()

    for path in ("/api/v1/complaints/:", "/api/v1/complaints/{id}/resolve/:", "/api/v1/complaints/{id}/extend/:"):
        assert path in schema


# --- Pages ---------------------------------------------------------------------------------------

LIST_PAGE = reverse("compliance:complaints")


@pytest_db
def test_the_complaints_page_highlights_complaints_at_risk_and_overdue(as_user, compliance_officer, case):
    register(compliance_officer, case=case, days_ago=16)
    register(compliance_officer, case=case, days_ago=13)
    register(compliance_officer, case=case)

    html = as_user(compliance_officer).get(LIST_PAGE).content.decode()

    assert html.count('class="sla-row-overdue"') == 1
    assert html.count('class="sla-row-at_risk"') == 1
    assert html.count('class="sla-row-on_track"') == 1
    assert "overdue by 1 day" in html


@pytest_db
def test_the_complaints_page_lists_open_complaints_by_default(as_user, compliance_officer, case):
    open_one = register(compliance_officer, case=case)
    done = register(compliance_officer, case=case)
    complaint_resolve(complaint_id=done.pk, actor=compliance_officer, outcome="withdrawn", resolution="x")

    response = as_user(compliance_officer).get(LIST_PAGE)

    assert [c.pk for c in response.context["page"]] == [open_one.pk]


@pytest_db
def test_the_complaints_page_is_closed_to_collectors(as_user, collector):
    assert as_user(collector).get(LIST_PAGE).status_code == 403


@pytest_db
def test_compliance_officers_find_the_complaints_page_in_their_navigation(as_user, compliance_officer):
    html = as_user(compliance_officer).get(reverse("cases:worklist")).content.decode()

    assert f'href="{LIST_PAGE}"' in html


@pytest_db
def test_the_complaints_page_runs_as_many_queries_for_30_complaints_as_for_3(as_user, compliance_officer, team):
    client = as_user(compliance_officer)
    _add_complaints(3, compliance_officer, team)
    with_3 = _queries(client, LIST_PAGE)

    _add_complaints(27, compliance_officer, team)
    with_30 = _queries(client, LIST_PAGE)

    assert with_30 == with_3


@pytest_db
def test_the_register_form_opened_from_a_case_fills_the_case_in(as_user, collector, case):
    response = as_user(collector).get(reverse("compliance:complaint-register") + f"?case={case.pk}")

    assert response.status_code == 200
    assert f'value="{case.number}"' in response.content.decode()


@pytest_db
def test_a_collector_registering_from_a_case_goes_back_to_the_case(as_user, collector, case):
    response = as_user(collector).post(
        reverse("compliance:complaint-register"),
        {"channel": "phone", "category": "contact_conduct", "description": "Rude.", "case": case.number},
    )

    assert response.status_code == 302
    assert response.url == reverse("cases:detail", args=[case.pk])
    assert Complaint.objects.get().case == case


@pytest_db
def test_registering_on_an_unknown_case_shows_the_error_on_the_form(as_user, compliance_officer):
    response = as_user(compliance_officer).post(
        reverse("compliance:complaint-register"),
        {"channel": "phone", "category": "other", "description": "x", "case": "C99999999"},
    )

    assert response.status_code == 400
    assert "There is no such case you may see." in response.content.decode()
    assert not Complaint.objects.exists()


@pytest_db
def test_a_complaint_is_resolved_from_its_page(as_user, compliance_officer, case):
    complaint = register(compliance_officer, case=case)
    client = as_user(compliance_officer)
    url = reverse("compliance:complaint-step", args=[complaint.pk, "resolve"])

    response = client.post(url, {"resolve-outcome": "upheld", "resolve-resolution": "Apologised by phone."})

    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.RESOLVED
    assert "Complaint resolved." in client.get(response.url).content.decode()


@pytest_db
def test_a_refused_step_on_the_page_says_why_and_changes_nothing(as_user, compliance_officer, case):
    complaint = register(compliance_officer, case=case)
    complaint_acknowledge(complaint_id=complaint.pk, actor=compliance_officer)

    url = reverse("compliance:complaint-step", args=[complaint.pk, "acknowledge"])
    response = as_user(compliance_officer).post(url)

    assert response.status_code == 409
    assert "This complaint was already acknowledged." in response.content.decode()


@pytest_db
def test_the_complaint_page_offers_the_extension_only_to_another_supervisor(
    as_user, compliance_officer, supervisor, other_supervisor, case
):
    complaint = register(supervisor, case=case)
    complaint_mark_complex(complaint_id=complaint.pk, actor=compliance_officer, reason="complex")
    url = reverse("compliance:complaint-detail", args=[complaint.pk])

    assert as_user(supervisor).get(url).context["extend_form"] is None
    assert as_user(other_supervisor).get(url).context["extend_form"] is not None
