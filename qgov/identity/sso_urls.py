"""/login/sso/…: included at the root by qgov.ui_urls (no namespace, like /login/). SAML 2.0 providers start
at the same /login/sso/<agency code>/ and are answered at their own assertion consumer service."""

from django.urls import path

from qgov.identity import sso
from qgov.identity.oidc import views as oidc_views
from qgov.identity.saml import views as saml_views

urlpatterns = [
    path("", sso.SsoLookupView.as_view(), name="login_sso_lookup"),
    path("saml/<int:provider_id>/acs/", saml_views.SamlAssertionConsumerView.as_view(), name="login_saml_acs"),
    path("saml/<int:provider_id>/metadata/", saml_views.SamlMetadataView.as_view(), name="login_saml_metadata"),
    path("<str:agency_code>/", sso.SsoStartView.as_view(), name="login_sso"),
    path("<str:agency_code>/callback/", oidc_views.SsoCallbackView.as_view(), name="login_sso_callback"),
]
