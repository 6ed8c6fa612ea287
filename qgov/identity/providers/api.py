"""REST face of identity providers: `/api/identity-providers/`, agency admins only
(`manage_identity`); others do not see the providers at all. The client secret is written, never read.
Each protocol's own fields are required by the model (OpenID Connect: client ID and secret; SAML 2.0: single
sign-on URL and signing certificate, or metadata), so the API and the form say the same per field."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from qgov.api.serializers import QgovModelSerializer
from qgov.api.viewsets import QgovModelViewSet
from qgov.identity.providers.choices import PROVIDER_GRANTABLE_ROLES, IdentityProviderProtocolChoices
from qgov.identity.providers.filters import IdentityProviderFilterSet
from qgov.identity.providers.models import (
    EMAIL_DOMAIN_PATTERN,
    ISSUER_PATTERN,
    MAX_EMAIL_DOMAINS,
    MAX_ROLE_MAPPINGS,
    SSO_URL_PATTERN,
    IdentityProvider,
    validate_email_domains,
    validate_issuer,
    validate_role_mappings,
    validate_sso_url,
)
from qgov.identity.reauth import refuse_stale_browser_session
from qgov.models import RECORD_FIELDS

ROLE_MAPPINGS_SCHEMA = {
    "type": "array",
    "maxItems": MAX_ROLE_MAPPINGS,
    "items": {
        "type": "object",
        "properties": {"claim_value": {"type": "string", "minLength": 1, "maxLength": 256, "pattern": r"\S"},
                       "role": {"type": "string", "enum": list(PROVIDER_GRANTABLE_ROLES)}},
        "required": ["claim_value", "role"],
        "additionalProperties": False,
    },
}


@extend_schema_field(ROLE_MAPPINGS_SCHEMA)
class RoleMappingsField(serializers.JSONField):
    """Checked by the model's validator, so that a refused mapping (admin) is one message naming it."""


@extend_schema_field({"type": "array", "maxItems": MAX_EMAIL_DOMAINS,
                      "items": {"type": "string", "pattern": EMAIL_DOMAIN_PATTERN}})
class EmailDomainsField(serializers.JSONField):
    pass


@extend_schema_field({"type": "string", "format": "uri", "maxLength": 500, "pattern": ISSUER_PATTERN})
class IssuerField(serializers.URLField):
    pass


@extend_schema_field({"oneOf": [{"type": "string", "format": "uri", "maxLength": 500, "pattern": SSO_URL_PATTERN},
                                {"type": "string", "maxLength": 0}]})
class SsoUrlField(serializers.URLField):
    """States what Django's URL check takes of a host name (a name over 253 characters is refused), as
    the issuer does."""


class IdentityProviderSerializer(QgovModelSerializer):
    protocol = serializers.ChoiceField(choices=IdentityProviderProtocolChoices.choices, required=False,
                                       default=IdentityProviderProtocolChoices.OIDC,
                                       help_text="oidc (OpenID Connect) or saml (SAML 2.0).")
    issuer = IssuerField(max_length=500, validators=[validate_issuer],
                         help_text="The provider's issuer identifier, exactly as its ID tokens state it, or a SAML "
                                   "identity provider's entity ID: an https URL without query or fragment.")
    saml_sso_url = SsoUrlField(max_length=500, required=False, allow_blank=True, validators=[validate_sso_url],
                               help_text="SAML 2.0: where qgov sends the AuthnRequest (HTTP-Redirect binding).")
    client_secret = serializers.CharField(
        write_only=True, required=False, max_length=500, trim_whitespace=True, style={"input_type": "password"},
        help_text="OpenID Connect: the client secret the provider issued for qgov: required on create, sent again "
                  "only to change it; never returned.")
    has_client_secret = serializers.BooleanField(read_only=True, help_text="Whether a client secret is stored.")
    role_mappings = RoleMappingsField(
        required=False, validators=[validate_role_mappings],
        help_text='The allow-list: [{"claim_value": "qkd-editors", "role": "editor"}, …]. Roles: viewer, auditor, '
                  "editor (never admin); unmapped groups give nothing; the strongest match wins.")
    email_domains = EmailDomainsField(required=False, validators=[validate_email_domains],
                                      help_text='E-mail domains the sign-in page offers this provider for, e.g. '
                                                '["dqn.example.gov"].')

    def validate(self, attrs):
        # A provider's settings decide who signs in with which role: from a browser, a recent sign-in.
        refuse_stale_browser_session(self.context.get("request"),
                                     _("Changing an identity provider needs a recent sign-in: sign in again first."))
        return super().validate(attrs)

    class Meta:
        model = IdentityProvider
        fields = (*QgovModelSerializer.base_fields, "agency", "name", "protocol", "issuer", "client_id",
                  "client_secret", "has_client_secret", "saml_metadata", "saml_sso_url", "saml_certificate",
                  "saml_subject_attribute", "groups_claim", "jit_provisioning", "required_acr",
                  "max_auth_age", "email_domains", "role_mappings", "is_active", *RECORD_FIELDS)


class IdentityProviderViewSet(QgovModelViewSet):
    """The agency's identity providers: who may sign in through them and with which role."""

    queryset = IdentityProvider.objects.select_related("agency")
    serializer_class = IdentityProviderSerializer
    filterset_class = IdentityProviderFilterSet
