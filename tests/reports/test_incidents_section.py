"""The incidents section of the reports (incidents/reports.py): each builder called directly on one
agency's incidents as of a fixed instant, with exact values; met and missed decided at exact
instants; another agency's incidents never counted; a fixed number of queries whatever the numbers;
the transparency summary (after the core's redaction) without titles or references."""

import dataclasses
import datetime as dt
import hashlib
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents.clocks import notifications_sync
from incidents.models import Incident, RegulatorNotification
from incidents.reports import (
    INCIDENTS_SECTION,
    MET,
    MISSED,
    OPEN,
    OPEN_OVERDUE,
    compliance_section,
    deadline_outcome,
    sunset_review_section,
    transparency_section,
)
from qgov.choices import RoleChoices
from qgov.evidence.services import evidence_attach
from qgov.models import EvidenceFile
from qgov.reports.build import report_sections, write_csv, write_json
from qgov.reports.choices import ReportKindChoices
from qgov.reports.document import ReportContext, ReportDocument
from qgov.reports.sections import sections_for
from qgov.reports.transparency import redact
from tests.incidents.clock_helpers import choose_regimes, load_regimes, make_incident, utc
from tests.reports.sections import queries_of

pytestmark = pytest.mark.django_db

AS_OF = utc(2026, 11, 30, 12, 0)  # 13:00 in Brussels, the agency's zone
SEAL = b"seal 0042 broken"
GDPR_CLOCK = "Breach notification"  # the GDPR clock's label in the catalog
REVIEW = {"review_summary": "Seal replaced.", "root_cause": "Unescorted visit.", "lessons": "Escort every visit."}


def context_of(agency, kind=ReportKindChoices.COMPLIANCE, horizon_end=None, as_of=AS_OF):
    return ReportContext(agency=agency, kind=kind, as_of=as_of, horizon_end=horizon_end)


def incident(agency, title, *, detected_at, sent_at=None, synced=True, **fields):
    """An incident with its GDPR deadline (72 h after awareness), sent at `sent_at`."""
    record = make_incident(agency, title=title, detected_at=detected_at, **fields)
    if synced:
        notifications_sync(record)
        if sent_at is not None:
            RegulatorNotification.objects.filter(incident=record).update(sent_at=sent_at)
    return record


def attach(record, user, name, content, uploaded_at):
    evidence = evidence_attach(record=record, user=user,
                               upload=SimpleUploadedFile(name, content, content_type="text/plain"))
    EvidenceFile.objects.filter(pk=evidence.pk).update(uploaded_at=uploaded_at)
    return evidence


@pytest.fixture
def world(agency, other_agency, member_of, settings, tmp_path):
    """One agency's incidents around AS_OF (GDPR chosen: one deadline each, 72 h after awareness),
    and another agency's that must never show."""
    settings.MEDIA_ROOT = tmp_path / "media"
    load_regimes()
    choose_regimes(agency, "GDPR")
    choose_regimes(other_agency, "GDPR")
    ada = member_of(agency, RoleChoices.EDITOR, first_name="Ada", last_name="Lovelace")
    made = {
        # due 23 Nov 09:00, sent exactly then: met
        "A": incident(agency, "Keys of link BER-POT compromised", detected_at=utc(2026, 11, 20, 9, 0),
                      sent_at=utc(2026, 11, 23, 9, 0), severity=1, status="contained", marking="TLP:RED",
                      classification="OFFICIAL-SENSITIVE", **REVIEW),
        # due 29 Nov 12:00, sent a second late: missed
        "B": incident(agency, "QBER anomaly on POT-FFO", detected_at=utc(2026, 11, 26, 12, 0),
                      sent_at=utc(2026, 11, 29, 12, 0, 1), severity=2, status="triage", incident_type="eavesdropping"),
        # due 30 Nov 12:00, the as-of instant itself, sent an hour later: open as of the report
        "C": incident(agency, "Firmware hash mismatch", detected_at=utc(2026, 11, 27, 12, 0),
                      sent_at=utc(2026, 11, 30, 13, 0), severity=3, status="reported"),
        # due 30 Nov 11:59:59, a second before the as-of instant, never sent: open and overdue
        "D": incident(agency, "Key store latency", detected_at=utc(2026, 11, 27, 11, 59, 59), severity=3,
                      status="recovered"),
        # closed in June, its deadline met in May
        "E": incident(agency, "Riverside node tampering", detected_at=utc(2026, 5, 1, 8, 0),
                      sent_at=utc(2026, 5, 2, 8, 0), severity=2, incident_type="device_tampering", status="closed",
                      closed_at=utc(2026, 6, 1, 10, 0), **REVIEW),
        # closed more than 12 months before the report
        "F": incident(agency, "Old PQC library flaw", detected_at=utc(2025, 10, 1, 8, 0),
                      sent_at=utc(2025, 10, 2, 8, 0), severity=3, incident_type="pqc_break", status="closed",
                      closed_at=utc(2025, 11, 1, 10, 0), **REVIEW),
        # closed after the report: open as of it
        "G": incident(agency, "Fallback keys unmarked", detected_at=utc(2026, 11, 10, 8, 0), synced=False,
                      severity=4, incident_type="other", status="closed", closed_at=utc(2026, 12, 1, 8, 0)),
        # due 3 Dec 10:00 (11:00 in Brussels), not sent
        "I": incident(agency, "Side channel on KME-2", detected_at=utc(2026, 11, 30, 10, 0), severity=4,
                      incident_type="eavesdropping", reported_by=ada),
        # aware after the report
        "H": incident(agency, "Later incident", detected_at=utc(2026, 12, 1, 0, 0), severity=1),
        "other": incident(other_agency, "Other agency breach", detected_at=utc(2026, 11, 20, 9, 0), severity=1),
    }
    editor = member_of(agency, RoleChoices.EDITOR)
    made["seal"] = attach(made["A"], editor, "seal.txt", SEAL, utc(2026, 11, 21, 8, 0))
    attach(made["A"], editor, "late.txt", b"uploaded after the report", utc(2026, 12, 1, 8, 0))
    withdrawn = attach(made["D"], editor, "wrong.txt", b"wrong file", utc(2026, 11, 28, 8, 0))
    EvidenceFile.objects.filter(pk=withdrawn.pk).update(withdrawn_at=utc(2026, 11, 29, 8, 0))
    attach(made["E"], editor, "riverside.txt", b"closed incident evidence", utc(2026, 5, 2, 8, 0))
    attach(made["other"], member_of(other_agency, RoleChoices.EDITOR), "other.txt", b"other", utc(2026, 11, 21))
    return made


def test_the_outcome_of_a_deadline_is_decided_at_exact_instants():
    due = utc(2026, 11, 30, 12, 0)
    second = dt.timedelta(seconds=1)
    assert deadline_outcome(due_at=due, sent_at=due, as_of=due + second) == MET
    assert deadline_outcome(due_at=due, sent_at=due + dt.timedelta(microseconds=1), as_of=due + second) == MISSED
    assert deadline_outcome(due_at=due, sent_at=None, as_of=due) == OPEN
    assert deadline_outcome(due_at=due, sent_at=None, as_of=due + dt.timedelta(microseconds=1)) == OPEN_OVERDUE
    # sent after the report: not sent as of it
    assert deadline_outcome(due_at=due, sent_at=due - second, as_of=due - 2 * second) == OPEN
    assert deadline_outcome(due_at=due, sent_at=due + second, as_of=due + 2 * second) == MISSED
    assert deadline_outcome(due_at=None, sent_at=None, as_of=due) == OPEN


def test_the_section_is_registered_for_compliance_sunset_review_and_transparency():
    assert INCIDENTS_SECTION in sections_for(ReportKindChoices.COMPLIANCE)
    assert INCIDENTS_SECTION in sections_for(ReportKindChoices.SUNSET_REVIEW)
    assert INCIDENTS_SECTION in sections_for(ReportKindChoices.TRANSPARENCY)
    assert INCIDENTS_SECTION not in sections_for(ReportKindChoices.RISK_REGISTER)


def test_compliance_open_incidents_deadlines_closures_reviews_and_evidence(agency, world):
    ref = {key: record.reference for key, record in world.items() if isinstance(record, Incident)}
    assert [ref[key] for key in "ABCDEGIH"] == [f"INC-2026-{n:04d}" for n in range(1, 9)]
    assert ref["F"] == "INC-2025-0001"
    section = compliance_section(context_of(agency))
    assert section.key == "incidents" and section.title == "Incidents"
    assert {figure.key: figure.value for figure in section.figures} == {
        "open": 6, "open_severity_1": 1, "open_severity_2": 1, "open_severity_3": 2, "open_severity_4": 2,
        "open_reported": 2, "open_triage": 1, "open_contained": 1, "open_eradicated": 0, "open_recovered": 1,
        "open_closed_since": 1,
        "deadlines_met": 2, "deadlines_missed": 1, "deadlines_open": 2, "deadlines_overdue": 1,
        "closed_12_months": 1, "reviews_done": 2}
    incidents, deadlines = section.tables
    assert [column.key for column in incidents.columns] == [
        "reference", "title", "type", "severity", "status", "detected", "marking"]
    assert list(incidents.iter_rows()) == [
        # TLP:RED is for named recipients: the report names the incident, not what happened.
        {"reference": ref["A"], "title": "[title withheld: TLP:RED]", "type": "Key compromise",
         "severity": "1 – Critical", "status": "Contained", "detected": utc(2026, 11, 20, 9, 0),
         "marking": "TLP:RED · OFFICIAL-SENSITIVE"},
        {"reference": ref["B"], "title": "QBER anomaly on POT-FFO", "type": "Eavesdropping (QBER anomaly)",
         "severity": "2 – High", "status": "Triage", "detected": utc(2026, 11, 26, 12, 0), "marking": "TLP:AMBER"},
        {"reference": ref["D"], "title": "Key store latency", "type": "Key compromise", "severity": "3 – Medium",
         "status": "Recovered", "detected": utc(2026, 11, 27, 11, 59, 59), "marking": "TLP:AMBER"},
        {"reference": ref["C"], "title": "Firmware hash mismatch", "type": "Key compromise", "severity": "3 – Medium",
         "status": "Reported", "detected": utc(2026, 11, 27, 12, 0), "marking": "TLP:AMBER"},
        {"reference": ref["G"], "title": "Fallback keys unmarked", "type": "Other", "severity": "4 – Low",
         "status": "Closed", "detected": utc(2026, 11, 10, 8, 0), "marking": "TLP:AMBER"},
        {"reference": ref["I"], "title": "Side channel on KME-2", "type": "Eavesdropping (QBER anomaly)",
         "severity": "4 – Low", "status": "Reported", "detected": utc(2026, 11, 30, 10, 0), "marking": "TLP:AMBER"},
    ]
    assert list(deadlines.iter_rows()) == [
        {"incident": ref["E"], "regime": "GDPR", "clock": GDPR_CLOCK,
         "due": utc(2026, 5, 4, 8, 0), "sent": utc(2026, 5, 2, 8, 0), "outcome": "met"},
        {"incident": ref["A"], "regime": "GDPR", "clock": GDPR_CLOCK,
         "due": utc(2026, 11, 23, 9, 0), "sent": utc(2026, 11, 23, 9, 0), "outcome": "met"},
        {"incident": ref["B"], "regime": "GDPR", "clock": GDPR_CLOCK,
         "due": utc(2026, 11, 29, 12, 0), "sent": utc(2026, 11, 29, 12, 0, 1), "outcome": "missed"},
        {"incident": ref["D"], "regime": "GDPR", "clock": GDPR_CLOCK,
         "due": utc(2026, 11, 30, 11, 59, 59), "sent": None, "outcome": "open-overdue"},
        {"incident": ref["C"], "regime": "GDPR", "clock": GDPR_CLOCK,
         "due": utc(2026, 11, 30, 12, 0), "sent": None, "outcome": "open"},
        {"incident": ref["I"], "regime": "GDPR", "clock": GDPR_CLOCK,
         "due": utc(2026, 12, 3, 10, 0), "sent": None, "outcome": "open"},
    ]
    # Only the listed incidents' files kept by then, by name and hash, never by the incident's title.
    assert [(item.name, item.sha256, item.record, item.uploaded) for item in section.evidence] == [
        ("seal.txt", hashlib.sha256(SEAL).hexdigest(), ref["A"], utc(2026, 11, 21, 8, 0))]


def test_compliance_a_second_later_the_open_deadline_is_overdue(agency, world):
    section = compliance_section(context_of(agency, as_of=AS_OF + dt.timedelta(seconds=1)))
    figures = {figure.key: figure.value for figure in section.figures}
    assert (figures["deadlines_open"], figures["deadlines_overdue"]) == (1, 2)


def test_another_agencys_incidents_never_show(agency, other_agency, world):
    for builder, kind in ((compliance_section, ReportKindChoices.COMPLIANCE),
                          (sunset_review_section, ReportKindChoices.SUNSET_REVIEW),
                          (transparency_section, ReportKindChoices.TRANSPARENCY)):
        text = json.dumps(dataclasses.asdict(builder(context_of(agency, kind))), default=str)
        assert "Other agency breach" not in text and "other.txt" not in text
    section = compliance_section(context_of(other_agency))
    figures = {figure.key: figure.value for figure in section.figures}
    assert (figures["open"], figures["deadlines_overdue"], figures["closed_12_months"]) == (1, 1, 0)
    assert [item.name for item in section.evidence] == ["other.txt"]


def test_sunset_review_lists_the_deadlines_due_in_the_window_and_not_sent(agency, world):
    ref = {key: record.reference for key, record in world.items() if isinstance(record, Incident)}
    # The window ends with 2 Dec: C (due at the as-of instant, sent only after it) is in, I (3 Dec) is not.
    section = sunset_review_section(context_of(agency, ReportKindChoices.SUNSET_REVIEW, dt.date(2026, 12, 2)))
    assert {figure.key: figure.value for figure in section.figures} == {"deadlines_due": 1, "deadlines_overdue": 1}
    assert list(section.tables[0].iter_rows()) == [
        {"incident": ref["C"], "title": "Firmware hash mismatch", "regime": "GDPR",
         "clock": GDPR_CLOCK, "due": utc(2026, 11, 30, 12, 0), "owner": ""}]
    # Ending with 3 Dec (the agency's day), I's 11:00 Brussels deadline is in, with its owner.
    section = sunset_review_section(context_of(agency, ReportKindChoices.SUNSET_REVIEW, dt.date(2026, 12, 3)))
    rows = list(section.tables[0].iter_rows())
    assert [(row["incident"], row["due"], row["owner"]) for row in rows] == [
        (ref["C"], utc(2026, 11, 30, 12, 0), ""), (ref["I"], utc(2026, 12, 3, 10, 0), "Ada Lovelace")]


def test_transparency_counts_per_quarter_and_share_met_without_names(agency, world):
    section = transparency_section(context_of(agency, ReportKindChoices.TRANSPARENCY))
    redacted = redact(section)
    # Every key is public: the redaction drops nothing.
    assert redacted.figures == section.figures
    assert [column.key for column in redacted.tables[0].columns] == ["quarter", "type", "severity", "count"]
    # Four quarters (Q1 to Q4 2026); F (2025) and H (after the report) are left out. Deadlines that
    # fell due before the as-of instant: E and A met, B missed, D overdue (C is due at that instant).
    assert {figure.key: figure.value for figure in redacted.figures} == {
        "total": 7, "deadlines_total": 4, "deadlines_met_count": 2, "deadlines_met_percent": 50.0}
    assert list(redacted.tables[0].iter_rows()) == [
        {"quarter": "2026-Q2", "type": "Device tampering", "severity": "2 – High", "count": 1},
        {"quarter": "2026-Q4", "type": "Eavesdropping (QBER anomaly)", "severity": "2 – High", "count": 1},
        {"quarter": "2026-Q4", "type": "Eavesdropping (QBER anomaly)", "severity": "4 – Low", "count": 1},
        {"quarter": "2026-Q4", "type": "Key compromise", "severity": "1 – Critical", "count": 1},
        {"quarter": "2026-Q4", "type": "Key compromise", "severity": "3 – Medium", "count": 2},
        {"quarter": "2026-Q4", "type": "Other", "severity": "4 – Low", "count": 1},
    ]
    text = json.dumps(dataclasses.asdict(redacted), default=str)
    assert "INC-" not in text and redacted.evidence == []
    for record in world.values():
        if isinstance(record, Incident):
            assert record.title not in text


def test_transparency_quarters_follow_the_agencys_calendar(agency, settings):
    """Aware at 23:30 UTC on 31 March: already 1 April in Brussels, so the second quarter."""
    make_incident(agency, detected_at=utc(2026, 3, 31, 23, 30), severity=2)
    section = transparency_section(context_of(agency, ReportKindChoices.TRANSPARENCY))
    assert [row["quarter"] for row in section.tables[0].iter_rows()] == ["2026-Q2"]
    assert {figure.key: figure.value for figure in section.figures}["deadlines_met_percent"] is None


def test_each_builder_costs_a_fixed_number_of_queries(agency, world, member_of):
    compliance = context_of(agency)
    sunset = context_of(agency, ReportKindChoices.SUNSET_REVIEW, dt.date(2026, 12, 31))
    transparency = context_of(agency, ReportKindChoices.TRANSPARENCY)
    compliance_section(compliance)  # the evidence's content type is cached from here on
    before = [queries_of(compliance_section, compliance), queries_of(sunset_review_section, sunset),
              queries_of(transparency_section, transparency)]
    assert before == [4, 2, 2]
    reporter, editor = member_of(agency, RoleChoices.EDITOR), member_of(agency, RoleChoices.EDITOR)
    for number in range(5):
        more = incident(agency, f"More {number}", detected_at=utc(2026, 11, 29, number, 0), severity=2,
                        reported_by=reporter)
        attach(more, editor, f"more-{number}.txt", f"more {number}".encode(), utc(2026, 11, 29, 9, 0))
    after = [queries_of(compliance_section, compliance), queries_of(sunset_review_section, sunset),
             queries_of(transparency_section, transparency)]
    assert after == before
    assert len(compliance_section(compliance).evidence) == 6


def test_deadlines_whose_start_is_not_known_yet_are_open_and_listed_last(other_agency):
    """DORA before classification: the initial notification is due 24 h after awareness; the
    intermediate and final reports have no due instant yet."""
    load_regimes()
    choose_regimes(other_agency, "DORA")
    record = incident(other_agency, "Unclassified outage", detected_at=utc(2026, 11, 29, 12, 0))
    rows = list(compliance_section(context_of(other_agency)).tables[1].iter_rows())
    assert [(row["incident"], row["clock"], row["due"], row["outcome"]) for row in rows] == [
        (record.reference, "Initial notification", utc(2026, 11, 30, 12, 0), "open"),
        (record.reference, "Intermediate report", None, "open"),
        (record.reference, "Final report", None, "open")]


@pytest.mark.parametrize("kind", [ReportKindChoices.COMPLIANCE, ReportKindChoices.SUNSET_REVIEW,
                                  ReportKindChoices.TRANSPARENCY])
def test_the_section_is_written_to_the_reports_json_and_csv(agency, world, kind):
    context = context_of(agency, kind, dt.date(2026, 12, 31) if kind == ReportKindChoices.SUNSET_REVIEW else None)
    document = ReportDocument(
        run_id=1, kind=kind, kind_label=str(ReportKindChoices(kind).label), title="t", agency_name=agency.name,
        agency_code=agency.code, period="p", as_of=AS_OF, generated_at=AS_OF, generator_version="qgov test",
        marking="OFFICIAL", page_size="A4", parameters={}, sections=report_sections(context))
    stream = io.StringIO()
    write_json(document, stream)
    (section,) = [section for section in json.loads(stream.getvalue())["sections"] if section["key"] == "incidents"]
    write_csv(document, io.StringIO())
    if kind == ReportKindChoices.COMPLIANCE:
        assert section["evidence"][0]["sha256"] == hashlib.sha256(SEAL).hexdigest()
        assert section["tables"][1]["rows"][0] == {
            "incident": world["E"].reference, "regime": "GDPR", "clock": GDPR_CLOCK,
            "due": "2026-05-04T08:00:00+00:00", "sent": "2026-05-02T08:00:00+00:00", "outcome": "met"}
    elif kind == ReportKindChoices.SUNSET_REVIEW:
        assert [row["due"] for row in section["tables"][0]["rows"]] == ["2026-11-30T12:00:00+00:00",
                                                                       "2026-12-03T10:00:00+00:00"]
    else:
        assert section["figures"]["deadlines_met_percent"]["value"] == 50.0
        assert section["evidence"] == [] and "INC-" not in stream.getvalue()
