"""The risk register's import (declared in risks/imports.py, run by the core as a background job:
all rows or none, every problem of every row reported) and export with the current filters."""

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook

from qgov.choices import RoleChoices
from qgov.models import AuditEvent, ImportRun
from risks.models import Risk
from risks.services import risk_matrix_ensure
from tests.risks.factories import AssetFactory, ControlFactory, RiskFactory, ThreatVectorFactory

HEADER = ["reference", "title", "threat_vectors", "assets", "controls", "owner", "inherent_likelihood",
          "inherent_impact", "residual_likelihood", "residual_impact", "treatment", "review_date"]


@pytest.fixture
def setup(agency, member_of):
    risk_matrix_ensure(agency)
    ThreatVectorFactory(code="CRY-01")
    ThreatVectorFactory(code="QIM-01")
    AssetFactory(agency=agency, name="Link A")
    ControlFactory(agency=agency, title="Rotate keys")
    return {"editor": member_of(agency, RoleChoices.EDITOR, username="ed")}


def csv_bytes(rows, header=HEADER):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


GOOD = [
    ["R-0100", "Harvested WAN traffic", "CRY-01", "Link A", "Rotate keys", "ed", 4, 5, 2, 5, "mitigate",
     "2027-03-01"],
    ["", "Detector blinding", "QIM-01; cry-01", "", "", "", 3, 5, "", "", "Mitigate", ""],
]


def test_csv_import_creates_every_row_with_audit(agency, setup, import_file):
    response = import_file(setup["editor"], csv_bytes(GOOD))
    assert response.status_code == 202, response.json()
    run = ImportRun.objects.get()
    assert response["Location"] == f"http://testserver/api/import-runs/{run.pk}/"
    assert response.json()["status"] == "queued"
    body = response.run
    assert {key: body[key] for key in ("status", "model", "rows_total", "rows_processed", "created_count",
                                       "updated_count", "unchanged_count", "failed_count", "errors")} == {
        "status": "succeeded", "model": "risks.risk", "rows_total": 2, "rows_processed": 2, "created_count": 2,
        "updated_count": 0, "unchanged_count": 0, "failed_count": 0, "errors": []}
    first = Risk.objects.get(reference="R-0100")
    assert (first.owner.username, first.residual_score, first.rating, str(first.review_date)) == (
        "ed", 10, "Critical", "2027-03-01")
    assert [a.name for a in first.assets.all()] == ["Link A"]
    assert [c.title for c in first.controls.all()] == ["Rotate keys"]
    second = Risk.objects.get(reference="R-0101")
    assert sorted(tv.code for tv in second.threat_vectors.all()) == ["CRY-01", "QIM-01"]
    assert second.treatment == "mitigate"
    creates = AuditEvent.objects.filter(content_type__model="risk", action="create")
    assert [(e.actor, e.source, e.request_id) for e in creates] == [
        (setup["editor"], "task", f"import-run-{run.pk}")] * 2


def test_one_bad_row_writes_nothing_and_lists_every_problem_of_the_row(agency, setup, import_file):
    # Six problems on row 4, of both kinds: cells that cannot be read and the model's own rules
    # (the old import stopped at the first kind and listed only those).
    bad = [*GOOD, ["R-0100", "Duplicate and broken", "NOPE-9", "", "", "stranger", 9, "x", "", "",
                   "ignore", "2027-01-01"]]
    events_before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = import_file(setup["editor"], csv_bytes(bad))
    assert response.status_code == 202
    run = ImportRun.objects.get()
    assert (run.status, run.created_count, run.failed_count, run.rows_processed, run.rows_total) == (
        "failed", 0, 1, 3, 3)
    assert run.errors == [
        {"row": 4, "field": "threat_vectors", "message": "“NOPE-9” is not a known threat vector."},
        {"row": 4, "field": "owner", "message": "“stranger” is not a member of this agency."},
        {"row": 4, "field": "inherent_impact", "message": "Enter a whole number."},
        {"row": 4, "field": "reference", "message": "Also used on row 2."},
        {"row": 4, "field": "treatment", "message": "Value 'ignore' is not a valid choice."},
        {"row": 4, "field": "inherent_likelihood", "message": "Must be between 1 and 5 on this agency's matrix."},
    ]
    assert Risk.objects.count() == 0
    # Only the run itself is audited (created, running, failed); none of the rolled-back rows.
    assert list(AuditEvent.objects.filter(id__gt=events_before).order_by("id").values_list(
        "content_type__model", "action")) == [("importrun", "create"), ("importrun", "update"),
                                              ("importrun", "update")]


def test_model_rules_are_reported_per_row(agency, setup, import_file):
    RiskFactory(agency=agency, reference="R-0007", title="Existing")
    rows = [["R-0008", "Fine", "", "", "", "", 2, 2, "", "", "mitigate", ""],
            ["", "", "", "", "", "", 6, 2, 1, "", "sideways", ""]]
    import_file(setup["editor"], csv_bytes(rows))
    run = ImportRun.objects.get()
    assert run.errors == [
        {"row": 3, "field": "title", "message": "This field cannot be blank."},
        {"row": 3, "field": "treatment", "message": "Value 'sideways' is not a valid choice."},
        {"row": 3, "field": "inherent_likelihood", "message": "Must be between 1 and 5 on this agency's matrix."},
        {"row": 3, "field": "residual_impact", "message": "Give likelihood and impact together."},
    ]
    assert (run.status, run.failed_count) == ("failed", 1)
    assert list(Risk.objects.values_list("reference", flat=True)) == ["R-0007"]


def test_a_known_reference_updates_and_an_identical_row_is_unchanged(agency, setup, import_file):
    first = import_file(setup["editor"], csv_bytes(GOOD)).run
    assert first["created_count"] == 2
    risk = Risk.objects.get(reference="R-0101")
    version = risk.version
    changed = [GOOD[0], ["R-0101", "Detector blinding, revised", "QIM-01", "Link A", "", "", 3, 5, "", "",
                         "mitigate", ""]]
    second = import_file(setup["editor"], csv_bytes(changed)).run
    assert {key: second[key] for key in ("status", "created_count", "updated_count", "unchanged_count")} == {
        "status": "succeeded", "created_count": 0, "updated_count": 1, "unchanged_count": 1}
    risk.refresh_from_db()
    assert (risk.title, risk.version) == ("Detector blinding, revised", version + 1)
    assert [tv.code for tv in risk.threat_vectors.all()] == ["QIM-01"]
    assert [a.name for a in risk.assets.all()] == ["Link A"]
    assert Risk.objects.count() == 2


def test_xlsx_import(agency, setup, import_file):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in GOOD:
        sheet.append([None if cell == "" else cell for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = import_file(setup["editor"], buffer.getvalue(), name="register.xlsx")
    assert response.status_code == 202
    assert (response.run["status"], response.run["format"], response.run["created_count"]) == (
        "succeeded", "xlsx", 2)
    assert sorted(Risk.objects.values_list("reference", flat=True)) == ["R-0100", "R-0101"]


def test_an_unknown_format_is_refused_at_upload(agency, setup, import_file):
    response = import_file(setup["editor"], b"title", name="register.txt")
    assert response.status_code == 400
    assert response.json()["errors"] == {"file": ["Upload a .csv or .xlsx file."]}
    assert ImportRun.objects.count() == 0


@pytest.mark.parametrize(("name", "content", "message"), [
    ("register.csv", "title\n".encode("utf-16"), "CSV files must be UTF-8 encoded."),
    ("register.xlsx", b"not a workbook", "This is not a readable XLSX workbook."),
    ("register.csv", b"title,inherent_likelihood,inherent_impact\n", "The file has a header but no rows."),
    ("register.csv", b"\n\n", "The file is empty."),
])
def test_unreadable_files_fail_the_run(name, content, message, agency, setup, import_file):
    response = import_file(setup["editor"], content, name=name)
    assert response.status_code == 202
    assert (response.run["status"], response.run["errors"]) == (
        "failed", [{"row": 0, "field": "file", "message": message}])


def test_unknown_and_missing_columns(agency, setup, import_file):
    response = import_file(setup["editor"], b"title,colour,Title\nx,red,y\n")
    assert response.run["errors"] == [
        {"row": 1, "field": "colour", "message": "Unknown column."},
        {"row": 1, "field": "title", "message": "This column appears twice."},
        {"row": 1, "field": "inherent_likelihood", "message": "Required column is missing."},
        {"row": 1, "field": "inherent_impact", "message": "Required column is missing."},
    ]


@pytest.mark.parametrize("role", [RoleChoices.VIEWER, RoleChoices.AUDITOR])
def test_viewers_and_auditors_cannot_import(role, agency, setup, member_of, import_file):
    response = import_file(member_of(agency, role), csv_bytes(GOOD))
    assert response.status_code == 403
    assert (Risk.objects.count(), ImportRun.objects.count()) == (0, 0)


def test_admins_can_import(agency, setup, member_of, import_file):
    response = import_file(member_of(agency, RoleChoices.ADMIN), csv_bytes(GOOD))
    assert (response.status_code, response.run["status"]) == (202, "succeeded")
    assert Risk.objects.count() == 2


def test_import_into_another_agency_is_refused(agency, other_agency, setup, import_file):
    risk_matrix_ensure(other_agency)
    response = import_file(setup["editor"], csv_bytes(GOOD), agency=other_agency.pk)
    assert response.status_code == 400
    assert response.json()["errors"] == {"agency": ["Unknown agency."]}
    assert (Risk.objects.count(), ImportRun.objects.count()) == (0, 0)


def test_ui_import_runs_in_the_background_and_shows_the_report(client, agency, setup, settings, tmp_path,
                                                               django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    client.force_login(setup["editor"])
    page = client.get("/risks/register/import/")
    assert page.status_code == 200
    assert [c.name for c in page.context["columns"]] == [
        "reference", "title", "description", "threat_vectors", "assets", "controls", "owner",
        "inherent_likelihood", "inherent_impact", "current_likelihood", "current_impact", "residual_likelihood",
        "residual_impact", "treatment", "review_date"]
    bad = csv_bytes([["", "", "", "", "", "", 2, 2, "", "", "mitigate", ""]])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/risks/register/import/", {"file": SimpleUploadedFile("r.csv", bad)})
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/imports/{run.pk}/"
    report = client.get(response["Location"])
    html = report.content.decode()
    assert "Nothing was imported: 1 problem found." in html
    assert "<td>2</td><td><code>title</code></td><td>This field cannot be blank.</td>" in html
    assert f'data-status-url="/api/import-runs/{run.pk}/"' in html
    assert "/static/qgov/import-run.js" in html
    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post("/risks/register/import/", {"file": SimpleUploadedFile("r.csv", csv_bytes(GOOD))})
    assert ok.status_code == 302
    assert Risk.objects.count() == 2
    assert "Imported: 2 created, 0 updated, 0 unchanged." in client.get(ok["Location"]).content.decode()


@pytest.mark.parametrize("role", [RoleChoices.VIEWER, RoleChoices.AUDITOR])
def test_ui_import_is_refused_to_viewers_and_auditors(role, client, agency, setup, member_of):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(member_of(agency, role))
    assert client.get("/risks/register/import/").status_code == 403
    response = client.post("/risks/register/import/", {"file": SimpleUploadedFile("r.csv", csv_bytes(GOOD))})
    assert response.status_code == 403
    assert (Risk.objects.count(), ImportRun.objects.count()) == (0, 0)


def test_export_follows_the_filters(client, agency, setup):
    RiskFactory(agency=agency, title="Open one", status="assessed")
    RiskFactory(agency=agency, title="Closed one", status="closed")
    client.force_login(setup["editor"])
    response = client.get("/risks/register/", {"status": "assessed", "export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["Reference", "Title", "Description"]
    assert [row[1] for row in rows[1:]] == ["Open one"]
    xlsx = client.get("/risks/register/", {"status": "closed", "export": "xlsx"})
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["Closed one"]
