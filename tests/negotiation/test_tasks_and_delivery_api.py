"""The API for follow-up tasks and delivery receipts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from negotiation.models import FollowUpTask, OutboundMessage
from negotiation.services import task_create
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(team, collector):
    return CaseFactory(team=team, assigned_to=collector)


def test_a_collector_lists_their_tasks_due_today(api, collector, case):
    today = timezone.localdate()
    task_create(case_id=case.pk, kind="call", due_on=today, actor=collector)
    task_create(case_id=case.pk, kind="visit", due_on=today + timedelta(days=3), actor=collector)
    response = api(collector).get("/api/v1/tasks/")
    assert response.status_code == 200
    assert [t["kind"] for t in response.json()] == ["call"]
    later = api(collector).get(f"/api/v1/tasks/?due_by={(today + timedelta(days=3)).isoformat()}")
    assert [t["kind"] for t in later.json()] == ["call", "visit"]


def test_a_collector_ticks_a_task_done_once(api, collector, case):
    task = task_create(case_id=case.pk, kind="call", due_on=timezone.localdate(), actor=collector)
    assert api(collector).post(f"/api/v1/tasks/{task.pk}/complete/").status_code == 200
    assert FollowUpTask.objects.get(pk=task.pk).done_by == collector
    assert api(collector).post(f"/api/v1/tasks/{task.pk}/complete/").status_code == 409


def test_another_teams_task_is_not_found(api, case, collector, other_team):
    task = task_create(case_id=case.pk, kind="call", due_on=timezone.localdate(), actor=collector)
    stranger = UserFactory(username="stranger", role="collector", team=other_team)
    assert api(stranger).post(f"/api/v1/tasks/{task.pk}/complete/").status_code == 404


def _sent_message(case, status=OutboundMessage.Status.SENT):
    return OutboundMessage.objects.create(
        case=case, channel="sms", purpose="collection", recipient="13812345678", body="x",
        idempotency_key=f"k-{status}", status=status, sent_at=timezone.now(),
    )


def test_the_gateway_reports_a_delivery_once(api, admin_user_, case):
    message = _sent_message(case)
    first = api(admin_user_).post(f"/api/v1/messages/{message.pk}/delivered/", {}, format="json")
    again = api(admin_user_).post(f"/api/v1/messages/{message.pk}/delivered/", {}, format="json")
    assert first.status_code == again.status_code == 200
    assert first.json()["delivered_at"] == again.json()["delivered_at"]
    assert OutboundMessage.objects.get(pk=message.pk).status == OutboundMessage.Status.DELIVERED


def test_a_message_not_sent_cannot_be_delivered(api, admin_user_, case):
    message = _sent_message(case, status=OutboundMessage.Status.SCHEDULED)
    response = api(admin_user_).post(f"/api/v1/messages/{message.pk}/delivered/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "message_not_sent"


def test_a_collector_does_not_report_deliveries(api, collector, case):
    message = _sent_message(case)
    assert api(collector).post(f"/api/v1/messages/{message.pk}/delivered/", {}, format="json").status_code == 403
