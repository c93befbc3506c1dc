"""Follow-up tasks pinned on the worklist, and the contact strategy that makes them."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from compliance.models import AuditEvent
from negotiation import strategy
from negotiation.models import Contact, ContactStrategy, FollowUpTask
from negotiation.services import (
    case_next_action,
    strategy_step_update,
    strategy_steps_ensure_shipped,
    strategy_tasks_create,
    task_complete,
    task_create,
)
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db
WORKLIST = reverse("cases:worklist")


def due_task(case, user, days_ago=0, **extra):
    return FollowUpTask.objects.create(
        case=case, assigned_to=user, kind="call", due_on=timezone.localdate() - timedelta(days=days_ago), **extra
    )


# --- Tasks on the worklist -------------------------------------------------------------------------


def test_tasks_due_today_or_overdue_are_pinned_on_the_worklist_for_their_collector_only(as_user, collector, team):
    colleague = UserFactory(username="colleague", role="collector", team=team)
    mine_today = due_task(CaseFactory(team=team, assigned_to=collector), collector)
    mine_overdue = due_task(CaseFactory(team=team, assigned_to=collector), collector, days_ago=2)
    mine_later = due_task(CaseFactory(team=team, assigned_to=collector), collector, days_ago=-1)
    theirs = due_task(CaseFactory(team=team, assigned_to=colleague), colleague)

    html = as_user(collector).get(WORKLIST).content.decode()

    assert f'data-testid="task-{mine_today.pk}"' in html
    assert f'data-testid="task-{mine_overdue.pk}"' in html
    assert f'data-testid="task-{mine_later.pk}"' not in html
    assert f'data-testid="task-{theirs.pk}"' not in html


def test_the_worklist_with_pinned_tasks_runs_the_same_number_of_queries_for_3_and_30_cases(
    as_user, collector, team
):
    client = as_user(collector)

    def queries(count: int) -> int:
        for _ in range(count):
            due_task(CaseFactory(team=team, assigned_to=collector), collector)
        with CaptureQueriesContext(connection) as captured:
            client.get(WORKLIST)
        return len(captured)

    assert queries(3) == queries(27)


def test_a_collector_ticks_a_task_done_and_it_leaves_the_pinned_block(as_user, collector, team):
    task = due_task(CaseFactory(team=team, assigned_to=collector), collector)

    response = as_user(collector).post(reverse("negotiation:task-done", args=[task.pk]), HTTP_HX_REQUEST="true")

    task.refresh_from_db()
    assert response.status_code == 200
    assert task.done_by == collector and task.done_at is not None
    assert f'data-testid="task-{task.pk}"' not in response.content.decode()
    assert AuditEvent.objects.filter(action="task.complete").count() == 1


def test_a_collector_cannot_tick_a_colleagues_task(collector, team):
    colleague = UserFactory(username="colleague", role="collector", team=team)
    task = due_task(CaseFactory(team=team, assigned_to=colleague), colleague)

    with translation.override("en"), pytest.raises(PermissionDenied, match="collector or a supervisor"):
        task_complete(task_id=task.pk, actor=collector)


def test_a_manual_task_goes_to_the_cases_collector_and_is_audited(collector, team):
    case = CaseFactory(team=team, assigned_to=collector)

    task = task_create(case_id=case.pk, kind="revisit", due_on=timezone.localdate(), actor=collector)

    assert task.assigned_to == collector and task.source == "manual"
    assert AuditEvent.objects.filter(action="task.create").count() == 1


# --- Strategies ------------------------------------------------------------------------------------


def test_the_shipped_steps_are_added_once_and_an_edit_is_never_overwritten(supervisor):
    step = ContactStrategy.objects.get(code="early-call-every-3-days")
    strategy_step_update(step_id=step.pk, actor=supervisor, days=2)

    strategy_steps_ensure_shipped()

    assert ContactStrategy.objects.filter(code="early-call-every-3-days").get().days == 2
    assert ContactStrategy.objects.count() == 7


@pytest.mark.parametrize(
    "classification, action",
    [("early", "sms"), ("mid", "call"), ("wilful", "litigation_referral")],
)
def test_a_new_case_gets_the_first_step_of_its_class_strategy(team, classification, action):
    case = CaseFactory(team=team, classification=classification)

    recommendation = case_next_action(case)

    assert recommendation.step.action == action
    assert recommendation.due_on == timezone.localdate(case.opened_at)


def test_an_early_case_is_called_again_three_days_after_the_last_call():
    steps = [
        strategy.Step(id=1, order=1, action="sms", basis="opened", days=0),
        strategy.Step(id=2, order=2, action="call", basis="last_contact", days=3),
    ]

    found = strategy.next_action(
        steps=steps, opened_on=date(2026, 12, 1), last_contact_on={"sms": date(2026, 12, 1), "phone": date(2026, 12, 5)}
    )

    assert (found.step.action, found.due_on) == ("call", date(2026, 12, 8))


def test_a_one_off_step_whose_task_was_done_is_not_recommended_again():
    steps = [strategy.Step(id=7, order=1, action="litigation_referral", basis="opened", days=0)]

    assert strategy.next_action(
        steps=steps, opened_on=date(2026, 12, 1), last_contact_on={}, done_step_ids=frozenset({7})
    ) is None


def test_the_case_page_shows_the_strategys_next_step(as_user, collector, team):
    case = CaseFactory(team=team, classification="early")

    html = as_user(collector).get(reverse("cases:detail", args=[case.pk])).content.decode()

    assert 'data-testid="next-action"' in html and "SMS" in html


def test_the_strategy_task_creates_a_task_per_due_step_for_the_collector_and_is_idempotent(collector, team):
    case = CaseFactory(team=team, assigned_to=collector, classification="early")
    Contact.objects.create(case=case, channel="sms", outcome="no_answer", at=timezone.now())

    first = strategy_tasks_create()
    again = strategy_tasks_create()

    tasks = FollowUpTask.objects.filter(case=case)
    assert first == 1 and again == 0
    assert [(t.kind, t.assigned_to, t.source) for t in tasks] == [("call", collector, "strategy")]


def test_an_unassigned_case_gets_no_strategy_task(team):
    CaseFactory(team=team, assigned_to=None, classification="mid")

    assert strategy_tasks_create() == 0


def test_a_supervisor_edits_a_step_on_the_strategy_page_and_it_is_audited(as_user, supervisor):
    client = as_user(supervisor)
    page = client.get(reverse("negotiation:strategy"))
    formset = page.context["formset"]
    data = {f"form-{key}": value for key, value in {
        "TOTAL_FORMS": len(formset.forms), "INITIAL_FORMS": len(formset.forms),
        "MIN_NUM_FORMS": 0, "MAX_NUM_FORMS": 1000,
    }.items()}
    for i, form in enumerate(formset.forms):
        step = form.instance
        data.update({
            f"form-{i}-id": step.pk, f"form-{i}-order": step.order, f"form-{i}-basis": step.basis,
            f"form-{i}-days": 5 if step.code == "mid-visit" else step.days,
            f"form-{i}-needs_supervisor_approval": "on" if step.needs_supervisor_approval else "",
            f"form-{i}-active": "on" if step.active else "",
        })
        data = {key: value for key, value in data.items() if value != ""}

    response = client.post(reverse("negotiation:strategy"), data)

    assert response.status_code == 302
    assert ContactStrategy.objects.get(code="mid-visit").days == 5
    assert AuditEvent.objects.filter(action="strategy.update").count() == 1


def test_the_strategy_page_is_for_supervisors_only(as_user, collector):
    assert as_user(collector).get(reverse("negotiation:strategy")).status_code == 403
