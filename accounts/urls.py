from django.urls import path

from accounts import views, views_two_factor

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views_two_factor.verify, name="two-factor-verify"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("account/two-factor/", views_two_factor.manage, name="two-factor"),
    path("account/two-factor/enrol/", views_two_factor.enrol, name="two-factor-enrol"),
    path("", views.landing, name="landing"),
]
