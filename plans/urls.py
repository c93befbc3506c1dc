from django.urls import path

from plans import views, views_agreements, views_branch, views_links

app_name = "plans"

urlpatterns = [
    path("cases/<int:pk>/builder/", views.builder, name="builder"),
    path("cases/<int:pk>/builder/preview/", views.preview, name="builder-preview"),
    path("cases/<int:pk>/offers/", views.offer_create_view, name="offer-create"),
    path("offers/<int:pk>/withdraw/", views.offer_withdraw_view, name="offer-withdraw"),
    path("offers/<int:pk>/approve/", views.offer_decide_view, {"decision": "approve"}, name="offer-approve"),
    path("offers/<int:pk>/reject/", views.offer_decide_view, {"decision": "reject"}, name="offer-reject"),
    path("approvals/", views.approvals, name="approvals"),
    path("authority/", views.authority_limits, name="authority"),
    path("agreements/<int:pk>/pdf/", views_agreements.agreement_pdf, name="agreement-pdf"),
    # Portal links and what the cardholder did (plans.views_links).
    path("cases/<int:pk>/portal-links/", views_links.links_panel, name="portal-links"),
    path("cases/<int:pk>/portal-links/send/", views_links.link_send, name="portal-link-send"),
    path("portal-links/<int:pk>/revoke/", views_links.link_revoke, name="portal-link-revoke"),
    path("portal-links/<int:pk>/unlock/", views_links.link_unlock, name="portal-link-unlock"),
    path("cases/<int:pk>/portal-activity/", views_links.portal_activity, name="portal-activity"),
    # Agreements signed on paper at a branch (plans.views_branch).
    path("cases/<int:pk>/branch-signatures/", views_branch.branch_panel, name="branch-signatures"),
    path("cases/<int:pk>/branch-signatures/upload/", views_branch.branch_upload, name="branch-signature-upload"),
    path("branch-signatures/<int:pk>/confirm/", views_branch.branch_confirm, name="branch-signature-confirm"),
    path("branch-signatures/<int:pk>/reject/", views_branch.branch_reject, name="branch-signature-reject"),
]
