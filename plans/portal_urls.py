from django.urls import path

from plans import views_portal as views

app_name = "portal"

urlpatterns = [
    path("<str:token>/", views.home, name="home"),
    path("<str:token>/identity/", views.identity, name="identity"),
    path("<str:token>/identity/code/", views.identity_code, name="identity-code"),
    path("<str:token>/identity/code/resend/", views.identity_code_resend, name="identity-code-resend"),
    path("<str:token>/offers/<int:offer_id>/accept/", views.offer_accept, name="accept"),
    path("<str:token>/offers/<int:offer_id>/", views.review, name="review"),
    path("<str:token>/offers/<int:offer_id>/code/", views.sign_code, name="sign-code"),
    path("<str:token>/offers/<int:offer_id>/sign/", views.sign, name="sign"),
    path("<str:token>/agreements/<int:agreement_id>.pdf", views.agreement_pdf, name="agreement-pdf"),
    path("<str:token>/counter-offer/", views.counter_offer, name="counter-offer"),
    path("<str:token>/survey/", views.survey, name="survey"),
]
