from django.urls import path

from cases import views

app_name = "cases"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("supervisor/", views.supervisor, name="supervisor"),
    path("<int:pk>/", views.case_detail, name="detail"),
]
