"""Identity provider pages for agency admins, under /agency/identity-providers/."""

from qgov.identity.providers.filters import IdentityProviderFilterSet
from qgov.identity.providers.forms import IdentityProviderForm
from qgov.identity.providers.models import IdentityProvider
from qgov.identity.providers.tables import IdentityProviderTable
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
    exclude_fields = ("role_mappings",)  # a table of their own


class IdentityProviderEditView(ObjectEditView):
    queryset = PROVIDERS
    form_class = IdentityProviderForm


class IdentityProviderDeleteView(ObjectDeleteView):
    queryset = PROVIDERS


class IdentityProviderHistoryView(ObjectHistoryView):
    queryset = PROVIDERS
