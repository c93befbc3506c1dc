"""Negotiation pieces the cases templates show (the case page's contact log and next step, the worklist's
pinned tasks). cases sits below negotiation (docs/architecture.md): its templates load these tags instead of
its views importing negotiation."""

from django import template
from django.utils import timezone

from negotiation.forms import ContactLogForm
from negotiation.models import ContactStrategy
from negotiation.selectors import tasks_due_for
from negotiation.services import case_next_action as next_action_for

register = template.Library()


@register.inclusion_tag("negotiation/_contact_log.html", takes_context=True)
def contact_log(context, case):
    """`{% contact_log case %}`: the compact contact log form of the case page."""
    return {"case": case, "form": ContactLogForm(), "csrf_token": context.get("csrf_token")}


@register.simple_tag
def case_next_action(case) -> dict | None:
    """`{% case_next_action case as recommendation %}`: the strategy's next step, its date and whether it
    is due now; None for a closed case or a class without steps."""
    found = next_action_for(case) if case.is_open else None
    if found is None:
        return None
    return {"step": found.step, "due_on": found.due_on, "due_now": found.is_due(timezone.localdate())}


@register.inclusion_tag("negotiation/_due_tasks.html", takes_context=True)
def due_tasks(context):
    """`{% due_tasks %}`: the signed-in collector's tasks due today or overdue (one query)."""
    request = context["request"]
    today = timezone.localdate()
    return {
        "tasks": tasks_due_for(user=request.user, today=today),
        "today": today,
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def strategy_action_label(action: str) -> str:
    """A strategy action code as people read it."""
    return str(ContactStrategy.Action(action).label) if action in ContactStrategy.Action.values else action


@register.simple_tag(takes_context=True)
def pending_visit_count(context) -> int:
    """`{% pending_visit_count as n %}`: requested field visits the signed-in supervisor may decide (one query)."""
    from negotiation.visits import visits_pending_for

    return visits_pending_for(context["request"].user).count()
