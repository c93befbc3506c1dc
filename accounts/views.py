from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

from accounts import lockout
from accounts.landing import landing_url
from accounts.two_factor import pending_step


class LoginView(auth_views.LoginView):
    """The password step. A user with an authenticator, or whose role requires one, is then held at the
    code or enrolment page by accounts.middleware.TwoFactorMiddleware."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        if pending_step(user) is None:
            lockout.login_completed(self.request, username=user.get_username())
        return response


class LogoutView(auth_views.LogoutView):
    pass


@login_required
def landing(request):
    """Send each role to its own first page."""
    return redirect(landing_url(request.user))
