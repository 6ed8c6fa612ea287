"""Certification's section of the reports ("Certification and accreditation"), one builder per kind.

Compliance is judged as the compliance page judges it (certification.selectors), on the as-of day in
the agency's time zone; what expires next and what falls due in a sunset review's window are read
through the models' due-date declarations, so a report lists what the reminders chase (a renewed or
suspended certificate is no longer due). Every read costs a fixed number of queries, whatever the
number of devices, people and certificates.
"""

import datetime as dt

from django.db.models import Case, Count, Exists, OuterRef, Q, Value, When
from django.db.models import CharField as CharFieldType
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certification.choices import CertificationStatusChoices as CertState
from certification.choices import ComplianceChoices, DeviceStatusChoices, SchemeKindChoices
from certification.models import Device, DeviceCertification, Person, PersonnelAccreditation
from certification.selectors import compliance_findings, devices_with_compliance, people_with_compliance
from qgov.reports.choices import ReportKindChoices
from qgov.reports.document import Column, Figure, ReportContext, ReportTable, SectionData
from qgov.reports.reads import evidence_references, person_label
from qgov.reports.sections import ReportSection

SECTION_KEY = "certification"
SECTION_TITLE = gettext_lazy("Certification and accreditation")
EXPIRING_DAYS = 90  # "what expires next": the certificates whose expiry falls within this many days

# What a holder's certificates amount to on a day: one that is good (valid, not past its expiry), else
# one that expired (by the daily task, or past its date still marked valid or suspended), else none.
HOLDER_VALID, HOLDER_EXPIRED, HOLDER_NONE = "valid", "expired", "none"


def _good_on(day: dt.date) -> Q:
    return Q(status=CertState.VALID) & (Q(expires__isnull=True) | Q(expires__gte=day))


def _expired_by(day: dt.date) -> Q:
    return Q(status=CertState.EXPIRED) | Q(status__in=(CertState.VALID, CertState.SUSPENDED), expires__lt=day)


def _effective_status(day: dt.date) -> Case:
    """A certificate's status on `day`: a valid or suspended one past its expiry counts as expired
    (the daily task may not have run yet)."""
    return Case(When(_expired_by(day), then=Value(CertState.EXPIRED)), default="status",
                output_field=CharFieldType())


def _holder_counts(holders, certificate_model, holder_field: str, day: dt.date) -> dict[str, int]:
    """{valid, expired, none: number of holders} — one grouped query."""
    mine = certificate_model.objects.filter(**{holder_field: OuterRef("pk")})
    state = Case(When(Exists(mine.filter(_good_on(day))), then=Value(HOLDER_VALID)),
                 When(Exists(mine.filter(_expired_by(day))), then=Value(HOLDER_EXPIRED)),
                 default=Value(HOLDER_NONE), output_field=CharFieldType())
    found = dict(holders.annotate(holder_state=state).order_by().values_list("holder_state").annotate(n=Count("pk")))
    return {key: found.get(key, 0) for key in (HOLDER_VALID, HOLDER_EXPIRED, HOLDER_NONE)}


def _compliance_counts(context: ReportContext) -> dict[str, dict[str, int]]:
    """{"devices"|"people": {compliance: count}} as the compliance page counts them: two queries."""
    agency, day = context.agency, context.as_of_date

    def counts(annotated):
        found = dict(annotated.order_by().values_list("compliance").annotate(n=Count("pk")))
        return {choice: found.get(choice, 0) for choice in ComplianceChoices.values}

    return {"devices": counts(devices_with_compliance(Device.objects.filter(agency=agency), agency=agency, today=day)),
            "people": counts(people_with_compliance(Person.objects.filter(agency=agency), agency=agency, today=day))}


def _compliance_table(counts) -> ReportTable:
    return ReportTable(
        key="compliance", title=_("Compliance with the required schemes"),
        columns=[Column("status", _("Compliance")), Column("devices_count", _("Devices"), "number"),
                 Column("people_count", _("People"), "number")],
        rows=[{"status": str(label), "devices_count": counts["devices"][value], "people_count": counts["people"][value]}
              for value, label in ComplianceChoices.choices],
        note=_("Each device (person) against every scheme its agency requires of its kind (role)."))


def _reasons(findings) -> str:
    return "; ".join(finding.message for finding in findings if finding.status == ComplianceChoices.NON_COMPLIANT)


def _non_compliant_devices(context: ReportContext) -> list[dict]:
    agency, day = context.agency, context.as_of_date
    devices = list(devices_with_compliance(Device.objects.filter(agency=agency), agency=agency, today=day)
                   .filter(compliance=ComplianceChoices.NON_COMPLIANT).select_related("owner").order_by("name", "pk"))
    findings = compliance_findings(devices, agency=agency, today=day)
    return [{"device": device.name, "kind": device.get_kind_display(), "serial": device.serial, "site": device.site,
             "owner": person_label(device.owner), "reasons": _reasons(findings[device.pk])} for device in devices]


def _non_compliant_people(context: ReportContext) -> list[dict]:
    agency, day = context.agency, context.as_of_date
    people = list(people_with_compliance(Person.objects.filter(agency=agency), agency=agency, today=day)
                  .filter(compliance=ComplianceChoices.NON_COMPLIANT).select_related("user").order_by("name", "pk"))
    findings = compliance_findings(people, agency=agency, today=day)
    return [{"person": person.name, "role": person.get_role_display(), "unit": person.unit,
             "reasons": _reasons(findings[person.pk])} for person in people]


# --- due dates (what expires next, what a sunset review lists) ------------------------------------

def _holder_name(certificate) -> str:
    return certificate.device.name if isinstance(certificate, DeviceCertification) else certificate.person.name


def _certificate_id(certificate) -> str:
    return getattr(certificate, "certificate_id", "") or getattr(certificate, "credential_id", "")


def _follow(record, path: str):
    """The record at the end of a lookup path ("device__owner"), None where a link is empty."""
    for part in path.split("__"):
        record = getattr(record, part) if record is not None else None
    return record


def _due_rows(context: ReportContext, model, *, start: dt.date, end: dt.date, names=None) -> list[dict]:
    """The model's certificates with a declared due date (expiry, review) from `start` to `end` and
    still open as the reminders see it: one query per due date. Soonest first."""
    holder = model.holder_field
    rows = []
    for due in model.due_dates:
        if names is not None and due.key not in names:
            continue
        found = model.objects.filter(agency=context.agency, **{f"{due.field}__gte": start, f"{due.field}__lte": end})
        if due.open_condition() is not None:
            found = found.filter(due.open_condition())
        for certificate in found.select_related("scheme", holder, *([due.owner] if due.owner else [])):
            day = getattr(certificate, due.field)
            owner = _follow(certificate, due.owner) if due.owner else None
            rows.append({"holder": _holder_name(certificate), "scheme": certificate.scheme.code,
                         "level": certificate.level, "certificate": _certificate_id(certificate),
                         "status": certificate.get_status_display(), "due": str(due.label), "due_date": day,
                         "days_left": (day - context.as_of_date).days, "owner": person_label(owner)})
    return sorted(rows, key=lambda row: (row["due_date"], row["holder"], row["scheme"], row["certificate"]))


def _due_columns(holder_label) -> list[Column]:
    return [Column("holder", holder_label), Column("scheme", _("Scheme")), Column("level", _("Level")),
            Column("certificate", _("Certificate")), Column("status", _("Status")), Column("due", _("What")),
            Column("due_date", _("Due"), "date"), Column("days_left", _("Days left"), "number"),
            Column("owner", _("Owner"))]


# --- the builders ---------------------------------------------------------------------------------

def compliance_section(context: ReportContext) -> SectionData:
    """Device and personnel compliance as of the report, the non-compliant ones with their reasons,
    what expires in the next 90 days, and the evidence files of the certificates."""
    agency, day = context.agency, context.as_of_date
    counts = _compliance_counts(context)
    devices = _holder_counts(Device.objects.filter(agency=agency, status=DeviceStatusChoices.IN_SERVICE),
                             DeviceCertification, "device", day)
    people = _holder_counts(Person.objects.filter(agency=agency, active=True), PersonnelAccreditation, "person", day)
    until = day + dt.timedelta(days=EXPIRING_DAYS)
    expiring_certifications = _due_rows(context, DeviceCertification, start=day, end=until, names={"expires"})
    expiring_accreditations = _due_rows(context, PersonnelAccreditation, start=day, end=until, names={"expires"})
    non_compliant_devices = _non_compliant_devices(context)
    non_compliant_people = _non_compliant_people(context)
    figures = [
        Figure("devices_in_service_count", _("Devices in service"), sum(devices.values())),
        Figure("devices_valid_count", _("… with a valid certification"), devices[HOLDER_VALID]),
        Figure("devices_expired_count", _("… whose certifications have all expired"), devices[HOLDER_EXPIRED]),
        Figure("devices_uncertified_count", _("… with no certification"), devices[HOLDER_NONE],
               note=_("None at all, or only pending, suspended or revoked ones.")),
        Figure("devices_non_compliant_count", _("Devices not compliant"),
               counts["devices"][ComplianceChoices.NON_COMPLIANT]),
        Figure("certifications_expiring_count", _("Certifications expiring within %(days)s days") % {
            "days": EXPIRING_DAYS}, len(expiring_certifications)),
        Figure("people_active_count", _("Active personnel"), sum(people.values())),
        Figure("people_valid_count", _("… with a valid accreditation"), people[HOLDER_VALID]),
        Figure("people_expired_count", _("… whose accreditations have all expired"), people[HOLDER_EXPIRED]),
        Figure("people_unaccredited_count", _("… with no accreditation"), people[HOLDER_NONE]),
        Figure("people_non_compliant_count", _("Personnel not compliant"),
               counts["people"][ComplianceChoices.NON_COMPLIANT]),
        Figure("accreditations_expiring_count", _("Accreditations expiring within %(days)s days") % {
            "days": EXPIRING_DAYS}, len(expiring_accreditations)),
    ]
    tables = [
        _compliance_table(counts),
        ReportTable(key="non_compliant_devices", title=_("Devices not compliant"),
                    columns=[Column("device", _("Device")), Column("kind", _("Kind")), Column("serial", _("Serial")),
                             Column("site", _("Site")), Column("owner", _("Owner")), Column("reasons", _("Why"))],
                    rows=non_compliant_devices, empty_text=_("Every device meets its requirements.")),
        ReportTable(key="expiring_certifications", title=_("Device certifications expiring next"),
                    columns=_due_columns(_("Device")), rows=expiring_certifications,
                    note=_("Valid certifications expiring within %(days)s days that nothing has renewed, soonest "
                           "first.") % {"days": EXPIRING_DAYS}),
        ReportTable(key="non_compliant_people", title=_("Personnel not compliant"),
                    columns=[Column("person", _("Person")), Column("role", _("Role")), Column("unit", _("Unit")),
                             Column("reasons", _("Why"))],
                    rows=non_compliant_people, empty_text=_("Every person meets their requirements.")),
        ReportTable(key="expiring_accreditations", title=_("Accreditations expiring next"),
                    columns=_due_columns(_("Person")), rows=expiring_accreditations,
                    note=_("Valid accreditations expiring within %(days)s days that nothing has renewed, soonest "
                           "first.") % {"days": EXPIRING_DAYS}),
    ]
    evidence = evidence_references(context=context, sources=[
        (DeviceCertification.objects.filter(agency=agency).select_related("scheme", "device"),
         lambda c: f"{c.scheme.code} {c.certificate_id} — {c.device.name}"),
        (PersonnelAccreditation.objects.filter(agency=agency).select_related("scheme", "person"), str),
    ])
    return SectionData(key=SECTION_KEY, title=str(SECTION_TITLE), intro=_(
        "Devices and personnel against the schemes the agency requires, judged on %(day)s: a certificate counts "
        "while it is valid and not past its expiry, at the required level or one recognised in the agency's "
        "jurisdiction, and for devices while it covers the firmware in service.") % {"day": day.isoformat()},
        figures=figures, tables=tables, evidence=evidence)


def sunset_review_section(context: ReportContext) -> SectionData:
    """Certifications and accreditations whose expiry or review date falls in the window, with their
    owner and due date."""
    start, end = context.as_of_date, context.window_end
    certifications = _due_rows(context, DeviceCertification, start=start, end=end)
    accreditations = _due_rows(context, PersonnelAccreditation, start=start, end=end)
    devices = _end_of_support_rows(context, end=end)
    figures = [
        Figure("certifications_due_count", _("Device certifications expiring or due for review"),
               len(certifications)),
        Figure("accreditations_due_count", _("Accreditations expiring or due for review"), len(accreditations)),
        Figure("devices_end_of_support_count", _("Devices at or reaching end of support"), len(devices)),
    ]
    tables = [
        ReportTable(key="certifications_due", title=_("Device certifications expiring or due for review"),
                    columns=_due_columns(_("Device")), rows=certifications,
                    note=_("Owner: the device's owner.")),
        ReportTable(key="accreditations_due", title=_("Accreditations expiring or due for review"),
                    columns=_due_columns(_("Person")), rows=accreditations,
                    note=_("Owner: the person's qgov user; empty where they have none (the agency's admins are "
                           "reminded all the same).")),
        ReportTable(key="devices_end_of_support", title=_("Devices at or reaching end of support"),
                    columns=[Column("holder", _("Device")), Column("vendor", _("Vendor")), Column("model", _("Model")),
                             Column("status", _("Status")), Column("due_date", _("End of support"), "date"),
                             Column("days_left", _("Days left"), "number"), Column("owner", _("Owner"))],
                    rows=devices, note=_("Planned and in-service devices whose vendor support has ended or ends "
                                         "by the end of the window; a negative number of days is past."),
                    empty_text=_("No device reaches the end of its vendor's support in the window.")),
    ]
    return SectionData(key=SECTION_KEY, title=str(SECTION_TITLE), intro=_(
        "Valid certificates whose expiry or review date falls from %(start)s to %(end)s and that nothing has "
        "renewed yet, and devices in use whose vendor support ends by then. Contracts' ends are in the "
        "procurement section.") % {"start": start.isoformat(), "end": end.isoformat()}, figures=figures,
        tables=tables)


def _end_of_support_rows(context: ReportContext, *, end: dt.date) -> list[dict]:
    """Devices still planned or in service whose end of support is on or before `end`, past ones
    included (still in use after it is the finding). One query."""
    devices = (Device.objects.filter(agency=context.agency, end_of_support__lte=end,
                                     status__in=(DeviceStatusChoices.PLANNED, DeviceStatusChoices.IN_SERVICE))
               .select_related("owner").order_by("end_of_support", "name", "pk"))
    return [{"holder": device.name, "vendor": device.vendor, "model": device.model,
             "status": device.get_status_display(), "due_date": device.end_of_support,
             "days_left": (device.end_of_support - context.as_of_date).days, "owner": person_label(device.owner)}
            for device in devices]


def transparency_section(context: ReportContext) -> SectionData:
    """Counts only: how many devices in service are certified, certificates by scheme and status,
    compliance by band."""
    agency, day = context.agency, context.as_of_date
    devices = _holder_counts(Device.objects.filter(agency=agency, status=DeviceStatusChoices.IN_SERVICE),
                             DeviceCertification, "device", day)
    people = _holder_counts(Person.objects.filter(agency=agency, active=True), PersonnelAccreditation, "person", day)
    in_service = sum(devices.values())
    valid_accreditations = PersonnelAccreditation.objects.filter(agency=agency).filter(_good_on(day)).count()
    figures = [
        Figure("devices_in_service_count", _("Devices in service"), in_service),
        Figure("devices_certified_count", _("Devices in service with a valid certification"), devices[HOLDER_VALID]),
        Figure("devices_certified_percent", _("Share of devices in service certified (%)"),
               round(100 * devices[HOLDER_VALID] / in_service, 1) if in_service else None),
        Figure("people_active_count", _("Active personnel"), sum(people.values())),
        Figure("people_accredited_count", _("Active personnel with a valid accreditation"), people[HOLDER_VALID]),
        Figure("accreditations_valid_count", _("Valid accreditations"), valid_accreditations),
    ]
    by_scheme = []
    for model, kind in ((DeviceCertification, SchemeKindChoices.DEVICE),
                        (PersonnelAccreditation, SchemeKindChoices.PERSONNEL)):
        grouped = (model.objects.filter(agency=agency).annotate(effective=_effective_status(day)).order_by()
                   .values_list("scheme__code", "effective").annotate(n=Count("pk")))
        by_scheme += [{"kind": str(kind.label), "scheme": scheme, "status": str(CertState(status).label),
                       "count": count} for scheme, status, count in
                      sorted(grouped, key=lambda row: (row[0], CertState.values.index(row[1])))]
    tables = [
        _compliance_table(_compliance_counts(context)),
        ReportTable(key="certificates_by_scheme", title=_("Certificates by scheme and status"),
                    columns=[Column("kind", _("Kind")), Column("scheme", _("Scheme")), Column("status", _("Status")),
                             Column("count", _("Certificates"), "number")],
                    rows=by_scheme, note=_("A certificate past its expiry counts as expired.")),
    ]
    return SectionData(key=SECTION_KEY, title=str(SECTION_TITLE), intro=_(
        "How many of the agency's quantum devices and staff hold the certifications and accreditations it "
        "requires, as of %(day)s.") % {"day": day.isoformat()}, figures=figures, tables=tables)


CERTIFICATION_SECTION = ReportSection(
    key=SECTION_KEY, title=SECTION_TITLE, order=20,
    builders={ReportKindChoices.COMPLIANCE: compliance_section,
              ReportKindChoices.SUNSET_REVIEW: sunset_review_section,
              ReportKindChoices.TRANSPARENCY: transparency_section})
