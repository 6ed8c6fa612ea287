import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from certification.choices import (
    COMPLIANCE_COLOURS,
    CertificationStatusChoices,
    ComplianceChoices,
    DeviceStatusChoices,
)
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
from qgov.exports import ExportColumn
from qgov.tables import BadgeColumn, QgovTable

# Bootstrap's theme colours as CSS, so badges match the rest of the page in light and dark themes.
CERTIFICATE_STATUS_COLOURS = {
    CertificationStatusChoices.PENDING: "info",
    CertificationStatusChoices.VALID: "success",
    CertificationStatusChoices.SUSPENDED: "warning",
    CertificationStatusChoices.REVOKED: "danger",
    CertificationStatusChoices.EXPIRED: "secondary",
}
DEVICE_STATUS_COLOURS = {
    DeviceStatusChoices.PLANNED: "info",
    DeviceStatusChoices.IN_SERVICE: "success",
    DeviceStatusChoices.WITHDRAWN: "secondary",
    DeviceStatusChoices.DISPOSED: "dark",
}


def DateColumn(**kwargs):  # noqa: N802 (a column factory, read like a class)
    """An ISO date that never breaks across lines."""
    return tables.DateColumn(format="Y-m-d", attrs={"td": {"class": "text-nowrap"}}, **kwargs)


def theme_colour(name: str | None) -> str | None:
    return f"var(--bs-{name})" if name else None


def compliance_badge(value):
    """(label, colour) of a `compliance` annotation value; None where it was not computed."""
    if not value:
        return None
    return ComplianceChoices(value).label, theme_colour(COMPLIANCE_COLOURS.get(value))


def _compliance(record, table):
    return compliance_badge(getattr(record, "compliance", None))


def _certificate_status(record, table):
    return record.get_status_display(), theme_colour(CERTIFICATE_STATUS_COLOURS.get(record.status))


def _device_status(record, table):
    return record.get_status_display(), theme_colour(DEVICE_STATUS_COLOURS.get(record.status))


def _short_list(codes, shown=6):
    """Country codes, the first few and how many more (EUCC: 27 member states)."""
    codes = list(codes or ())
    if not codes:
        return "—"
    if len(codes) <= shown:
        return ", ".join(codes)
    return _("%(codes)s and %(more)s more") % {"codes": ", ".join(codes[:shown - 1]), "more": len(codes) - shown + 1}


def _levels(record):
    return " · ".join(record.levels or ())


def _applies_to(record, table):
    return record.get_device_kind_display() or record.get_personnel_role_display()


COMPLIANCE_EXPORT = ExportColumn("compliance", _("Compliance"), choices=ComplianceChoices.choices)


class SchemeTable(QgovTable):
    code = tables.Column(linkify=True)
    levels = tables.Column(orderable=False, verbose_name=_("Levels"))

    class Meta(QgovTable.Meta):
        model = Scheme
        fields = ("code", "name", "kind", "issuing_body", "jurisdictions", "levels", "validity_rule",
                  "validity_years")

    export_columns = (
        ExportColumn("code"), ExportColumn("name"), ExportColumn("kind"), ExportColumn("family"),
        ExportColumn("issuing_body"), ExportColumn("jurisdictions"), ExportColumn("levels"),
        ExportColumn("validity_rule"), ExportColumn("validity_years"), ExportColumn("interim_validity_years"),
    )

    def render_levels(self, record):
        levels = record.levels or ()
        if len(levels) <= 4:
            return _levels(record)
        # Thirteen EALs make every row five lines tall; the detail page lists them all.
        return _("%(lowest)s … %(highest)s (%(count)s levels)") % {
            "lowest": levels[0], "highest": levels[-1], "count": len(levels)}

    def render_jurisdictions(self, value):
        return _short_list(value)


class RecognitionArrangementTable(QgovTable):
    code = tables.Column(linkify=True)

    class Meta(QgovTable.Meta):
        model = RecognitionArrangement
        fields = ("code", "name", "member_jurisdictions")

    export_columns = (ExportColumn("code"), ExportColumn("name"), ExportColumn("member_jurisdictions"))

    def render_member_jurisdictions(self, value):
        return _short_list(value)


class RecognitionTable(QgovTable):
    arrangement = tables.Column(linkify=True, order_by=("arrangement__code",))
    scheme = tables.Column(linkify=True, order_by=("scheme__code",))
    max_level = tables.Column(linkify=lambda record: record.get_absolute_url())

    class Meta(QgovTable.Meta):
        model = Recognition
        fields = ("arrangement", "scheme", "max_level", "conditions")

    export_columns = (
        ExportColumn("arrangement__code"), ExportColumn("scheme__code"), ExportColumn("max_level"),
        ExportColumn("conditions"),
    )


class DeviceTable(QgovTable):
    name = tables.Column(linkify=True)
    status = BadgeColumn(_device_status, order_by=("status",))
    compliance = BadgeColumn(_compliance, order_by=("compliance",), verbose_name=_("Compliance"))

    class Meta(QgovTable.Meta):
        model = Device
        fields = ("name", "kind", "vendor", "model", "serial", "firmware_version", "site", "owner", "status",
                  "compliance")

    export_columns = (
        ExportColumn("name"), ExportColumn("kind"), ExportColumn("vendor"), ExportColumn("model"),
        ExportColumn("serial"), ExportColumn("firmware_version"), ExportColumn("site"), ExportColumn("owner"),
        ExportColumn("assets__name"), ExportColumn("status"), COMPLIANCE_EXPORT,
    )


class DeviceCertificationTable(QgovTable):
    certificate_id = tables.Column(linkify=True)
    device = tables.Column(linkify=True, order_by=("device__name",))
    scheme = tables.Column(accessor="scheme__code", order_by=("scheme__code",), verbose_name=_("Scheme"))
    status = BadgeColumn(_certificate_status, order_by=("status",))
    issued = DateColumn()
    expires = DateColumn()
    review_due = DateColumn()

    class Meta(QgovTable.Meta):
        model = DeviceCertification
        fields = ("certificate_id", "device", "scheme", "level", "firmware_version", "status", "issued", "expires",
                  "review_due", "interim")

    export_columns = (
        ExportColumn("certificate_id"), ExportColumn("device__name"), ExportColumn("device__serial",
                                                                                  _("Device serial number")),
        ExportColumn("scheme__code"), ExportColumn("level"), ExportColumn("evaluation_lab"),
        ExportColumn("product_version"), ExportColumn("firmware_version"), ExportColumn("protection_profile"),
        ExportColumn("status"), ExportColumn("issued"), ExportColumn("expires"), ExportColumn("review_due"),
        ExportColumn("interim"),
    )


class PersonTable(QgovTable):
    name = tables.Column(linkify=True)
    compliance = BadgeColumn(_compliance, order_by=("compliance",), verbose_name=_("Compliance"))

    class Meta(QgovTable.Meta):
        model = Person
        fields = ("name", "role", "unit", "email", "user", "active", "compliance")

    export_columns = (
        ExportColumn("name"), ExportColumn("role"), ExportColumn("unit"), ExportColumn("email"),
        ExportColumn("user"), ExportColumn("active"), COMPLIANCE_EXPORT,
    )


class PersonnelAccreditationTable(QgovTable):
    scheme = tables.Column(accessor="scheme__code", order_by=("scheme__code",), verbose_name=_("Scheme"),
                           linkify=lambda record: record.get_absolute_url())
    person = tables.Column(linkify=True, order_by=("person__name",))
    status = BadgeColumn(_certificate_status, order_by=("status",))
    issued = DateColumn()
    expires = DateColumn()
    review_due = DateColumn()

    class Meta(QgovTable.Meta):
        model = PersonnelAccreditation
        fields = ("scheme", "level", "person", "credential_id", "status", "issued", "expires", "review_due")

    export_columns = (
        ExportColumn("scheme__code"), ExportColumn("level"), ExportColumn("person__name"),
        ExportColumn("credential_id"), ExportColumn("status"), ExportColumn("issued"), ExportColumn("expires"),
        ExportColumn("review_due"),
    )


class RequiredSchemeTable(QgovTable):
    applies_to = tables.Column(empty_values=(), orderable=False, verbose_name=_("Applies to"),
                               linkify=lambda record: record.get_absolute_url())
    scheme = tables.Column(linkify=True, order_by=("scheme__code",))

    class Meta(QgovTable.Meta):
        model = RequiredScheme
        fields = ("applies_to", "scheme", "min_level", "notes")

    export_columns = (
        ExportColumn(header=_("Applies to"), value=_applies_to), ExportColumn("scheme__code"),
        ExportColumn("min_level"), ExportColumn("notes"),
    )

    def render_applies_to(self, record):
        return record.get_device_kind_display() or record.get_personnel_role_display()
