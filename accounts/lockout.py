"""Login lockout: failures are counted per user name (whatever the address) and per address (whatever the
user name), each against its own limit, over one cool-off (AXES_COOLOFF_MINUTES).

django-axes keeps the failed attempts (one row per user name, address and browser) and locks the user name;
its lockout parameters share a single limit, so the per-address limit is counted here over the same rows.
One store, one cool-off, one lockout page, and axes' admin shows and clears both."""

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum

from compliance import audit
from compliance.middleware import client_ip
from compliance.models import AuditEvent


def client_address(request) -> str | None:
    """The one place login protection reads the client address from (axes calls it through
    AXES_CLIENT_IP_CALLABLE); it delegates to the audit log's rule, so both always agree."""
    return client_ip(request)


def failures_per_user(request, credentials) -> int:
    return settings.LOGIN_FAILURES_PER_USER


def address_failures(ip_address: str | None, *, since) -> int:
    if not ip_address:
        return 0
    total = AccessAttempt.objects.filter(ip_address=ip_address, attempt_time__gte=since).aggregate(
        total=Sum("failures_since_start")
    )["total"]
    return total or 0


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler, plus the per-address limit and an audit event when a lockout begins."""

    def _address_locked(self, request) -> bool:
        since = request.axes_attempt_time - settings.AXES_COOLOFF_TIME
        return address_failures(request.axes_ip_address, since=since) >= settings.LOGIN_FAILURES_PER_ADDRESS

    def _user_locked(self, request, credentials) -> bool:
        return super().is_locked(request, credentials)

    def is_locked(self, request, credentials=None) -> bool:
        return self._user_locked(request, credentials) or self._address_locked(request)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is None:
            return super().user_login_failed(sender, credentials, request, **kwargs)
        user_before = self._user_locked(request, credentials)
        address_before = self._address_locked(request)
        super().user_login_failed(sender, credentials, request, **kwargs)
        user_after = self._user_locked(request, credentials)
        address_after = self._address_locked(request)
        if address_after:
            request.axes_locked_out = True
            request.axes_credentials = credentials
        started = [
            scope
            for scope, before, after in (("user", user_before, user_after), ("address", address_before, address_after))
            if after and not before
        ]
        if started:
            audit.record(
                action="auth.locked_out",
                actor_kind=AuditEvent.ActorKind.SYSTEM,
                actor_label=(get_client_username(request, credentials) or "")[:150],
                changes={"scope": started, "path": request.axes_path_info},
                ip=request.axes_ip_address,
            )
        return None


def login_allowed(request, *, username: str) -> bool:
    """False while the user name or the request's address is locked out."""
    return AxesProxyHandler.is_allowed(request, {"username": username})


def login_completed(request, *, username: str) -> None:
    """Both factors passed: the user name's failed attempts start again from zero (the address's other
    user names keep theirs)."""
    AxesProxyHandler.reset_attempts(username=username)
