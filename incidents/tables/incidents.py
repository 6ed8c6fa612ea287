"""Tables of playbooks, incidents and checklist steps."""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from incidents.choices import MARKING_COLOURS, SEVERITY_COLOURS, IncidentStatusChoices
from incidents.models import Incident, IncidentStep, Playbook, PlaybookStep
from qgov.exports import ExportColumn
from qgov.tables import BadgeColumn, QgovTable

STATUS_COLOURS = {
    IncidentStatusChoices.REPORTED: "info", IncidentStatusChoices.TRIAGE: "primary",
    IncidentStatusChoices.CONTAINED: "warning", IncidentStatusChoices.ERADICATED: "warning",
    IncidentStatusChoices.RECOVERED: "success", IncidentStatusChoices.CLOSED: "secondary",
}


def theme_colour(name):
    return f"var(--bs-{name})" if name else None


def _status(record, table):
    return record.get_status_display(), theme_colour(STATUS_COLOURS.get(record.status))


def _severity(record, table):
    return record.get_severity_display(), theme_colour(SEVERITY_COLOURS.get(record.severity))


def _marking(record, table):
    colour = MARKING_COLOURS.get(record.marking)
    return record.marking, "#000" if record.marking == "TLP:RED" else theme_colour(colour)


def _kind(record, table):
    return (_("Template"), theme_colour("primary")) if record.agency_id is None else (
        _("Agency copy") if record.source_id else _("Agency playbook"), theme_colour("secondary"))


class PlaybookTable(QgovTable):
    code = tables.Column(linkify=True)
    kind = BadgeColumn(_kind, order_by=("agency",), verbose_name=_("Kind"))

    class Meta(QgovTable.Meta):
        model = Playbook
        fields = ("code", "title", "incident_type", "kind", "version")

    export_columns = (
        ExportColumn("code"), ExportColumn("title"), ExportColumn("incident_type"), ExportColumn("agency"),
        ExportColumn("source"), ExportColumn("source_version"), ExportColumn("version"), ExportColumn("description"),
    )


class PlaybookStepTable(QgovTable):
    position = tables.Column(linkify=True)
    playbook = tables.Column(accessor="playbook__code", order_by=("playbook__code",), verbose_name=_("Playbook"))

    class Meta(QgovTable.Meta):
        model = PlaybookStep
        fields = ("playbook", "position", "phase", "csf_category", "instruction", "mandatory", "role")

    export_columns = (
        ExportColumn("playbook__code"), ExportColumn("position"), ExportColumn("phase"), ExportColumn("csf_category"),
        ExportColumn("instruction"), ExportColumn("mandatory"), ExportColumn("role"),
    )


# Every file of incidents carries the handling marking of each row (first, where nobody misses it).
MARKING_EXPORT = (ExportColumn("marking"), ExportColumn("classification"))


class IncidentTable(QgovTable):
    marking = BadgeColumn(_marking, order_by=("marking",), verbose_name=_("Marking"))
    reference = tables.Column(linkify=True)
    severity = BadgeColumn(_severity, order_by=("severity",), verbose_name=_("Severity"))
    status = BadgeColumn(_status, order_by=("status",), verbose_name=_("Status"))
    detected_at = tables.DateTimeColumn(format="Y-m-d H:i", attrs={"td": {"class": "text-nowrap"}})

    class Meta(QgovTable.Meta):
        model = Incident
        fields = ("marking", "reference", "title", "incident_type", "severity", "status", "detected_at")

    export_columns = (
        *MARKING_EXPORT, ExportColumn("reference"), ExportColumn("title"), ExportColumn("incident_type"),
        ExportColumn("severity"), ExportColumn("status"), ExportColumn("detected_at"), ExportColumn("classified_at"),
        ExportColumn("closed_at"), ExportColumn("reported_by"), ExportColumn("reporter_name"),
        ExportColumn("playbook__code"), ExportColumn("devices__name"), ExportColumn("assets__name"),
        ExportColumn("risks__reference"), ExportColumn("suppliers__name"), ExportColumn("description"),
        ExportColumn("review_summary"), ExportColumn("root_cause"), ExportColumn("lessons"),
        ExportColumn("follow_up_risks__reference"),
    )


class IncidentStepTable(QgovTable):
    position = tables.Column(linkify=True)
    incident = tables.Column(accessor="incident__reference", order_by=("incident__reference",),
                             verbose_name=_("Incident"))
    completed_at = tables.DateTimeColumn(format="Y-m-d H:i")

    class Meta(QgovTable.Meta):
        model = IncidentStep
        fields = ("incident", "position", "phase", "instruction", "mandatory", "role", "completed_at", "completed_by")

    export_columns = (
        ExportColumn("incident__marking", _("Marking")), ExportColumn("incident__reference"), ExportColumn("position"),
        ExportColumn("phase"), ExportColumn("csf_category"), ExportColumn("instruction"), ExportColumn("mandatory"),
        ExportColumn("role"), ExportColumn("completed_at"), ExportColumn("completed_by"), ExportColumn("note"),
    )
