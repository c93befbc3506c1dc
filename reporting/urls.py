from django.urls import path

from reporting import views

app_name = "reporting"

urlpatterns = [
    path("compliance/", views.compliance, name="compliance"),
    path("compliance/cases/", views.compliance_cases, name="compliance_cases"),
]
