"""The stored answers of API writes sent with an `Idempotency-Key`. Re-exported by qgov.models."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IdempotencyKey(models.Model):
    """One key of one caller (an API token, or a user signed in to the browser session) and the
    answer of the write it was first sent with. Written in the transaction of that write, so the
    key exists exactly when the change does."""

    scope = models.CharField(_("scope"), max_length=40, editable=False,
                             help_text=_('Whose key: "token:<id>" or "user:<id>".'))
    key = models.CharField(_("key"), max_length=255, editable=False)
    fingerprint = models.CharField(_("fingerprint"), max_length=64, editable=False,
                                   help_text=_("SHA-256 of the method, path, query and canonical body."))
    method = models.CharField(_("method"), max_length=10, editable=False)
    path = models.CharField(_("path"), max_length=2000, editable=False)
    status = models.PositiveSmallIntegerField(_("status"), editable=False)
    headers = models.JSONField(_("headers"), default=dict, editable=False,
                               help_text=_("The answer's headers that are replayed (Content-Type, Location, ETag)."))
    body = models.BinaryField(_("body"), editable=False)
    created = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    expires = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="qgov_idempotency_key_unique")]
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")

    def __str__(self):
        return f"{self.scope} {self.key}"
