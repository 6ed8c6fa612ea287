import django_filters

from qgov.filters import QgovFilterSet
from qgov.identity.providers.choices import IdentityProviderProtocolChoices
from qgov.identity.providers.models import IdentityProvider


class IdentityProviderFilterSet(QgovFilterSet):
    search_fields = ("name", "issuer", "client_id")
    protocol = django_filters.MultipleChoiceFilter(choices=IdentityProviderProtocolChoices.choices)

    class Meta:
        model = IdentityProvider
        fields = ["agency", "protocol", "is_active", "jit_provisioning"]
