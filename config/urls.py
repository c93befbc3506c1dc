from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from config.docs import DocsView
from config.health import healthz

api_v1 = [
    path("", include("cases.api_urls")),
    path("", include("negotiation.api_urls")),
    path("", include("compliance.api_urls")),
    path("", include("plans.api_urls")),
    path("", include("reporting.api_urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", DocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("cases/", include("cases.urls")),
    path("negotiation/", include("negotiation.urls")),
    path("plans/", include("plans.urls")),
    path("p/", include("plans.portal_urls")),
    path("reporting/", include("reporting.urls")),
    path("compliance/", include("compliance.urls")),
    path("", include("accounts.urls")),
]

handler403 = "config.errorpages.permission_denied"
handler404 = "config.errorpages.page_not_found"
