"""Bulk import (all rows or none, with a row-by-row report) and export with the current filters."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from qgov.choices import RoleChoices
from qgov.models import AuditEvent
from risks.models import Risk
from risks.services import risk_matrix_ensure
from tests.risks.factories import AssetFactory, RiskFactory, ThreatVectorFactory

HEADER = ["reference", "title", "threat_vectors", "assets", "owner", "inherent_likelihood", "inherent_impact",
          "residual_likelihood", "residual_impact", "treatment", "review_date"]


@pytest.fixture
def setup(agency, member_of):
    risk_matrix_ensure(agency)
    ThreatVectorFactory(code="CRY-01")
    ThreatVectorFactory(code="QIM-01")
    AssetFactory(agency=agency, name="Link A")
    return {"editor": member_of(agency, RoleChoices.EDITOR, username="ed")}


def csv_bytes(rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()


GOOD = [
    ["R-0100", "Harvested WAN traffic", "CRY-01", "Link A", "ed", 4, 5, 2, 5, "mitigate", "2027-03-01"],
    ["", "Detector blinding", "QIM-01; CRY-01", "", "", 3, 5, "", "", "mitigate", ""],
]


def upload(client, content, name="register.csv", agency=None):
    data = {"file": SimpleUploadedFile(name, content)}
    if agency is not None:
        data["agency"] = agency.pk
    return client.post("/api/risks/import/", data, format="multipart")


def test_csv_import_creates_every_row_with_audit(agency, setup, api_as):
    response = upload(api_as(setup["editor"]), csv_bytes(GOOD))
    assert response.status_code == 201, response.json()
    assert response.json() == {"created": 2, "references": ["R-0100", "R-0101"]}
    first = Risk.objects.get(reference="R-0100")
    assert (first.owner.username, first.residual_score, first.rating, str(first.review_date)) == (
        "ed", 10, "Critical", "2027-03-01")
    assert [a.name for a in first.assets.all()] == ["Link A"]
    second = Risk.objects.get(reference="R-0101")
    assert sorted(tv.code for tv in second.threat_vectors.all()) == ["CRY-01", "QIM-01"]
    assert AuditEvent.objects.filter(content_type__model="risk", action="create", actor=setup["editor"]).count() == 2


def test_one_bad_row_writes_nothing_and_reports_every_problem(agency, setup, api_as):
    bad = [*GOOD, ["R-0100", "Duplicate and broken", "NOPE-9", "Unknown asset", "stranger", 9, "x", "", "",
                   "ignore", "1 March"]]
    events_before = AuditEvent.objects.count()
    response = upload(api_as(setup["editor"]), csv_bytes(bad))
    assert response.status_code == 400
    assert response.json()["errors"]["rows"] == [
        {"row": 4, "field": "threat_vectors", "message": "“NOPE-9” is not known in this agency."},
        {"row": 4, "field": "assets", "message": "“Unknown asset” is not known in this agency."},
        {"row": 4, "field": "owner", "message": "“stranger” is not a member of this agency."},
        {"row": 4, "field": "inherent_impact", "message": "Enter a whole number."},
        {"row": 4, "field": "review_date", "message": "Write dates as YYYY-MM-DD."},
        {"row": 4, "field": "reference", "message": "Also used on row 2."},
    ]
    assert Risk.objects.count() == 0
    assert AuditEvent.objects.count() == events_before


def test_model_rules_are_reported_per_row(agency, setup, api_as):
    RiskFactory(agency=agency, reference="R-0007")
    rows = [["R-0007", "Taken reference", "", "", "", 2, 2, "", "", "mitigate", ""],
            ["", "", "", "", "", 6, 2, 1, "", "sideways", ""]]
    response = upload(api_as(setup["editor"]), csv_bytes(rows))
    assert response.status_code == 400
    assert response.json()["errors"]["rows"] == [
        {"row": 2, "field": "reference", "message": "This reference is already used in the agency."},
        {"row": 3, "field": "title", "message": "This field cannot be blank."},
        {"row": 3, "field": "treatment", "message": "Value 'sideways' is not a valid choice."},
        {"row": 3, "field": "inherent_likelihood", "message": "Must be between 1 and 5 on this agency's matrix."},
        {"row": 3, "field": "residual_impact", "message": "Give likelihood and impact together."},
    ]
    assert Risk.objects.count() == 1


def test_xlsx_import(agency, setup, api_as):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in GOOD:
        sheet.append([None if cell == "" else cell for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = upload(api_as(setup["editor"]), buffer.getvalue(), name="register.xlsx")
    assert response.status_code == 201, response.json()
    assert Risk.objects.count() == 2


@pytest.mark.parametrize(("name", "content", "message"), [
    ("register.txt", b"title", "Upload a .csv or .xlsx file."),
    ("register.csv", "title\n".encode("utf-16"), "CSV files must be UTF-8 encoded."),
    ("register.xlsx", b"not a workbook", "This is not a readable XLSX workbook."),
    ("register.csv", b"title,inherent_likelihood,inherent_impact\n", "The file has a header but no rows."),
])
def test_unreadable_files_are_400(name, content, message, agency, setup, api_as):
    response = upload(api_as(setup["editor"]), content, name=name)
    assert response.status_code == 400
    assert response.json()["errors"]["rows"][0]["message"] == message


def test_unknown_and_missing_columns(agency, setup, api_as):
    response = upload(api_as(setup["editor"]), b"title,colour\nx,red\n")
    assert response.json()["errors"]["rows"] == [
        {"row": 1, "field": "colour", "message": "Unknown column."},
        {"row": 1, "field": "inherent_impact", "message": "Required column is missing."},
        {"row": 1, "field": "inherent_likelihood", "message": "Required column is missing."},
    ]


def test_viewers_cannot_import(agency, setup, member_of, api_as):
    response = upload(api_as(member_of(agency, RoleChoices.VIEWER)), csv_bytes(GOOD))
    assert response.status_code == 403
    assert Risk.objects.count() == 0


def test_import_into_another_agency_is_refused(agency, other_agency, setup, member_of, api_as):
    risk_matrix_ensure(other_agency)
    response = upload(api_as(setup["editor"]), csv_bytes(GOOD), agency=other_agency)
    assert response.status_code == 400
    assert response.json()["errors"] == {"agency": ["Unknown agency."]}


def test_ui_import_shows_the_error_report(client, agency, setup):
    client.force_login(setup["editor"])
    bad = csv_bytes([["", "", "", "", "", 2, 2, "", "", "mitigate", ""]])
    response = client.post("/risks/register/import/", {"file": SimpleUploadedFile("r.csv", bad)})
    assert response.status_code == 200
    assert [(e.row, e.field) for e in response.context["errors"]] == [(2, "title")]
    assert "Nothing was imported" in response.content.decode()
    ok = client.post("/risks/register/import/", {"file": SimpleUploadedFile("r.csv", csv_bytes(GOOD))})
    assert ok.status_code == 302
    assert Risk.objects.count() == 2


def test_export_follows_the_filters(client, agency, setup):
    RiskFactory(agency=agency, title="Open one", status="assessed")
    RiskFactory(agency=agency, title="Closed one", status="closed")
    client.force_login(setup["editor"])
    response = client.get("/risks/register/", {"status": "assessed", "export": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["Reference", "Title", "Rating"]
    assert [row[1] for row in rows[1:]] == ["Open one"]
    xlsx = client.get("/risks/register/", {"status": "closed", "export": "xlsx"})
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["Closed one"]
