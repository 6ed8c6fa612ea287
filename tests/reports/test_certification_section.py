"""Certification's report section (certification/reports.py): exact figures, rows and order for the
compliance, sunset-review and transparency kinds, agency isolation, a fixed query count, and a
transparency summary that names no device, serial or person."""

import datetime as dt
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from certification.reports import (
    CERTIFICATION_SECTION,
    compliance_section,
    sunset_review_section,
    transparency_section,
)
from qgov.choices import RoleChoices
from qgov.evidence.services import evidence_attach
from qgov.models import EvidenceFile
from qgov.reports.choices import ReportKindChoices
from qgov.reports.document import ReportContext
from qgov.reports.sections import sections_for
from qgov.reports.transparency import is_public, redact
from tests.certification.factories import (
    ClearanceSchemeFactory,
    DeviceCertificationFactory,
    DeviceFactory,
    PersonFactory,
    PersonnelAccreditationFactory,
    RequiredSchemeFactory,
    SchemeFactory,
)
from tests.reports.sections import figures, queries_of, rows, written_section

AS_OF = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)  # 11:00 in Brussels: the as-of day is 2026-12-01
HORIZON = dt.date(2027, 12, 1)
D = dt.date
ISSUED = D(2025, 1, 1)


def context(agency, kind=ReportKindChoices.COMPLIANCE, horizon=None):
    return ReportContext(agency=agency, kind=kind, as_of=AS_OF, horizon_end=horizon)


@pytest.fixture
def owner(agency, member_of):
    return member_of(agency, RoleChoices.EDITOR, username="olga")


@pytest.fixture
def estate(agency, other_agency, owner, member_of):
    """Devices and staff of the agency at every compliance, and another agency's that must never show."""
    cc = SchemeFactory(code="CC-TEST")
    nsv = ClearanceSchemeFactory(code="UK-NSV-T")
    RequiredSchemeFactory(agency=agency, scheme=cc, min_level="EAL4+", device_kind="qkd_transmitter")
    RequiredSchemeFactory(agency=agency, scheme=nsv, min_level="SC", device_kind="", personnel_role="key_custodian")

    def device(name, serial, status="in_service"):
        return DeviceFactory(agency=agency, name=name, serial=serial, status=status, owner=owner)

    def cert(holder, certificate_id, *, expires, status="valid", issued=ISSUED, review_due=None):
        return DeviceCertificationFactory(agency=agency, device=holder, scheme=cc, certificate_id=certificate_id,
                                          issued=issued, expires=expires, status=status, review_due=review_due)

    alpha, bravo = device("Alpha-TX", "SN-ALPHA"), device("Bravo-TX", "SN-BRAVO")
    charlie, delta = device("Charlie-TX", "SN-CHARLIE"), device("Delta-TX", "SN-DELTA")
    device("Echo-TX", "SN-ECHO")  # no certificate at all
    foxtrot, golf = device("Foxtrot-TX", "SN-FOXTROT", status="withdrawn"), device("Golf-TX", "SN-GOLF")
    records = {
        "alpha": cert(alpha, "CERT-A", expires=D(2029, 1, 1), review_due=D(2027, 6, 1)),
        "bravo": cert(bravo, "CERT-B", expires=D(2027, 1, 15)),  # in 45 days: expiring
        "charlie": cert(charlie, "CERT-C", expires=D(2026, 10, 1), status="expired"),
        "delta": cert(delta, "CERT-D", expires=D(2026, 11, 30)),  # yesterday, still marked valid
        "foxtrot": cert(foxtrot, "CERT-F", expires=D(2027, 2, 1)),  # a withdrawn device's, still reminded
        # renewed: the old certificate's expiry is no longer due
        "golf_old": cert(golf, "CERT-G1", issued=D(2022, 3, 1), expires=D(2027, 3, 1)),
        "golf_new": cert(golf, "CERT-G2", issued=D(2026, 11, 1), expires=D(2031, 11, 1)),
    }
    ada_user = member_of(agency, RoleChoices.VIEWER, username="ada")
    ada = PersonFactory(agency=agency, name="Ada Lovelace", role="key_custodian", user=ada_user, unit="Keys")
    bob = PersonFactory(agency=agency, name="Bob Marley", role="key_custodian", unit="Keys")
    PersonFactory(agency=agency, name="Cy Young", role="key_custodian", unit="Ops")  # no accreditation
    di = PersonFactory(agency=agency, name="Di Left", role="key_custodian", active=False)
    records["ada"] = PersonnelAccreditationFactory(agency=agency, person=ada, scheme=nsv, credential_id="NSV-ADA",
                                                   issued=D(2024, 2, 10), expires=D(2027, 2, 10))
    records["bob"] = PersonnelAccreditationFactory(agency=agency, person=bob, scheme=nsv, credential_id="NSV-BOB",
                                                   issued=D(2021, 6, 1), expires=D(2026, 6, 1), status="expired")
    PersonnelAccreditationFactory(agency=agency, person=di, scheme=nsv, credential_id="NSV-DI",
                                  issued=D(2025, 1, 1), expires=D(2030, 1, 1))
    # Another agency: due in the window, non-compliant, with evidence; none of it may show.
    zulu = DeviceFactory(agency=other_agency, name="Zulu-TX", serial="SN-ZULU", status="in_service")
    records["zulu"] = DeviceCertificationFactory(agency=other_agency, device=zulu, scheme=cc, certificate_id="CERT-Z",
                                                 issued=D(2025, 1, 10), expires=D(2027, 1, 10))
    RequiredSchemeFactory(agency=other_agency, scheme=cc, min_level="EAL4+", device_kind="qkd_transmitter")
    DeviceFactory(agency=other_agency, name="Yankee-TX", serial="SN-YANKEE", status="in_service")
    zed = PersonFactory(agency=other_agency, name="Zed Other", role="key_custodian")
    PersonnelAccreditationFactory(agency=other_agency, person=zed, scheme=nsv, credential_id="NSV-ZED",
                                  issued=D(2024, 1, 1), expires=D(2027, 1, 20))
    return records


@pytest.fixture
def evidence(estate, agency, other_agency, owner, member_of, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    outsider = member_of(other_agency, RoleChoices.EDITOR, username="oscar")

    def attach(record, name, content, user, uploaded):
        file = evidence_attach(record=record, user=user, upload=SimpleUploadedFile(name, content,
                                                                                   content_type="text/plain"))
        EvidenceFile.objects.filter(pk=file.pk).update(uploaded_at=uploaded)
        return file

    day_before = AS_OF - dt.timedelta(days=1)
    attach(estate["alpha"], "cert-a.txt", b"certificate A", owner, day_before)
    attach(estate["ada"], "nsv-ada.txt", b"clearance Ada", owner, day_before - dt.timedelta(days=1))
    attach(estate["bravo"], "later.txt", b"after the report", owner, AS_OF + dt.timedelta(hours=1))
    withdrawn = attach(estate["bravo"], "wrong.txt", b"withdrawn", owner, day_before)
    EvidenceFile.objects.filter(pk=withdrawn.pk).update(withdrawn_at=day_before + dt.timedelta(hours=1))
    attach(estate["zulu"], "cert-z.txt", b"other agency", outsider, day_before)


def test_the_section_is_registered_for_three_kinds():
    assert CERTIFICATION_SECTION in sections_for(ReportKindChoices.COMPLIANCE)
    assert CERTIFICATION_SECTION in sections_for(ReportKindChoices.SUNSET_REVIEW)
    assert CERTIFICATION_SECTION in sections_for(ReportKindChoices.TRANSPARENCY)
    assert CERTIFICATION_SECTION not in sections_for(ReportKindChoices.RISK_REGISTER)
    assert (CERTIFICATION_SECTION.key, CERTIFICATION_SECTION.order) == ("certification", 20)


def test_compliance_figures_and_tables(agency, estate, evidence):
    section = compliance_section(context(agency))
    assert section.key == "certification" and section.title == "Certification and accreditation"
    assert figures(section) == {
        "devices_in_service_count": 6, "devices_valid_count": 3, "devices_expired_count": 2,
        "devices_uncertified_count": 1, "devices_non_compliant_count": 3, "certifications_expiring_count": 2,
        "people_active_count": 3, "people_valid_count": 1, "people_expired_count": 1,
        "people_unaccredited_count": 1, "people_non_compliant_count": 2, "accreditations_expiring_count": 1,
    }
    assert rows(section, "compliance") == [
        {"status": "Compliant", "devices_count": 2, "people_count": 0},
        {"status": "Expiring soon", "devices_count": 1, "people_count": 1},
        {"status": "Non-compliant", "devices_count": 3, "people_count": 2},
        {"status": "Nothing required", "devices_count": 1, "people_count": 1},
    ]
    assert rows(section, "non_compliant_devices") == [
        {"device": "Charlie-TX", "kind": "QKD transmitter", "serial": "SN-CHARLIE", "site": "", "owner": "olga",
         "reasons": "CC-TEST EAL4+ (CERT-C) is expired."},
        {"device": "Delta-TX", "kind": "QKD transmitter", "serial": "SN-DELTA", "site": "", "owner": "olga",
         "reasons": "CC-TEST EAL4+ (CERT-D) expired on 2026-11-30."},
        {"device": "Echo-TX", "kind": "QKD transmitter", "serial": "SN-ECHO", "site": "", "owner": "olga",
         "reasons": "No certificate under CC-TEST (or one recognised as equivalent) at EAL4+ or above."},
    ]
    assert rows(section, "expiring_certifications") == [
        {"holder": "Bravo-TX", "scheme": "CC-TEST", "level": "EAL4+", "certificate": "CERT-B", "status": "Valid",
         "due": "Certificate expires", "due_date": D(2027, 1, 15), "days_left": 45, "owner": "olga"},
        {"holder": "Foxtrot-TX", "scheme": "CC-TEST", "level": "EAL4+", "certificate": "CERT-F", "status": "Valid",
         "due": "Certificate expires", "due_date": D(2027, 2, 1), "days_left": 62, "owner": "olga"},
    ]
    assert rows(section, "non_compliant_people") == [
        {"person": "Bob Marley", "role": "Key custodian", "unit": "Keys",
         "reasons": "UK-NSV-T SC (NSV-BOB) is expired."},
        {"person": "Cy Young", "role": "Key custodian", "unit": "Ops",
         "reasons": "No certificate under UK-NSV-T (or one recognised as equivalent) at SC or above."},
    ]
    assert rows(section, "expiring_accreditations") == [
        {"holder": "Ada Lovelace", "scheme": "UK-NSV-T", "level": "SC", "certificate": "NSV-ADA", "status": "Valid",
         "due": "Accreditation expires", "due_date": D(2027, 2, 10), "days_left": 71, "owner": "ada"},
    ]
    # Held on the as-of instant: not the one uploaded after it, nor the withdrawn one, nor another agency's.
    assert [(item.record, item.name, item.sha256, item.uploaded) for item in section.evidence] == [
        ("CC-TEST CERT-A — Alpha-TX", "cert-a.txt", hashlib.sha256(b"certificate A").hexdigest(),
         AS_OF - dt.timedelta(days=1)),
        ("UK-NSV-T SC — Ada Lovelace", "nsv-ada.txt", hashlib.sha256(b"clearance Ada").hexdigest(),
         AS_OF - dt.timedelta(days=2)),
    ]


def test_sunset_review_lists_expiries_and_reviews_in_the_window(agency, estate):
    section = sunset_review_section(context(agency, ReportKindChoices.SUNSET_REVIEW, HORIZON))
    assert figures(section) == {"certifications_due_count": 3, "accreditations_due_count": 1,
                                "devices_end_of_support_count": 0}
    assert [(row["holder"], row["certificate"], row["due"], row["due_date"], row["days_left"], row["owner"])
            for row in rows(section, "certifications_due")] == [
        ("Bravo-TX", "CERT-B", "Certificate expires", D(2027, 1, 15), 45, "olga"),
        ("Foxtrot-TX", "CERT-F", "Certificate expires", D(2027, 2, 1), 62, "olga"),
        ("Alpha-TX", "CERT-A", "Certificate review due", D(2027, 6, 1), 182, "olga"),
    ]
    assert [(row["holder"], row["due"], row["due_date"], row["owner"]) for row in rows(section, "accreditations_due")] \
        == [("Ada Lovelace", "Accreditation expires", D(2027, 2, 10), "ada")]
    # A shorter window leaves out what falls after it.
    short = sunset_review_section(context(agency, ReportKindChoices.SUNSET_REVIEW, D(2027, 1, 31)))
    assert [row["certificate"] for row in rows(short, "certifications_due")] == ["CERT-B"]


def test_sunset_review_lists_devices_in_use_at_or_reaching_end_of_support(agency, other_agency, owner):
    def device(name, end_of_support, status="in_service", device_agency=agency):
        return DeviceFactory(agency=device_agency, name=name, serial=f"SN-{name}", status=status, owner=owner,
                             end_of_support=end_of_support)

    device("Past-EOS", D(2026, 6, 30))  # still in service after its support ended: the finding
    device("Planned-EOS", D(2027, 3, 1), status="planned")
    device("Later-EOS", D(2028, 1, 1))  # after the window
    device("Withdrawn-EOS", D(2027, 1, 1), status="withdrawn")  # no longer in use
    device("No-EOS", None)
    device("Foreign-EOS", D(2027, 1, 1), device_agency=other_agency)

    section = sunset_review_section(context(agency, ReportKindChoices.SUNSET_REVIEW, HORIZON))

    assert figures(section)["devices_end_of_support_count"] == 2
    assert [(row["holder"], row["status"], row["due_date"], row["days_left"], row["owner"])
            for row in rows(section, "devices_end_of_support")] == [
        ("Past-EOS", "In service", D(2026, 6, 30), -154, "olga"),
        ("Planned-EOS", "Planned", D(2027, 3, 1), 90, "olga")]


def test_transparency_gives_counts_only(agency, estate, evidence):
    section = transparency_section(context(agency, ReportKindChoices.TRANSPARENCY))
    assert all(is_public(figure.key) for figure in section.figures)
    assert all(is_public(column.key) for table in section.tables for column in table.columns)
    published = redact(section)
    assert figures(published) == {
        "devices_in_service_count": 6, "devices_certified_count": 3, "devices_certified_percent": 50.0,
        "people_active_count": 3, "people_accredited_count": 1, "accreditations_valid_count": 2,
    }
    assert rows(published, "certificates_by_scheme") == [
        {"kind": "Device", "scheme": "CC-TEST", "status": "Valid", "count": 5},
        {"kind": "Device", "scheme": "CC-TEST", "status": "Expired", "count": 2},
        {"kind": "Personnel", "scheme": "UK-NSV-T", "status": "Valid", "count": 2},
        {"kind": "Personnel", "scheme": "UK-NSV-T", "status": "Expired", "count": 1},
    ]
    assert rows(published, "compliance")[2] == {"status": "Non-compliant", "devices_count": 3, "people_count": 2}
    assert published.evidence == []
    text = " ".join([published.intro, *(str(figure.value) for figure in published.figures),
                     *(str(value) for table in published.tables for row in table.iter_rows()
                       for value in row.values())])
    for secret in ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Zulu", "SN-", "CERT-",
                   "NSV-ADA", "NSV-BOB", "NSV-DI", "Ada", "Bob", "Cy Young", "Di Left", "olga", "ada", "Keys"):
        assert secret not in text, secret


def test_agency_isolation(other_agency, estate, evidence):
    """The other agency's report holds only its own device, person and file."""
    section = compliance_section(context(other_agency))
    assert figures(section)["devices_in_service_count"] == 2
    assert [row["device"] for row in rows(section, "non_compliant_devices")] == ["Yankee-TX"]
    assert [row["holder"] for row in rows(section, "expiring_certifications")] == ["Zulu-TX"]
    assert [row["holder"] for row in rows(section, "expiring_accreditations")] == ["Zed Other"]
    assert [item.name for item in section.evidence] == ["cert-z.txt"]
    sunset = sunset_review_section(context(other_agency, ReportKindChoices.SUNSET_REVIEW, HORIZON))
    assert [row["holder"] for table in sunset.tables for row in table.iter_rows()] == ["Zulu-TX", "Zed Other"]
    published = transparency_section(context(other_agency, ReportKindChoices.TRANSPARENCY))
    assert rows(published, "certificates_by_scheme") == [
        {"kind": "Device", "scheme": "CC-TEST", "status": "Valid", "count": 1},
        {"kind": "Personnel", "scheme": "UK-NSV-T", "status": "Valid", "count": 1},
    ]


@pytest.mark.parametrize("builder, kind", [(compliance_section, ReportKindChoices.COMPLIANCE),
                                           (sunset_review_section, ReportKindChoices.SUNSET_REVIEW),
                                           (transparency_section, ReportKindChoices.TRANSPARENCY)])
def test_query_count_does_not_grow_with_rows(agency, estate, evidence, owner, builder, kind):
    ctx = context(agency, kind, HORIZON)
    builder(ctx)  # warms the content-type cache, not the section's cost
    before = queries_of(builder, ctx)
    scheme, nsv = estate["alpha"].scheme, estate["ada"].scheme
    for number in range(5):
        device = DeviceFactory(agency=agency, name=f"More-{number}", serial=f"SN-M{number}", owner=owner)
        more = DeviceCertificationFactory(agency=agency, device=device, scheme=scheme, certificate_id=f"CERT-M{number}",
                                          issued=D(2025, 1, 1), expires=D(2027, 1, 1) + dt.timedelta(days=number))
        DeviceFactory(agency=agency, name=f"Bare-{number}", serial=f"SN-B{number}", owner=owner)
        person = PersonFactory(agency=agency, name=f"Person {number}", role="key_custodian")
        PersonnelAccreditationFactory(agency=agency, person=person, scheme=nsv, credential_id=f"NSV-M{number}",
                                      issued=D(2025, 1, 1), expires=D(2027, 1, 2), status="suspended")
        file = evidence_attach(record=more, user=owner, upload=SimpleUploadedFile(f"m{number}.txt", b"m%d" % number))
        EvidenceFile.objects.filter(pk=file.pk).update(uploaded_at=AS_OF - dt.timedelta(days=1))
    grown = builder(ctx)
    assert sum(len(list(table.iter_rows())) for table in grown.tables) > 0
    assert queries_of(builder, ctx) == before


@pytest.mark.parametrize("kind", [ReportKindChoices.COMPLIANCE, ReportKindChoices.SUNSET_REVIEW,
                                  ReportKindChoices.TRANSPARENCY])
def test_the_registry_builds_it_and_the_writers_carry_it(agency, estate, evidence, kind):
    """Through the core (qgov.reports.build): the section is built for the kind, redacted for the public
    summary, and written to JSON with its dates."""
    ctx = context(agency, kind, HORIZON if kind == ReportKindChoices.SUNSET_REVIEW else None)
    document, written, text = written_section(ctx, "certification")
    tables = {table["key"]: table["rows"] for table in written["tables"]}
    if kind == ReportKindChoices.COMPLIANCE:
        assert tables["expiring_certifications"][0]["due_date"] == "2027-01-15"
        assert [item["name"] for item in written["evidence"]] == ["cert-a.txt", "nsv-ada.txt"]
    elif kind == ReportKindChoices.SUNSET_REVIEW:
        assert [row["certificate"] for row in tables["certifications_due"]] == ["CERT-B", "CERT-F", "CERT-A"]
    else:
        assert "Alpha" not in text and written["evidence"] == []
        assert written["figures"]["devices_certified_percent"]["value"] == 50.0
