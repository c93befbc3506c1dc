"""The API's Swagger UI, for signed-in staff only."""

from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework.exceptions import NotAuthenticated


class DocsView(SpectacularSwaggerView):
    """Swagger UI for signed-in staff (SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"]); a browser without a session
    is sent to the login page instead of an error."""

    def handle_exception(self, exc):
        if isinstance(exc, NotAuthenticated):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
