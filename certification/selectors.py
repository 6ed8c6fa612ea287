"""Reads of the certification app: compliance of devices and people (computed in the database for
lists, explained finding by finding for pages), the summary of an agency, the assets that depend on
a device.

What counts. A device (person) must, for each scheme its agency requires of its kind (role), hold
a certificate that
- is `valid` and not past its expiry (a certificate is good through its expiry date),
- is under the required scheme at the minimum level or above — or under another scheme of the same
  family, recognised in the agency's jurisdiction: an arrangement whose members include the
  jurisdiction recognises that scheme up to a level at or above the certificate's,
- for devices: covers the firmware in service (where the certificate pins a version and/or a hash,
  the device's must be the same).
All requirements met: `compliant`, or `expiring` when for some requirement every certificate that
meets it expires within the agency's warning window. Withdrawn and disposed devices, people who
left, and records of a kind no requirement names: `not_required`.
"""

import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Case, Count, Exists, OuterRef, Q, Value, When
from django.db.models import CharField as CharFieldType
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.choices import CertificationStatusChoices as CertState
from certification.choices import ComplianceChoices, ComplianceReasonChoices, DeviceKindChoices, DeviceStatusChoices
from certification.models import (
    Device,
    DeviceCertification,
    Person,
    PersonnelAccreditation,
    Recognition,
    RecognitionArrangement,
    RequiredScheme,
)

DEFAULT_WARNING_WINDOW_DAYS = 90
SUMMARY_DAYS = 90
SUMMARY_LISTED = 50  # certificates listed by the summary; the counts cover them all
NOT_CHECKED_DEVICE_STATES = (DeviceStatusChoices.WITHDRAWN, DeviceStatusChoices.DISPOSED)


# --- the agency's settings (one place to read them) ------------------------------------------------

def agency_jurisdiction(agency) -> str:
    """The ISO 3166-1 alpha-2 code of the country the agency sits in; "" when not set (or no agency)."""
    return agency.jurisdiction if agency is not None else ""


def agency_warning_window(agency) -> int:
    """Days before an expiry from which a certificate counts as expiring: the agency's largest
    reminder threshold (90 days by default, and without an agency)."""
    return agency.warning_window_days if agency is not None else DEFAULT_WARNING_WINDOW_DAYS


def agency_of_request(request):
    """The agency whose jurisdiction and warning window a list request is judged by: the browser's
    active agency, else `?agency=<id>` among the caller's, else the caller's only agency (None when
    that is not clear: then no recognition applies and the default window is used)."""
    from qgov.models import Agency
    from qgov.roles import Action

    if request is None:
        return None
    agency = getattr(request, "agency", None)
    if agency is not None:
        return agency
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    agencies = Agency.objects.restrict(user, Action.VIEW)
    wanted = getattr(request, "query_params", request.GET).get("agency", "")
    if wanted.isdigit():
        return agencies.filter(pk=int(wanted)).first()
    found = list(agencies.order_by("pk")[:2])
    return found[0] if len(found) == 1 else None


def recognitions_in(jurisdiction: str) -> list[Recognition]:
    """The recognitions that apply in a jurisdiction: those of every arrangement it is a member of.
    One query over the (small) catalog; membership is tested here so that it works alike on every
    database."""
    if not jurisdiction:
        return []
    return [recognition for recognition in Recognition.objects.select_related("arrangement", "scheme")
            if jurisdiction in (recognition.arrangement.member_jurisdictions or [])]


def arrangements_of(jurisdiction: str) -> list[RecognitionArrangement]:
    if not jurisdiction:
        return []
    return [a for a in RecognitionArrangement.objects.all() if jurisdiction in (a.member_jurisdictions or [])]


# --- compliance in the database --------------------------------------------------------------------

def _good_certificates(model, holder, *, good_on, recognition_ids, firmware: bool):
    """Certificates of the holder (OuterRef(OuterRef)) that meet the requirement (OuterRef) and are
    still good on `good_on`. Used inside a RequiredScheme subquery."""
    certificates = model.objects.filter(
        **{holder: OuterRef(OuterRef("pk"))}, status=CertState.VALID,
        level_rank__gte=OuterRef("min_level_rank"),
    ).filter(Q(expires__isnull=True) | Q(expires__gte=good_on))
    same_scheme = Q(scheme_id=OuterRef("scheme_id"))
    if recognition_ids:
        recognised = Q(scheme__family=OuterRef("scheme__family")) & Exists(Recognition.objects.filter(
            pk__in=recognition_ids, scheme_id=OuterRef("scheme_id"), max_level_rank__gte=OuterRef("level_rank")))
        certificates = certificates.filter(same_scheme | recognised)
    else:
        certificates = certificates.filter(same_scheme)
    if firmware:
        certificates = certificates.filter(
            Q(firmware_version="") | Q(firmware_version=OuterRef(OuterRef("firmware_version"))),
            Q(firmware_sha256="") | Q(firmware_sha256=OuterRef(OuterRef("firmware_sha256"))))
    return certificates


def _compliance(requirements, model, holder, *, agency, today, firmware, not_checked: Q):
    today = today or timezone.localdate()
    window = agency_warning_window(agency)
    recognition_ids = [r.pk for r in recognitions_in(agency_jurisdiction(agency))]

    def unmet(good_on):
        good = _good_certificates(model, holder, good_on=good_on, recognition_ids=recognition_ids,
                                  firmware=firmware)
        return Exists(requirements.filter(~Exists(good)))

    return Case(
        When(not_checked, then=Value(ComplianceChoices.NOT_REQUIRED)),
        When(~Exists(requirements), then=Value(ComplianceChoices.NOT_REQUIRED)),
        When(unmet(today), then=Value(ComplianceChoices.NON_COMPLIANT)),
        When(unmet(today + datetime.timedelta(days=window + 1)), then=Value(ComplianceChoices.EXPIRING)),
        default=Value(ComplianceChoices.COMPLIANT),
        output_field=CharFieldType(),
    )


def devices_with_compliance(queryset, *, agency, today=None):
    """The devices annotated with `compliance` (a ComplianceChoices value), in the same query.
    `agency` gives the jurisdiction and the warning window: lists are one agency's."""
    requirements = RequiredScheme.objects.filter(agency_id=OuterRef("agency_id"), device_kind=OuterRef("kind"))
    return queryset.annotate(compliance=_compliance(
        requirements, DeviceCertification, "device", agency=agency, today=today, firmware=True,
        not_checked=Q(status__in=NOT_CHECKED_DEVICE_STATES)))


def people_with_compliance(queryset, *, agency, today=None):
    """The people annotated with `compliance`, in the same query."""
    requirements = RequiredScheme.objects.filter(agency_id=OuterRef("agency_id"), personnel_role=OuterRef("role"))
    return queryset.annotate(compliance=_compliance(
        requirements, PersonnelAccreditation, "person", agency=agency, today=today, firmware=False,
        not_checked=Q(active=False)))


# --- the reasons -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ComplianceFinding:
    requirement: RequiredScheme | None
    status: str  # ComplianceChoices: compliant / expiring / non_compliant
    reason_code: str  # ComplianceReasonChoices value; "" where the requirement is met
    message: str
    certification: DeviceCertification | PersonnelAccreditation | None = None
    arrangement: RecognitionArrangement | None = None

    def as_dict(self) -> dict:
        return {
            "requirement": self.requirement.pk if self.requirement else None,
            "requirement_label": str(self.requirement) if self.requirement else "",
            "status": self.status,
            "reason_code": self.reason_code,
            "message": self.message,
            "certification": self.certification.pk if self.certification else None,
            "arrangement": self.arrangement.code if self.arrangement else None,
        }


_STATUS_REASONS = {
    CertState.PENDING: ComplianceReasonChoices.PENDING,
    CertState.SUSPENDED: ComplianceReasonChoices.SUSPENDED,
    CertState.REVOKED: ComplianceReasonChoices.REVOKED,
    CertState.EXPIRED: ComplianceReasonChoices.EXPIRED,
}


def _best_recognition(recognitions, scheme_id):
    """The recognition of a scheme reaching the highest level, among those that apply."""
    matching = [r for r in recognitions if r.scheme_id == scheme_id]
    return max(matching, key=lambda r: r.max_level_rank) if matching else None


def _judge(certificate, requirement, holder, *, recognitions, jurisdiction, today, firmware):
    """(problems, arrangement): every reason the certificate does not meet the requirement, and the
    arrangement under which it is recognised (None for the required scheme itself)."""
    problems, arrangement, recognised_to = [], None, ""
    label = f"{certificate.scheme.code} {certificate.level}"
    if certificate.scheme_id != requirement.scheme_id:
        recognition = _best_recognition(recognitions, certificate.scheme_id)
        if recognition is None:
            where = jurisdiction or _("this agency (no jurisdiction is set)")
            problems.append((ComplianceReasonChoices.NOT_RECOGNISED, None, _(
                "%(cert)s is not recognised in %(where)s: no arrangement %(where)s belongs to covers "
                "%(scheme)s.") % {"cert": label, "where": where, "scheme": certificate.scheme.code}))
        elif certificate.level_rank > recognition.max_level_rank:
            problems.append((ComplianceReasonChoices.NOT_RECOGNISED, recognition.arrangement, _(
                "%(cert)s is not recognised here: %(arrangement)s recognises %(scheme)s only up to %(max)s.") % {
                "cert": label, "arrangement": recognition.arrangement.code, "scheme": certificate.scheme.code,
                "max": recognition.max_level}))
        else:
            arrangement, recognised_to = recognition.arrangement, recognition.max_level
    if certificate.level_rank < requirement.min_level_rank:
        problems.append((ComplianceReasonChoices.LEVEL_TOO_LOW, arrangement, _(
            "%(cert)s is below the required %(min)s.") % {"cert": label, "min": requirement.min_level}))
    if certificate.status in _STATUS_REASONS:
        problems.append((_STATUS_REASONS[certificate.status], arrangement, _(
            "%(cert)s (%(id)s) is %(state)s.") % {"cert": label, "id": _certificate_id(certificate),
                                                   "state": certificate.get_status_display().lower()}))
    elif certificate.expires is not None and certificate.expires < today:
        problems.append((ComplianceReasonChoices.EXPIRED, arrangement, _(
            "%(cert)s (%(id)s) expired on %(date)s.") % {"cert": label, "id": _certificate_id(certificate),
                                                          "date": certificate.expires.isoformat()}))
    if firmware:
        mismatches = []
        if certificate.firmware_version and certificate.firmware_version != holder.firmware_version:
            mismatches.append(_("version %(covered)s, the device runs %(running)s") % {
                "covered": certificate.firmware_version, "running": holder.firmware_version or "—"})
        if certificate.firmware_sha256 and certificate.firmware_sha256 != holder.firmware_sha256:
            mismatches.append(_("the firmware hash differs"))
        if mismatches:
            problems.append((ComplianceReasonChoices.FIRMWARE_MISMATCH, arrangement, _(
                "%(cert)s covers other firmware: %(what)s.") % {"cert": label, "what": "; ".join(mismatches)}))
    return problems, (arrangement, recognised_to)


def _certificate_id(certificate) -> str:
    return getattr(certificate, "certificate_id", "") or getattr(certificate, "credential_id", "") or "—"


def _findings_for(holder, requirements, certificates, *, recognitions, jurisdiction, today, window, firmware):
    findings = []
    horizon = today + datetime.timedelta(days=window)
    for requirement in requirements:
        candidates = [c for c in certificates if c.scheme.family == requirement.scheme.family]
        if not candidates:
            findings.append(ComplianceFinding(requirement, ComplianceChoices.NON_COMPLIANT,
                                              ComplianceReasonChoices.MISSING, _(
                "No certificate under %(scheme)s (or one recognised as equivalent) at %(min)s or above.") % {
                "scheme": requirement.scheme.code, "min": requirement.min_level}))
            continue
        good, bad = [], []
        for certificate in candidates:
            problems, (arrangement, recognised_to) = _judge(
                certificate, requirement, holder, recognitions=recognitions, jurisdiction=jurisdiction, today=today,
                firmware=firmware)
            if problems:
                bad.extend(ComplianceFinding(requirement, ComplianceChoices.NON_COMPLIANT, code, message,
                                             certificate, arr) for code, arr, message in problems)
            else:
                good.append((certificate, arrangement, recognised_to))
        if not good:
            findings.extend(bad)
            continue
        lasting = [entry for entry in good if entry[0].expires is None or entry[0].expires > horizon]
        certificate, arrangement, recognised_to = (lasting or sorted(good, key=lambda entry: entry[0].expires))[-1]
        under = (_(" (recognised under %(arrangement)s up to %(max)s)") % {
            "arrangement": arrangement.code, "max": recognised_to}) if arrangement else ""
        if lasting:
            findings.append(ComplianceFinding(requirement, ComplianceChoices.COMPLIANT, "", _(
                "Met by %(scheme)s %(level)s (%(id)s)%(under)s.") % {
                "scheme": certificate.scheme.code, "level": certificate.level, "id": _certificate_id(certificate),
                "under": under}, certificate, arrangement))
        else:
            findings.append(ComplianceFinding(requirement, ComplianceChoices.EXPIRING,
                                              ComplianceReasonChoices.EXPIRING, _(
                "Met by %(scheme)s %(level)s (%(id)s)%(under)s until %(date)s.") % {
                "scheme": certificate.scheme.code, "level": certificate.level, "id": _certificate_id(certificate),
                "under": under, "date": certificate.expires.isoformat()}, certificate, arrangement))
    return findings


def compliance_findings(rows, *, agency, today=None) -> dict[int, list[ComplianceFinding]]:
    """{pk: findings} for a page of devices or people (a queryset or a list of one model's rows),
    in a constant number of queries: the rows (if a queryset), the requirements, the recognitions,
    the certificates."""
    rows = list(rows)
    if not rows:
        return {}
    today = today or timezone.localdate()
    model = type(rows[0])
    is_device = model is Device
    certificate_model, holder_field, kind_field, requirement_field = (
        (DeviceCertification, "device_id", "kind", "device_kind") if is_device
        else (PersonnelAccreditation, "person_id", "role", "personnel_role"))
    agency_ids = {row.agency_id for row in rows}
    requirements = list(RequiredScheme.objects.filter(agency_id__in=agency_ids).exclude(
        **{requirement_field: ""}).select_related("scheme"))
    jurisdiction = agency_jurisdiction(agency)
    recognitions = recognitions_in(jurisdiction)
    certificates = {}
    for certificate in certificate_model.objects.filter(
            **{f"{holder_field}__in": [row.pk for row in rows]}).select_related("scheme").order_by("issued", "pk"):
        certificates.setdefault(getattr(certificate, holder_field), []).append(certificate)
    window = agency_warning_window(agency)
    result = {}
    for row in rows:
        if (is_device and row.status in NOT_CHECKED_DEVICE_STATES) or (not is_device and not row.active):
            result[row.pk] = []
            continue
        applicable = [r for r in requirements
                      if r.agency_id == row.agency_id and getattr(r, requirement_field) == getattr(row, kind_field)]
        result[row.pk] = _findings_for(row, applicable, certificates.get(row.pk, []), recognitions=recognitions,
                                       jurisdiction=jurisdiction, today=today, window=window, firmware=is_device)
    return result


def compliance_of(findings: list[ComplianceFinding]) -> str:
    """The overall compliance a list of findings amounts to (the same as the database annotation)."""
    if not findings:
        return ComplianceChoices.NOT_REQUIRED
    by_requirement = {}
    for finding in findings:
        by_requirement.setdefault(finding.requirement.pk, set()).add(finding.status)
    if any(statuses == {ComplianceChoices.NON_COMPLIANT} for statuses in by_requirement.values()):
        return ComplianceChoices.NON_COMPLIANT
    if any(ComplianceChoices.EXPIRING in statuses for statuses in by_requirement.values()):
        return ComplianceChoices.EXPIRING
    return ComplianceChoices.COMPLIANT


def device_compliance_reasons(device, *, today=None) -> list[ComplianceFinding]:
    return compliance_findings([device], agency=device.agency, today=today)[device.pk]


def person_compliance_reasons(person, *, today=None) -> list[ComplianceFinding]:
    return compliance_findings([person], agency=person.agency, today=today)[person.pk]


# --- the summary -----------------------------------------------------------------------------------

LIVE_STATES = (CertState.VALID, CertState.SUSPENDED)


def compliance_summary(*, agency, today=None, days: int = SUMMARY_DAYS, listed: int = SUMMARY_LISTED) -> dict:
    """Counts by compliance for the agency's devices and people, and the certificates and
    accreditations that expire in the next `days` days: how many, and the first `listed` of each
    (soonest first) — the lists a national fleet fills go to the paginated lists and /due/."""
    today = today or timezone.localdate()
    until = today + datetime.timedelta(days=days)
    expiring_certifications = DeviceCertification.objects.filter(
        agency=agency, status__in=LIVE_STATES, expires__gte=today, expires__lte=until)
    expiring_accreditations = PersonnelAccreditation.objects.filter(
        agency=agency, status__in=LIVE_STATES, expires__gte=today, expires__lte=until)

    def counts(annotated):
        found = dict(annotated.order_by().values_list("compliance").annotate(n=Count("pk")))
        return {choice: found.get(choice, 0) for choice in ComplianceChoices.values}

    return {
        "devices": counts(devices_with_compliance(Device.objects.filter(agency=agency), agency=agency, today=today)),
        "people": counts(people_with_compliance(Person.objects.filter(agency=agency), agency=agency, today=today)),
        "expiring_certifications": list(expiring_certifications.select_related("device", "scheme")
                                        .order_by("expires", "pk")[:listed]),
        "expiring_certifications_count": expiring_certifications.count(),
        "expiring_accreditations": list(expiring_accreditations.select_related("person", "scheme")
                                        .order_by("expires", "pk")[:listed]),
        "expiring_accreditations_count": expiring_accreditations.count(),
        "days": days,
        "warning_window_days": agency_warning_window(agency),
    }


# --- dependent assets and the risk they raise ------------------------------------------------------

def dependent_assets(device):
    """The assets (QKD links, trusted nodes, systems) that depend on the device."""
    from risks.models import Asset

    return Asset.objects.filter(devices=device).order_by("name")


# The threat vectors a lost certification raises: an uncertified or substituted device (supply chain),
# firmware outside what was evaluated, and for trusted nodes the node itself.
RISK_THREAT_VECTORS = {"default": ("SUP-01", "SUP-02"), DeviceKindChoices.TRUSTED_NODE: ("QOP-03", "SUP-01")}


def register_risk_url(certification) -> str:
    """The URL of the register's "new risk" form, filled in for a device whose certificate was
    suspended, revoked or expired: title, description, the dependent assets and threat vectors."""
    from risks.models import ThreatVector

    device = certification.device
    codes = RISK_THREAT_VECTORS.get(device.kind, RISK_THREAT_VECTORS["default"])
    params = [
        ("title", _("%(device)s: %(scheme)s certificate %(id)s %(state)s") % {
            "device": device.name, "scheme": certification.scheme.code, "id": certification.certificate_id,
            "state": certification.get_status_display().lower()}),
        ("description", _("The device %(device)s (%(vendor)s %(model)s, serial %(serial)s) no longer holds a "
                          "valid %(scheme)s certificate. %(note)s") % {
            "device": device.name, "vendor": device.vendor, "model": device.model, "serial": device.serial,
            "scheme": certification.scheme.code, "note": certification.status_note}),
    ]
    params += [("assets", pk) for pk in dependent_assets(device).values_list("pk", flat=True)]
    vectors = ThreatVector.objects.filter(code__in=codes).values_list("pk", flat=True)
    params += [("threat_vectors", pk) for pk in vectors]
    try:
        base = reverse("risks:risk_add")
    except NoReverseMatch:  # pragma: no cover - the register is always installed with certification
        return ""
    return f"{base}?{urlencode(params)}"
