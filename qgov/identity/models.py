"""Signed-in browser sessions, one record each, for the "Your sessions" page and the audit trail.
Re-exported by qgov.models."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from qgov.identity.choices import UserSessionEndReasonChoices


class UserSessionQuerySet(models.QuerySet):
    def open(self):
        return self.filter(ended_at__isnull=True)


class UserSession(models.Model):
    """One browser sign-in. `key_hash` is the key under which the session store keeps the session
    (qgov.identity.store): the cookie's value itself is never stored, and ending a record deletes
    exactly that session."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="browser_sessions",
                             verbose_name=_("user"), editable=False)
    key_hash = models.CharField(_("session key hash"), max_length=40, unique=True, editable=False)
    created = models.DateTimeField(_("signed in"), editable=False)
    last_seen = models.DateTimeField(_("last seen"), editable=False)
    client_ip = models.CharField(_("client address"), max_length=45, blank=True, editable=False)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True, editable=False)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True, editable=False)
    end_reason = models.CharField(_("ended because"), max_length=20, choices=UserSessionEndReasonChoices.choices,
                                  blank=True, editable=False)

    objects = UserSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["user", "ended_at"], name="qgov_usersession_user_open")]
        verbose_name = _("browser session")
        verbose_name_plural = _("browser sessions")

    def __str__(self):
        return f"{self.user} from {self.client_ip or 'an unknown address'} at {self.created:%Y-%m-%d %H:%M}"
