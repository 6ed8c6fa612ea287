from django import forms
from django.apps import apps
from django.utils.translation import gettext_lazy as _

from qgov.forms import QgovModelForm, style_form
from qgov.integrations.events import FIXED_EVENT_TYPES, known_event_types
from qgov.integrations.webhooks.models import WebhookEndpoint

FIXED_EVENT_LABELS = {"duedate.reminder": _("Due-date reminder"), "report.ready": _("Report ready"),
                      "webhook.test": _("Test event")}


def event_type_choices() -> list:
    """The event types grouped by record type ("Risks": created, updated, …, each transition)."""
    groups: dict[str, list] = {}
    for name in known_event_types():
        if name in FIXED_EVENT_TYPES:
            groups.setdefault(str(_("Other events")), []).append((name, FIXED_EVENT_LABELS.get(name, name)))
            continue
        app_label, model_name, verb = name.split(".", 2)
        model = apps.get_model(app_label, model_name)
        groups.setdefault(str(model._meta.verbose_name_plural).capitalize(), []).append((name, f"{verb} ({name})"))
    return sorted(groups.items())


class WebhookEndpointForm(QgovModelForm):
    event_types = forms.MultipleChoiceField(
        label=_("Event types"), required=False,
        help_text=_("What this receiver is sent, unless it receives all events."))

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "target_url", "description", "all_events", "event_types", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event_types"].choices = event_type_choices()
        self.fields["event_types"].widget.attrs["size"] = 12
        if self.instance.pk is None:
            self.fields.pop("is_active")  # a new endpoint starts active


class RedeliverSinceForm(forms.Form):
    since = forms.DateTimeField(label=_("Failed since"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                help_text=_("Every failed delivery created at or after this time is sent again."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)
