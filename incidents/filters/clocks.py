"""Filtersets of the regulator clocks, timeline and key actions (UI lists, API, internal queries)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from incidents.choices import (
    KeyActionChoices,
    KeyDeviationChoices,
    RegulatorClockStartChoices,
    TimelineEntryKindChoices,
)
from incidents.models import (
    AgencyRegime,
    KeyAction,
    RegulatorClock,
    RegulatorNotification,
    RegulatorRegime,
    TimelineEntry,
)
from qgov.filters import QgovFilterSet, UtcIsoDateTimeFilter


class RegulatorRegimeFilterSet(QgovFilterSet):
    search_fields = ("code", "name", "citation", "description")

    class Meta:
        model = RegulatorRegime
        fields = ["code"]


class RegulatorClockFilterSet(QgovFilterSet):
    search_fields = ("code", "label")
    start = django_filters.MultipleChoiceFilter(choices=RegulatorClockStartChoices.choices)

    class Meta:
        model = RegulatorClock
        fields = ["regime", "start"]


class AgencyRegimeFilterSet(QgovFilterSet):
    search_fields = ("regime__code", "regime__name", "notes")

    class Meta:
        model = AgencyRegime
        fields = ["agency", "regime"]


class RegulatorNotificationFilterSet(QgovFilterSet):
    search_fields = ("reference", "incident__reference", "incident__title")
    sent = django_filters.BooleanFilter(field_name="sent_at", lookup_expr="isnull", exclude=True, label=_("Sent"))
    due_before = UtcIsoDateTimeFilter(field_name="due_at", lookup_expr="lt", label=_("Due before"))

    class Meta:
        model = RegulatorNotification
        fields = ["agency", "incident", "regime", "clock"]


class TimelineEntryFilterSet(QgovFilterSet):
    search_fields = ("text", "author_name")
    kind = django_filters.MultipleChoiceFilter(choices=TimelineEntryKindChoices.choices)

    class Meta:
        model = TimelineEntry
        fields = ["agency", "incident", "kind", "corrects"]


class KeyActionFilterSet(QgovFilterSet):
    search_fields = ("key_ids", "sae_ids", "kme_ids", "note")
    action = django_filters.MultipleChoiceFilter(choices=KeyActionChoices.choices)
    deviation = django_filters.MultipleChoiceFilter(choices=KeyDeviationChoices.choices)

    class Meta:
        model = KeyAction
        fields = ["agency", "incident", "action", "deviation"]
