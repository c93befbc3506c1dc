"""Field visits (上门催收): two staff, an address on record, a supervisor's approval, then a gated visit contact."""

from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from cases.models import CaseStatus
from compliance.models import AuditEvent, ContactDecision
from config.errors import Conflict, DomainError
from negotiation.models import Contact, FieldVisit
from negotiation.services import ContactForbidden, VisitNotApproved, contact_record
from negotiation.visits import (
    AddressKind,
    VisitDecidedByRequester,
    VisitError,
    visit_approve,
    visit_cancel,
    visit_log,
    visit_reject,
    visit_request,
)
from tests.factories import CaseFactory, TeamFactory, UserFactory, case_in

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=SHANGHAI)
CITY = AddressKind.RESIDENCE_CITY


@pytest.fixture(autouse=True)
def _clock():
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield


@pytest.fixture
def case(team):
    return CaseFactory(team=team, account__debtor__city="杭州", account__debtor__mobile="13812345678")


@pytest.fixture
def partner(team):
    return UserFactory(username="collector-b", role="collector", team=team)


@pytest.fixture
def requested(case, collector, partner, supervisor):
    return visit_request(
        case_id=case.pk, actor=collector, planned_at=NOW + timedelta(days=2), address_kind=CITY,
        staff_ids=[collector.pk, partner.pk], purpose="核实居住情况",
    )


@pytest.fixture
def approved(requested, supervisor):
    return visit_approve(visit_id=requested.pk, actor=supervisor, reason="中逾期，电话无法联系")


def test_a_collector_requests_a_visit_naming_two_staff_one_of_them_himself(requested, case, collector, partner):
    assert requested.status == FieldVisit.Status.REQUESTED
    assert requested.staff_ids == (collector.pk, partner.pk)
    assert (requested.address_kind, requested.address) == (CITY, "杭州")
    event = AuditEvent.objects.get(action="visit.request", target_id=str(requested.pk))
    assert event.changes["staff"] == [collector.pk, partner.pk] and event.case_id == case.pk


@pytest.mark.parametrize("staff", ["one", "three", "same twice"])
def test_a_visit_needs_exactly_two_distinct_staff(staff, case, collector, partner, supervisor):
    ids = {"one": [collector.pk], "three": [collector.pk, partner.pk, supervisor.pk],
           "same twice": [collector.pk, collector.pk]}[staff]
    with pytest.raises(DomainError) as refused:
        visit_request(case_id=case.pk, actor=collector, planned_at=NOW + timedelta(days=1), address_kind=CITY,
                      staff_ids=ids)
    assert refused.value.code == VisitError.TWO_STAFF
    assert not FieldVisit.objects.exists()


@pytest.mark.parametrize("who", ["inactive collector", "compliance officer"])
def test_only_active_collection_staff_can_be_named(who, case, collector, team):
    other = UserFactory(
        username="other", role="compliance" if who == "compliance officer" else "collector", team=team,
        is_active=who != "inactive collector",
    )
    with pytest.raises(DomainError) as refused:
        visit_request(case_id=case.pk, actor=collector, planned_at=NOW + timedelta(days=1), address_kind=CITY,
                      staff_ids=[collector.pk, other.pk])
    assert refused.value.code == VisitError.STAFF_INVALID
    assert not FieldVisit.objects.exists()


@pytest.mark.parametrize("planned_at", [NOW - timedelta(minutes=1), NOW + timedelta(days=61)])
def test_a_visit_is_planned_after_now_and_within_sixty_days(planned_at, case, collector, partner):
    with pytest.raises(DomainError) as refused:
        visit_request(case_id=case.pk, actor=collector, planned_at=planned_at, address_kind=CITY,
                      staff_ids=[collector.pk, partner.pk])
    assert refused.value.code == VisitError.PLANNED_AT


def test_a_visit_goes_only_to_an_address_on_record(team, collector, partner):
    no_address = CaseFactory(team=team, account__debtor__city="")
    with pytest.raises(DomainError) as refused:
        visit_request(case_id=no_address.pk, actor=collector, planned_at=NOW + timedelta(days=1), address_kind=CITY,
                      staff_ids=[collector.pk, partner.pk])
    assert refused.value.code == VisitError.ADDRESS
    assert not FieldVisit.objects.exists()


def test_a_case_has_one_open_visit_at_a_time(requested, case, collector, partner):
    with pytest.raises(Conflict) as refused:
        visit_request(case_id=case.pk, actor=collector, planned_at=NOW + timedelta(days=3), address_kind=CITY,
                      staff_ids=[collector.pk, partner.pk])
    assert refused.value.code == VisitError.ALREADY_OPEN
    assert FieldVisit.objects.count() == 1


def test_a_supervisor_of_the_case_team_approves_with_a_reason(approved, supervisor):
    assert approved.status == FieldVisit.Status.APPROVED
    assert (approved.decided_by, approved.decision_reason) == (supervisor, "中逾期，电话无法联系")
    assert AuditEvent.objects.filter(action="visit.approve", target_id=str(approved.pk), actor=supervisor).exists()


def test_a_supervisor_rejects_with_a_reason(requested, supervisor):
    visit = visit_reject(visit_id=requested.pk, actor=supervisor, reason="先发律师函")
    assert visit.status == FieldVisit.Status.REJECTED
    assert AuditEvent.objects.get(action="visit.reject", target_id=str(visit.pk)).reason == "先发律师函"


def test_a_decision_needs_a_reason(requested, supervisor):
    with pytest.raises(DomainError) as refused:
        visit_approve(visit_id=requested.pk, actor=supervisor, reason="  ")
    assert refused.value.code == VisitError.REASON_REQUIRED
    requested.refresh_from_db()
    assert requested.status == FieldVisit.Status.REQUESTED


def test_the_requester_never_decides_even_as_the_team_supervisor(case, supervisor, collector):
    visit = visit_request(case_id=case.pk, actor=supervisor, planned_at=NOW + timedelta(days=1), address_kind=CITY,
                          staff_ids=[supervisor.pk, collector.pk])
    with pytest.raises(VisitDecidedByRequester):
        visit_approve(visit_id=visit.pk, actor=supervisor, reason="ok")
    visit.refresh_from_db()
    assert visit.status == FieldVisit.Status.REQUESTED


@pytest.mark.parametrize("who", ["collector", "supervisor of another team", "legal"])
def test_only_a_supervisor_of_the_case_team_or_an_admin_decides(who, requested):
    other_team = TeamFactory(name="华南二组")
    user = {
        "collector": lambda: UserFactory(username="c2", role="collector", team=requested.case.team),
        "supervisor of another team": lambda: UserFactory(username="s2", role="supervisor", team=other_team),
        "legal": lambda: UserFactory(username="l2", role="legal", team=None),
    }[who]()
    with pytest.raises(PermissionDenied):
        visit_approve(visit_id=requested.pk, actor=user, reason="ok")
    requested.refresh_from_db()
    assert requested.status == FieldVisit.Status.REQUESTED


def test_an_admin_may_approve(requested, admin_user_):
    assert visit_approve(visit_id=requested.pk, actor=admin_user_, reason="ok").status == FieldVisit.Status.APPROVED


def test_a_rejected_visit_cannot_be_approved_afterwards(requested, supervisor, admin_user_):
    visit_reject(visit_id=requested.pk, actor=supervisor, reason="不需要")
    with pytest.raises(Conflict) as refused:
        visit_approve(visit_id=requested.pk, actor=admin_user_, reason="ok")
    assert refused.value.code == VisitError.WRONG_STATUS


def test_an_approved_visit_is_logged_as_a_visit_contact_recording_both_staff(approved, collector, partner):
    contact = visit_log(visit_id=approved.pk, actor=partner, outcome="hardship_stated", notes="本人在家，失业中")

    approved.refresh_from_db()
    assert (contact.channel, contact.outcome, contact.recorded_by) == ("visit", "hardship_stated", partner)
    assert contact.decision is not None and contact.decision.allowed
    assert approved.status == FieldVisit.Status.DONE and approved.contact == contact
    assert contact.visit.staff_ids == (collector.pk, partner.pk)
    event = AuditEvent.objects.get(action="visit.log", target_id=str(approved.pk))
    assert event.changes["staff"] == [collector.pk, partner.pk] and event.changes["contact"] == contact.pk


def test_a_visit_still_waiting_for_approval_cannot_be_logged(requested, collector):
    with pytest.raises(VisitNotApproved) as refused:
        visit_log(visit_id=requested.pk, actor=collector, outcome="no_answer")
    assert refused.value.code == "visit_not_approved"
    assert not Contact.objects.exists()


def test_a_visit_contact_without_an_approved_visit_is_refused_by_name(case, collector):
    with pytest.raises(VisitNotApproved):
        contact_record(case_id=case.pk, channel="visit", outcome="right_party_contact", actor=collector)
    assert not Contact.objects.exists()
    assert not ContactDecision.objects.exists()


def test_the_dialer_api_cannot_record_a_visit_without_its_approval(api, case, collector):
    response = api(collector).post(
        f"/api/v1/cases/{case.pk}/contacts/", {"channel": "visit", "outcome": "no_answer"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "visit_not_approved"


def test_the_gate_still_decides_an_approved_visit_outside_contact_hours(approved, collector):
    before_hours = datetime(2026, 12, 3, 7, 30, tzinfo=SHANGHAI)
    with pytest.raises(ContactForbidden) as refused:
        visit_log(visit_id=approved.pk, actor=collector, outcome="no_answer", at=before_hours)
    assert list(refused.value.decision.reason_codes) == ["outside_contact_hours"]
    approved.refresh_from_db()
    assert approved.status == FieldVisit.Status.APPROVED
    assert not Contact.objects.exists()


def test_a_visit_is_logged_once(approved, collector):
    visit_log(visit_id=approved.pk, actor=collector, outcome="no_answer")
    with pytest.raises(VisitNotApproved):
        visit_log(visit_id=approved.pk, actor=collector, outcome="no_answer")
    assert Contact.objects.count() == 1


def test_a_collector_not_on_the_visit_cannot_log_it(approved, team):
    outsider = UserFactory(username="collector-c", role="collector", team=team)
    with pytest.raises(PermissionDenied):
        visit_log(visit_id=approved.pk, actor=outsider, outcome="no_answer")
    assert not Contact.objects.exists()


def test_a_right_party_visit_on_a_notify_case_moves_it_to_first_contact(team, collector, partner, supervisor):
    notify = case_in(CaseStatus.NOTIFY, team=team, account__debtor__city="杭州")
    visit = visit_request(case_id=notify.pk, actor=collector, planned_at=NOW + timedelta(hours=1), address_kind=CITY,
                          staff_ids=[collector.pk, partner.pk])
    visit_approve(visit_id=visit.pk, actor=supervisor, reason="ok")
    visit_log(visit_id=visit.pk, actor=collector, outcome="right_party_contact")
    notify.refresh_from_db()
    assert notify.status == CaseStatus.FIRST_CONTACT


def test_the_requester_cancels_an_open_visit_with_a_reason(approved, collector):
    visit = visit_cancel(visit_id=approved.pk, actor=collector, reason="客户已还款")
    assert visit.status == FieldVisit.Status.CANCELLED and visit.cancel_reason == "客户已还款"
    with pytest.raises(VisitNotApproved):
        visit_log(visit_id=visit.pk, actor=collector, outcome="no_answer")


# --- The case page's visit tab and the supervisors' queue --------------------------------------------------


def test_the_visit_tab_requests_a_visit_with_the_collector_preselected(as_user, case, collector, partner, supervisor):
    client = as_user(collector)
    panel = client.get(reverse("negotiation:visit-panel", args=[case.pk]), HTTP_HX_REQUEST="true")
    assert panel.status_code == 200
    assert f'<option value="{collector.pk}" selected>' in panel.content.decode()

    response = client.post(reverse("negotiation:visit-request", args=[case.pk]), {
        "planned_at": "2026-12-05T10:00", "address_kind": CITY, "first_staff": collector.pk,
        "second_staff": partner.pk, "purpose": "",
    }, HTTP_HX_REQUEST="true")

    visit = FieldVisit.objects.get(case=case)
    assert response.status_code == 200
    assert f'data-testid="visit-{visit.pk}"' in response.content.decode()
    assert visit.planned_at == datetime(2026, 12, 5, 10, 0, tzinfo=SHANGHAI)


def test_the_visit_tab_refuses_the_same_person_twice_and_stores_nothing(as_user, case, collector):
    response = as_user(collector).post(reverse("negotiation:visit-request", args=[case.pk]), {
        "planned_at": "2026-12-05T10:00", "address_kind": CITY, "first_staff": collector.pk,
        "second_staff": collector.pk,
    }, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "Name two different staff members." in response.content.decode()
    assert not FieldVisit.objects.exists()


def test_the_team_supervisor_approves_in_the_visit_tab_and_the_collector_logs_there(
    as_user, requested, supervisor, collector
):
    approve = as_user(supervisor).post(
        reverse("negotiation:visit-action", args=[requested.pk, "approve"]), {"reason": "同意"}, HTTP_HX_REQUEST="true"
    )
    assert approve.status_code == 200 and 'data-testid="visit-log"' in approve.content.decode()

    logged = as_user(collector).post(reverse("negotiation:visit-log", args=[requested.pk]), {
        "party": "debtor", "outcome": "promise_to_pay", "duration_seconds": "900", "notes": "", "next_step": "",
    }, HTTP_HX_REQUEST="true")

    assert logged.status_code == 200
    assert Contact.objects.get(case=requested.case).channel == "visit"
    assert 'id="case-timeline"' in logged.content.decode()


def test_the_quick_contact_form_refuses_a_visit_without_an_approved_request(as_user, case, collector):
    response = as_user(collector).post(reverse("negotiation:contact-log", args=[case.pk]), {
        "channel": "visit", "party": "debtor", "outcome": "right_party_contact",
    }, HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert "A field visit is logged only from a visit request that a supervisor approved." in response.content.decode()
    assert not Contact.objects.exists()


def test_the_requester_sees_no_approve_button_in_the_visit_tab(as_user, requested, collector):
    html = as_user(collector).get(
        reverse("negotiation:visit-panel", args=[requested.case_id]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'data-testid="visit-decide"' not in html


def test_the_queue_lists_pending_visits_for_the_supervisor_in_a_constant_number_of_queries(
    as_user, team, collector, partner, supervisor, django_assert_max_num_queries
):
    for n in range(4):
        visit_request(case_id=CaseFactory(team=team, account__debtor__city="杭州").pk, actor=collector,
                      planned_at=NOW + timedelta(days=n + 1), address_kind=CITY, staff_ids=[collector.pk, partner.pk])
    client = as_user(supervisor)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("negotiation:visits"))
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="visit-row-') == 4


def test_a_visit_is_approved_from_the_queue(as_user, requested, supervisor):
    response = as_user(supervisor).post(
        reverse("negotiation:visit-action", args=[requested.pk, "approve"]), {"reason": "同意", "from": "queue"}
    )
    assert response.status_code == 302 and response.url == reverse("negotiation:visits")
    requested.refresh_from_db()
    assert requested.status == FieldVisit.Status.APPROVED


def test_the_queue_is_for_supervisors(as_user, collector):
    assert as_user(collector).get(reverse("negotiation:visits")).status_code == 403


def test_the_supervisor_page_links_the_visits_waiting(as_user, requested, supervisor):
    html = as_user(supervisor).get(reverse("cases:supervisor")).content.decode()
    assert 'data-testid="visits-waiting"' in html
    assert reverse("negotiation:visits") in html


# --- API --------------------------------------------------------------------------------------------------


def test_the_api_requests_approves_and_logs_a_visit(api, case, collector, partner, supervisor):
    created = api(collector).post(f"/api/v1/cases/{case.pk}/visits/", {
        "planned_at": (NOW + timedelta(days=1)).isoformat(), "address_kind": CITY, "staff": [collector.pk, partner.pk],
    }, format="json")
    assert created.status_code == 201 and created.json()["staff"] == [collector.pk, partner.pk]
    visit_id = created.json()["id"]

    early = api(collector).post(f"/api/v1/visits/{visit_id}/log/", {"outcome": "no_answer"}, format="json")
    assert early.status_code == 409 and early.json()["code"] == "visit_not_approved"

    own = api(collector).post(f"/api/v1/visits/{visit_id}/approve/", {"reason": "ok"}, format="json")
    assert own.status_code == 403
    approved = api(supervisor).post(f"/api/v1/visits/{visit_id}/approve/", {"reason": "ok"}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"

    logged = api(partner).post(f"/api/v1/visits/{visit_id}/log/", {"outcome": "refused"}, format="json")
    assert logged.status_code == 201 and logged.json()["channel"] == "visit"


def test_a_visit_outside_the_users_cases_is_not_found(api, requested, other_team):
    stranger = UserFactory(username="s-other", role="supervisor", team=other_team)
    response = api(stranger).post(f"/api/v1/visits/{requested.pk}/approve/", {"reason": "ok"}, format="json")
    assert response.status_code == 404


def test_the_visit_endpoints_are_in_the_schema(api, admin_user_):
    schema = api(admin_user_).get("/api/schema/", {"format": "json"}).json()
    for path in ("/api/v1/cases/{id}/visits/", "/api/v1/visits/{id}/log/", "/api/v1/visits/{id}/approve/",
                 "/api/v1/visits/{id}/reject/", "/api/v1/visits/{id}/cancel/", "/api/v1/visits/pending/"):
        assert path in schema["paths"], path


def test_the_case_page_has_a_field_visit_tab_that_loads_the_visit_panel(as_user, case, collector):
    html = as_user(collector).get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'id="tab-visit"' in html
    assert reverse("negotiation:visit-panel", args=[case.pk]) in html
