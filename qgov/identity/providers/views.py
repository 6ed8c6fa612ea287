"""Identity provider pages for agency admins, under /agency/identity-providers/."""

from qgov.identity.providers.choices import IdentityProviderProtocolChoices
from qgov.identity.providers.filters import IdentityProviderFilterSet
from qgov.identity.providers.forms import IdentityProviderForm
from qgov.identity.providers.models import IdentityProvider
from qgov.identity.providers.tables import IdentityProviderTable
from qgov.identity.reauth import FreshAuthenticationRequiredMixin
from qgov.identity.saml.metadata import certificate_summary
from qgov.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectHistoryView,
    ObjectListView,
)

PROVIDERS = IdentityProvider.objects.select_related("agency")


class IdentityProviderListView(ObjectListView):
    queryset = PROVIDERS
    filterset_class = IdentityProviderFilterSet
    table_class = IdentityProviderTable


class IdentityProviderDetailView(ObjectDetailView):
    queryset = PROVIDERS
    template_name = "qgov/identity/identityprovider_detail.html"
    # Mappings have a table of their own; the SCIM token a card (its hash is never shown); pasted SAML metadata
    # is what the single sign-on URL and certificate shown were taken from.
    # The SAML signing certificate has a card of its own too (who it names, until when, its fingerprint).
    exclude_fields = ("role_mappings", "scim_token_hash", "scim_token_prefix", "scim_token_issued", "saml_metadata",
                      "saml_certificate")

    def detail_exclude_fields(self, obj):
        return (*self.exclude_fields, *obj.fields_of_other_protocol())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.object.protocol == IdentityProviderProtocolChoices.SAML and self.object.saml_certificate:
            context["saml_certificate"] = certificate_summary(self.object.saml_certificate)
        return context


class IdentityProviderEditView(FreshAuthenticationRequiredMixin, ObjectEditView):  # who signs in, with which role
    queryset = PROVIDERS
    form_class = IdentityProviderForm


class IdentityProviderDeleteView(FreshAuthenticationRequiredMixin, ObjectDeleteView):
    queryset = PROVIDERS


class IdentityProviderHistoryView(ObjectHistoryView):
    queryset = PROVIDERS
