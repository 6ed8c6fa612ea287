"""Identity provider pages, included under /agency/ (/agency/identity-providers/…) in the core's
"qgov" namespace."""

from django.urls import path

from qgov.identity.providers import views
from qgov.identity.providers.models import IdentityProvider
from qgov.identity.scim.pages import IdentityProviderScimTokenView
from qgov.routing import model_urls

urlpatterns = [
    *model_urls("identity-providers", IdentityProvider, views),
    # The provider's SCIM token (qgov.identity.scim).
    path("identity-providers/<int:pk>/scim-token/", IdentityProviderScimTokenView.as_view(),
         name="identityprovider_scim_token"),
]
