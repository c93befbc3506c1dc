from django.urls import path

from negotiation import api, api_visits
from negotiation import api_escalation as esc

urlpatterns = [
    path("cases/<int:pk>/contact-check/", api.ContactCheckApi.as_view(), name="case-contact-check"),
    path("cases/<int:pk>/contacts/", api.ContactCreateApi.as_view(), name="case-contacts"),
    path("cases/<int:pk>/verifications/", api.VerificationStartApi.as_view(), name="case-verifications"),
    path("verifications/<int:pk>/complete/", api.VerificationCompleteApi.as_view(), name="verification-complete"),
    path("verifications/<int:pk>/documents/", api.VerificationDocumentApi.as_view(), name="verification-documents"),
    path("cases/<int:pk>/promises/", api.CasePromisesApi.as_view(), name="case-promises"),
    path("tasks/", api.TaskListApi.as_view(), name="task-list"),
    path("tasks/<int:pk>/complete/", api.TaskCompleteApi.as_view(), name="task-complete"),
    path("messages/<int:pk>/delivered/", api.MessageDeliveryApi.as_view(), name="message-delivered"),
    # Letters with proof, escalation, disputes (negotiation.api_escalation).
    path("cases/<int:pk>/letters/", esc.CaseLettersApi.as_view(), name="case-letters"),
    path("letters/<int:pk>/dispatched/", esc.LetterDispatchedApi.as_view(), name="letter-dispatched"),
    path("letters/<int:pk>/delivered/", esc.LetterDeliveredApi.as_view(), name="letter-delivered"),
    path("letters/<int:pk>/pdf/", esc.LetterPdfApi.as_view(), name="letter-pdf"),
    path("cases/<int:pk>/placements/", esc.CasePlacementsApi.as_view(), name="case-placements"),
    *[
        path(f"placements/<int:pk>/{action}/", esc.PlacementActionApi.as_view(action=action),
             name=f"placement-{action}")
        for action in ("approve", "notify", "hand-over", "recall")
    ],
    path("cases/<int:pk>/litigation/", esc.CaseLitigationApi.as_view(), name="case-litigation"),
    *[
        path(f"litigation/<int:pk>/{action}/", esc.ReferralActionApi.as_view(action=action),
             name=f"litigation-{action}")
        for action in ("approve", "file", "withdraw")
    ],
    path("cases/<int:pk>/dispute/resolve/", esc.DisputeResolveApi.as_view(), name="case-dispute-resolve"),
    # Field visits (negotiation.api_visits).
    path("cases/<int:pk>/visits/", api_visits.CaseVisitsApi.as_view(), name="case-visits"),
    path("visits/pending/", api_visits.PendingVisitsApi.as_view(), name="visits-pending"),
    path("visits/<int:pk>/log/", api_visits.VisitLogApi.as_view(), name="visit-log"),
    *[
        path(f"visits/<int:pk>/{action}/", api_visits.VisitActionApi.as_view(action=action), name=f"visit-{action}")
        for action in ("approve", "reject", "cancel")
    ],
]
