from django.urls import path

from plans import api, api_links, api_offers

urlpatterns = [
    path("plans/preview/", api.PlanPreviewApi.as_view(), name="plan-preview"),
    path("cases/<int:pk>/offers/", api_offers.CaseOffersApi.as_view(), name="case-offers"),
    path("portal-links/<int:pk>/unlock/", api_links.PortalLinkUnlockApi.as_view(), name="portal-link-unlock"),
    *[
        path(f"offers/<int:pk>/{action}/", api_offers.OfferActionApi.as_view(action=action), name=f"offer-{action}")
        for action in ("approve", "reject", "withdraw")
    ],
]
