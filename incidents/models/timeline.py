"""An incident's timeline: append-only entries (who, when, what). A mistake is corrected by a new
entry that references the old one; nothing is edited or removed."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.choices import TimelineEntryKindChoices
from incidents.models.incidents import MarkedByIncident
from qgov.fields import LongTextField
from qgov.models import AgencyScopedModel
from qgov.roles import Action

APPEND_ONLY = _("Timeline entries are append-only: add a correction that references the entry instead.")


class TimelineEntry(MarkedByIncident, AgencyScopedModel):
    incident = models.ForeignKey("incidents.Incident", on_delete=models.PROTECT, related_name="timeline",
                                 verbose_name=_("incident"))
    at = models.DateTimeField(_("at"), default=timezone.now, help_text=_("When it happened (not in the future)."))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+", editable=False, verbose_name=_("author"))
    author_name = models.CharField(_("author name"), max_length=200, blank=True, editable=False,
                                   help_text=_("The author's name when it was written (kept if the account goes)."))
    kind = models.CharField(_("kind"), max_length=20, choices=TimelineEntryKindChoices.choices,
                            default=TimelineEntryKindChoices.NOTE, editable=False)
    text = LongTextField(_("text"), max_length=4000)
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="corrections", verbose_name=_("corrects"),
                                 help_text=_("The entry of the same incident this one corrects."))

    creator_field = "author"
    create_only_fields = ("agency", "incident", "at", "text", "corrects")
    # Nobody edits or deletes an entry, platform admins included (save and delete refuse too).
    action_map = {Action.CHANGE: None, Action.DELETE: None}

    class Meta:
        ordering = ["incident", "at", "pk"]
        indexes = [models.Index(fields=["incident", "at"])]
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")

    def __str__(self):
        return f"{timezone.localtime(self.at):%Y-%m-%d %H:%M} {self.text[:60]}"

    def get_absolute_url(self):
        return self.incident.get_absolute_url() + f"#timeline-{self.pk}"

    def clean(self):
        errors = {}
        if self.incident_id and self.agency_id and self.incident.agency_id != self.agency_id:
            errors["incident"] = _("Choose an incident of the same agency.")
        if self.at and self.at > timezone.now():
            errors["at"] = _("A timeline entry records what happened: not in the future.")
        if self.corrects_id is not None and self.corrects.incident_id != self.incident_id:
            errors["corrects"] = _("Correct an entry of the same incident.")
        if not (self.text or "").strip():
            errors["text"] = _("Say what happened.")
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError(str(APPEND_ONLY))
        if self.author_id and not self.author_name:
            self.author_name = self.author.get_full_name() or self.author.get_username()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(str(APPEND_ONLY))
