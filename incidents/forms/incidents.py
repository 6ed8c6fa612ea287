"""Forms of playbooks, incidents and checklist steps."""

from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.choices import IncidentStatusChoices
from incidents.models import Incident, IncidentStep, Playbook, PlaybookStep
from qgov.forms import QgovModelForm, style_form
from qgov.roles import Action


class PlaybookForm(QgovModelForm):
    class Meta:
        model = Playbook
        fields = ["code", "title", "incident_type", "description", "citations"]


class PlaybookStepForm(QgovModelForm):
    class Meta:
        model = PlaybookStep
        fields = ["playbook", "position", "phase", "csf_category", "instruction", "mandatory", "role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only playbooks the user may change: an agency admin's copies, every one for a platform admin.
        field = self.fields["playbook"]
        if not field.disabled:
            field.queryset = Playbook.objects.restrict(self.user, Action.CHANGE).order_by("code")


DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class IncidentForm(QgovModelForm):
    class Meta:
        model = Incident
        fields = ["reference", "title", "incident_type", "severity", "marking", "classification", "detected_at",
                  "classified_at", "reporter_name", "playbook", "description", "devices", "assets", "risks",
                  "suppliers", "regimes"]
        widgets = {"detected_at": DATETIME_WIDGET, "classified_at": DATETIME_WIDGET}


class IncidentReviewForm(QgovModelForm):
    """The post-incident review on the incident's page: what closing needs."""

    class Meta:
        model = Incident
        fields = ["review_summary", "root_cause", "lessons", "follow_up_risks"]
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in ("review_summary", "root_cause", "lessons")}


class IncidentStepForm(QgovModelForm):
    class Meta:
        model = IncidentStep
        fields = ["incident", "position", "phase", "csf_category", "instruction", "mandatory", "role", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["incident"]
        if not field.disabled:  # a step is added to a running response, not to a closed one
            field.queryset = field.queryset.exclude(status=IncidentStatusChoices.CLOSED)


class StepCompleteForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.TextInput(attrs={"placeholder": _("What was done (optional)")}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)


class PlaybookCopyForm(forms.Form):
    """Nothing to fill in: the copy is the template as it is now, in the active agency."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
