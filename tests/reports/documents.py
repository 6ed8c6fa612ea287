"""Report documents with real values for the PDF and signing tests, built from the dataclasses."""

import datetime as dt
from decimal import Decimal

from qgov.reports.document import (
    Chart,
    Column,
    EvidenceReference,
    Figure,
    ReportDocument,
    ReportTable,
    SectionData,
)

AS_OF = dt.datetime(2026, 11, 30, 23, 0, tzinfo=dt.UTC)
GENERATED = dt.datetime(2026, 12, 1, 6, 30, tzinfo=dt.UTC)
EVIDENCE_SHA = "9f2c4e1a7b3d5f60718293a4b5c6d7e8f9a0b1c2d3e4f5061728394a5b6c7d8e"

HEATMAP = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 120" width="200" height="120">'
           '<rect x="0" y="0" width="60" height="60" fill="#2e7d32"/><rect x="62" y="0" width="60" height="60" '
           'fill="#fdd835"/><rect x="124" y="0" width="60" height="60" fill="#c62828"/>'
           '<text x="92" y="100" text-anchor="middle" font-size="12">Impact</text></svg>')

REGISTER_COLUMNS = [Column("reference", "Reference"), Column("title", "Title"), Column("owner", "Owner"),
                    Column("band", "Band", "band"), Column("score", "Score", "number"),
                    Column("review_due", "Review due", "date"), Column("updated", "Last change", "datetime")]


def register_rows(count: int):
    for number in range(1, count + 1):
        yield {"reference": f"RSK-{number:04d}", "title": f"Detector blinding on link {number}",
               "owner": "A. Ahmed", "band": "High" if number % 3 else "Low", "score": number % 25 + 1,
               "review_due": dt.date(2027, 1, 1) + dt.timedelta(days=number),
               "updated": dt.datetime(2026, 11, 2, 9, 15, tzinfo=dt.UTC)}


def small_document(*, run_id: int = 17, page_size: str = "A4", marking: str = "OFFICIAL-SENSITIVE",
                   register_count: int = 3, title: str = "Risk posture") -> ReportDocument:
    risks = SectionData(
        key="risks", title=title, intro="The agency's risks as of the report's date.",
        figures=[Figure("open", "Open risks", 42), Figure("overdue", "Overdue reviews", 3),
                 Figure("exposure", "Mosca exposure (years)", 2.5), Figure("unknown", "Unknown", None)],
        charts=[Chart("current", "Current ratings", HEATMAP)],
        tables=[ReportTable("top", "Top risks", REGISTER_COLUMNS, rows=lambda: register_rows(register_count),
                            note="The highest current ratings."),
                ReportTable("acceptances", "Acceptances expiring", [Column("reference", "Reference"),
                            Column("expires", "Expires", "date")], rows=[], empty_text="No acceptance expires.")],
        evidence=[EvidenceReference(EVIDENCE_SHA, "pentest-2026.pdf", "RSK-0001 Detector blinding on link 1",
                                    uploaded=dt.datetime(2026, 10, 5, 14, 0, tzinfo=dt.UTC))])
    suppliers = SectionData(
        key="procurement", title="Suppliers", intro="Due diligence of the agency's suppliers.",
        figures=[Figure("suppliers", "Suppliers", 7), Figure("cost", "Contract value (M)", Decimal("12.50"))],
        tables=[ReportTable("due", "Due-diligence reviews", [Column("supplier", "Supplier"),
                            Column("score", "Score", "number"), Column("reviewed", "Reviewed", "date")],
                            rows=[{"supplier": "QuantumLink AG", "score": 87, "reviewed": dt.date(2026, 9, 14)},
                                  {"supplier": "Photon Systems Ltd", "score": 64, "reviewed": None}])])
    return ReportDocument(
        run_id=run_id, kind="compliance", kind_label="Compliance report",
        title="Compliance report: Department of Quantum Networks", agency_name="Department of Quantum Networks",
        agency_code="DQN", period="as of 2026-11-30", as_of=AS_OF, generated_at=GENERATED,
        generator_version="qgov 0.1.0", marking=marking, page_size=page_size,
        parameters={"status": ["assessed", "in_treatment"]}, sections=[risks, suppliers])


def pdfa_identification(reader) -> tuple[str, str]:
    """(part, conformance) from a PDF's XMP metadata (pypdf reader), written as attributes or elements."""
    import xml.etree.ElementTree as ET

    namespace = "{http://www.aiim.org/pdfa/ns/id/}"
    root = ET.fromstring(reader.trailer["/Root"]["/Metadata"].get_object().get_data())
    found = {}
    for element in root.iter():
        for name in ("part", "conformance"):
            if namespace + name in element.attrib:
                found[name] = element.attrib[namespace + name]
            if element.tag == namespace + name:
                found[name] = element.text
    return found.get("part", ""), found.get("conformance", "")
