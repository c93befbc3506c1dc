from django.urls import path

from negotiation import api

urlpatterns = [
    path("cases/<int:pk>/contact-check/", api.ContactCheckApi.as_view(), name="case-contact-check"),
    path("cases/<int:pk>/contacts/", api.ContactCreateApi.as_view(), name="case-contacts"),
]
