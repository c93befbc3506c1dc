from django.urls import path

from compliance import views, views_audit, views_policy, views_screening

app_name = "compliance"

urlpatterns = [
    path("complaints/", views.complaint_list_view, name="complaints"),
    path("complaints/new/", views.complaint_register_view, name="complaint-register"),
    path("complaints/<int:pk>/", views.complaint_detail_view, name="complaint-detail"),
    path(
        "complaints/<int:pk>/<str:step>/",
        views.complaint_step_view,
        name="complaint-step",
    ),
    path("policies/", views_policy.contact_policies, name="policies-default"),
    path("policies/<str:jurisdiction>/", views_policy.contact_policies, name="policies"),
    path("audit/", views_audit.audit_log, name="audit-log"),
    path("audit/export.csv", views_audit.audit_log_export, name="audit-export"),
    path("audit/verify/", views_audit.audit_log_verify, name="audit-verify"),
    path("screening/terms/", views_screening.screening_terms, name="screening-terms"),
    path("screening/terms/add/", views_screening.screening_term_add_view, name="screening-term-add"),
    path(
        "screening/terms/<int:pk>/deactivate/",
        views_screening.screening_term_active_view,
        {"active": False},
        name="screening-term-deactivate",
    ),
    path(
        "screening/terms/<int:pk>/activate/",
        views_screening.screening_term_active_view,
        {"active": True},
        name="screening-term-activate",
    ),
    path("screening/hits/", views_screening.screening_hits, name="screening-hits"),
    path("screening/hits/<int:pk>/review/", views_screening.screening_hit_review_view, name="screening-hit-review"),
]
