from django.db import models
from django.utils.translation import gettext_lazy as _


class IdentityProviderProtocolChoices(models.TextChoices):
    OIDC = "oidc", _("OpenID Connect")
    SAML = "saml", _("SAML 2.0")  # reserved: the sign-in flow speaks OpenID Connect only, for now


# The roles a provider's groups may grant, weakest first: when several mappings match, the last
# (the one that may change records) wins. Admin is never among them: admins are appointed in qgov.
PROVIDER_GRANTABLE_ROLES = ("viewer", "auditor", "editor")
