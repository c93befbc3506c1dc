from django.urls import path

from compliance import api

urlpatterns = [
    path("complaints/", api.ComplaintListApi.as_view(), name="complaint-list"),
    path("complaints/<int:pk>/", api.ComplaintDetailApi.as_view(), name="complaint-detail"),
    path("complaints/<int:pk>/acknowledge/", api.ComplaintAcknowledgeApi.as_view(), name="complaint-acknowledge"),
    path("complaints/<int:pk>/complex/", api.ComplaintComplexApi.as_view(), name="complaint-complex"),
    path("complaints/<int:pk>/extend/", api.ComplaintExtendApi.as_view(), name="complaint-extend"),
    path("complaints/<int:pk>/resolve/", api.ComplaintResolveApi.as_view(), name="complaint-resolve"),
]
