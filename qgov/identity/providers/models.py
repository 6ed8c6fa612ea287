"""Identity providers and external identities. Re-exported by qgov.models."""

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from qgov.choices import RoleChoices
from qgov.fields import LongTextField
from qgov.identity.crypto import SealedTextField
from qgov.identity.providers.choices import PROVIDER_GRANTABLE_ROLES, IdentityProviderProtocolChoices
from qgov.models import AgencyScopedModel, QgovModel
from qgov.permissions import PLATFORM_ONLY
from qgov.roles import Action

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
# What the API schema states of an issuer: an https URL on a host name, as Django's URL check takes it, without
# query or fragment (the loopback exception is for test set-ups only, and not stated).
ISSUER_PATTERN = (r"^https://(?=[^/:]{1,253}(?:[:/]|$))(?:(?!-)[A-Za-z0-9-]{1,63}(?<!-)\.)+[A-Za-z]{2,63}"
                  r"(?::[0-9]{1,5})?(?:/[^\s?#]*)?$")
# A SAML single sign-on URL: the same, and a query may follow (some IdPs name a tenant there).
SSO_URL_PATTERN = ISSUER_PATTERN[:-len(r"(?:/[^\s?#]*)?$")] + r"(?:[/?][^\s#]*)?$"
MAX_ROLE_MAPPINGS = 200
MAX_EMAIL_DOMAINS = 50


def validate_issuer(value: str) -> None:
    """OpenID Connect issuers are https URLs without query or fragment; a test provider on the loopback
    address may use http when QGOV_OIDC_ALLOW_HTTP_LOOPBACK is set."""
    parts = urlsplit(value or "")
    loopback_http = (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
                     and settings.QGOV_OIDC_ALLOW_HTTP_LOOPBACK)
    if parts.scheme != "https" and not loopback_http:
        raise ValidationError(
            _("The issuer must be an https:// URL (plain http only for a test provider on 127.0.0.1, ::1 or "
              "localhost, when the operator sets QGOV_OIDC_ALLOW_HTTP_LOOPBACK)."), code="insecure_issuer")
    if parts.query or parts.fragment:
        raise ValidationError(_("The issuer has no query or fragment (e.g. https://login.example.gov/realms/dqn)."),
                              code="invalid_issuer")


def validate_sso_url(value: str) -> None:
    """A SAML identity provider's single sign-on URL: https, like issuers (the same loopback exception)."""
    parts = urlsplit(value or "")
    loopback_http = (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
                     and settings.QGOV_OIDC_ALLOW_HTTP_LOOPBACK)
    if parts.scheme != "https" and not loopback_http:
        raise ValidationError(_("The single sign-on URL must be an https:// URL."), code="insecure_url")


def validate_role_mappings(value) -> None:
    """A list of {"claim_value": "<group>", "role": "<viewer|auditor|editor>"}: the allow-list of the
    groups that give access. A mapping never grants admin."""
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ValidationError(_('A list of mappings such as {"claim_value": "qkd-editors", "role": "editor"}.'),
                              code="invalid")
    if len(value) > MAX_ROLE_MAPPINGS:
        raise ValidationError(_("At most %(count)d mappings.") % {"count": MAX_ROLE_MAPPINGS}, code="too_many")
    # A group mapped twice is harmless (the strongest role wins), so it is not refused.
    messages = []
    for number, item in enumerate(value, start=1):
        claim_value, role = item.get("claim_value"), item.get("role")
        if set(item) != {"claim_value", "role"}:
            messages.append(_("Mapping %(n)d: give exactly claim_value and role.") % {"n": number})
        elif not isinstance(claim_value, str) or not claim_value.strip() or len(claim_value) > 256:
            messages.append(_("Mapping %(n)d: the claim value is a group name of 1 to 256 characters.") % {"n": number})
        elif role == RoleChoices.ADMIN:
            messages.append(_("Mapping %(n)d (“%(value)s”): a provider never grants the admin role; agency admins "
                              "are appointed in qgov.") % {"n": number, "value": claim_value})
        elif role not in PROVIDER_GRANTABLE_ROLES:
            messages.append(_("Mapping %(n)d (“%(value)s”): the role is one of %(roles)s.")
                            % {"n": number, "value": claim_value, "roles": ", ".join(PROVIDER_GRANTABLE_ROLES)})
    if messages:
        raise ValidationError(messages, code="invalid_mapping")


DOMAIN_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
EMAIL_DOMAIN_PATTERN = rf"^\s*{DOMAIN_LABEL}(\.{DOMAIN_LABEL})+\s*$"


def validate_email_domains(value) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(_("A list of e-mail domains, e.g. [\"dqn.example.gov\"]."), code="invalid")
    if len(value) > MAX_EMAIL_DOMAINS:
        raise ValidationError(_("At most %(count)d domains.") % {"count": MAX_EMAIL_DOMAINS}, code="too_many")
    bad = [item for item in value if not re.fullmatch(EMAIL_DOMAIN_PATTERN, item)]
    if bad:
        raise ValidationError(_("Not e-mail domains: %(domains)s (give the part after @, e.g. dqn.example.gov).")
                              % {"domains": ", ".join(bad)}, code="invalid_domain")


OIDC_ONLY_FIELDS = ("client_id", "client_secret")
SAML_ONLY_FIELDS = ("saml_metadata", "saml_sso_url", "saml_certificate", "saml_subject_attribute")


class IdentityProvider(AgencyScopedModel):
    """An agency's identity provider: people it signs in get roles in this agency only, through the
    allow-list of `role_mappings`."""

    name = models.CharField(_("name"), max_length=100)
    protocol = models.CharField(_("protocol"), max_length=10, choices=IdentityProviderProtocolChoices.choices,
                                default=IdentityProviderProtocolChoices.OIDC)
    issuer = models.URLField(_("issuer"), max_length=500, validators=[validate_issuer],
                             help_text=_("The provider's issuer identifier, exactly as its ID tokens state it, or "
                                         "a SAML identity provider's entity ID (https)."))
    client_id = models.CharField(_("client ID"), max_length=255, blank=True,
                                 help_text=_("OpenID Connect: the client ID the provider issued for qgov."))
    # Sealed in the column; never shown, never audited, written only (qgov.identity.crypto).
    client_secret = SealedTextField(_("client secret"), blank=True, editable=False)
    groups_claim = models.CharField(_("groups claim"), max_length=100, default="groups",
                                    help_text=_("The ID token claim (OpenID Connect) or the attribute (SAML 2.0, its "
                                                "Name or FriendlyName) that lists the person's groups."))
    # SAML 2.0 (qgov.identity.saml): `issuer` is the IdP's entity ID. Pasted metadata, when given, is where
    # the single sign-on URL and the signing certificate are taken from (qgov.identity.saml.metadata).
    # One entity's metadata, not a federation's aggregate (qgov.identity.saml.metadata.MAX_METADATA_CHARS).
    saml_metadata = LongTextField(
        _("SAML metadata"), blank=True, max_length=200_000,
        help_text=_("SAML 2.0: the identity provider's metadata XML, pasted; its single sign-on URL and signing "
                    "certificate replace those below."))
    saml_sso_url = models.URLField(
        _("SAML single sign-on URL"), max_length=500, blank=True, validators=[validate_sso_url],
        help_text=_("SAML 2.0: where qgov sends the AuthnRequest (HTTP-Redirect binding)."))
    saml_certificate = LongTextField(
        _("SAML signing certificate"), blank=True, max_length=20_000,
        help_text=_("SAML 2.0: the identity provider's signing certificate (PEM); responses or assertions not "
                    "signed with its key are refused."))
    saml_subject_attribute = models.CharField(
        _("SAML subject attribute"), max_length=200, blank=True,
        help_text=_("SAML 2.0: the attribute naming the person for good; empty: the NameID (persistent, "
                    "as qgov asks for)."))
    jit_provisioning = models.BooleanField(
        _("create accounts at first sign-in"), default=False,
        help_text=_("A person whose groups match a mapping gets an account at their first sign-in; otherwise "
                    "only people who already signed in through this provider may."))
    required_acr = models.CharField(
        _("required authentication context"), max_length=200, blank=True,
        help_text=_("The acr value ID tokens must carry (e.g. a phishing-resistant MFA class); empty: any."))
    max_auth_age = models.PositiveIntegerField(
        _("maximum authentication age (seconds)"), null=True, blank=True,
        help_text=_("How long ago the person may have authenticated at the provider; empty: no limit."))
    email_domains = models.JSONField(
        _("e-mail domains"), default=list, blank=True, validators=[validate_email_domains],
        help_text=_("The sign-in page offers this provider to people whose address ends in one of these."))
    role_mappings = models.JSONField(
        _("role mappings"), default=list, blank=True, validators=[validate_role_mappings],
        help_text=_("Group → role (viewer, auditor, editor; never admin). Unmapped groups give nothing; "
                    "with several matches the strongest role (editor, then auditor, then viewer) wins."))
    is_active = models.BooleanField(_("active"), default=True,
                                    help_text=_("An inactive provider signs nobody in."))
    # SCIM 2.0 (qgov.identity.scim): the provider's bearer token, stored as a keyed hash like ApiToken keys.
    scim_token_hash = models.CharField(max_length=64, blank=True, editable=False)
    scim_token_prefix = models.CharField(_("SCIM token prefix"), max_length=12, blank=True, editable=False)
    scim_token_issued = models.DateTimeField(_("SCIM token issued"), null=True, blank=True, editable=False)

    scope_area = "identity"  # token scopes: identity:read, identity:write
    # Who signs in where is no webhook receiver's business.
    emits_webhooks = False
    action_map = dict.fromkeys((Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE, Action.EXPORT),
                               Action.MANAGE_IDENTITY)
    audit_exclude = ("created", "last_updated", "client_secret", "scim_token_hash")

    class Meta:
        ordering = ["agency", "name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="identityprovider_unique_agency_name",
                                    violation_error_message=_("The agency already has a provider of this name.")),
            models.UniqueConstraint(fields=["agency", "issuer"], name="identityprovider_unique_agency_issuer",
                                    violation_error_message=_("The agency already has a provider with this "
                                                              "issuer.")),
        ]
        verbose_name = _("identity provider")
        verbose_name_plural = _("identity providers")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("qgov:identityprovider_detail", args=[self.pk])

    @property
    def has_client_secret(self) -> bool:
        return bool(self.client_secret)

    def after_update(self, *, user, before):
        """Called by the core's update service: SCIM-kept memberships follow changed mappings at once (the
        sign-in's own follow them at each person's next sign-in)."""
        if before.get("role_mappings") != self.role_mappings:
            from qgov.identity.scim.services import scim_memberships_resync

            scim_memberships_resync(provider=self)

    def clean_delete(self):
        """A provider is retired by making it inactive, not deleted, while anything still rests on it: the
        memberships it keeps (by sign-in or SCIM) would go on granting roles that nothing recomputes any
        more, and its external identities are the record of who came in through it."""
        from qgov.choices import MembershipSourceChoices
        from qgov.models import Membership

        by_sign_in = Membership.objects.filter(source=MembershipSourceChoices.PROVIDER, provider=self).count()
        by_scim = Membership.objects.filter(
            source=MembershipSourceChoices.SCIM, agency_id=self.agency_id,
            user__external_identities__scim__provider=self).distinct().count()
        if by_sign_in or by_scim:
            raise ValidationError(
                ngettext("“%(provider)s” still keeps %(count)d membership of its agency (%(sign_in)d from sign-in, "
                         "%(scim)d from SCIM) that grants a role.",
                         "“%(provider)s” still keeps %(count)d memberships of its agency (%(sign_in)d from sign-in, "
                         "%(scim)d from SCIM) that grant roles.", by_sign_in + by_scim)
                % {"provider": self.name, "count": by_sign_in + by_scim, "sign_in": by_sign_in, "scim": by_scim}
                + " " + _("Make it inactive instead, or end those memberships first: remove its role mappings (its "
                          "SCIM memberships end at once) and delete its sign-in memberships on the members page."),
                code="provider_keeps_memberships")
        linked = self.external_identities.count()
        if linked:
            raise ValidationError(
                ngettext("“%(provider)s” has signed in or provisioned %(count)d person; it is kept as the record "
                         "of how they came in. Make it inactive instead.",
                         "“%(provider)s” has signed in or provisioned %(count)d people; it is kept as the record "
                         "of how they came in. Make it inactive instead.", linked)
                % {"provider": self.name, "count": linked},
                code="provider_has_identities")

    def role_for_groups(self, groups) -> str | None:
        """The strongest role the mappings give these groups; None when none is mapped."""
        wanted = {str(group) for group in groups}
        roles = {m["role"] for m in self.role_mappings if m.get("claim_value") in wanted}
        return next((role for role in reversed(PROVIDER_GRANTABLE_ROLES) if role in roles), None)

    def fields_of_other_protocol(self) -> tuple[str, ...]:
        """The fields of the protocol this registration does not use (left off its page)."""
        if self.protocol == IdentityProviderProtocolChoices.SAML:
            return OIDC_ONLY_FIELDS
        return SAML_ONLY_FIELDS

    def clean(self):
        errors = {}
        if isinstance(self.role_mappings, list) and all(isinstance(m, dict) for m in self.role_mappings):
            self.role_mappings = [{**m, "claim_value": m["claim_value"].strip()} if isinstance(
                m.get("claim_value"), str) else m for m in self.role_mappings]
        if isinstance(self.email_domains, list) and all(isinstance(d, str) for d in self.email_domains):
            self.email_domains = sorted({d.strip().lower() for d in self.email_domains if d.strip()})
        if self.protocol == IdentityProviderProtocolChoices.SAML:
            from qgov.identity.saml.metadata import clean_saml_registration

            errors.update(clean_saml_registration(self))
        else:
            if not self.client_id:
                errors["client_id"] = [_("Give the client ID the provider issued for qgov.")]
            if not self.client_secret:
                errors["client_secret"] = [_("Give the client secret the provider issued for qgov.")]
        if errors:
            raise ValidationError(errors)


class ExternalIdentity(QgovModel):
    """A person as one provider registration knows them: the user signed in through (provider, subject).
    People are keyed on (issuer, subject): two agencies that register the same issuer share its people
    (qgov.identity.provisioning). Never matched by e-mail: the same address from another issuer is
    another user."""

    provider = models.ForeignKey(IdentityProvider, on_delete=models.PROTECT, related_name="external_identities",
                                 verbose_name=_("identity provider"))
    subject = models.CharField(_("subject"), max_length=255, help_text=_("The provider's `sub` for the person."))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="external_identities", verbose_name=_("user"))
    # Operational, written with a plain update (not an audited change) at each sign-in.
    last_sign_in = models.DateTimeField(_("last sign-in"), null=True, blank=True, editable=False)

    agency_lookup = "provider__agency"
    scope_area = "identity"
    emits_webhooks = False
    # Read by those who manage the agency's providers; written only by the provisioning service.
    action_map = {Action.VIEW: Action.MANAGE_IDENTITY, Action.EXPORT: Action.MANAGE_IDENTITY,
                  Action.ADD: PLATFORM_ONLY, Action.CHANGE: PLATFORM_ONLY, Action.DELETE: PLATFORM_ONLY}
    audit_exclude = ("created", "last_updated", "last_sign_in")
    create_only_fields = ("provider", "subject", "user")

    class Meta:
        ordering = ["provider", "subject"]
        constraints = [models.UniqueConstraint(fields=["provider", "subject"],
                                               name="externalidentity_unique_provider_subject")]
        verbose_name = _("external identity")
        verbose_name_plural = _("external identities")

    def __str__(self):
        return f"{self.subject} @ {self.provider}"

    @property
    def owning_agency_id(self):
        return self.provider.agency_id

    def get_absolute_url(self):
        return reverse("qgov:identityprovider_detail", args=[self.provider_id])
