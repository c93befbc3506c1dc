from django.urls import path

from reporting import kpi_views, views, views_timeline

app_name = "reporting"

urlpatterns = [
    path("compliance/", views.compliance, name="compliance"),
    path("compliance/cases/", views.compliance_cases, name="compliance_cases"),
    path("compliance/consistency/<slug:code>/", views.consistency, name="consistency"),
    path("kpis/", kpi_views.kpis, name="kpis"),
    path("scorecard/", kpi_views.scorecard, name="scorecard"),
    path("export/<slug:table>.<slug:fmt>", kpi_views.export, name="export"),
    path("cases/<int:pk>/timeline/", views_timeline.case_timeline, name="case-timeline"),
]
