"""Compliance of devices and people: computed in the database for lists, explained finding by finding,
the same answer both ways; warning-window boundaries; recognition rules; firmware pinning."""

import datetime

import pytest
from django.utils import timezone

from certification.models import Device, Person
from certification.selectors import (
    compliance_findings,
    compliance_of,
    compliance_summary,
    device_compliance_reasons,
    devices_with_compliance,
    people_with_compliance,
    person_compliance_reasons,
)
from tests.certification.factories import (
    ArrangementFactory,
    DeviceCertificationFactory,
    DeviceFactory,
    FipsSchemeFactory,
    PersonFactory,
    PersonnelAccreditationFactory,
    RecognitionFactory,
    RequiredSchemeFactory,
    SchemeFactory,
)

TODAY = datetime.date(2026, 11, 30)
WINDOW = 90  # the default warning window until the agency sets its thresholds


def days(n):
    return TODAY + datetime.timedelta(days=n)


def compliance(device, agency):
    return devices_with_compliance(Device.objects.filter(pk=device.pk), agency=agency, today=TODAY).get().compliance


def codes(device):
    return sorted(f.reason_code for f in device_compliance_reasons(device, today=TODAY))


@pytest.fixture
def bsi(db):
    return SchemeFactory(code="CC-BSI", jurisdictions=["DE"])


@pytest.fixture
def anssi(db):
    return SchemeFactory(code="CC-ANSSI", jurisdictions=["FR"])


@pytest.fixture
def niap(db):
    return SchemeFactory(code="CC-NIAP", jurisdictions=["US"])


@pytest.fixture
def arrangements(bsi, anssi, niap):
    sogis = ArrangementFactory(code="SOG-IS", member_jurisdictions=["DE", "FR", "NL"])
    ccra = ArrangementFactory(code="CCRA", member_jurisdictions=["DE", "FR", "NL", "US", "CA"])
    for scheme in (bsi, anssi):
        RecognitionFactory(arrangement=sogis, scheme=scheme, max_level="EAL4")
    for scheme in (bsi, anssi, niap):
        RecognitionFactory(arrangement=ccra, scheme=scheme, max_level="EAL2")
    return {"SOG-IS": sogis, "CCRA": ccra}


@pytest.fixture
def german_agency(agency):
    agency.jurisdiction = "DE"
    agency.save()
    return agency


# --- warning window ------------------------------------------------------------------------------

@pytest.mark.parametrize(("expires_in", "expected"), [
    (WINDOW + 1, "compliant"),
    (WINDOW, "expiring"),
    (1, "expiring"),
    (0, "expiring"),
    (-1, "non_compliant"),
])
def test_compliance_at_the_warning_window_boundaries(expires_in, expected, german_agency, bsi):
    RequiredSchemeFactory(agency=german_agency, scheme=bsi, min_level="EAL4+")
    certificate = DeviceCertificationFactory(agency=german_agency, scheme=bsi, level="EAL4+", issued=days(-400),
                                             expires=days(expires_in))
    device = certificate.device
    assert compliance(device, german_agency) == expected
    findings = device_compliance_reasons(device, today=TODAY)
    assert compliance_of(findings) == expected
    expected_code = {"compliant": "", "expiring": "expiring", "non_compliant": "expired"}[expected]
    assert [f.reason_code for f in findings] == [expected_code]


def test_a_certificate_without_expiry_is_compliant_and_the_renewal_counts(german_agency, bsi):
    RequiredSchemeFactory(agency=german_agency, scheme=bsi, min_level="EAL4")
    old = DeviceCertificationFactory(agency=german_agency, scheme=bsi, level="EAL4", expires=days(10))
    assert compliance(old.device, german_agency) == "expiring"
    DeviceCertificationFactory(agency=german_agency, device=old.device, scheme=bsi, level="EAL4", expires=None)
    assert compliance(old.device, german_agency) == "compliant"


def test_nothing_required_withdrawn_and_inactive_are_not_required(german_agency, bsi):
    RequiredSchemeFactory(agency=german_agency, scheme=bsi, min_level="EAL4", device_kind="qkd_receiver")
    transmitter = DeviceFactory(agency=german_agency, kind="qkd_transmitter")
    withdrawn = DeviceFactory(agency=german_agency, kind="qkd_receiver", status="withdrawn")
    missing = DeviceFactory(agency=german_agency, kind="qkd_receiver")
    annotated = {d.pk: d.compliance for d in devices_with_compliance(Device.objects.all(), agency=german_agency,
                                                                      today=TODAY)}
    assert annotated == {transmitter.pk: "not_required", withdrawn.pk: "not_required", missing.pk: "non_compliant"}
    assert device_compliance_reasons(withdrawn, today=TODAY) == []
    assert codes(missing) == ["missing"]


# --- status and level ----------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["pending", "suspended", "revoked", "expired"])
def test_a_certificate_that_is_not_valid_does_not_count(status, german_agency, bsi):
    RequiredSchemeFactory(agency=german_agency, scheme=bsi, min_level="EAL4")
    device = DeviceCertificationFactory(agency=german_agency, scheme=bsi, level="EAL5", status=status).device
    assert compliance(device, german_agency) == "non_compliant"
    assert codes(device) == [status]


def test_level_too_low(german_agency, bsi):
    RequiredSchemeFactory(agency=german_agency, scheme=bsi, min_level="EAL4+")
    device = DeviceCertificationFactory(agency=german_agency, scheme=bsi, level="EAL4").device
    assert compliance(device, german_agency) == "non_compliant"
    [finding] = device_compliance_reasons(device, today=TODAY)
    assert (finding.reason_code, finding.message) == ("level_too_low", "CC-BSI EAL4 is below the required EAL4+.")


def test_every_finding_of_every_requirement_is_listed(german_agency, bsi):
    fips = FipsSchemeFactory()
    RequiredSchemeFactory(agency=german_agency, scheme=bsi, min_level="EAL4+")
    RequiredSchemeFactory(agency=german_agency, scheme=fips, min_level="Level 3")
    device = DeviceCertificationFactory(agency=german_agency, scheme=bsi, level="EAL4", status="suspended",
                                        firmware_version="1.0").device
    assert codes(device) == ["firmware_mismatch", "level_too_low", "missing", "suspended"]


# --- recognition ---------------------------------------------------------------------------------

def test_the_required_scheme_itself_counts_without_any_arrangement(agency, bsi):
    RequiredSchemeFactory(agency=agency, scheme=bsi, min_level="EAL4+")  # agency.jurisdiction not set
    device = DeviceCertificationFactory(agency=agency, scheme=bsi, level="EAL5").device
    assert compliance(device, agency) == "compliant"
    [finding] = device_compliance_reasons(device, today=TODAY)
    assert finding.arrangement is None and finding.message.startswith("Met by CC-BSI EAL5")


def test_recognised_under_sogis_at_eal4(german_agency, anssi, bsi, arrangements):
    RequiredSchemeFactory(agency=german_agency, scheme=bsi, min_level="EAL4")
    device = DeviceCertificationFactory(agency=german_agency, scheme=anssi, level="EAL4").device
    assert compliance(device, german_agency) == "compliant"
    [finding] = device_compliance_reasons(device, today=TODAY)
    assert finding.arrangement == arrangements["SOG-IS"]
    assert "recognised under SOG-IS up to EAL4" in finding.message


def test_eal4_augmented_is_not_recognised_via_sogis_or_ccra(german_agency, anssi, bsi, arrangements):
    RequiredSchemeFactory(agency=german_agency, scheme=bsi, min_level="EAL4")
    device = DeviceCertificationFactory(agency=german_agency, scheme=anssi, level="EAL4+").device
    assert compliance(device, german_agency) == "non_compliant"
    [finding] = device_compliance_reasons(device, today=TODAY)
    assert finding.reason_code == "not_recognised"
    assert finding.arrangement == arrangements["SOG-IS"]  # the arrangement reaching highest
    assert finding.message == "CC-ANSSI EAL4+ is not recognised here: SOG-IS recognises CC-ANSSI only up to EAL4."


def test_a_us_niap_eal4_plus_certificate_is_not_recognised_in_an_eu_agency(german_agency, niap, bsi, arrangements):
    RequiredSchemeFactory(agency=german_agency, scheme=bsi, min_level="EAL4+")
    device = DeviceCertificationFactory(agency=german_agency, scheme=niap, level="EAL4+").device
    assert compliance(device, german_agency) == "non_compliant"
    [finding] = device_compliance_reasons(device, today=TODAY)
    assert (finding.reason_code, finding.arrangement) == ("not_recognised", arrangements["CCRA"])
    assert "CCRA recognises CC-NIAP only up to EAL2" in finding.message


def test_recognition_needs_the_agency_jurisdiction(agency, anssi, bsi, arrangements):
    RequiredSchemeFactory(agency=agency, scheme=bsi, min_level="EAL4")
    device = DeviceCertificationFactory(agency=agency, scheme=anssi, level="EAL4").device
    assert compliance(device, agency) == "non_compliant"  # no jurisdiction: no arrangement applies
    [finding] = device_compliance_reasons(device, today=TODAY)
    assert finding.reason_code == "not_recognised" and "no jurisdiction is set" in finding.message
    agency.jurisdiction = "US"  # a CCRA member outside SOG-IS: only up to EAL2
    assert compliance(device, agency) == "non_compliant"
    agency.jurisdiction = "FR"
    assert compliance(device, agency) == "compliant"


def test_cmvp_certificates_count_in_canada(agency):
    agency.jurisdiction = "CA"
    fips = FipsSchemeFactory()
    RecognitionFactory(arrangement=ArrangementFactory(code="CMVP", member_jurisdictions=["US", "CA"]), scheme=fips,
                       max_level="Level 4")
    RequiredSchemeFactory(agency=agency, scheme=fips, min_level="Level 3", device_kind="pqc_hsm")
    hsm = DeviceCertificationFactory(agency=agency, scheme=fips, level="Level 3",
                                     device__kind="pqc_hsm").device
    low = DeviceCertificationFactory(agency=agency, scheme=fips, level="Level 2", device__kind="pqc_hsm").device
    assert compliance(hsm, agency) == "compliant"
    assert compliance(low, agency) == "non_compliant"


def test_a_scheme_of_another_family_never_stands_in(german_agency, bsi, arrangements):
    fips = FipsSchemeFactory()
    RequiredSchemeFactory(agency=german_agency, scheme=bsi, min_level="EAL1")
    device = DeviceCertificationFactory(agency=german_agency, scheme=fips, level="Level 4").device
    assert compliance(device, german_agency) == "non_compliant"
    assert codes(device) == ["missing"]


# --- firmware ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("pinned", "expected"), [
    ({"firmware_version": "2.1.0"}, "compliant"),
    ({"firmware_version": "2.0.9"}, "non_compliant"),
    ({"firmware_sha256": "a" * 64}, "compliant"),
    ({"firmware_sha256": "b" * 64}, "non_compliant"),
    ({"firmware_version": "2.1.0", "firmware_sha256": "b" * 64}, "non_compliant"),
    ({}, "compliant"),
])
def test_firmware_pinning_by_version_and_by_hash(pinned, expected, german_agency, bsi):
    RequiredSchemeFactory(agency=german_agency, scheme=bsi, min_level="EAL4")
    device = DeviceFactory(agency=german_agency, firmware_version="2.1.0", firmware_sha256="a" * 64)
    DeviceCertificationFactory(agency=german_agency, device=device, scheme=bsi, level="EAL4", **pinned)
    assert compliance(device, german_agency) == expected
    assert codes(device) == ([""] if expected == "compliant" else ["firmware_mismatch"])


# --- people --------------------------------------------------------------------------------------

def test_people_compliance(agency):
    from tests.certification.factories import ClearanceSchemeFactory

    nsv = ClearanceSchemeFactory()
    RequiredSchemeFactory(agency=agency, scheme=nsv, min_level="SC", device_kind="", personnel_role="key_custodian")
    cleared = PersonnelAccreditationFactory(agency=agency, scheme=nsv, level="DV").person
    ctc = PersonnelAccreditationFactory(agency=agency, scheme=nsv, level="CTC").person
    left = PersonFactory(agency=agency, active=False)
    nobody = PersonFactory(agency=agency)
    auditor = PersonFactory(agency=agency, role="auditor")
    annotated = {p.pk: p.compliance for p in people_with_compliance(Person.objects.all(), agency=agency,
                                                                     today=TODAY)}
    assert annotated == {cleared.pk: "compliant", ctc.pk: "non_compliant", left.pk: "not_required",
                         nobody.pk: "non_compliant", auditor.pk: "not_required"}
    assert [f.reason_code for f in person_compliance_reasons(ctc, today=TODAY)] == ["level_too_low"]


# --- the batch form and the summary --------------------------------------------------------------

def _fleet(agency, bsi, n):
    for i in range(n):
        DeviceCertificationFactory(agency=agency, scheme=bsi, level="EAL4+" if i % 2 else "EAL3",
                                   expires=days(30 if i % 3 else 400))


@pytest.mark.parametrize("rows", [2, 9])
def test_findings_for_a_page_take_a_constant_number_of_queries(rows, german_agency, bsi, arrangements,
                                                               django_assert_num_queries):
    RequiredSchemeFactory(agency=german_agency, scheme=bsi, min_level="EAL4")
    _fleet(german_agency, bsi, rows)
    devices = list(Device.objects.all())
    with django_assert_num_queries(3):  # requirements, recognitions, certificates
        findings = compliance_findings(devices, agency=german_agency, today=TODAY)
    annotated = {d.pk: d.compliance for d in devices_with_compliance(Device.objects.all(), agency=german_agency,
                                                                      today=TODAY)}
    assert {pk: compliance_of(f) for pk, f in findings.items()} == annotated


def test_compliance_summary(german_agency, bsi):
    RequiredSchemeFactory(agency=german_agency, scheme=bsi, min_level="EAL4")
    soon = DeviceCertificationFactory(agency=german_agency, scheme=bsi, level="EAL4",
                                      expires=timezone.localdate() + datetime.timedelta(days=20))
    DeviceCertificationFactory(agency=german_agency, scheme=bsi, level="EAL4",
                               expires=timezone.localdate() + datetime.timedelta(days=200))
    DeviceCertificationFactory(agency=german_agency, scheme=bsi, level="EAL3")
    DeviceFactory(agency=german_agency, kind="other")
    summary = compliance_summary(agency=german_agency)
    assert summary["devices"] == {"compliant": 1, "expiring": 1, "non_compliant": 1, "not_required": 1}
    assert summary["people"] == {"compliant": 0, "expiring": 0, "non_compliant": 0, "not_required": 0}
    assert summary["expiring_certifications"] == [soon]
