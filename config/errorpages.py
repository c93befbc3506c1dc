"""The 403 and 404 pages in Accord's layout, and one log line (not a traceback) for an expected 403."""

import logging

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def _way_back(request) -> dict[str, str]:
    """Home for the user, and the page they came from when it is one of ours."""
    home = reverse("accounts:landing" if request.user.is_authenticated else "accounts:login")
    referer = request.META.get("HTTP_REFERER", "")
    back = ""
    if referer and url_has_allowed_host_and_scheme(referer, {request.get_host()}, require_https=request.is_secure()):
        back = referer
    return {"home_url": home, "back_url": back}


def permission_denied(request, exception=None):
    reason = str(exception) if exception is not None and exception.args else ""
    return render(request, "403.html", {"reason": reason, **_way_back(request)}, status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", {"request_path": request.path, **_way_back(request)}, status=404)


class ExpectedDenialFilter(logging.Filter):
    """django.request logs every PermissionDenied with its traceback; a refusal is expected, so one line says
    who was refused what, and why."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc_info = record.exc_info
        if exc_info and isinstance(exc_info[1], PermissionDenied):
            request = getattr(record, "request", None)
            user = getattr(request, "user", None)
            who = f"user {user.pk}" if user is not None and user.is_authenticated else "anonymous"
            reason = str(exc_info[1]) or "-"
            record.msg = f"{record.getMessage()} ({who}; {reason})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True
