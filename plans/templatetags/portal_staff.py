"""The portal links of a case for the plan builder's "send to cardholder" box; cases and the builder's view
need not know about links."""

from django import template
from django.utils import timezone

from compliance.selectors import reason_label
from negotiation.models import Channel
from plans.models import Offer
from plans.portal import ACTIONABLE, case_portal_links

register = template.Library()


@register.simple_tag
def portal_links_for(case) -> dict:
    """`{% portal_links_for case as portal %}`: the usable links with their messages, and whether an offer
    can be sent (two queries)."""
    now = timezone.now()
    links = list(case_portal_links(case.pk))
    for link in links:
        link.locked_now = link.locked_until is not None and link.locked_until > now
    return {
        "links": links,
        "sendable": Offer.objects.filter(case_id=case.pk, status__in=ACTIONABLE).exists(),
        "channels": [(Channel.SMS.value, Channel.SMS.label), (Channel.EMAIL.value, Channel.EMAIL.label)],
    }


@register.filter
def channel_label(value: str) -> str:
    try:
        return str(Channel(value).label)
    except ValueError:
        return value


@register.filter
def refusal_labels(decision) -> list[str]:
    """The reasons of a recorded gate decision, as people read them."""
    if decision is None:
        return []
    return [reason_label(reason.get("code", "")) for reason in decision.reasons]
