"""/login/sso/…: included at the root by qgov.ui_urls (no namespace, like /login/)."""

from django.urls import path

from qgov.identity.oidc import views

urlpatterns = [
    path("", views.SsoLookupView.as_view(), name="login_sso_lookup"),
    path("<str:agency_code>/", views.SsoStartView.as_view(), name="login_sso"),
    path("<str:agency_code>/callback/", views.SsoCallbackView.as_view(), name="login_sso_callback"),
]
