"""Key actions: which keys an incident declared compromised (by key ID, never key bytes), which SAEs
and KMEs they touched, over which window, and what was done to them."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.choices import KeyActionChoices, KeyDeviationChoices
from incidents.keymaterial import key_material_kind, key_material_message
from incidents.models.incidents import MarkedByIncident
from qgov.fields import LongTextField
from qgov.models import AgencyScopedModel
from qgov.roles import Action


class KeyAction(MarkedByIncident, AgencyScopedModel):
    incident = models.ForeignKey("incidents.Incident", on_delete=models.PROTECT, related_name="key_actions",
                                 verbose_name=_("incident"))
    key_ids = LongTextField(_("key IDs"), max_length=4000,
                            help_text=_("GS QKD 014 key_IDs (UUIDs) or ranges of them (first..last), one per line. "
                                        "Never the keys themselves."))
    sae_ids = models.CharField(_("SAE IDs"), max_length=500, blank=True,
                               help_text=_("Secure application entities affected, comma-separated."))
    kme_ids = models.CharField(_("KME IDs"), max_length=500, blank=True,
                               help_text=_("Key management entities affected, comma-separated."))
    window_start = models.DateTimeField(_("window start"), null=True, blank=True,
                                        help_text=_("Start of the time window the keys were delivered in."))
    window_end = models.DateTimeField(_("window end"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=KeyActionChoices.choices)
    deviation = models.CharField(_("GS QKD 014 deviation"), max_length=30, choices=KeyDeviationChoices.choices,
                                 blank=True, help_text=_("The key-delivery deviation that caused it, if one did."))
    performed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", editable=False, verbose_name=_("performed by"))
    performed_at = models.DateTimeField(_("performed at"), default=timezone.now)
    note = LongTextField(_("note"), blank=True, max_length=4000)

    creator_field = "performed_by"
    create_only_fields = ("agency", "incident")
    # A record of what was done to keys: recorded, not rewritten (platform admins excepted).
    action_map = {Action.CHANGE: None, Action.DELETE: None}

    class Meta:
        ordering = ["incident", "performed_at", "pk"]
        verbose_name = _("key action")
        verbose_name_plural = _("key actions")

    def __str__(self):
        return f"{self.get_action_display()} {timezone.localtime(self.performed_at):%Y-%m-%d %H:%M}"

    def get_absolute_url(self):
        return self.incident.get_absolute_url() + f"#key-action-{self.pk}"

    def text_fields(self):
        return [field for field in self._meta.concrete_fields
                if isinstance(field, models.CharField | models.TextField) and not field.choices]

    def clean_fields(self, exclude=None):
        # Key material is refused before anything else looks at the text, field by field.
        errors = {}
        for field in self.text_fields():
            kind = key_material_kind(getattr(self, field.attname) or "")
            if kind is not None:
                errors[field.name] = [key_material_message(str(field.verbose_name), kind)]
        try:
            super().clean_fields(exclude=[*(exclude or ()), *errors])
        except ValidationError as error:
            errors.update(error.message_dict)
        if errors:
            raise ValidationError(errors)

    def clean(self):
        errors = {}
        if self.incident_id and self.agency_id and self.incident.agency_id != self.agency_id:
            errors["incident"] = _("Choose an incident of the same agency.")
        elif self._state.adding and self.incident_id and self.incident.status == "closed":
            # A closed incident's record is what its review signed off; more key work reopens it.
            errors["incident"] = _("The incident is closed: reopen it to record another key action.")
        if not (self.key_ids or "").strip():
            errors["key_ids"] = _("Name the key IDs (UUIDs) or ranges concerned.")
        if self.window_start and self.window_end and self.window_end < self.window_start:
            errors["window_end"] = _("The window cannot end before it starts.")
        if self.performed_at and self.performed_at > timezone.now():
            errors["performed_at"] = _("Record an action once it is done: not in the future.")
        if errors:
            raise ValidationError(errors)
