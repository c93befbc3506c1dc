"""The second step of a staff login (a code from the authenticator, or a recovery code), enrolment, and the
user's own two-factor page. Wrong codes count towards the login lockout like wrong passwords."""

import django_otp
from axes.helpers import get_lockout_response
from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts import lockout
from accounts.landing import landing_url
from accounts.two_factor import (
    AlreadyEnrolled,
    InvalidCode,
    NotEnrolled,
    confirmed_device,
    device_qr_svg,
    device_secret,
    recovery_codes_left,
    recovery_codes_regenerate,
    second_factor_verify,
    totp_enrolment_confirm,
    totp_enrolment_start,
    two_factor_disable,
    two_factor_required,
)


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Authentication code"), max_length=20, strip=True)


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return landing_url(request.user)


def _locked_out(request):
    """End the half-finished login and show the lockout page."""
    credentials = {"username": request.user.get_username()}
    logout(request)
    return get_lockout_response(request, None, credentials)


def _wrong_code(request):
    """Count a wrong code like a wrong password; the lockout page once a limit is reached, else None."""
    user_login_failed.send(sender=__name__, credentials={"username": request.user.get_username()}, request=request)
    if getattr(request, "axes_locked_out", False):
        return _locked_out(request)
    return None


def _page(request, template: str, context: dict, *, status: int = 200):
    # No navigation before the second factor has passed: the menu would only lead back here.
    if not request.user.is_verified():
        context["navigation"] = []
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """Second step of the login: a code from the authenticator app, or one recovery code."""
    if request.user.is_verified():
        return redirect(_next_url(request))
    if confirmed_device(request.user) is None:
        return redirect("accounts:two-factor-enrol" if two_factor_required(request.user) else "accounts:landing")
    if not lockout.login_allowed(request, username=request.user.get_username()):
        return _locked_out(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = second_factor_verify(user=request.user, code=form.cleaned_data["code"])
        except InvalidCode as error:
            refused = _wrong_code(request)
            if refused is not None:
                return refused
            form.add_error("code", error.message)
        else:
            django_otp.login(request, device)
            request.session.cycle_key()
            lockout.login_completed(request, username=request.user.get_username())
            return redirect(_next_url(request))
    return _page(request, "accounts/two_factor_verify.html", {"form": form, "next": _next_url(request)})


@login_required
@require_http_methods(["GET", "POST"])
def enrol(request):
    """Set up the authenticator: the QR code and the key as text, then a code to confirm it."""
    if confirmed_device(request.user) is not None:
        return redirect("accounts:two-factor" if request.user.is_verified() else "accounts:two-factor-verify")
    if not lockout.login_allowed(request, username=request.user.get_username()):
        return _locked_out(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = totp_enrolment_confirm(user=request.user, code=form.cleaned_data["code"])
        except NotEnrolled as error:
            form.add_error("code", error.message)
        except AlreadyEnrolled:
            return redirect("accounts:two-factor")
        except InvalidCode as error:
            refused = _wrong_code(request)
            if refused is not None:
                return refused
            form.add_error("code", error.message)
        else:
            django_otp.login(request, device)
            request.session.cycle_key()
            lockout.login_completed(request, username=request.user.get_username())
            return _page(
                request, "accounts/two_factor_recovery_codes.html", {"codes": codes, "next": _next_url(request)}
            )
    device = totp_enrolment_start(user=request.user)
    context = {
        "form": form,
        "next": _next_url(request),
        "qr_svg": device_qr_svg(device),
        "secret": device_secret(device),
        "required": two_factor_required(request.user),
    }
    return _page(request, "accounts/two_factor_enrol.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def manage(request):
    """The user's own two-factor page: status, new recovery codes, turning it off (each after a code)."""
    device = confirmed_device(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and device is not None and form.is_valid():
        action = request.POST.get("action")
        try:
            if action == "recovery_codes":
                codes = recovery_codes_regenerate(user=request.user, code=form.cleaned_data["code"])
                return _page(
                    request,
                    "accounts/two_factor_recovery_codes.html",
                    {"codes": codes, "next": landing_url(request.user)},
                )
            if action == "disable":
                two_factor_disable(user=request.user, code=form.cleaned_data["code"])
                messages.success(request, _("Two-factor login has been turned off."))
                return redirect("accounts:two-factor")
            form.add_error(None, _("Choose what to do."))
        except InvalidCode as error:
            refused = _wrong_code(request)
            if refused is not None:
                return refused
            form.add_error("code", error.message)
    context = {
        "form": form,
        "device": device,
        "recovery_codes_left": recovery_codes_left(request.user) if device else 0,
        "required": two_factor_required(request.user),
    }
    return _page(request, "accounts/two_factor_manage.html", context)
