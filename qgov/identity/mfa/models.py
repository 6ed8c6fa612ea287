"""A user's second factors and recovery codes. Re-exported by qgov.models."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from qgov.identity.crypto import SealedTextField


class AuthenticatorKindChoices(models.TextChoices):
    PASSKEY = "passkey", _("Passkey")
    TOTP = "totp", _("Authenticator app (TOTP)")


class Authenticator(models.Model):
    """One passkey or TOTP app of a user. Written by qgov.identity.mfa.services only; the operational
    fields (last use, sign count, last TOTP step) with plain conditional updates, never audited."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="authenticators",
                             verbose_name=_("user"), editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=AuthenticatorKindChoices.choices, editable=False)
    name = models.CharField(_("name"), max_length=100)
    created = models.DateTimeField(_("added"), auto_now_add=True)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    # Passkeys: the credential as registered (base64url id; COSE public key).
    credential_id = models.CharField(_("credential ID"), max_length=1400, unique=True, null=True, blank=True,
                                     editable=False)
    public_key = models.BinaryField(_("public key"), null=True, blank=True, editable=False)
    sign_count = models.PositiveBigIntegerField(_("signature counter"), default=0, editable=False)
    transports = models.JSONField(_("transports"), default=list, blank=True, editable=False)
    backup_eligible = models.BooleanField(_("can be backed up"), default=False, editable=False)
    backup_state = models.BooleanField(_("backed up"), default=False, editable=False)
    user_verified = models.BooleanField(_("user verified at registration"), default=False, editable=False)
    # TOTP: the shared secret sealed at rest, and the last time step accepted (each step counts once).
    totp_secret = SealedTextField(_("TOTP secret"), blank=True, editable=False)
    totp_last_step = models.BigIntegerField(_("last accepted time step"), default=-1, editable=False)

    class Meta:
        ordering = ["user", "created", "pk"]
        verbose_name = _("authenticator")
        verbose_name_plural = _("authenticators")

    def __str__(self):
        return f"{self.get_kind_display()} “{self.name}” of {self.user}"


class RecoveryCode(models.Model):
    """One single-use recovery code, kept only as a salted hash (qgov.identity.mfa.recovery)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes",
                             verbose_name=_("user"), editable=False)
    code_hash = models.CharField(_("code hash"), max_length=200, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    used_at = models.DateTimeField(_("used"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["user", "pk"]
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")

    def __str__(self):
        return f"recovery code #{self.pk} of {self.user}"
