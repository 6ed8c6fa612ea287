"""Procurement's report section (procurement/reports.py): exact figures, rows and order for the
compliance, sunset-review and transparency kinds, the agency's chosen crypto policy, agency
isolation, a fixed query count, and a transparency summary without supplier names or details."""

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from procurement.models import DueDiligenceReview
from procurement.reports import (
    PROCUREMENT_SECTION,
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
from tests.certification.factories import DeviceFactory
from tests.procurement.factories import (
    ComponentFactory,
    ContractFactory,
    CryptoComponentFactory,
    CryptoPolicyAdoptionFactory,
    CryptoPolicyFactory,
    DueDiligenceAnswerFactory,
    DueDiligenceReviewFactory,
    QuestionnaireFactory,
    SupplierFactory,
)
from tests.reports.sections import figures, queries_of, rows, written_section

AS_OF = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)  # the as-of day in Brussels: 2026-12-01
HORIZON = dt.date(2027, 12, 1)
D = dt.date


def context(agency, kind=ReportKindChoices.COMPLIANCE, horizon=None):
    return ReportContext(agency=agency, kind=kind, as_of=AS_OF, horizon_end=horizon)


@pytest.fixture
def owner(agency, member_of):
    return member_of(agency, RoleChoices.EDITOR, username="olga")


@pytest.fixture
def questionnaire(db):
    return QuestionnaireFactory(code="QKD-SCRM-T")


def review(supplier, questionnaire, *, status="submitted", next_due=None, submitted=None):
    made = DueDiligenceReviewFactory(agency=supplier.agency, supplier=supplier, questionnaire=questionnaire,
                                     with_answers=False)
    # Straight to the state under test (the lifecycle is tested in tests/procurement).
    DueDiligenceReview.objects.filter(pk=made.pk).update(status=status, next_review_due=next_due,
                                                         submitted_at=submitted)
    made.refresh_from_db()
    return made


@pytest.fixture
def estate(agency, other_agency, owner, questionnaire, member_of):
    CryptoPolicyFactory()  # the default (NIST IR 8547), which the other agency follows
    policy = CryptoPolicyFactory(code="TEST-PQ", name="Test migration policy", deadlines=[
        {"date": "2026-06-30", "label": "Weak keys already due", "classical_bits_at_most": 80},
        {"date": "2027-06-30", "label": "Signatures first", "primitives": ["signature"]},
        {"date": "2030-12-31", "label": "Everything else"}])
    CryptoPolicyAdoptionFactory(agency=agency, policy=policy)

    def supplier(name, status, *, score=None, outcome="", rated_on=None, criticality="high"):
        return SupplierFactory(agency=agency, name=name, status=status, criticality=criticality, owner=owner,
                               rating_score=score, rating_outcome=outcome, rated_on=rated_on)

    photonica = supplier("Photonica AG", "approved", score=Decimal("90.0"), outcome="approve", rated_on=D(2026, 3, 1))
    cryptovault = supplier("Cryptovault Ltd", "approved", score=Decimal("80.0"), outcome="approve",
                           rated_on=D(2025, 6, 1), criticality="medium")
    liberty = supplier("Liberty Quantum Inc.", "conditional", score=Decimal("62.5"), outcome="conditional",
                       rated_on=D(2026, 6, 1))
    shenzhen = supplier("Shenzhen Photon Link", "candidate", score=Decimal("40.0"), outcome="escalate",
                        rated_on=D(2026, 10, 1), criticality="critical")
    keystone = supplier("Keystone Oy", "candidate")
    netcipher = supplier("Netcipher B.V.", "exited", score=Decimal("18.0"), outcome="reject", rated_on=D(2024, 1, 1))
    at = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
    records = {
        "photonica_old": review(photonica, questionnaire, status="superseded", next_due=D(2026, 1, 1)),
        "photonica": review(photonica, questionnaire, next_due=D(2027, 3, 1), submitted=at),  # in 90 days
        "cryptovault": review(cryptovault, questionnaire, next_due=D(2026, 11, 1), submitted=at),  # overdue
        "liberty": review(liberty, questionnaire, next_due=D(2028, 6, 1), submitted=at),
        "shenzhen": review(shenzhen, questionnaire, next_due=D(2027, 10, 1), submitted=at),
        "keystone": review(keystone, questionnaire, status="draft"),
        "netcipher": review(netcipher, questionnaire, next_due=D(2025, 1, 1), submitted=at),
    }
    records["photonica_q3"] = DueDiligenceAnswerFactory(agency=agency, review=records["photonica"], question="Q3")
    alpha = DeviceFactory(agency=agency, name="Alpha-TX", serial="SN-ALPHA")

    def crypto(name, supplier, **fields):
        return CryptoComponentFactory(agency=agency, supplier=supplier, name=name, component_version="", **fields)

    crypto("fw-sign-key", photonica, device=alpha)  # RSA-2048 signatures: 2027-06-30
    crypto("tls-ecdh", photonica, primitive="key-agree", algorithm="ECDH", parameter_set_identifier="P-384",
           classical_security_level=192)  # 2030-12-31: after the window
    crypto("aes-gcm", photonica, primitive="ae", algorithm="AES-256-GCM", parameter_set_identifier="",
           classical_security_level=256, nist_quantum_security_level=1)
    crypto("legacy-dh", cryptovault, primitive="key-agree", algorithm="DH", parameter_set_identifier="1024",
           classical_security_level=80)  # 2026-06-30: already past
    crypto("ml-kem", cryptovault, primitive="kem", algorithm="ML-KEM", parameter_set_identifier="768",
           classical_security_level=192, nist_quantum_security_level=3)
    ComponentFactory(agency=agency, supplier=liberty, name="qkd-firmware")
    crypto("orphan-rsa", None)  # no supplier: 2027-06-30, nobody owns it

    def contract(reference, supplier, status, **dates):
        return ContractFactory(agency=agency, supplier=supplier, reference=reference, status=status, owner=owner,
                               start=D(2024, 1, 1), **dates)

    contract("CT-001", photonica, "active", end=D(2028, 12, 31), sunset_date=D(2027, 1, 15),
             next_reevaluation=D(2026, 11, 21))
    contract("CT-002", cryptovault, "renewed", end=D(2027, 6, 30), sunset_date=D(2027, 3, 31))
    contract("CT-003", liberty, "exiting", end=D(2027, 9, 30), sunset_date=D(2027, 2, 1))  # sunset no longer chased
    contract("CT-004", keystone, "draft", end=D(2028, 1, 1), sunset_date=D(2027, 1, 1))  # a draft: nothing due
    contract("CT-005", photonica, "active", end=D(2030, 1, 1), sunset_date=None)

    # Another agency: due in the window, with evidence; none of it may show.
    zenith = SupplierFactory(agency=other_agency, name="Zenith Secret Corp", status="approved")
    records["zenith"] = review(zenith, questionnaire, next_due=D(2027, 1, 1), submitted=at)
    CryptoComponentFactory(agency=other_agency, supplier=zenith, name="zenith-rsa")
    ContractFactory(agency=other_agency, supplier=zenith, reference="CT-Z", status="active", start=D(2024, 1, 1),
                    end=D(2028, 1, 1), sunset_date=D(2027, 2, 1))
    return records


@pytest.fixture
def evidence(estate, agency, other_agency, owner, member_of, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    outsider = member_of(other_agency, RoleChoices.EDITOR, username="oscar")

    def attach(record, name, content, user):
        file = evidence_attach(record=record, user=user, upload=SimpleUploadedFile(name, content,
                                                                                   content_type="text/plain"))
        EvidenceFile.objects.filter(pk=file.pk).update(uploaded_at=AS_OF - dt.timedelta(days=1))

    attach(estate["photonica"], "audit-report.txt", b"audit report", owner)
    attach(estate["photonica_q3"], "firmware-signing.txt", b"signing policy", owner)
    attach(estate["keystone"], "draft.txt", b"not submitted", owner)
    attach(estate["zenith"], "zenith.txt", b"other agency", outsider)


def test_the_section_is_registered_for_three_kinds():
    for kind in (ReportKindChoices.COMPLIANCE, ReportKindChoices.SUNSET_REVIEW, ReportKindChoices.TRANSPARENCY):
        assert PROCUREMENT_SECTION in sections_for(kind)
    assert PROCUREMENT_SECTION not in sections_for(ReportKindChoices.RISK_REGISTER)
    assert (PROCUREMENT_SECTION.key, PROCUREMENT_SECTION.order) == ("procurement", 30)


def test_compliance_figures_and_tables(agency, estate, evidence):
    section = compliance_section(context(agency))
    assert section.key == "procurement" and section.title == "Suppliers and components"
    assert figures(section) == {
        "suppliers_count": 6, "review_overdue_count": 1, "review_due_soon_count": 1, "review_never_count": 1,
        "flagged_count": 1, "components_count": 7, "components_vulnerable_count": 4,
        "components_past_deadline_count": 1, "crypto_policy": "Test migration policy",
    }
    assert rows(section, "suppliers_by_status") == [
        {"status": "Candidate", "count": 2}, {"status": "Approved", "count": 2},
        {"status": "Approved with conditions", "count": 1}, {"status": "Suspended", "count": 0},
        {"status": "Exited", "count": 1}]
    assert rows(section, "suppliers_by_outcome") == [
        {"outcome": "Approve", "count": 2}, {"outcome": "Approve with conditions", "count": 1},
        {"outcome": "Reject", "count": 1}, {"outcome": "Escalate", "count": 1}, {"outcome": "Not rated", "count": 1}]
    assert rows(section, "review_bands") == [
        {"band": "Review overdue", "count": 1}, {"band": "Review due within 90 days", "count": 1},
        {"band": "Reviewed, next review later", "count": 2}, {"band": "Not yet reviewed", "count": 1},
        {"band": "Exited, no longer reviewed", "count": 1}]
    assert rows(section, "suppliers") == [
        {"supplier": "Cryptovault Ltd", "status": "Approved", "criticality": "Medium", "last_review": D(2025, 6, 1),
         "score": Decimal("80.0"), "outcome": "Approve", "next_due": D(2026, 11, 1), "review": "Review overdue",
         "owner": "olga"},
        {"supplier": "Keystone Oy", "status": "Candidate", "criticality": "High", "last_review": None,
         "score": None, "outcome": None, "next_due": None, "review": "Not yet reviewed", "owner": "olga"},
        {"supplier": "Liberty Quantum Inc.", "status": "Approved with conditions", "criticality": "High",
         "last_review": D(2026, 6, 1), "score": Decimal("62.5"), "outcome": "Approve with conditions",
         "next_due": D(2028, 6, 1), "review": "Reviewed, next review later", "owner": "olga"},
        {"supplier": "Netcipher B.V.", "status": "Exited", "criticality": "High", "last_review": D(2024, 1, 1),
         "score": Decimal("18.0"), "outcome": "Reject", "next_due": D(2025, 1, 1),
         "review": "Exited, no longer reviewed", "owner": "olga"},
        {"supplier": "Photonica AG", "status": "Approved", "criticality": "High", "last_review": D(2026, 3, 1),
         "score": Decimal("90.0"), "outcome": "Approve", "next_due": D(2027, 3, 1),
         "review": "Review due within 90 days", "owner": "olga"},
        {"supplier": "Shenzhen Photon Link", "status": "Candidate", "criticality": "Critical",
         "last_review": D(2026, 10, 1), "score": Decimal("40.0"), "outcome": "Escalate", "next_due": D(2027, 10, 1),
         "review": "Reviewed, next review later", "owner": "olga"},
    ]
    assert rows(section, "quantum_vulnerable_by_supplier") == [
        {"supplier": "Photonica AG", "components_count": 3, "vulnerable_count": 2,
         "earliest_deadline": D(2027, 6, 30)},
        {"supplier": "Cryptovault Ltd", "components_count": 2, "vulnerable_count": 1,
         "earliest_deadline": D(2026, 6, 30)},
        {"supplier": "Liberty Quantum Inc.", "components_count": 1, "vulnerable_count": 0, "earliest_deadline": None},
    ]
    # The current reviews' files and their answers'; not a draft's, not another agency's.
    assert [(item.record, item.name, item.sha256) for item in section.evidence] == [
        ("Photonica AG — QKD-SCRM-T review submitted 2026-03-01", "audit-report.txt",
         hashlib.sha256(b"audit report").hexdigest()),
        ("Photonica AG — QKD-SCRM-T review submitted 2026-03-01, Q3", "firmware-signing.txt",
         hashlib.sha256(b"signing policy").hexdigest()),
    ]


def test_sunset_review_lists_contracts_and_cryptography_due(agency, estate):
    section = sunset_review_section(context(agency, ReportKindChoices.SUNSET_REVIEW, HORIZON))
    assert figures(section) == {"contracts_due_count": 3, "contract_dates_overdue_count": 1,
                                "components_due_count": 3, "components_overdue_count": 1,
                                "crypto_policy": "Test migration policy"}
    assert [(row["contract"], row["supplier"], row["status"], row["due"], row["due_date"], row["days_left"],
             row["owner"]) for row in rows(section, "contracts_due")] == [
        ("CT-001", "Photonica AG", "Active", "Contract re-evaluation due", D(2026, 11, 21), -10, "olga"),
        ("CT-001", "Photonica AG", "Active", "Contract sunset", D(2027, 1, 15), 45, "olga"),
        ("CT-002", "Cryptovault Ltd", "Renewed", "Contract sunset", D(2027, 3, 31), 120, "olga"),
        ("CT-002", "Cryptovault Ltd", "Renewed", "Contract ends", D(2027, 6, 30), 211, "olga"),
        ("CT-003", "Liberty Quantum Inc.", "Exiting", "Contract ends", D(2027, 9, 30), 303, "olga"),
    ]
    assert rows(section, "components_due") == [
        {"component": "legacy-dh", "supplier": "Cryptovault Ltd", "algorithm": "DH 1024", "device": None,
         "rule": "Weak keys already due", "due_date": D(2026, 6, 30), "days_left": -154, "owner": "olga"},
        {"component": "fw-sign-key", "supplier": "Photonica AG", "algorithm": "RSA 2048", "device": "Alpha-TX",
         "rule": "Signatures first", "due_date": D(2027, 6, 30), "days_left": 211, "owner": "olga"},
        {"component": "orphan-rsa", "supplier": None, "algorithm": "RSA 2048", "device": None,
         "rule": "Signatures first", "due_date": D(2027, 6, 30), "days_left": 211, "owner": None},
    ]
    # A window ending before the signatures' deadline keeps only what is already past and the contracts in it.
    short = sunset_review_section(context(agency, ReportKindChoices.SUNSET_REVIEW, D(2027, 1, 31)))
    assert [row["component"] for row in rows(short, "components_due")] == ["legacy-dh"]
    assert [(row["contract"], row["due_date"]) for row in rows(short, "contracts_due")] == [
        ("CT-001", D(2026, 11, 21)), ("CT-001", D(2027, 1, 15))]


def test_transparency_gives_counts_only(agency, estate, evidence):
    section = transparency_section(context(agency, ReportKindChoices.TRANSPARENCY))
    assert all(is_public(figure.key) for figure in section.figures)
    assert all(is_public(column.key) for table in section.tables for column in table.columns)
    published = redact(section)
    assert figures(published) == {"suppliers_count": 5, "suppliers_reviewed_count": 4, "components_count": 7,
                                  "components_vulnerable_count": 4, "contracts_count": 3,
                                  "contracts_sunset_count": 2}
    assert rows(published, "review_bands")[0] == {"band": "Review overdue", "count": 1}
    assert rows(published, "suppliers_by_status")[1] == {"status": "Approved", "count": 2}
    assert rows(published, "components_by_category") == [{"category": "Quantum-vulnerable", "count": 4},
                                                          {"category": "Not quantum-vulnerable", "count": 3}]
    assert rows(published, "vulnerable_by_deadline_year") == [{"year": 2026, "count": 1}, {"year": 2027, "count": 2},
                                                              {"year": 2030, "count": 1}]
    assert published.evidence == []
    text = " ".join([published.intro, *(str(figure.value) for figure in published.figures),
                     *(str(value) for table in published.tables for row in table.iter_rows()
                       for value in row.values())])
    for secret in ("Photonica", "Cryptovault", "Liberty", "Shenzhen", "Keystone", "Netcipher", "Zenith",
                   "fw-sign-key", "legacy-dh", "orphan", "CT-", "olga", "Alpha", "SN-", "Test migration policy"):
        assert secret not in text, secret


def test_agency_isolation(other_agency, estate, evidence):
    section = compliance_section(context(other_agency))
    assert [row["supplier"] for row in rows(section, "suppliers")] == ["Zenith Secret Corp"]
    assert [row["supplier"] for row in rows(section, "quantum_vulnerable_by_supplier")] == ["Zenith Secret Corp"]
    assert figures(section)["crypto_policy"] == "NIST IR 8547 (initial public draft)"
    assert [item.name for item in section.evidence] == ["zenith.txt"]
    sunset = sunset_review_section(context(other_agency, ReportKindChoices.SUNSET_REVIEW, HORIZON))
    assert [(row["contract"], row["due"]) for row in rows(sunset, "contracts_due")] == [("CT-Z", "Contract sunset")]
    assert rows(sunset, "components_due") == []  # RSA-2048 under NIST IR 8547: 2030-12-31
    assert figures(transparency_section(context(other_agency, ReportKindChoices.TRANSPARENCY)))["components_count"] == 1


@pytest.mark.parametrize("builder, kind", [(compliance_section, ReportKindChoices.COMPLIANCE),
                                           (sunset_review_section, ReportKindChoices.SUNSET_REVIEW),
                                           (transparency_section, ReportKindChoices.TRANSPARENCY)])
def test_query_count_does_not_grow_with_rows(agency, estate, evidence, owner, questionnaire, builder, kind):
    ctx = context(agency, kind, HORIZON)
    builder(ctx)  # warms the content-type cache, not the section's cost
    before = queries_of(builder, ctx)
    for number in range(5):
        supplier = SupplierFactory(agency=agency, name=f"More {number}", owner=owner, rating_outcome="approve")
        made = review(supplier, questionnaire, next_due=D(2027, 2, 1), submitted=AS_OF - dt.timedelta(days=30))
        file = evidence_attach(record=made, user=owner, upload=SimpleUploadedFile(f"m{number}.txt", b"m%d" % number))
        EvidenceFile.objects.filter(pk=file.pk).update(uploaded_at=AS_OF - dt.timedelta(days=1))
        CryptoComponentFactory(agency=agency, supplier=supplier, name=f"more-rsa-{number}")
        ContractFactory(agency=agency, supplier=supplier, reference=f"CT-M{number}", status="active", owner=owner,
                        start=D(2024, 1, 1), end=D(2028, 1, 1), sunset_date=D(2027, 5, 1))
    assert queries_of(builder, ctx) == before
    grown = builder(ctx)
    assert sum(len(list(table.iter_rows())) for table in grown.tables) > 0


@pytest.mark.parametrize("kind", [ReportKindChoices.COMPLIANCE, ReportKindChoices.SUNSET_REVIEW,
                                  ReportKindChoices.TRANSPARENCY])
def test_the_registry_builds_it_and_the_writers_carry_it(agency, estate, evidence, kind):
    """Through the core (qgov.reports.build): the section is built for the kind, redacted for the public
    summary, and written to JSON and CSV with its dates, decimals and empty cells."""
    import io

    from qgov.reports.build import write_csv

    ctx = context(agency, kind, HORIZON if kind == ReportKindChoices.SUNSET_REVIEW else None)
    document, written, text = written_section(ctx, "procurement")
    tables = {table["key"]: table["rows"] for table in written["tables"]}
    if kind == ReportKindChoices.COMPLIANCE:
        assert tables["suppliers"][0] == {
            "supplier": "Cryptovault Ltd", "status": "Approved", "criticality": "Medium", "last_review": "2025-06-01",
            "score": "80.0", "outcome": "Approve", "next_due": "2026-11-01", "review": "Review overdue",
            "owner": "olga"}
        assert len(written["evidence"]) == 2
    elif kind == ReportKindChoices.SUNSET_REVIEW:
        assert tables["components_due"][0]["due_date"] == "2026-06-30"
    else:
        assert "Photonica" not in text and written["evidence"] == []
    csv_stream = io.StringIO()
    write_csv(document, csv_stream)
    assert "# procurement" in csv_stream.getvalue()
