"""Offer figures other apps' pages show without importing plans (the supervisor page's approval count)."""

from django import template

from plans.selectors import pending_approval_count

register = template.Library()


@register.simple_tag
def pending_offer_count(user) -> int:
    return pending_approval_count(user=user)
