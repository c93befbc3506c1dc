"""Staff side of the portal: send a link to the cardholder, revoke one, and see what the cardholder did.
Partials for htmx; a plain form post goes back to the case page."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from cases.models import Case
from cases.selectors import visible_cases
from compliance.selectors import reason_label
from config.errors import DomainError
from negotiation.models import Channel
from negotiation.services import ContactForbidden
from plans.models import PortalLink
from plans.portal import (
    case_counter_offers,
    case_portal_events,
    portal_link_issue,
    portal_link_revoke,
    portal_link_unlock,
)


def _visible_case(user, pk: int) -> Case:
    return get_object_or_404(visible_cases(user).select_related("account__debtor"), pk=pk)


def _links_panel(request, case: Case, *, status: int = 200, **extra):
    if not request.htmx and request.method == "POST" and status == 200:
        return redirect("cases:detail", pk=case.pk)
    return render(request, "plans/_send_link.html", {"case": case, **extra}, status=status)


@login_required
@require_safe
def links_panel(request, pk: int):
    return _links_panel(request, _visible_case(request.user, pk))


@login_required
@require_POST
def link_send(request, pk: int):
    case = _visible_case(request.user, pk)
    channel = request.POST.get("channel", Channel.SMS)
    try:
        link, _token = portal_link_issue(case_id=case.pk, actor=request.user, channel=channel)
    except ContactForbidden as refusal:
        decision = refusal.decision
        refused = {
            "reasons": [reason_label(reason.get("code", "")) for reason in decision.reasons],
            "next_allowed_at": decision.next_allowed_at,
        }
        return _links_panel(request, case, status=409, refused=refused)
    except DomainError as error:
        return _links_panel(request, case, status=error.http_status, problems=[error.message])
    except PermissionDenied as error:
        return _links_panel(request, case, status=403, problems=[str(error)])
    return _links_panel(request, case, sent=link)


@login_required
@require_POST
def link_revoke(request, pk: int):
    link = get_object_or_404(PortalLink.objects.filter(case__in=visible_cases(request.user)), pk=pk)
    case = _visible_case(request.user, link.case_id)
    try:
        portal_link_revoke(link_id=link.pk, actor=request.user)
    except DomainError as error:
        return _links_panel(request, case, status=error.http_status, problems=[error.message])
    except PermissionDenied as error:
        return _links_panel(request, case, status=403, problems=[str(error)])
    return _links_panel(request, case, done=_("The link was revoked; it no longer opens."))


@login_required
@require_POST
def link_unlock(request, pk: int):
    link = get_object_or_404(PortalLink.objects.filter(case__in=visible_cases(request.user)), pk=pk)
    case = _visible_case(request.user, link.case_id)
    try:
        portal_link_unlock(link_id=link.pk, actor=request.user)
    except DomainError as error:
        return _links_panel(request, case, status=error.http_status, problems=[error.message])
    except PermissionDenied as error:
        return _links_panel(request, case, status=403, problems=[str(error)])
    return _links_panel(request, case, done=_("The link is unlocked; the cardholder can try again now."))


@login_required
@require_safe
def portal_activity(request, pk: int):
    """What the cardholder did in the portal and their counter-offers, newest first (two queries)."""
    case = _visible_case(request.user, pk)
    context = {
        "case": case,
        "events": list(case_portal_events(case.pk)),
        "counter_offers": list(case_counter_offers(case.pk)),
    }
    return render(request, "plans/_portal_activity.html", context)
