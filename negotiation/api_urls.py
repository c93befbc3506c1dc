from django.urls import path

from negotiation import api

urlpatterns = [
    path("cases/<int:pk>/contact-check/", api.ContactCheckApi.as_view(), name="case-contact-check"),
    path("cases/<int:pk>/contacts/", api.ContactCreateApi.as_view(), name="case-contacts"),
    path("cases/<int:pk>/verifications/", api.VerificationStartApi.as_view(), name="case-verifications"),
    path("verifications/<int:pk>/complete/", api.VerificationCompleteApi.as_view(), name="verification-complete"),
    path("verifications/<int:pk>/documents/", api.VerificationDocumentApi.as_view(), name="verification-documents"),
    path("cases/<int:pk>/promises/", api.CasePromisesApi.as_view(), name="case-promises"),
]
