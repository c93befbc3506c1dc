from django.urls import path

from cases import views

app_name = "cases"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("reassign/", views.worklist_reassign, name="reassign"),
    path("supervisor/", views.supervisor, name="supervisor"),
    path("supervisor/policy/", views.classification_policy, name="policy"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/transition/", views.case_transition_view, name="transition"),
    path("<int:pk>/wilful/<str:decision>/", views.case_wilful_decision, name="wilful"),
    path("<int:pk>/holds/", views.case_hold_set, name="hold_set"),
    path("<int:pk>/holds/<int:hold_id>/lift/", views.case_hold_lift, name="hold_lift"),
    path("<int:pk>/reveal/", views.case_reveal, name="reveal"),
    path("imports/", views.imports_page, name="imports"),
    path("imports/<int:pk>/", views.import_detail, name="import"),
]
