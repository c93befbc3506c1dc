"""The client address of a request, and the middleware that remembers it so every audit event carries it."""

import ipaddress
from contextvars import ContextVar

from django.conf import settings

request_ip: ContextVar[str | None] = ContextVar("request_ip", default=None)


def _valid(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The one client address of a request, for rate limits, lockouts, the audit log and signatures.

    Each of the TRUSTED_PROXY_COUNT proxies in front of Accord appends the address it was connected from to
    X-Forwarded-For, so the client is that many places from the right; anything further left was written by
    the client and is ignored. With no trusted proxy the header is ignored altogether."""
    remote = _valid(request.META.get("REMOTE_ADDR") or "")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    # A shorter header than expected: the request skipped an outer proxy; its leftmost entry was still
    # written by a trusted one (the innermost appends even when the header arrives empty).
    return _valid(forwarded[-min(hops, len(forwarded))]) or remote


class AuditContextMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        token = request_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            request_ip.reset(token)
