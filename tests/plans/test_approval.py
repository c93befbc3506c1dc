"""Maker-checker: a supervisor of the case's team, never the maker, decides once on a pending offer."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CaseStatus
from compliance.models import AuditEvent
from config.errors import Conflict, DomainError
from negotiation.models import FollowUpTask
from plans.models import AuthorityLimit, Offer, PlanKind
from plans.services import OfferError, offer_approve, offer_create, offer_reject, offer_withdraw
from tests.factories import UserFactory, case_in, verified

pytestmark = pytest.mark.django_db


def pending_offer(case, maker) -> Offer:
    offer = offer_create(
        case_id=case.pk, actor=maker, kind=PlanKind.INSTALLMENTS, method="annuity", months=36,
        first_due_date=timezone.localdate() + timedelta(days=30), interest_waiver_pct=Decimal("80"),
    )
    assert offer.status == Offer.Status.PENDING_APPROVAL
    return offer


@pytest.fixture
def case(team):
    case = case_in(CaseStatus.VERIFICATION, team=team)
    verified(case)
    return case


@pytest.fixture
def offer(case, collector):
    return pending_offer(case, collector)


def test_a_supervisor_of_the_team_approves_a_pending_offer(offer, supervisor):
    offer = offer_approve(offer_id=offer.pk, actor=supervisor, reason="Hardship documented.")
    offer.refresh_from_db()
    assert offer.status == Offer.Status.READY
    assert offer.decided_by == supervisor and offer.decided_at is not None
    assert offer.decision_reason == "Hardship documented."


def test_the_maker_gets_a_task_when_the_offer_is_approved(offer, supervisor, collector):
    offer_approve(offer_id=offer.pk, actor=supervisor)
    task = FollowUpTask.objects.get(case=offer.case)
    assert task.assigned_to == collector and task.kind == FollowUpTask.Kind.OTHER
    assert task.due_on == timezone.localdate()


def test_the_maker_gets_a_task_when_the_offer_is_rejected(offer, supervisor, collector):
    offer_reject(offer_id=offer.pk, actor=supervisor, reason="Too generous.")
    task = FollowUpTask.objects.get(case=offer.case)
    assert task.assigned_to == collector and "Too generous." in task.note


def test_approving_is_audited(offer, supervisor):
    offer_approve(offer_id=offer.pk, actor=supervisor)
    event = AuditEvent.objects.get(action="offer.approve")
    assert event.actor == supervisor and event.target_id == str(offer.pk) and event.case_id == offer.case_id
    assert event.changes == {"status": ["pending_approval", "ready"]}


def test_rejecting_is_audited_with_its_reason(offer, supervisor):
    offer_reject(offer_id=offer.pk, actor=supervisor, reason="Too generous.")
    assert AuditEvent.objects.get(action="offer.reject").reason == "Too generous."


def test_nobody_approves_their_own_offer(case, supervisor):
    AuthorityLimit.objects.filter(role="supervisor").update(max_interest_waiver_pct=Decimal("50"))
    offer = pending_offer(case, supervisor)
    with pytest.raises(PermissionDenied):
        offer_approve(offer_id=offer.pk, actor=supervisor)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PENDING_APPROVAL


def test_a_collector_cannot_approve(offer, team):
    other_collector = UserFactory(role="collector", team=team)
    with pytest.raises(PermissionDenied):
        offer_approve(offer_id=offer.pk, actor=other_collector)


def test_a_supervisor_of_another_team_cannot_approve(offer, other_team):
    stranger = UserFactory(role="supervisor", team=other_team)
    other_team.supervisor = stranger
    other_team.save()
    with pytest.raises(PermissionDenied):
        offer_approve(offer_id=offer.pk, actor=stranger)


def test_an_admin_approves(offer, admin_user_):
    assert offer_approve(offer_id=offer.pk, actor=admin_user_).status == Offer.Status.READY


def test_a_rejection_needs_a_reason(offer, supervisor):
    with pytest.raises(DomainError) as refused:
        offer_reject(offer_id=offer.pk, actor=supervisor, reason="   ")
    assert refused.value.code == OfferError.REASON_REQUIRED
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PENDING_APPROVAL


def test_approving_twice_is_a_conflict(offer, supervisor):
    offer_approve(offer_id=offer.pk, actor=supervisor)
    with pytest.raises(Conflict) as refused:
        offer_approve(offer_id=offer.pk, actor=supervisor)
    assert refused.value.code == OfferError.NOT_PENDING


def test_a_ready_offer_cannot_be_approved(case, collector, supervisor):
    ready = offer_create(
        case_id=case.pk, actor=collector, kind=PlanKind.INSTALLMENTS, method="annuity", months=12,
        first_due_date=timezone.localdate() + timedelta(days=30),
    )
    with pytest.raises(Conflict):
        offer_approve(offer_id=ready.pk, actor=supervisor)


def test_the_maker_withdraws_an_offer_with_a_reason(offer, collector):
    offer_withdraw(offer_id=offer.pk, actor=collector, reason="Cardholder found a job.")
    offer.refresh_from_db()
    assert offer.status == Offer.Status.WITHDRAWN
    assert AuditEvent.objects.get(action="offer.withdraw").reason == "Cardholder found a job."


def test_withdrawing_needs_a_reason(offer, collector):
    with pytest.raises(DomainError) as refused:
        offer_withdraw(offer_id=offer.pk, actor=collector, reason="")
    assert refused.value.code == OfferError.REASON_REQUIRED


def test_a_rejected_offer_cannot_be_withdrawn(offer, collector, supervisor):
    offer_reject(offer_id=offer.pk, actor=supervisor, reason="No.")
    with pytest.raises(Conflict) as refused:
        offer_withdraw(offer_id=offer.pk, actor=collector, reason="Tidy up.")
    assert refused.value.code == OfferError.NOT_WITHDRAWABLE


# --- The queue page ------------------------------------------------------------------------------


def test_the_queue_lists_pending_offers_of_the_supervisors_teams_oldest_first(case, collector, supervisor, client):
    first, second = pending_offer(case, collector), pending_offer(case, collector)
    client.force_login(supervisor)
    response = client.get(reverse("plans:approvals"))
    assert response.status_code == 200
    assert [offer.pk for offer in response.context["offers"]] == [first.pk, second.pk]


def test_the_queue_leaves_out_other_teams_offers(other_team, collector, supervisor, client):
    foreign = case_in(CaseStatus.VERIFICATION, team=other_team)
    verified(foreign)
    pending_offer(foreign, UserFactory(role="collector", team=other_team))
    client.force_login(supervisor)
    assert client.get(reverse("plans:approvals")).context["offers"] == []


def test_the_queue_runs_a_constant_number_of_queries(team, collector, supervisor, client,
                                                     django_assert_max_num_queries):
    def add_offer():
        case = case_in(CaseStatus.VERIFICATION, team=team)
        verified(case)
        pending_offer(case, collector)

    add_offer()
    client.force_login(supervisor)
    client.get(reverse("plans:approvals"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("plans:approvals"))
    for _ in range(4):
        add_offer()
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(reverse("plans:approvals"))
    assert len(response.context["offers"]) == 5


def test_the_queue_is_for_supervisors(client, collector):
    client.force_login(collector)
    assert client.get(reverse("plans:approvals")).status_code == 403


def test_approving_from_the_queue_redirects_back_to_it(offer, supervisor, client):
    client.force_login(supervisor)
    response = client.post(reverse("plans:offer-approve", args=[offer.pk]), {"reason": ""})
    assert response.status_code == 302 and response.url == reverse("plans:approvals")
    offer.refresh_from_db()
    assert offer.status == Offer.Status.READY


def test_rejecting_from_the_queue_without_a_reason_changes_nothing(offer, supervisor, client):
    client.force_login(supervisor)
    client.post(reverse("plans:offer-reject", args=[offer.pk]), {"reason": ""})
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PENDING_APPROVAL


def test_a_supervisor_of_another_team_gets_404_from_the_queue_actions(offer, other_team, client):
    stranger = UserFactory(role="supervisor", team=other_team)
    client.force_login(stranger)
    for name in ("plans:offer-approve", "plans:offer-reject"):
        assert client.post(reverse(name, args=[offer.pk]), {"reason": "x"}).status_code == 404


def test_the_supervisor_page_shows_the_number_of_offers_waiting(offer, supervisor, client):
    client.force_login(supervisor)
    response = client.get(reverse("cases:supervisor"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    section = response.content.decode().split('data-testid="offer-approvals"')[1].split("</section>")[0]
    assert '<span class="count">1</span>' in section
    assert reverse("plans:approvals") in section


def test_an_offer_whose_case_left_plan_cannot_be_approved(offer, supervisor):
    Case.objects.filter(pk=offer.case_id).update(status=CaseStatus.VERIFICATION)
    with pytest.raises(Conflict) as refused:
        offer_approve(offer_id=offer.pk, actor=supervisor)
    assert refused.value.code == OfferError.CASE_STATE
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PENDING_APPROVAL
