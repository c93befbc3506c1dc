from django.urls import path

from plans import api, api_agreements, api_branch, api_links, api_offers

urlpatterns = [
    path("plans/preview/", api.PlanPreviewApi.as_view(), name="plan-preview"),
    path("agreements/", api_agreements.AgreementListApi.as_view(), name="agreement-list"),
    path("agreements/<int:pk>/", api_agreements.AgreementDetailApi.as_view(), name="agreement-detail"),
    path("agreements/<int:pk>/pdf/", api_agreements.AgreementPdfApi.as_view(), name="agreement-pdf"),
    path("cases/<int:pk>/offers/", api_offers.CaseOffersApi.as_view(), name="case-offers"),
    path(
        "cases/<int:pk>/branch-signatures/",
        api_branch.CaseBranchSignaturesApi.as_view(),
        name="case-branch-signatures",
    ),
    path(
        "branch-signatures/<int:pk>/confirm/",
        api_branch.BranchSignatureConfirmApi.as_view(),
        name="branch-signature-confirm",
    ),
    path(
        "branch-signatures/<int:pk>/reject/",
        api_branch.BranchSignatureRejectApi.as_view(),
        name="branch-signature-reject",
    ),
    path("portal-links/<int:pk>/unlock/", api_links.PortalLinkUnlockApi.as_view(), name="portal-link-unlock"),
    *[
        path(f"offers/<int:pk>/{action}/", api_offers.OfferActionApi.as_view(action=action), name=f"offer-{action}")
        for action in ("approve", "reject", "withdraw")
    ],
]
