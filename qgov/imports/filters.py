import django_filters
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _

from qgov.choices import ImportRunStatusChoices
from qgov.filters import QgovFilterSet
from qgov.models import ImportRun


class ImportRunFilterSet(QgovFilterSet):
    search_fields = ("file_name", "sha256", "requested_by__username")
    status = django_filters.MultipleChoiceFilter(choices=ImportRunStatusChoices.choices)
    model = django_filters.CharFilter(method="filter_model", label=_("Record type (app.model)"))

    class Meta:
        model = ImportRun
        fields = ["agency", "status", "format"]

    def filter_model(self, queryset, name, value):
        app_label, _dot, model = value.lower().partition(".")
        content_type = ContentType.objects.filter(app_label=app_label, model=model).first()
        return queryset.filter(content_type=content_type) if content_type else queryset.none()
