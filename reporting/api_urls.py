from django.urls import path

from reporting import api

urlpatterns = [
    path("reporting/portfolio-totals/", api.PortfolioTotalApi.as_view(), name="reporting-portfolio-totals"),
]
