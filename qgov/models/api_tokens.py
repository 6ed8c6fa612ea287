"""API tokens: keyed-hashed, expiring, revocable, limited to agencies, scopes and networks."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qgov import tokens
from qgov.models.agencies import Agency


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True, expires__gt=now)


def hash_token_key(key: str) -> str:
    return tokens.hash_secret(key)


class ApiToken(models.Model):
    """A bearer token for the REST API. Only a keyed hash of its secret is stored; the secret is
    shown once. Its agencies and scopes narrow what its user may do (qgov.permissions.TokenGrant)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    agencies = models.ManyToManyField(
        Agency,
        blank=True,
        related_name="api_tokens",
        verbose_name=_("agencies"),
        help_text=_("The agencies the token may act in; none: every agency of its user."),
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=tokens.PREFIX_LENGTH, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(
        _("scopes"), default=list,
        help_text=_("read, write (which includes read), or per area: <area>:read, <area>:write, <area>:manage."))
    allowed_ips = models.JSONField(
        _("allowed addresses"), default=list, blank=True,
        help_text=_("Networks in CIDR notation the token may be used from; none: any address."))
    created = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expires = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    audit_exclude = ("key_hash", "last_used", "created")

    class Meta:
        ordering = ["-created"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate_key() -> str:
        return tokens.generate_secret()

    def set_key(self, key: str):
        self.prefix = key[:tokens.PREFIX_LENGTH]
        self.key_hash = hash_token_key(key)

    def clean(self):
        errors = {}
        try:
            self.scopes = tokens.clean_scopes(self.scopes)
        except ValidationError as error:
            errors["scopes"] = error.messages
        try:
            self.allowed_ips = tokens.clean_networks(self.allowed_ips)
        except ValidationError as error:
            errors["allowed_ips"] = error.messages
        if self._state.adding and self.expires is not None:
            now = timezone.now()
            if self.expires <= now:
                errors["expires"] = [_("The expiry must be in the future.")]
            elif self.expires > now + timedelta(days=tokens.MAX_LIFETIME_DAYS):
                errors["expires"] = [_("A token may be valid for at most %(days)s days.")
                                     % {"days": tokens.MAX_LIFETIME_DAYS}]
        if errors:
            raise ValidationError(errors)

    @property
    def is_active(self):
        return self.revoked_at is None and self.expires > timezone.now()

    @property
    def owning_agency_id(self):
        """Whose audit chain records the token: its first agency's (a personal token's: the platform's)."""
        if self.pk is None:
            return None
        return min((agency.pk for agency in self.agencies.all()), default=None)

    def grant(self):
        from qgov.permissions import TokenGrant

        agency_ids = frozenset(agency.pk for agency in self.agencies.all())
        return TokenGrant(user_id=self.user_id, agency_ids=agency_ids or None, scopes=frozenset(self.scopes))
