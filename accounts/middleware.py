"""Confines a session that has passed the password but not the second factor to the two-factor pages."""

from urllib.parse import urlencode

from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.two_factor import TwoFactorErrorCode, pending_step

# Pages a half-logged-in session may still reach (besides the two-factor pages themselves).
_OPEN_PREFIXES = ("/static/", "/i18n/", "/healthz", "/p/")
_STEP_URL_NAME = {"verify": "accounts:two-factor-verify", "enrol": "accounts:two-factor-enrol"}


class TwoFactorMiddleware:
    """After django-otp's OTPMiddleware: a signed-in user who has an authenticator must enter a code, and
    one whose role requires two-factor login (or who opens the Django admin) must enrol, before any other
    page. API requests authenticated by token never carry a session user and pass untouched."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not user.is_verified() and not self._open(request.path_info):
            step = pending_step(user, admin_site=request.path_info.startswith(reverse("admin:index")))
            if step is not None:
                request.two_factor_pending = True
                return self._send_to(request, step)
        return self.get_response(request)

    @staticmethod
    def _open(path: str) -> bool:
        own = (
            reverse("accounts:two-factor-verify"),
            reverse("accounts:two-factor-enrol"),
            reverse("accounts:logout"),
        )
        return path in own or path.startswith(_OPEN_PREFIXES)

    @staticmethod
    def _send_to(request, step: str):
        url = reverse(_STEP_URL_NAME[step])
        if request.path_info.startswith("/api/"):
            return JsonResponse(
                {"code": TwoFactorErrorCode.NOT_VERIFIED, "detail": _("Finish the two-factor login first.")},
                status=403,
            )
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        if request.method == "GET":
            url = f"{url}?{urlencode({'next': request.get_full_path()})}"
        return redirect(url)
