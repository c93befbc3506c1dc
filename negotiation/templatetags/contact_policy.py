"""The case page's compliance box reads contact history through this tag: cases sits below negotiation
(docs/architecture.md), so its views cannot import negotiation.selectors, but its templates can load the tag."""

from django import template

from negotiation.selectors import ContactAllowance, contact_allowance

register = template.Library()


@register.simple_tag
def case_contact_allowance(case, now=None) -> ContactAllowance:
    """`{% case_contact_allowance case as allowance %}`: what the policy says about calling now."""
    return contact_allowance(case=case, now=now)
