"""The case page's timeline: every event of the case from every app, newest first, filtered by kind, in a
constant number of queries; reasons the system wrote are read in the reader's language."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import CaseEvidence, CaseTransition
from cases.services import case_transition
from compliance import audit
from compliance.models import Complaint, Hold
from compliance.reasons import ReasonCode, reason_match
from compliance.services import hold_lift, hold_set
from negotiation.models import (
    Agency,
    Contact,
    FieldVisit,
    LitigationReferral,
    OutboundMessage,
    Placement,
    Promise,
    Verification,
    VerificationDocument,
)
from plans.models import Offer, PortalEvent
from reporting.timeline import KINDS, PAGE_SIZE, TimelineQuery, case_timeline
from tests.factories import UserFactory, case_in
from tests.plans.followup_setup import agreement_in_force, pay

pytestmark = pytest.mark.django_db

EXPECTED_EVENTS = {
    "contact", "message", "transition", "verification_started", "verification_completed", "document_uploaded",
    "promise_made", "promise_judged", "offer_created", "offer_approved", "offer_sent", "offer_accepted",
    "offer_rejected", "offer_withdrawn", "portal", "agreement_signed", "installments_paid", "installments_missed",
    "payment", "hold_set", "hold_lifted", "complaint_received", "complaint_resolved", "evidence",
    "wilful_confirmed", "placement_proposed", "referral_proposed", "visit_requested", "visit_approved",
}


def page(case):
    return f"/cases/{case.pk}/"


def timeline_url(case):
    return f"/reporting/cases/{case.pk}/timeline/"


def every_kind_of_event(case, collector, supervisor):
    """One event of each kind on `case`, each a minute after the one before."""
    start = timezone.now() - timedelta(hours=2)

    def at(minute: int):
        return start + timedelta(minutes=minute)

    Contact.objects.create(case=case, channel="phone", outcome="no_answer", at=at(1), recorded_by=collector)
    OutboundMessage.objects.create(
        case=case, channel="sms", purpose="collection", recipient="13812345678", body="请尽快还款",
        idempotency_key=f"timeline-{case.pk}",
    )
    verification = Verification.objects.create(
        case=case, started_at=at(3), started_by=collector, completed_at=at(4), completed_by=collector,
        outcome="verified", hardship_reason="illness", disposable_income=Decimal("3000.00"),
    )
    VerificationDocument.objects.create(
        verification=verification, kind="medical_record", file="private/evidence/x.pdf", original_name="诊断书.pdf",
        content_type="application/pdf", size=100, sha256="0" * 64, uploaded_by=collector, uploaded_at=at(5),
    )
    Promise.objects.create(
        case=case, amount=Decimal("500.00"), due_on=date.today(), status="broken", paid_amount=Decimal("0.00"),
        judged_at=at(7), created_by=collector, created_at=at(6),
    )
    agreement = agreement_in_force(case, ["1000.00", "1000.00"], date.today() - timedelta(days=40))
    signed = agreement.offer
    Offer.objects.filter(pk=signed.pk).update(
        decided_by=supervisor, decided_at=at(9), offered_at=at(10), accepted_at=at(11)
    )
    rejected = Offer.objects.get(pk=signed.pk)
    rejected.pk = None
    rejected.status, rejected.decided_at, rejected.decided_by = Offer.Status.REJECTED, at(12), supervisor
    rejected.decision_reason, rejected.offered_at, rejected.accepted_at = "减免过多", None, None
    rejected.save()
    audit.record(actor=collector, action="offer.withdraw", target=rejected, case_id=case.pk, reason="客户不再需要")
    PortalEvent.objects.create(
        link=agreement.code.link, case=case, kind=PortalEvent.Kind.OPENED, at=at(13)
    )
    pay(case, "1000.00")
    audit.record(
        action="agreement.installments_missed", target=agreement, case_id=case.pk,
        changes={"installments": [2], "missed_count": [0, 1], "date": date.today()},
    )
    dispute = hold_set(case_id=case.pk, kind=Hold.Kind.DISPUTE, reason="持卡人对年费有异议", actor=collector)
    hold_lift(hold_id=dispute.pk, reason="已核实", actor=supervisor)
    Complaint.objects.create(
        case=case, channel="phone", category="contact_frequency", description="电话太多", received_at=at(20),
        due_at=at(20) + timedelta(days=15), status="resolved", resolved_at=at(21), outcome="not_upheld",
        resolution="已说明",
    )
    CaseEvidence.objects.create(case=case, kind="evasion", occurred_on=date.today() - timedelta(days=1))
    audit.record(
        actor=supervisor, action="case.confirm_wilful", target=case, changes={"classification": ["mid", "wilful"]},
        reason="多次失联",
    )
    agency = Agency.objects.create(name=f"华安资产管理 {case.pk}", licence_number=f"SH-{case.pk}")
    Placement.objects.create(case=case, agency=agency, proposed_by=supervisor, proposed_at=at(22))
    LitigationReferral.objects.create(case=case, proposed_by=supervisor, proposed_at=at(23))
    partner = UserFactory(role="collector", team=case.team)
    FieldVisit.objects.create(
        case=case, status="approved", planned_at=at(60), address_kind="home", address="上海市", first_staff=collector,
        second_staff=partner, requested_by=collector, requested_at=at(24), decided_by=supervisor, decided_at=at(25),
    )
    CaseTransition.objects.create(
        case=case, name="renegotiate", source="broken", target="verification", actor=supervisor, reason="重新协商",
        at=at(26),
    )


@pytest.fixture
def busy_case(team, collector, supervisor):
    case = case_in("follow_up", team=team, assigned_to=collector)
    every_kind_of_event(case, collector, supervisor)
    return case


def test_a_case_with_one_of_each_event_kind_shows_them_all_newest_first(busy_case, as_user, collector):
    response = as_user(collector).get(page(busy_case))

    entries = response.context["timeline"]
    assert {entry.event for entry in entries} >= EXPECTED_EVENTS
    assert {entry.kind for entry in entries} == set(KINDS) - {"letter"}
    assert [entry.at for entry in entries] == sorted((entry.at for entry in entries), reverse=True)
    html = response.content.decode()
    shown = ("诊断书.pdf", "客户不再需要", "减免过多", "多次失联", "华安资产管理")
    shown += ("Offer withdrawn", "Wilful confirmed")
    for text in shown:
        assert text in html


@pytest.mark.parametrize("kind", sorted(set(KINDS) - {"letter"}))
def test_filtering_by_kind_shows_only_that_kind(busy_case, as_user, collector, kind):
    response = as_user(collector).get(timeline_url(busy_case), {"kind": kind}, HTTP_HX_REQUEST="true")

    kinds = {entry.kind for entry in response.context["timeline"]}
    assert kinds == {kind}
    assert f'<option value="{kind}" selected>' in response.content.decode()


def test_the_filter_works_without_htmx_through_the_case_page(busy_case, as_user, collector):
    client = as_user(collector)
    redirected = client.get(timeline_url(busy_case), {"kind": "hold"})
    assert redirected.status_code == 302
    assert redirected["Location"] == f"/cases/{busy_case.pk}/?kind=hold#case-timeline"

    response = client.get(page(busy_case), {"kind": "hold"})
    entries = response.context["timeline"]
    assert {entry.event for entry in entries} == {"hold_lifted", "hold_set"}
    assert {entry.kind for entry in entries} == {"hold"}


def test_the_filter_is_an_htmx_form_without_inline_script(busy_case, as_user, collector):
    html = as_user(collector).get(page(busy_case)).content.decode()
    section = html[html.index('id="case-timeline"'):]
    section = section[: section.index("</section>")]
    assert 'hx-get="/reporting/cases/' in section and 'name="kind"' in section
    assert "<script" not in section and " onchange=" not in section


def test_an_unknown_kind_shows_every_kind(busy_case, as_user, collector):
    client = as_user(collector)
    response = client.get(timeline_url(busy_case), {"kind": "nonsense", "page": "x"}, HTTP_HX_REQUEST="true")
    assert len({entry.kind for entry in response.context["timeline"]}) > 1


def test_a_case_the_user_does_not_see_is_404(busy_case, as_user, other_team):
    outsider = UserFactory(role="collector", team=other_team)
    assert as_user(outsider).get(timeline_url(busy_case), HTTP_HX_REQUEST="true").status_code == 404


def test_show_more_pages_through_the_events(team, collector, as_user):
    case = case_in("first_contact", team=team, assigned_to=collector)
    now = timezone.now()
    Contact.objects.bulk_create(
        Contact(case=case, channel="phone", outcome="no_answer", at=now - timedelta(minutes=n), recorded_by=collector)
        for n in range(PAGE_SIZE + 5)
    )

    first = case_timeline(case=case)
    second = case_timeline(case=case, query=TimelineQuery(page=2))

    assert len(first.entries) == PAGE_SIZE and first.has_more
    assert len(second.entries) == PAGE_SIZE + 5 and not second.has_more
    html = as_user(collector).get(page(case)).content.decode()
    assert 'data-testid="timeline-more"' in html and "page=2" in html


def test_the_timeline_runs_the_same_number_of_queries_however_many_events(team, collector, supervisor):
    case = case_in("follow_up", team=team, assigned_to=collector)
    every_kind_of_event(case, collector, supervisor)

    def queries(query=None) -> int:
        with CaptureQueriesContext(connection) as captured:
            case_timeline(case=case, query=query)
        return len(captured)

    few, few_filtered = queries(), queries(TimelineQuery(kind="contact"))
    every_kind_of_event(case_in("first_contact", team=team), collector, supervisor)  # another case: no effect
    Contact.objects.bulk_create(
        Contact(case=case, channel="sms", outcome="no_answer", at=timezone.now(), recorded_by=collector)
        for _ in range(30)
    )
    for n in range(10):
        Promise.objects.create(case=case, amount=Decimal("10.00"), due_on=date.today(), created_by=collector)
        Hold.objects.create(
            case=case, kind=Hold.Kind.BANKRUPTCY, reason=f"第{n}次", set_at=timezone.now(), lifted_at=timezone.now()
        )

    assert queries() == few
    assert queries(TimelineQuery(kind="contact")) == few_filtered == 1


# --- Reasons the system wrote, in the reader's language -------------------------------------------------------


def test_a_system_reason_reads_in_english_for_an_english_reader_and_chinese_for_a_chinese_one(
    team, collector, client
):
    case = case_in("follow_up", team=team, assigned_to=collector)
    agreement_in_force(case, ["1000.00"], date.today() + timedelta(days=10))
    hold_set(case_id=case.pk, kind=Hold.Kind.DISPUTE, reason_code=ReasonCode.DISPUTE_IN_CONTACT)

    client.force_login(collector)
    english = client.get(page(case), {"kind": "hold"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get(page(case), {"kind": "hold"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "Dispute raised in a contact." in english and "Dispute raised in a contact." not in chinese
    assert "Dispute raised in a contact." not in Hold.objects.get(kind="dispute").reason  # kept in the bank's language
    stored = Hold.objects.get(kind="dispute")
    assert (stored.reason_code, stored.reason_params) == ("dispute_in_contact", {})
    assert stored.reason in chinese


def test_an_automatic_transition_reason_follows_the_reader(team, collector, client):
    case = case_in("follow_up", team=team, assigned_to=collector)
    agreement = agreement_in_force(case, ["1000.00"], date.today() + timedelta(days=10))
    pay(case, "1000.00")  # the last installment: the agreement completes, the case is resolved

    step = CaseTransition.objects.get(case=case, name="complete")
    assert (step.reason_code, step.reason_params) == ("agreement_paid", {"number": agreement.number})
    client.force_login(collector)
    english = client.get(page(case), {"kind": "transition"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get(page(case), {"kind": "transition"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f"Every installment of agreement {agreement.number} was paid." in english
    assert f"Every installment of agreement {agreement.number} was paid." not in chinese
    assert agreement.number in chinese
    lifted = Hold.objects.get(case=case, kind=Hold.Kind.AGREEMENT_IN_FORCE)
    assert lifted.lift_reason_code == "agreement_completed"


def test_a_typed_reason_stays_as_typed_in_every_language(team, supervisor, client):
    case = case_in("first_contact", team=team)
    case_transition(case_id=case.pk, name="escalate", actor=supervisor, reason="Overdue amount paid in full.")

    step = CaseTransition.objects.get(case=case)
    assert step.reason_code == ""
    client.force_login(supervisor)
    chinese = client.get(page(case), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Overdue amount paid in full." in chinese


def test_known_system_texts_map_to_codes_in_either_language():
    assert reason_match("Agreement AG000012 was breached.") == ("agreement_breached", {"number": "AG000012"})
    assert reason_match("3 installments of agreement AG1 were missed.") == (
        "installments_missed", {"count": 3, "number": "AG1"}
    )
    from django.utils import translation

    with translation.override("zh-hans"):
        chinese = translation.gettext("Agreement %(number)s was completed.") % {"number": "AG9"}
    assert chinese != "Agreement AG9 was completed."
    assert reason_match(chinese) == ("agreement_completed", {"number": "AG9"})
    assert reason_match("the cardholder moved abroad") is None


def test_a_task_note_the_system_wrote_follows_the_reader_and_a_typed_one_stays(team, collector):
    from django.utils import translation

    from negotiation.models import FollowUpTask
    from negotiation.services import task_create

    case = case_in("first_contact", team=team, assigned_to=collector)
    system = task_create(
        case_id=case.pk, kind=FollowUpTask.Kind.CALL, due_on=date.today(), actor=None,
        note_code=ReasonCode.AGREEMENT_BREACH_CALL, note_params={"number": "AG7"},
    )
    typed = task_create(
        case_id=case.pk, kind=FollowUpTask.Kind.CALL, due_on=date.today(), actor=collector, note="Agreement AG7"
    )

    with translation.override("en"):
        assert system.note_text == "Agreement AG7 breached: call the cardholder."
        assert typed.note_text == "Agreement AG7"
    with translation.override("zh-hans"):
        assert system.note_text == system.note != "Agreement AG7 breached: call the cardholder."
        assert typed.note_text == "Agreement AG7"
