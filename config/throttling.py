"""The API's rate limits keyed by the same client address as the rest of Accord (compliance.middleware.client_ip),
never by DRF's own reading of X-Forwarded-For."""

from rest_framework import throttling

from compliance.middleware import client_ip


class AnonRateThrottle(throttling.AnonRateThrottle):
    def get_ident(self, request) -> str:
        return client_ip(request) or "-"


class UserRateThrottle(throttling.UserRateThrottle):
    def get_ident(self, request) -> str:
        return client_ip(request) or "-"
