"""The case page after a side-panel action: the header strip (state, transitions), the timeline and the
compliance box, rendered from the page's own partials and swapped out of band by htmx."""

from django.http import HttpResponse
from django.template.loader import render_to_string

from cases.selectors import visible_cases
from cases.views import _hold_permissions, case_header_context

HEADER_RELATED = ("account__debtor", "assigned_to", "team", "wilful_confirmed_by")


def case_refresh_oob(request, case_id: int) -> str:
    """The out-of-band parts for the case as it is now; nothing when the user no longer sees it."""
    case = visible_cases(request.user).select_related(*HEADER_RELATED).filter(pk=case_id).first()
    if case is None:
        return ""
    context = {
        **case_header_context(request.user, case),
        **_hold_permissions(request.user),
    }
    return render_to_string("negotiation/_case_refresh_oob.html", context, request=request)


def with_case_refresh(request, response: HttpResponse, case_id: int) -> HttpResponse:
    """Append the refreshed page parts to an htmx answer to a POST (a refusal too: it may have changed the
    compliance box's counts or left them as they are, and either way they are current)."""
    if request.htmx and request.method == "POST" and not response.streaming and response.status_code < 500:
        response.content = response.content + case_refresh_oob(request, case_id).encode(response.charset)
    return response
