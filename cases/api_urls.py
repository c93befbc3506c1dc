from django.urls import path

from cases import api

urlpatterns = [
    path("cases/", api.CaseListApi.as_view(), name="case-list"),
    path("cases/<int:pk>/", api.CaseDetailApi.as_view(), name="case-detail"),
    path("cases/<int:pk>/transitions/", api.CaseTransitionApi.as_view(), name="case-transition"),
    path("cases/<int:pk>/reveal/", api.CaseRevealApi.as_view(), name="case-reveal"),
    path("imports/accounts/", api.AccountImportApi.as_view(), name="import-accounts"),
    path("imports/<int:pk>/", api.ImportBatchApi.as_view(), name="import-detail"),
    path("imports/<int:pk>/errors.csv", api.ImportErrorsCsvApi.as_view(), name="import-errors"),
    path("payments/", api.PaymentCreateApi.as_view(), name="payment-create"),
]
