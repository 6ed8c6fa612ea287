import json

import django_tables2 as tables
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from qgov.exports import ExportColumn
from qgov.reports.models import ReportRun, ReportSchedule
from qgov.tables import BadgeColumn, QgovTable, shown_from


def short_hash_html(sha256: str, label: str = ""):
    """A SHA-256 shortened to its first 12 characters; the whole value in the title (and copied with
    the text: the rest is only hidden, not cut)."""
    return format_html('<code class="qgov-hash d-block text-nowrap" title="SHA-256 {}">{}{}'
                       '<span class="visually-hidden">{}</span>…</code>',
                       sha256, f"{label} " if label else "", sha256[:12], sha256[12:])


STATUS_COLOURS = {"queued": "#6c757d", "running": "#0d6efd", "succeeded": "#198754", "failed": "#dc3545"}


class ReportRunTable(QgovTable):
    id = tables.Column(linkify=True, verbose_name="#")
    kind = tables.Column(linkify=lambda record: record.get_absolute_url())
    as_of = tables.DateTimeColumn(attrs={"td": {"class": "text-nowrap"}})
    status = BadgeColumn(lambda record, table: (record.get_status_display(), STATUS_COLOURS.get(record.status)))
    requested_by = tables.Column(order_by=("requested_by__username",),
                                 default=_("schedule"))  # a scheduled run was requested by no one
    # On a phone the run's page has these; the list keeps what tells runs apart.
    created = tables.DateTimeColumn(verbose_name=_("Requested"), attrs=shown_from("lg"))
    finished = tables.DateTimeColumn(attrs=shown_from("lg"))
    hashes = tables.Column(accessor="pk", verbose_name=_("Files (SHA-256)"), orderable=False)

    class Meta(QgovTable.Meta):
        model = ReportRun
        fields = ("id", "kind", "as_of", "status", "requested_by", "created", "finished", "hashes")

    export_columns = (
        ExportColumn("id", _("Run")), ExportColumn("kind"), ExportColumn("as_of"), ExportColumn("status"),
        ExportColumn("marking"), ExportColumn("requested_by__username", _("Requested by")),
        ExportColumn("created", _("Requested")), ExportColumn("finished"), ExportColumn("error"),
        ExportColumn("files__sha256", _("SHA-256 of the files")),
    )

    def render_hashes(self, record):
        files = record.files.all()  # prefetched with the page
        if not files:
            return "—"
        return format_html_join(" ", "{}", ((short_hash_html(f.sha256, f.format.upper()),) for f in files))


class ReportScheduleTable(QgovTable):
    kind = tables.Column(linkify=True)
    next_run_at = tables.DateTimeColumn()
    last_run_at = tables.DateTimeColumn()

    class Meta(QgovTable.Meta):
        model = ReportSchedule
        fields = ("kind", "frequency", "marking", "page_size", "enabled", "next_run_at", "last_run_at")

    export_columns = (
        ExportColumn("kind"), ExportColumn("frequency"),
        ExportColumn(header=_("Parameters"), value=lambda record, table: json.dumps(record.parameters, sort_keys=True)),
        ExportColumn("marking"),
        ExportColumn("page_size"), ExportColumn("enabled"), ExportColumn("next_run_at"),
        ExportColumn("last_run_at"),
    )
