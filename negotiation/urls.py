from django.urls import path

from negotiation import views, views_agencies, views_visits
from negotiation import views_escalation as esc

app_name = "negotiation"

urlpatterns = [
    path("cases/<int:pk>/panel/", views.case_panel, name="panel"),
    path("cases/<int:pk>/verifications/", views.verification_start_view, name="verification-start"),
    path("cases/<int:pk>/promises/", views.promise_create, name="promise-create"),
    path("verifications/<int:pk>/complete/", views.verification_complete_view, name="verification-complete"),
    path("verifications/<int:pk>/preview/", views.verification_preview, name="verification-preview"),
    path("verifications/<int:pk>/documents/", views.document_upload, name="document-upload"),
    path("documents/<int:pk>/", views.document_download, name="document-download"),
    path("cases/<int:pk>/contacts/", views.contact_log_view, name="contact-log"),
    path("tasks/<int:pk>/done/", views.task_done_view, name="task-done"),
    path("strategy/", views.strategy_edit, name="strategy"),
    path("templates/", views.template_list, name="templates"),
    path("templates/<int:pk>/", views.template_edit, name="template-edit"),
    # Letters with proof, escalation, disputes (negotiation.views_escalation).
    path("cases/<int:pk>/escalation/", esc.escalation_panel, name="escalation-panel"),
    path("cases/<int:pk>/letters/", esc.letter_issue_view, name="letter-issue"),
    path("letters/<int:pk>/<str:step>/", esc.letter_proof_view, name="letter-proof"),
    path("letters/<int:pk>/", esc.letter_download, name="letter-download"),
    path("cases/<int:pk>/placements/", esc.placement_propose_view, name="placement-propose"),
    path("placements/<int:pk>/<str:action>/", esc.placement_action_view, name="placement-action"),
    path("cases/<int:pk>/litigation/", esc.referral_propose_view, name="referral-propose"),
    path("litigation/<int:pk>/<str:action>/", esc.referral_action_view, name="referral-action"),
    path("cases/<int:pk>/dispute/", esc.dispute_resolve_view, name="dispute-resolve"),
    path("escalations/", esc.escalation_list, name="escalations"),
    # Field visits (negotiation.views_visits) and the agency register (negotiation.views_agencies).
    path("cases/<int:pk>/visit-panel/", views_visits.visit_panel, name="visit-panel"),
    path("cases/<int:pk>/visits/", views_visits.visit_request_view, name="visit-request"),
    path("visits/", views_visits.visit_queue, name="visits"),
    path("visits/<int:pk>/log/", views_visits.visit_log_view, name="visit-log"),
    path("visits/<int:pk>/<str:action>/", views_visits.visit_action_view, name="visit-action"),
    path("agencies/", views_agencies.agency_list, name="agencies"),
    path("agencies/new/", views_agencies.agency_edit, name="agency-create"),
    path("agencies/<int:pk>/", views_agencies.agency_edit, name="agency-edit"),
    path("agencies/<int:pk>/active/", views_agencies.agency_active, name="agency-active"),
]
