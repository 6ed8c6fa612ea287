"""What an agency's identity provider provisions over SCIM 2.0 (qgov.identity.scim): its users, each an
external identity of the provider with the SCIM attributes qgov keeps, and its groups, which reach
memberships only through the provider's role mappings. Re-exported by qgov.models."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from qgov.identity.providers.models import ExternalIdentity, IdentityProvider


class ScimUser(models.Model):
    """A user the provider provisioned: `identity` is its (provider, subject) link to the account."""

    scim_id = models.UUIDField(_("SCIM id"), default=uuid.uuid4, unique=True, editable=False)
    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="scim_users",
                                 verbose_name=_("identity provider"), editable=False)
    identity = models.OneToOneField(ExternalIdentity, on_delete=models.CASCADE, related_name="scim",
                                    verbose_name=_("external identity"), editable=False)
    user_name = models.CharField(_("SCIM userName"), max_length=255)
    external_id = models.CharField(_("SCIM externalId"), max_length=255, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    last_updated = models.DateTimeField(_("last updated"), auto_now=True)

    audit_exclude = ("created", "last_updated")

    class Meta:
        ordering = ["provider", "user_name"]
        constraints = [models.UniqueConstraint(fields=["provider", "user_name"],
                                               name="scimuser_unique_provider_user_name")]
        verbose_name = _("SCIM user")
        verbose_name_plural = _("SCIM users")

    def __str__(self):
        return f"{self.user_name} @ {self.provider}"

    @property
    def owning_agency_id(self):
        return self.provider.agency_id


class ScimGroup(models.Model):
    """A group the provider provisioned. Its displayName and its externalId are matched against the
    provider's role mappings (`claim_value`); an unmapped group gives nothing."""

    scim_id = models.UUIDField(_("SCIM id"), default=uuid.uuid4, unique=True, editable=False)
    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="scim_groups",
                                 verbose_name=_("identity provider"), editable=False)
    display_name = models.CharField(_("SCIM displayName"), max_length=256)
    external_id = models.CharField(_("SCIM externalId"), max_length=255, blank=True)
    members = models.ManyToManyField(ScimUser, blank=True, related_name="groups", verbose_name=_("members"))
    created = models.DateTimeField(_("created"), auto_now_add=True)
    last_updated = models.DateTimeField(_("last updated"), auto_now=True)

    audit_exclude = ("created", "last_updated")

    class Meta:
        ordering = ["provider", "display_name"]
        constraints = [models.UniqueConstraint(fields=["provider", "display_name"],
                                               name="scimgroup_unique_provider_display_name")]
        verbose_name = _("SCIM group")
        verbose_name_plural = _("SCIM groups")

    def __str__(self):
        return f"{self.display_name} @ {self.provider}"

    @property
    def owning_agency_id(self):
        return self.provider.agency_id

    @property
    def claim_values(self) -> set[str]:
        return {value for value in (self.display_name, self.external_id) if value}


def _register_audited():
    # Plain models (no agency-admin pages of their own), audited like QgovModels: every SCIM change is an event.
    from qgov import audit

    audit.register(ScimUser, exclude=ScimUser.audit_exclude)
    audit.register(ScimGroup, exclude=ScimGroup.audit_exclude)


_register_audited()
