from django.contrib import admin

from certification.models import (
    Device,
    DeviceCertification,
    Person,
    PersonnelAccreditation,
    Recognition,
    RecognitionArrangement,
    RequiredScheme,
    Scheme,
)
from qgov.admin import QgovModelAdmin


@admin.register(Scheme)
class SchemeAdmin(QgovModelAdmin):
    list_display = ("code", "name", "kind", "family", "issuing_body", "validity_rule", "validity_years")
    list_filter = ("kind", "family", "validity_rule")
    search_fields = ("code", "name", "issuing_body")


class RecognitionInline(admin.TabularInline):
    model = Recognition
    extra = 0
    fields = ("scheme", "max_level", "conditions")


@admin.register(RecognitionArrangement)
class RecognitionArrangementAdmin(QgovModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")
    inlines = [RecognitionInline]


@admin.register(Recognition)
class RecognitionAdmin(QgovModelAdmin):
    list_display = ("arrangement", "scheme", "max_level")
    list_filter = ("arrangement",)


@admin.register(Device)
class DeviceAdmin(QgovModelAdmin):
    list_display = ("name", "agency", "kind", "vendor", "model", "serial", "firmware_version", "status")
    list_filter = ("agency", "kind", "status")
    search_fields = ("name", "vendor", "model", "serial")


@admin.register(DeviceCertification)
class DeviceCertificationAdmin(QgovModelAdmin):
    list_display = ("certificate_id", "agency", "device", "scheme", "level", "issued", "expires", "status")
    list_filter = ("agency", "scheme", "status")
    search_fields = ("certificate_id", "device__name")


@admin.register(Person)
class PersonAdmin(QgovModelAdmin):
    list_display = ("name", "agency", "role", "unit", "active")
    list_filter = ("agency", "role", "active")
    search_fields = ("name", "email")


@admin.register(PersonnelAccreditation)
class PersonnelAccreditationAdmin(QgovModelAdmin):
    list_display = ("person", "agency", "scheme", "level", "issued", "expires", "review_due", "status")
    list_filter = ("agency", "scheme", "status")
    search_fields = ("person__name", "credential_id")


@admin.register(RequiredScheme)
class RequiredSchemeAdmin(QgovModelAdmin):
    list_display = ("agency", "scheme", "min_level", "device_kind", "personnel_role")
    list_filter = ("agency", "scheme")
