import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from qgov.exports import ExportColumn
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

    export_columns = (
        ExportColumn("id", _("Run")), ExportColumn("file_name"), ExportColumn("format"),
        ExportColumn("content_type__name", _("Type")),  # read once per content type, not per row
        ExportColumn("status"), ExportColumn("requested_by"), ExportColumn("created", _("Uploaded")),
        ExportColumn("started"), ExportColumn("finished"), ExportColumn("rows_total"),
        ExportColumn("created_count", _("Created")), ExportColumn("updated_count", _("Updated")),
        ExportColumn("unchanged_count", _("Unchanged")), ExportColumn("failed_count"),
    )

    def render_record_type(self, record):
        return record.content_type.model_class()._meta.verbose_name_plural
