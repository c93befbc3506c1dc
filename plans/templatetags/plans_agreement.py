"""The agreement panel on the case page. cases sits below plans: its template loads this tag instead of its views
importing plans."""

from django import template

from plans.selectors import agreement_totals, agreements_of_case

register = template.Library()


@register.inclusion_tag("plans/_agreement.html")
def agreement_panel(case):
    """`{% agreement_panel case %}`: the case's signed agreements, newest first, each with its signature, SHA-256,
    schedule and download link (two queries); nothing without one."""
    return {
        "case": case,
        "agreements": [
            {"agreement": agreement, "totals": agreement_totals(agreement)}
            for agreement in agreements_of_case(case=case)
        ],
    }
