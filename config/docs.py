"""The API's Swagger UI, for signed-in staff only."""

from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.exceptions import NotAuthenticated


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI (its set-up script a separate file, for the CSP) for signed-in staff; a browser without a session
    is sent to the login page instead of an error."""

    template_name = "api_docs.html"

    def handle_exception(self, exc):
        if isinstance(exc, NotAuthenticated):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
