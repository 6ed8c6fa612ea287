import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from qgov.models import ImportRun
from qgov.tables import QgovTable


class ImportRunTable(QgovTable):
    id = tables.Column(linkify=True, verbose_name="#")
    file_name = tables.Column(linkify=True)
    record_type = tables.Column(accessor="content_type__model", verbose_name=_("Type"), orderable=False)
    requested_by = tables.Column(order_by=("requested_by__username",))
    created = tables.DateTimeColumn(format="Y-m-d H:i T", verbose_name=_("Uploaded"))

    class Meta(QgovTable.Meta):
        model = ImportRun
        fields = ("id", "file_name", "record_type", "status", "requested_by", "created", "rows_total",
                  "created_count", "updated_count", "unchanged_count", "failed_count")

    def render_record_type(self, record):
        return record.content_type.model_class()._meta.verbose_name_plural
