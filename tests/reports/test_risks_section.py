"""The risk register's report section: each kind's data with exact values, the register's filters,
agency isolation, bounded queries, the transparency summary's aggregates, the POA&M findings."""

import io
import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qgov.choices import RoleChoices
from qgov.evidence import services as evidence
from qgov.reports.build import write_csv, write_json
from qgov.reports.choices import ReportKindChoices as Kind
from qgov.reports.document import ReportContext, ReportDocument
from qgov.reports.sections import sections_for
from qgov.reports.transparency import is_public, redact
from risks.reports import RISKS_SECTION, poam_entries, validate_parameters
from risks.reports.register import POAM_NAMESPACE
from risks.services import risk_matrix_ensure
from tests.reports.sections import rows
from tests.risks.factories import AssetFactory, ControlFactory, RiskAcceptanceFactory, RiskFactory, ThreatVectorFactory

# 22:30 UTC is already the 16th in Brussels (UTC+2 in June): "overdue" counts from the agency's day.
AS_OF = datetime(2030, 6, 15, 22, 30, tzinfo=UTC)
TODAY = date(2030, 6, 16)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def context(agency, kind, **kwargs):
    return ReportContext(agency=agency, kind=kind, as_of=AS_OF, **kwargs)


def build(agency, kind, **kwargs):
    return RISKS_SECTION.builders[kind](context(agency, kind, **kwargs))


def column(section, key, name):
    return [row[name] for row in rows(section, key)]


def as_json(section, kind=Kind.COMPLIANCE) -> str:
    document = ReportDocument(
        run_id=1, kind=kind, kind_label="", title="", agency_name="", agency_code="", period="", as_of=AS_OF,
        generated_at=AS_OF, generator_version="", marking="OFFICIAL", page_size="A4", parameters={},
        sections=[section])
    stream = io.StringIO()
    write_json(document, stream)
    return stream.getvalue()


@pytest.fixture
def world(agency, other_agency, member_of):
    """Six risks of the agency (one closed), their acceptances, threat vectors, controls, assets and
    evidence; and another agency's risk that no report of this agency may show."""
    alice = member_of(agency, RoleChoices.EDITOR, username="alice", first_name="Alice", last_name="Archer")
    bob = member_of(agency, RoleChoices.EDITOR, username="bob")
    carol = member_of(agency, RoleChoices.ADMIN, username="carol", first_name="Carol", last_name="Chen")
    crypto = ThreatVectorFactory(code="RPT-1", category="cryptanalytic")
    qkd = ThreatVectorFactory(code="RPT-2", category="qkd_operational")
    supply = ThreatVectorFactory(code="RPT-3", category="supply_chain")

    def risk(title, owner, status, review, inherent, current=(None, None), residual=(None, None), **fields):
        return RiskFactory(agency=agency, title=title, owner=owner, status=status, review_date=review,
                           inherent_likelihood=inherent[0], inherent_impact=inherent[1],
                           current_likelihood=current[0], current_impact=current[1],
                           residual_likelihood=residual[0], residual_impact=residual[1], **fields)

    r1 = risk("Harvest now, decrypt later on the backbone", alice, "in_treatment", date(2030, 6, 1), (5, 5),
              (4, 4), (2, 3))
    r2 = risk("Trusted node compromise", bob, "assessed", date(2030, 7, 1), (4, 5))
    r3 = risk("Key exhaustion", alice, "accepted", date(2030, 5, 16), (3, 4), (2, 2), (1, 2))
    r4 = risk("Retired link eavesdropping", bob, "closed", date(2030, 1, 1), (5, 5))
    r5 = risk("Vendor lock-in", bob, "draft", None, (2, 2))
    r6 = risk("Detector blinding", bob, "accepted", date(2031, 2, 1), (3, 3), treatment="accept")
    r1.threat_vectors.set([crypto, qkd])
    r2.threat_vectors.set([crypto])
    r3.threat_vectors.set([qkd])
    r4.threat_vectors.set([supply])
    plan = ControlFactory(agency=agency, title="Deploy hybrid key exchange", status="planned",
                          due_date=date(2030, 8, 20))
    done = ControlFactory(agency=agency, title="Inventory backbone crypto", status="implemented",
                          due_date=date(2030, 5, 1))
    undated = ControlFactory(agency=agency, title="Node tamper seals", status="in_progress")
    retired = ControlFactory(agency=agency, title="Old key rotation", status="retired", due_date=date(2030, 9, 1))
    r1.controls.set([plan, done])
    r2.controls.set([undated, retired])

    def acceptance(risk, status, until, approver=carol):
        return RiskAcceptanceFactory(agency=agency, risk=risk, status=status, valid_until=until,
                                     requested_by=risk.owner, approved_by=approver)

    acceptance(r3, "approved", date(2030, 8, 1))  # in force, ends within 90 days
    acceptance(r2, "approved", date(2030, 6, 10))  # past its date, not yet lapsed
    acceptance(r5, "lapsed", date(2030, 3, 1))  # lapsed, its risk still open
    acceptance(r6, "approved", date(2031, 1, 10))  # in force
    acceptance(r4, "lapsed", date(2030, 1, 15))  # lapsed, its risk closed: history
    acceptance(r1, "requested", date(2030, 9, 1), approver=None)  # not decided: neither listed nor counted

    AssetFactory(agency=agency, name="Backbone link", shelf_life_years=10, migration_years=3)
    AssetFactory(agency=agency, name="Archive", shelf_life_years=20, migration_years=5)
    AssetFactory(agency=agency, name="Signing HSM", shelf_life_years=2, migration_years=2, protects="integrity",
                 harvestable=False)

    top_file = evidence.evidence_attach(record=r1, upload=SimpleUploadedFile("pentest.pdf", PDF), user=alice)
    evidence.evidence_attach(record=r4, upload=SimpleUploadedFile("closed.pdf", PDF + b" "), user=alice)
    withdrawn = evidence.evidence_attach(record=r3, upload=SimpleUploadedFile("wrong.pdf", PDF + b"  "), user=alice)
    evidence.evidence_withdraw(evidence=withdrawn, user=alice, reason="Wrong file")

    outsider = member_of(other_agency, RoleChoices.EDITOR, username="mallory", first_name="Mallory")
    foreign = RiskFactory(agency=other_agency, title="Foreign secret risk", owner=outsider, status="assessed",
                          review_date=date(2030, 6, 20), inherent_likelihood=5, inherent_impact=5)
    foreign.threat_vectors.set([crypto])
    RiskAcceptanceFactory(agency=other_agency, risk=foreign, status="approved", valid_until=date(2030, 7, 1),
                          requested_by=outsider, approved_by=outsider)
    AssetFactory(agency=other_agency, name="Foreign vault", shelf_life_years=30, migration_years=9)
    evidence.evidence_attach(record=foreign, upload=SimpleUploadedFile("foreign.pdf", PDF + b"   "), user=outsider)
    return {"risks": [r1, r2, r3, r4, r5, r6], "foreign": foreign, "top_file": top_file,
            "foreign_asset": "Foreign vault", "outsider": outsider}


FOREIGN = ("Foreign secret risk", "Foreign vault", "Mallory", "foreign.pdf")


def test_the_section_is_registered_for_every_kind():
    assert [s.key for s in sections_for(Kind.COMPLIANCE)] == ["risks", "certification", "procurement", "incidents"]
    assert [s.key for s in sections_for(Kind.RISK_REGISTER)] == ["risks"]
    assert set(RISKS_SECTION.builders) == {Kind.COMPLIANCE, Kind.SUNSET_REVIEW, Kind.RISK_REGISTER, Kind.TRANSPARENCY}


# --- compliance --------------------------------------------------------------------------------

def test_compliance_figures(world, agency):
    section = build(agency, Kind.COMPLIANCE)
    assert section.key == "risks" and section.title == "Risk posture"
    assert {f.key: f.value for f in section.figures} == {
        "open_risks": 5, "open_critical": 1, "open_high": 1, "open_medium": 1, "open_low": 2,
        "overdue_reviews": 2, "acceptances_active": 2, "acceptances_expiring": 1, "acceptances_expired": 2}


def test_compliance_heat_maps_are_the_registers_svg_of_open_risks(world, agency):
    charts = {chart.key: chart.svg for chart in build(agency, Kind.COMPLIANCE).charts}
    assert list(charts) == ["heatmap_inherent", "heatmap_current", "heatmap_residual"]
    cell = "%s risks at likelihood %s, impact %s (%s)"
    # Inherent: R1 5×5, R2 4×5, R3 3×4, R5 2×2, R6 3×3 (R4 is closed).
    for likelihood, impact, band in ((5, 5, "Critical"), (4, 5, "Critical"), (3, 4, "High"), (2, 2, "Low"),
                                     (3, 3, "Medium")):
        assert cell % (1, likelihood, impact, band) in charts["heatmap_inherent"]
    assert charts["heatmap_inherent"].count(" risks at likelihood ") == 25
    # Cells that show a number (font-size 18): 5 inherent, 4 current, 2 residual.
    assert [svg.count('font-size="18"') for svg in charts.values()] == [5, 4, 2]
    # Current (inherent while none is given): R3 and R5 share 2×2.
    assert cell % (2, 2, 2, "Low") in charts["heatmap_current"]
    assert cell % (1, 4, 4, "High") in charts["heatmap_current"]
    assert cell % (1, 4, 5, "Critical") in charts["heatmap_current"]
    # Residual: only R1 (2×3) and R3 (1×2) have one.
    assert cell % (1, 2, 3, "Medium") in charts["heatmap_residual"]
    assert cell % (1, 1, 2, "Low") in charts["heatmap_residual"]
    assert all("<a " not in svg for svg in charts.values())  # no links in a PDF


def test_compliance_top_risks_in_the_registers_ranking(world, agency):
    top = rows(build(agency, Kind.COMPLIANCE), "top_risks")
    assert [(r["reference"], r["current_score"], r["residual_score"]) for r in top] == [
        ("R-0002", 20, None), ("R-0001", 16, 6), ("R-0006", 9, None), ("R-0003", 4, 2), ("R-0005", 4, None)]
    assert top[1] == {"reference": "R-0001", "title": "Harvest now, decrypt later on the backbone",
                      "owner": "Alice Archer", "status": "In treatment", "treatment": "Mitigate",
                      "inherent_score": 25, "inherent_band": "Critical", "current_score": 16,
                      "current_band": "High", "residual_score": 6, "residual_band": "Medium",
                      "review_date": date(2030, 6, 1)}
    assert top[0]["owner"] == "bob"  # no name given: the username


def test_compliance_overdue_reviews_count_from_the_agencys_day(world, agency):
    assert rows(build(agency, Kind.COMPLIANCE), "overdue_reviews") == [
        {"reference": "R-0003", "title": "Key exhaustion", "owner": "Alice Archer",
         "review_date": date(2030, 5, 16), "days_overdue": 31},
        {"reference": "R-0001", "title": "Harvest now, decrypt later on the backbone", "owner": "Alice Archer",
         "review_date": date(2030, 6, 1), "days_overdue": 15},
    ]


def test_compliance_acceptances_and_their_expiry(world, agency):
    table = rows(build(agency, Kind.COMPLIANCE), "acceptances")
    assert [(r["risk"], r["accepted_by"], r["valid_until"], r["days_left"], r["status"], r["expiry"])
            for r in table] == [
        ("R-0005", "Carol Chen", date(2030, 3, 1), -107, "Lapsed", "Expired"),
        ("R-0002", "Carol Chen", date(2030, 6, 10), -6, "Approved", "Expired"),
        ("R-0003", "Carol Chen", date(2030, 8, 1), 46, "Approved", "Expires within 90 days"),
        ("R-0006", "Carol Chen", date(2031, 1, 10), 208, "Approved", "In force"),
    ]


def test_compliance_mosca_exposure_of_assets(world, agency):
    table = rows(build(agency, Kind.COMPLIANCE), "mosca")
    # z central 15 (default), optimistic 10; policy z: 2030-06-16 to the end of 2035 is 2,025 days, 5.5 years.
    assert [(r["asset"], r["x_plus_y"], r["z"], r["margin"], r["margin_policy"], r["exposed"], r["years_exposed"],
             r["band"]) for r in table] == [
        ("Archive", Decimal("25.0"), Decimal("15.0"), Decimal("10.0"), Decimal("19.5"), "Yes", Decimal("10.0"),
         "Critical"),
        ("Backbone link", Decimal("13.0"), Decimal("15.0"), Decimal("-2.0"), Decimal("7.5"), "No", Decimal("0.0"),
         "Moderate"),
        ("Signing HSM", Decimal("4.0"), Decimal("15.0"), Decimal("-11.0"), Decimal("-1.5"), "No", Decimal("0.0"),
         "Low"),
    ]


def test_compliance_evidence_of_the_risks_shown_with_their_hashes(world, agency):
    section = build(agency, Kind.COMPLIANCE)
    # R1's file (a top risk); not the closed R4's, not R3's withdrawn one, not the other agency's.
    assert [(e.sha256, e.name, e.record) for e in section.evidence] == [
        (world["top_file"].sha256, "pentest.pdf", "R-0001 Harvest now, decrypt later on the backbone")]
    assert section.evidence[0].uploaded == world["top_file"].uploaded_at


def test_compliance_never_shows_another_agency(world, agency, other_agency):
    text = as_json(build(agency, Kind.COMPLIANCE)) + "".join(c.svg for c in build(agency, Kind.COMPLIANCE).charts)
    for word in FOREIGN:
        assert word not in text
    # And the other agency's own report shows only its own.
    theirs = build(other_agency, Kind.COMPLIANCE)
    assert {f.key: f.value for f in theirs.figures}["open_risks"] == 1
    assert column(theirs, "top_risks", "title") == ["Foreign secret risk"]


def test_compliance_of_an_empty_register(agency):
    section = build(agency, Kind.COMPLIANCE)
    assert {f.key: f.value for f in section.figures}["open_risks"] == 0
    assert [len(rows(section, t.key)) for t in section.tables] == [0, 0, 0, 0]
    assert section.evidence == []


# --- sunset review -----------------------------------------------------------------------------

def test_sunset_review_lists_what_falls_due_in_the_window(world, agency):
    section = build(agency, Kind.SUNSET_REVIEW, horizon_end=date(2031, 1, 31))
    assert {f.key: f.value for f in section.figures} == {"acceptances_expiring": 2, "reviews_due": 1}
    assert rows(section, "acceptances_expiring") == [
        {"risk": "R-0003", "title": "Key exhaustion", "owner": "Alice Archer", "accepted_by": "Carol Chen",
         "status": "Approved", "due": date(2030, 8, 1), "days_left": 46},
        {"risk": "R-0006", "title": "Detector blinding", "owner": "bob", "accepted_by": "Carol Chen",
         "status": "Approved", "due": date(2031, 1, 10), "days_left": 208},
    ]
    # R6's review (2031-02-01) is past the window's end; R1 and R3 fell due before it began.
    assert rows(section, "reviews_due") == [
        {"risk": "R-0002", "title": "Trusted node compromise", "owner": "bob", "status": "Assessed",
         "due": date(2030, 7, 1), "days_left": 15}]
    for word in FOREIGN:
        assert word not in as_json(section)


def test_sunset_review_defaults_to_twelve_months(world, agency):
    section = build(agency, Kind.SUNSET_REVIEW)
    assert column(section, "reviews_due", "risk") == ["R-0002", "R-0006"]
    assert column(section, "acceptances_expiring", "due") == [date(2030, 8, 1), date(2031, 1, 10)]


# --- risk register -----------------------------------------------------------------------------

def register(agency, filters=None):
    return build(agency, Kind.RISK_REGISTER, parameters={"filters": filters or {}})


def test_register_rows_with_every_column(world, agency):
    section = register(agency)
    table = section.tables[0]
    assert [c.key for c in table.columns] == [
        "reference", "title", "category", "threat_vectors", "owner", "status", "treatment", "inherent_score",
        "inherent_band", "current_score", "current_band", "residual_score", "residual_band", "review_date",
        "controls"]
    register_rows = rows(section, "register")
    assert [r["reference"] for r in register_rows] == ["R-0001", "R-0002", "R-0003", "R-0004", "R-0005", "R-0006"]
    assert register_rows[0] == {
        "reference": "R-0001", "title": "Harvest now, decrypt later on the backbone",
        "category": "Cryptanalytic; QKD operational", "threat_vectors": "RPT-1; RPT-2", "owner": "Alice Archer",
        "status": "In treatment", "treatment": "Mitigate", "inherent_score": 25, "inherent_band": "Critical",
        "current_score": 16, "current_band": "High", "residual_score": 6, "residual_band": "Medium",
        "review_date": date(2030, 6, 1), "controls": 2}
    assert [(r["category"], r["threat_vectors"], r["controls"]) for r in register_rows[1:]] == [
        ("Cryptanalytic", "RPT-1", 2), ("QKD operational", "RPT-2", 0), ("Supply chain", "RPT-3", 0),
        (None, None, 0), (None, None, 0)]
    assert register_rows[5]["treatment"] == "Accept"


def test_register_rows_are_read_again_for_each_file(world, agency):
    table = register(agency).tables[0]
    assert list(table.iter_rows()) == list(table.iter_rows())  # CSV, JSON and PDF each iterate it
    document = ReportDocument(
        run_id=7, kind=Kind.RISK_REGISTER, kind_label="", title="", agency_name="", agency_code="DQN", period="",
        as_of=AS_OF, generated_at=AS_OF, generator_version="", marking="OFFICIAL", page_size="A4",
        parameters={}, sections=[register(agency)])
    stream = io.StringIO()
    write_csv(document, stream)
    assert stream.getvalue().count("\nR-000") == 6
    assert len(json.loads(as_json(register(agency), Kind.RISK_REGISTER))["sections"][0]["tables"][0]["rows"]) == 6


@pytest.mark.parametrize(("filters", "references"), [
    ({"status": ["in_treatment", "accepted"]}, ["R-0001", "R-0003", "R-0006"]),
    ({"status": "closed"}, ["R-0004"]),
    ({"category": "cryptanalytic"}, ["R-0001", "R-0002"]),
    ({"treatment": "accept"}, ["R-0006"]),
    ({"q": "NODE"}, ["R-0002"]),
    ({"q": "RPT-2"}, ["R-0001", "R-0003"]),
    ({"rating": "Low"}, ["R-0003", "R-0005"]),
    ({"current_likelihood": 2, "current_impact": 2}, ["R-0003", "R-0005"]),
])
def test_register_follows_the_lists_filters(world, agency, filters, references):
    cleaned = validate_parameters(Kind.RISK_REGISTER, {"filters": filters}, agency)
    assert column(register(agency, cleaned["filters"]), "register", "reference") == references


def test_register_filter_by_owner_and_threat_vector(world, agency):
    alice = world["risks"][0].owner
    cleaned = validate_parameters(Kind.RISK_REGISTER, {"filters": {"owner": alice.pk}}, agency)
    assert cleaned == {"filters": {"owner": str(alice.pk)}}
    assert column(register(agency, cleaned["filters"]), "register", "reference") == ["R-0001", "R-0003"]
    vector = world["risks"][3].threat_vectors.get()
    assert column(register(agency, {"threat_vector": [vector.pk]}), "register", "reference") == ["R-0004"]
    assert "Filters: owner=" in register(agency, cleaned["filters"]).tables[0].note


def test_validate_parameters_cleans_and_drops_empty_values(agency):
    assert validate_parameters(Kind.RISK_REGISTER, {"filters": {"status": ["draft", ""], "q": "  "}}, agency) == {
        "filters": {"status": ["draft"]}}
    assert validate_parameters(Kind.RISK_REGISTER, {}, agency) == {"filters": {}}
    assert validate_parameters(Kind.COMPLIANCE, {"filters": {"nonsense": 1}}, agency) == {}


@pytest.mark.parametrize(("filters", "names"), [
    ({"status": ["bogus"]}, ["status"]),
    ({"colour": "red"}, ["colour"]),
    ({"agency": 1}, ["agency"]),
    ({"rating": "Extreme"}, ["rating"]),
    ({"current_likelihood": "high"}, ["current_likelihood"]),
    ({"status": [{"nested": 1}]}, ["status"]),
])
def test_validate_parameters_refuses_bad_and_unknown_filters(agency, filters, names):
    risk_matrix_ensure(agency)  # the rating bands are its matrix's
    with pytest.raises(ValidationError) as raised:
        validate_parameters(Kind.RISK_REGISTER, {"filters": filters}, agency)
    messages = raised.value.message_dict["filters"]
    assert len(messages) == len(names)
    for name, message in zip(names, messages, strict=True):
        assert name in message


def test_validate_parameters_refuses_filters_that_are_not_an_object(agency):
    with pytest.raises(ValidationError) as raised:
        validate_parameters(Kind.RISK_REGISTER, {"filters": ["status"]}, agency)
    assert raised.value.message_dict == {"filters": ["Give the filters as an object of filter names and values."]}


def test_validate_parameters_refuses_another_agencys_records_and_people(world, agency):
    foreign = world["foreign"]
    foreign_asset = AssetFactory(agency=foreign.agency, name="Their asset")
    for filters in ({"asset": foreign_asset.pk}, {"owner": world["outsider"].pk}):
        with pytest.raises(ValidationError) as raised:
            validate_parameters(Kind.RISK_REGISTER, {"filters": filters}, agency)
        assert list(filters)[0] in raised.value.message_dict["filters"][0]


def test_register_never_shows_another_agency(world, agency):
    section = register(agency, {"q": "Foreign"})
    assert rows(section, "register") == []
    assert section.tables[0].empty_text == "No risks match these filters."
    assert "Foreign" not in as_json(register(agency), Kind.RISK_REGISTER)
    foreign_ids = {"id": str(world["foreign"].pk)}
    assert rows(register(agency, foreign_ids), "register") == []


def test_register_query_count_does_not_grow_with_rows(world, agency):
    def queries(filters):
        table = register(agency, filters).tables[0]
        with CaptureQueriesContext(connection) as captured:
            count = sum(1 for _row in table.iter_rows())
        return count, len(captured)

    few = queries({}), queries({"category": "cryptanalytic"})
    vectors = [ThreatVectorFactory(code=f"BULK-{n}", category="cryptanalytic") for n in range(3)]
    controls = [ControlFactory(agency=agency) for _n in range(3)]
    for n in range(40):
        risk = RiskFactory(agency=agency, title=f"Bulk {n}")
        risk.threat_vectors.set(vectors)
        risk.controls.set(controls)
    many = queries({}), queries({"category": "cryptanalytic"})
    assert [count for count, _q in few] == [6, 2] and [count for count, _q in many] == [46, 42]
    assert [q for _c, q in many] == [q for _c, q in few] == [3, 3]  # rows, their threat vectors, their controls


# --- transparency ------------------------------------------------------------------------------

def test_transparency_gives_aggregates(world, agency):
    section = build(agency, Kind.TRANSPARENCY)
    assert {f.key: f.value for f in section.figures} == {
        "open_count": 5, "closed_count": 1, "overdue_count": 2, "assets_count": 3, "assets_exposed_count": 1,
        "assets_not_exposed_count": 2}
    assert rows(section, "current_band") == [{"band": "Critical", "count": 1}, {"band": "High", "count": 1},
                                             {"band": "Medium", "count": 1}, {"band": "Low", "count": 2}]
    assert rows(section, "residual_band") == [
        {"band": "Critical", "count": 0}, {"band": "High", "count": 0}, {"band": "Medium", "count": 1},
        {"band": "Low", "count": 1}, {"band": "Not rated", "count": 3}]
    assert rows(section, "status") == [
        {"status": "Draft", "count": 1}, {"status": "Assessed", "count": 1}, {"status": "In treatment", "count": 1},
        {"status": "Accepted", "count": 2}, {"status": "Closed", "count": 1}]
    assert rows(section, "category") == [
        {"category": "Cryptanalytic", "count": 2}, {"category": "QKD implementation", "count": 0},
        {"category": "QKD operational", "count": 2}, {"category": "Supply chain", "count": 0},
        {"category": "PQC migration", "count": 0}]
    assert rows(section, "mosca_band") == [
        {"band": "Critical", "count": 1}, {"band": "High", "count": 0}, {"band": "Moderate", "count": 1},
        {"band": "Low", "count": 1}]
    assert rows(section, "milestones") == [
        {"quarter": "2030-Q2", "status": "Implemented", "count": 1},
        {"quarter": "2030-Q3", "status": "Not yet implemented", "count": 1}]
    assert section.evidence == [] and section.charts == []


def test_transparency_keys_are_all_public_so_redaction_drops_nothing(world, agency):
    section = build(agency, Kind.TRANSPARENCY)
    assert all(is_public(f.key) for f in section.figures)
    assert all(is_public(c.key) for t in section.tables for c in t.columns)
    redacted = redact(section)
    assert [f.key for f in redacted.figures] == [f.key for f in section.figures]
    assert [(t.key, [c.key for c in t.columns], list(t.iter_rows())) for t in redacted.tables] == [
        (t.key, [c.key for c in t.columns], list(t.iter_rows())) for t in section.tables]


def test_transparency_names_nothing(world, agency):
    section = build(agency, Kind.TRANSPARENCY)
    names = [risk.title for risk in world["risks"]] + [risk.reference for risk in world["risks"]] + [
        "Alice", "Archer", "alice", "bob", "Carol", "carol", "Backbone link", "Archive", "Signing HSM", "RPT-",
        "Deploy hybrid", "pentest.pdf", *FOREIGN]
    for text in (as_json(section, Kind.TRANSPARENCY), as_json(redact(section), Kind.TRANSPARENCY)):
        for name in names:
            assert name not in text, name


# --- POA&M ---------------------------------------------------------------------------------------

def test_poam_entries_are_the_open_risks(world, agency):
    entries = list(poam_entries(context(agency, Kind.COMPLIANCE)))
    assert [(e.reference, e.status, e.owner, e.deadline) for e in entries] == [
        ("R-0001", "remediating", "Alice Archer", date(2030, 8, 20)),  # its plan's last unfinished control
        ("R-0002", "investigating", "bob", date(2030, 7, 1)),  # no dated unfinished control: its review
        ("R-0003", "deviation-approved", "Alice Archer", date(2030, 5, 16)),
        ("R-0005", "open", "bob", None),
        ("R-0006", "deviation-approved", "bob", date(2031, 2, 1)),
    ]
    first = entries[0]
    assert first.uuid == str(uuid.uuid5(POAM_NAMESPACE, "DQN/R-0001"))
    assert (first.title, first.likelihood, first.impact) == (
        "Harvest now, decrypt later on the backbone", "4 Likely", "4 Major")
    assert first.milestones == (("Deploy hybrid key exchange", date(2030, 8, 20)),)
    assert (entries[1].likelihood, entries[1].impact, entries[1].milestones) == ("4 Likely", "5 Severe", ())


def test_poam_uuids_are_stable_and_per_agency(world, agency, other_agency):
    ours = [e.uuid for e in poam_entries(context(agency, Kind.COMPLIANCE))]
    assert ours == [e.uuid for e in poam_entries(context(agency, Kind.COMPLIANCE))]
    theirs = list(poam_entries(context(other_agency, Kind.COMPLIANCE)))
    assert [e.title for e in theirs] == ["Foreign secret risk"]
    assert theirs[0].reference == "R-0001" and theirs[0].uuid not in ours


def test_evidence_uploaded_after_the_as_of_time_is_not_relied_on(world, agency):
    before = datetime(2026, 1, 1, tzinfo=UTC)
    section = RISKS_SECTION.builders[Kind.COMPLIANCE](ReportContext(agency=agency, kind=Kind.COMPLIANCE,
                                                                    as_of=before))
    assert section.evidence == []


# --- through the core's build ------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(Kind))
def test_each_kind_builds_through_the_core_into_csv_and_json(world, agency, kind):
    from qgov.models import ReportRun
    from qgov.reports.build import report_document

    parameters = {"filters": {"status": ["accepted"]}} if kind == Kind.RISK_REGISTER else {}
    run = ReportRun.objects.create(agency=agency, kind=kind, parameters=parameters, as_of=AS_OF)
    document = report_document(run)
    stream = io.StringIO()
    write_json(document, stream)
    ours = next(section for section in json.loads(stream.getvalue())["sections"] if section["key"] == "risks")
    write_csv(document, io.StringIO())
    tables = {table["key"]: table["rows"] for table in ours["tables"]}
    expected = {
        Kind.COMPLIANCE: {"top_risks": 5, "overdue_reviews": 2, "acceptances": 4, "mosca": 3},
        Kind.SUNSET_REVIEW: {"acceptances_expiring": 2, "reviews_due": 2},
        Kind.RISK_REGISTER: {"register": 2},
        Kind.TRANSPARENCY: {"current_band": 4, "residual_band": 5, "status": 5, "category": 5, "mosca_band": 4,
                            "milestones": 2},
    }[kind]
    assert {key: len(rows) for key, rows in tables.items()} == expected
    if kind == Kind.RISK_REGISTER:
        assert [row["reference"] for row in tables["register"]] == ["R-0003", "R-0006"]
    if kind == Kind.TRANSPARENCY:
        text = json.dumps(ours)
        assert not any(risk.reference in text or risk.title in text for risk in world["risks"])
