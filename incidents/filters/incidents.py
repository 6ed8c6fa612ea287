"""One filterset per incidents model, shared by the UI lists, the API and internal queries."""

import django_filters
from django.utils.translation import gettext_lazy as _

from certification.models import Device
from incidents.choices import (
    IncidentStatusChoices,
    IncidentTypeChoices,
    MarkingChoices,
    PhaseChoices,
    SeverityChoices,
)
from incidents.models import Incident, IncidentStep, Playbook, PlaybookStep
from procurement.models import Supplier
from qgov.filters import QgovFilterSet, UtcIsoDateTimeFilter
from risks.models import Asset, Risk


class PlaybookFilterSet(QgovFilterSet):
    search_fields = ("code", "title", "description")
    incident_type = django_filters.MultipleChoiceFilter(choices=IncidentTypeChoices.choices)
    template = django_filters.BooleanFilter(field_name="agency", lookup_expr="isnull",
                                            label=_("Platform template"))

    class Meta:
        model = Playbook
        fields = ["agency", "incident_type", "source"]


class PlaybookStepFilterSet(QgovFilterSet):
    search_fields = ("instruction", "role", "csf_category")
    phase = django_filters.MultipleChoiceFilter(choices=PhaseChoices.choices)

    class Meta:
        model = PlaybookStep
        fields = ["playbook", "phase", "mandatory"]


class IncidentFilterSet(QgovFilterSet):
    search_fields = ("reference", "title", "description")
    status = django_filters.MultipleChoiceFilter(choices=IncidentStatusChoices.choices)
    incident_type = django_filters.MultipleChoiceFilter(choices=IncidentTypeChoices.choices)
    severity = django_filters.MultipleChoiceFilter(choices=SeverityChoices.choices)
    marking = django_filters.MultipleChoiceFilter(choices=MarkingChoices.choices)
    device = django_filters.ModelChoiceFilter(field_name="devices", queryset=Device.objects.all(),
                                              label=_("Device"))
    asset = django_filters.ModelChoiceFilter(field_name="assets", queryset=Asset.objects.all(), label=_("Asset"))
    risk = django_filters.ModelChoiceFilter(field_name="risks", queryset=Risk.objects.all(), label=_("Risk"))
    supplier = django_filters.ModelChoiceFilter(field_name="suppliers", queryset=Supplier.objects.all(),
                                                label=_("Supplier"))
    detected_after = UtcIsoDateTimeFilter(field_name="detected_at", lookup_expr="gte",
                                                      label=_("Detected from"))
    detected_before = UtcIsoDateTimeFilter(field_name="detected_at", lookup_expr="lt",
                                                       label=_("Detected before"))

    class Meta:
        model = Incident
        fields = ["agency", "status", "incident_type", "severity", "marking", "playbook"]


class IncidentStepFilterSet(QgovFilterSet):
    search_fields = ("instruction", "role", "note")
    phase = django_filters.MultipleChoiceFilter(choices=PhaseChoices.choices)
    done = django_filters.BooleanFilter(field_name="completed_at", lookup_expr="isnull", exclude=True,
                                        label=_("Done"))

    class Meta:
        model = IncidentStep
        fields = ["incident", "phase", "mandatory"]
