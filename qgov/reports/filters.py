import django_filters

from qgov.choices import ImportRunStatusChoices as RunStatusChoices
from qgov.filters import QgovFilterSet
from qgov.reports.choices import ReportKindChoices, ScheduleFrequencyChoices
from qgov.reports.models import ReportRun, ReportSchedule


class ReportRunFilterSet(QgovFilterSet):
    search_fields = ("requested_by__username",)
    kind = django_filters.MultipleChoiceFilter(choices=ReportKindChoices.choices)
    status = django_filters.MultipleChoiceFilter(choices=RunStatusChoices.choices)

    class Meta:
        model = ReportRun
        fields = ["agency", "kind", "status", "schedule"]


class ReportScheduleFilterSet(QgovFilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=ReportKindChoices.choices)
    frequency = django_filters.MultipleChoiceFilter(choices=ScheduleFrequencyChoices.choices)

    class Meta:
        model = ReportSchedule
        fields = ["agency", "kind", "frequency", "enabled"]
