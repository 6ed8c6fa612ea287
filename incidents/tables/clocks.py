"""Tables of the regulator clocks, timeline and key actions."""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from incidents.models import (
    AgencyRegime,
    KeyAction,
    RegulatorClock,
    RegulatorNotification,
    RegulatorRegime,
    TimelineEntry,
)
from qgov.exports import ExportColumn
from qgov.tables import QgovTable


class RegulatorRegimeTable(QgovTable):
    code = tables.Column(linkify=True)

    class Meta(QgovTable.Meta):
        model = RegulatorRegime
        fields = ("code", "name", "citation", "applies_from")

    export_columns = (ExportColumn("code"), ExportColumn("name"), ExportColumn("citation"),
                      ExportColumn("applies_from"), ExportColumn("description"))


class RegulatorClockTable(QgovTable):
    label = tables.Column(linkify=True)
    regime = tables.Column(accessor="regime__code", order_by=("regime__code",), verbose_name=_("Regime"))

    class Meta(QgovTable.Meta):
        model = RegulatorClock
        fields = ("regime", "label", "start", "hours", "months", "awareness_hours", "after")

    export_columns = (ExportColumn("regime"), ExportColumn("code"), ExportColumn("label"), ExportColumn("start"),
                      ExportColumn("hours"), ExportColumn("months"), ExportColumn("awareness_hours"),
                      ExportColumn("after"))


class AgencyRegimeTable(QgovTable):
    regime = tables.Column(linkify=True)

    class Meta(QgovTable.Meta):
        model = AgencyRegime
        fields = ("regime", "notes")

    export_columns = (ExportColumn("agency"), ExportColumn("regime"), ExportColumn("notes"))


class RegulatorNotificationTable(QgovTable):
    incident = tables.Column(linkify=True)
    regime = tables.Column(accessor="regime__code", order_by=("regime__code",), verbose_name=_("Regime"))

    class Meta(QgovTable.Meta):
        model = RegulatorNotification
        fields = ("incident", "regime", "clock", "clock_start", "due_at", "sent_at", "reference")

    export_columns = (ExportColumn("incident"), ExportColumn("regime"), ExportColumn("clock"),
                      ExportColumn("clock_start"), ExportColumn("due_at"), ExportColumn("sent_at"),
                      ExportColumn("reference"), ExportColumn("sent_by"))


class TimelineEntryTable(QgovTable):
    at = tables.Column(linkify=True)

    class Meta(QgovTable.Meta):
        model = TimelineEntry
        fields = ("at", "incident", "kind", "author_name", "text", "corrects")

    export_columns = (ExportColumn("incident"), ExportColumn("at"), ExportColumn("kind"), ExportColumn("author_name"),
                      ExportColumn("text"), ExportColumn("corrects"), ExportColumn("created"))


class KeyActionTable(QgovTable):
    performed_at = tables.Column(linkify=True)

    class Meta(QgovTable.Meta):
        model = KeyAction
        fields = ("performed_at", "incident", "action", "deviation", "key_ids", "sae_ids", "performed_by")

    export_columns = (ExportColumn("incident"), ExportColumn("performed_at"), ExportColumn("action"),
                      ExportColumn("deviation"), ExportColumn("key_ids"), ExportColumn("sae_ids"),
                      ExportColumn("kme_ids"), ExportColumn("window_start"), ExportColumn("window_end"),
                      ExportColumn("performed_by"), ExportColumn("note"))
