from django.urls import path

from negotiation import views

app_name = "negotiation"

urlpatterns = [
    path("cases/<int:pk>/panel/", views.case_panel, name="panel"),
    path("cases/<int:pk>/verifications/", views.verification_start_view, name="verification-start"),
    path("cases/<int:pk>/promises/", views.promise_create, name="promise-create"),
    path("verifications/<int:pk>/complete/", views.verification_complete_view, name="verification-complete"),
    path("verifications/<int:pk>/preview/", views.verification_preview, name="verification-preview"),
    path("verifications/<int:pk>/documents/", views.document_upload, name="document-upload"),
    path("documents/<int:pk>/", views.document_download, name="document-download"),
]
