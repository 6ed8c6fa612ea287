"""Forms of the regulator clocks, timeline and key actions."""

from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.models import (
    AgencyRegime,
    KeyAction,
    RegulatorClock,
    RegulatorNotification,
    RegulatorRegime,
    TimelineEntry,
)
from qgov.forms import QgovModelForm

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class RegulatorRegimeForm(QgovModelForm):
    class Meta:
        model = RegulatorRegime
        fields = ["code", "name", "citation", "applies_from", "description", "sources"]


class RegulatorClockForm(QgovModelForm):
    class Meta:
        model = RegulatorClock
        fields = ["regime", "code", "label", "position", "start", "hours", "months", "awareness_hours", "after"]


class AgencyRegimeForm(QgovModelForm):
    class Meta:
        model = AgencyRegime
        fields = ["regime", "notes"]


class RegulatorNotificationForm(QgovModelForm):
    """Recording that a notification was sent (its deadline is computed, not typed)."""

    class Meta:
        model = RegulatorNotification
        fields = ["sent_at", "reference"]
        widgets = {"sent_at": DATETIME_WIDGET}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sent_at"].required = True


class TimelineEntryForm(QgovModelForm):
    class Meta:
        model = TimelineEntry
        fields = ["incident", "at", "text", "corrects"]
        widgets = {"at": DATETIME_WIDGET, "text": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["corrects"].help_text = _("Only to correct an earlier entry of the same incident.")


class KeyActionForm(QgovModelForm):
    class Meta:
        model = KeyAction
        fields = ["incident", "action", "key_ids", "sae_ids", "kme_ids", "window_start", "window_end", "deviation",
                  "performed_at", "note"]
        widgets = {"window_start": DATETIME_WIDGET, "window_end": DATETIME_WIDGET, "performed_at": DATETIME_WIDGET,
                   "key_ids": forms.Textarea(attrs={"rows": 3}), "note": forms.Textarea(attrs={"rows": 3})}
