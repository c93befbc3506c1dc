"""`{% load case_timeline %}{% case_timeline_panel case %}`: the case page's timeline. cases sits below the apps
whose events it shows, so its templates load this tag instead of its views importing them."""

from django import template

from reporting.timeline import timeline_context

register = template.Library()


@register.inclusion_tag("cases/_timeline.html", takes_context=True)
def case_timeline_panel(context, case, oob=False):
    """The page's own query string picks the kind and page, so the filter works without htmx too; an
    out-of-band refresh after a POST shows the first page of every kind."""
    request = context.get("request")
    params = request.GET if request is not None and request.method == "GET" else {}
    return timeline_context(case=case, params=params, oob=oob)
