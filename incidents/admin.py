"""The incidents admin: regulator regimes and clocks, notifications, timeline entries and key actions."""

from django.contrib import admin

from incidents.models import (
    AgencyRegime,
    KeyAction,
    RegulatorClock,
    RegulatorNotification,
    RegulatorRegime,
    TimelineEntry,
)
from qgov.admin import QgovModelAdmin


class RegulatorClockInline(admin.TabularInline):
    model = RegulatorClock
    fk_name = "regime"
    extra = 0
    fields = ("code", "label", "position", "start", "hours", "months", "awareness_hours", "after")


@admin.register(RegulatorRegime)
class RegulatorRegimeAdmin(QgovModelAdmin):
    list_display = ("code", "name", "citation", "applies_from")
    search_fields = ("code", "name")
    inlines = [RegulatorClockInline]


@admin.register(RegulatorClock)
class RegulatorClockAdmin(QgovModelAdmin):
    list_display = ("regime", "code", "label", "start", "hours", "months", "awareness_hours")
    list_filter = ("regime",)


@admin.register(AgencyRegime)
class AgencyRegimeAdmin(QgovModelAdmin):
    list_display = ("agency", "regime")
    list_filter = ("regime",)


@admin.register(RegulatorNotification)
class RegulatorNotificationAdmin(QgovModelAdmin):
    list_display = ("incident", "regime", "clock", "due_at", "sent_at", "reference")
    list_filter = ("regime",)


@admin.register(TimelineEntry)
class TimelineEntryAdmin(QgovModelAdmin):
    list_display = ("incident", "at", "kind", "author_name")
    list_filter = ("kind",)

    # Append-only, here too.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(KeyAction)
class KeyActionAdmin(QgovModelAdmin):
    list_display = ("incident", "performed_at", "action", "deviation", "performed_by")
    list_filter = ("action", "deviation")
