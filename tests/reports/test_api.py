"""/api/reports/: request (202), status, retry, download of each file, verify an uploaded file."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from qgov.choices import RoleChoices
from qgov.reports.models import ReportFile, ReportRun
from tests.reports.factories import add_file, make_run

CSV = b"section,metric,value\nrisks,open,3\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def request_report(api_as, django_capture_on_commit_callbacks):
    """request_report(user, **body) -> the API's answer; the run executes (eagerly) when the request
    commits, and `response.run` is the run read back from its Location afterwards."""

    def post(user, **body):
        client = api_as(user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/api/reports/", body, format="json")
        if response.status_code == 202:
            response.run = client.get(response["Location"]).json()
        return response

    return post


@pytest.mark.parametrize("role", [RoleChoices.AUDITOR, RoleChoices.ADMIN])
def test_auditors_and_admins_request_a_report_that_is_queued_then_built(role, agency, member_of, request_report):
    user = member_of(agency, role)
    response = request_report(user, kind="sunset_review", parameters={"horizon_months": 6})
    assert response.status_code == 202, response.json()
    body = response.json()
    run = ReportRun.objects.get()
    assert response["Location"] == f"http://testserver/api/reports/{run.pk}/"
    assert body["status"] == "queued"  # answered before the run was built
    assert (body["kind"], body["parameters"], body["agency"]["id"]) == ("sunset_review", {"horizon_months": 6},
                                                                        agency.pk)
    assert (body["requested_by"]["id"], body["marking"], body["page_size"]) == (user.pk, "OFFICIAL-SENSITIVE", "A4")
    assert body["files"] == []
    finished = response.run
    assert (finished["status"], finished["progress"], finished["error"]) == ("succeeded", 100, "")
    assert sorted(f["format"] for f in finished["files"]) == ["csv", "json", "pdf"]
    assert finished["attempts"] == 1


@pytest.mark.parametrize("role", [RoleChoices.VIEWER, RoleChoices.EDITOR])
def test_viewers_and_editors_may_not_request(role, agency, member_of, request_report):
    response = request_report(member_of(agency, role), kind="compliance")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert ReportRun.objects.count() == 0


def test_the_agency_is_needed_when_the_user_has_several(agency, other_agency, member_of, request_report):
    user = member_of(agency, RoleChoices.AUDITOR)
    from tests.factories import MembershipFactory

    MembershipFactory(agency=other_agency, user=user, role=RoleChoices.VIEWER)
    response = request_report(user, kind="compliance")
    assert response.status_code == 400
    assert response.json()["errors"] == {"agency": ["Name the agency the report is about."]}
    refused = request_report(user, kind="compliance", agency=other_agency.pk)  # a viewer there
    assert refused.status_code == 403
    assert ReportRun.objects.count() == 0
    assert request_report(user, kind="compliance", agency=agency.pk).status_code == 202
    assert ReportRun.objects.get().agency == agency


@pytest.mark.parametrize(("body", "errors"), [
    ({"kind": "weather"}, {"kind": ['"weather" is not a valid choice.']}),
    ({"kind": "sunset_review", "parameters": {"horizon_months": 0}},
     {"horizon_months": ["A whole number of months from 1 to 60."]}),
    ({"kind": "sunset_review", "parameters": {"horizon_months": "12"}},
     {"horizon_months": ["A whole number of months from 1 to 60."]}),
    ({"kind": "compliance", "as_of": "2999-01-01T00:00:00Z"},
     {"as_of": ["A report describes data that exists: the time cannot be in the future."]}),
    ({"kind": "compliance", "parameters": {"colour": "red"}},
     {"parameters": ["Not a parameter of this report: colour."]}),
    ({"kind": "compliance", "parameters": ["horizon_months"]},
     {"parameters": ['Expected a dictionary of items but got type "list".']}),
    ({"kind": "compliance", "pages": 3}, {"pages": ["Unknown field."]}),
    ({"kind": "compliance", "marking": "SECRET"}, {"marking": ['"SECRET" is not a valid choice.']}),
], ids=["unknown-kind", "horizon-0", "horizon-text", "future-as-of", "unknown-parameter", "parameters-not-object",
        "unknown-field", "unknown-marking"])
def test_bad_requests_are_400_with_the_fields_and_create_nothing(body, errors, agency, member_of, request_report):
    response = request_report(member_of(agency, RoleChoices.AUDITOR), **body)
    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert ReportRun.objects.count() == 0


def test_other_agencies_runs_are_404(agency, other_agency, member_of, api_as):
    theirs = make_run(other_agency, status="failed", files={"csv": CSV})
    client = api_as(member_of(agency, RoleChoices.ADMIN))
    for response in (client.get(f"/api/reports/{theirs.pk}/"),
                     client.get(f"/api/reports/{theirs.pk}/download/", {"format": "csv"}),
                     client.post(f"/api/reports/{theirs.pk}/retry/")):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert ReportRun.objects.get(pk=theirs.pk).status == "failed"
    assert client.get("/api/reports/").json()["results"] == []


def test_list_filters_by_kind_and_status(agency, member_of, api_as):
    compliance = make_run(agency, kind="compliance", status="succeeded")
    register = make_run(agency, kind="risk_register", status="failed")
    client = api_as(member_of(agency, RoleChoices.VIEWER))  # viewers read runs, they do not request them
    assert [r["id"] for r in client.get("/api/reports/").json()["results"]] == [register.pk, compliance.pk]
    assert [r["id"] for r in client.get("/api/reports/", {"kind": "compliance"}).json()["results"]] == [compliance.pk]
    assert [r["id"] for r in client.get("/api/reports/", {"status": "failed"}).json()["results"]] == [register.pk]
    assert client.get("/api/reports/", {"kind": "weather"}).status_code == 400


def test_retry_queues_a_failed_run_again_and_refuses_others(agency, member_of, api_as,
                                                            django_capture_on_commit_callbacks):
    failed = make_run(agency, status="failed", error="boom", attempts=1)
    queued = make_run(agency)
    client = api_as(member_of(agency, RoleChoices.AUDITOR))
    with django_capture_on_commit_callbacks(execute=False) as queued_tasks:
        response = client.post(f"/api/reports/{failed.pk}/retry/")
    assert response.status_code == 202
    assert response["Location"] == f"http://testserver/api/reports/{failed.pk}/"
    assert (response.json()["status"], response.json()["error"]) == ("queued", "")
    assert len(queued_tasks) == 1
    refused = client.post(f"/api/reports/{queued.pk}/retry/")
    assert refused.status_code == 409
    assert refused.json()["errors"] == {"status": ["Only a failed run can be retried."]}
    viewer = api_as(member_of(agency, RoleChoices.VIEWER))
    failed.refresh_from_db()
    ReportRun.objects.filter(pk=failed.pk).update(status="failed")
    assert viewer.post(f"/api/reports/{failed.pk}/retry/").status_code == 403
    assert ReportRun.objects.get(pk=failed.pk).status == "failed"


def test_download_streams_the_stored_file_with_its_name_type_and_hash(agency, member_of, api_as):
    content = b'{"format": "qgov-report/1"}'
    run = make_run(agency, kind="risk_register", status="succeeded", files={"csv": CSV, "json": content})
    client = api_as(member_of(agency, RoleChoices.VIEWER))
    response = client.get(f"/api/reports/{run.pk}/download/", {"format": "json"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body == content
    digest = hashlib.sha256(content).hexdigest()
    assert response["X-Content-SHA256"] == digest == ReportFile.objects.get(run=run, format="json").sha256
    assert response["ETag"] == f'"{digest}"'
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == f'attachment; filename="qgov-risk-register-DQN-{run.pk}.json"'
    csv = client.get(f"/api/reports/{run.pk}/download/", {"format": "csv"})
    assert (csv["Content-Type"], b"".join(csv.streaming_content)) == ("text/csv; charset=utf-8", CSV)
    # A register report has no OSCAL file, and no PDF here; a bad format is a 400.
    assert client.get(f"/api/reports/{run.pk}/download/", {"format": "oscal"}).status_code == 404
    assert client.get(f"/api/reports/{run.pk}/download/", {"format": "pdf"}).status_code == 404
    assert client.get(f"/api/reports/{run.pk}/download/", {"format": "docx"}).status_code == 400


def test_download_of_an_unfinished_run_is_404(agency, member_of, api_as):
    run = make_run(agency, status="running")
    response = api_as(member_of(agency, RoleChoices.ADMIN)).get(f"/api/reports/{run.pk}/download/")
    assert response.status_code == 404


def test_files_are_listed_with_their_hash_size_and_download_url(agency, member_of, api_as):
    run = make_run(agency, status="succeeded", files={"csv": CSV})
    body = api_as(member_of(agency, RoleChoices.VIEWER)).get(f"/api/reports/{run.pk}/").json()
    created = body["files"][0].pop("created")
    assert created
    assert body["files"] == [{
        "format": "csv", "filename": f"qgov-compliance-DQN-{run.pk}.csv", "sha256": hashlib.sha256(CSV).hexdigest(),
        "size": len(CSV), "pages": None,
        "download": f"http://testserver/api/reports/{run.pk}/download/?format=csv"}]


def test_verify_names_the_run_of_a_stored_file_and_refuses_a_changed_byte(agency, member_of, api_as):
    run = make_run(agency, status="succeeded", files={"csv": CSV})
    client = api_as(member_of(agency, RoleChoices.VIEWER))
    response = client.post("/api/reports/verify/", {"file": SimpleUploadedFile("r.csv", CSV)}, format="multipart")
    assert response.status_code == 200
    body = response.json()
    assert (body["valid"], body["format"], body["signature"]) == (True, "csv", None)
    assert body["run"] == {"id": run.pk, "url": f"http://testserver/api/reports/{run.pk}/", "display": str(run)}
    assert body["sha256"] == hashlib.sha256(CSV).hexdigest()
    changed = CSV.replace(b"3", b"4")
    response = client.post("/api/reports/verify/", {"file": SimpleUploadedFile("r.csv", changed)}, format="multipart")
    assert response.status_code == 200
    assert response.json() == {
        "valid": False, "sha256": hashlib.sha256(changed).hexdigest(), "run": None, "format": None,
        "signature": None, "message": "No report issued by this platform has this content "
                                      f"(SHA-256 {hashlib.sha256(changed).hexdigest()})."}


def test_verify_does_not_name_another_agencys_run(agency, other_agency, member_of, api_as):
    make_run(other_agency, status="succeeded", files={"csv": CSV})
    client = api_as(member_of(agency, RoleChoices.ADMIN))
    body = client.post("/api/reports/verify/", {"file": SimpleUploadedFile("r.csv", CSV)}, format="multipart").json()
    assert (body["valid"], body["run"]) == (False, None)


def test_verify_without_a_file_is_400(agency, member_of, api_as):
    response = api_as(member_of(agency, RoleChoices.VIEWER)).post("/api/reports/verify/", {}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"] == {"file": ["No file was submitted."]}


def test_list_query_count_is_pinned_and_does_not_grow_with_runs(agency, member_of, api_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_as(member_of(agency, RoleChoices.AUDITOR))
    counts = []
    for _ in range(2):
        for _ in range(3):
            make_run(agency, status="succeeded", files={"csv": CSV, "json": b"{}"})
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/reports/").status_code == 200
        counts.append(len(queries))
    # The count, the page of runs (agency, requester and schedule joined) and their files.
    assert counts == [3, 3], [q["sql"][:120] for q in queries.captured_queries]


def test_a_report_end_to_end_downloads_files_whose_hashes_are_stored(agency, member_of, api_as, request_report):
    user = member_of(agency, RoleChoices.AUDITOR)
    run = request_report(user, kind="compliance").run
    assert run["status"] == "succeeded", run["error"]
    client = api_as(user)
    assert sorted(f["format"] for f in run["files"]) == ["csv", "json", "oscal", "pdf"]
    for listed in run["files"]:
        response = client.get(listed["download"])
        assert response.status_code == 200
        content = b"".join(response.streaming_content)
        stored = ReportFile.objects.get(run_id=run["id"], format=listed["format"])
        assert hashlib.sha256(content).hexdigest() == stored.sha256 == listed["sha256"] == response["X-Content-SHA256"]
        assert len(content) == stored.size
    pdf_bytes = b"".join(client.get(f"/api/reports/{run['id']}/download/", {"format": "pdf"}).streaming_content)
    assert pdf_bytes.startswith(b"%PDF-")
    valid = client.post("/api/reports/verify/", {"file": SimpleUploadedFile("r.pdf", pdf_bytes)}, format="multipart")
    body = valid.json()
    assert (body["valid"], body["run"]["id"], body["format"]) == (True, run["id"], "pdf")
    assert {key: body["signature"][key] for key in ("signed", "intact", "trusted", "whole_file")} == {
        "signed": True, "intact": True, "trusted": True, "whole_file": True}
    middle = len(pdf_bytes) // 2
    tampered = pdf_bytes[:middle] + bytes([pdf_bytes[middle] ^ 1]) + pdf_bytes[middle + 1:]
    refused = client.post("/api/reports/verify/", {"file": SimpleUploadedFile("r.pdf", tampered)}, format="multipart")
    assert refused.status_code == 200
    assert (refused.json()["valid"], refused.json()["run"]) == (False, None)


def test_add_file_helper_matches_the_service_names(agency):
    run = make_run(agency, kind="sunset_review")
    assert add_file(run, "pdf", b"%PDF-1.7").filename == f"qgov-sunset-review-DQN-{run.pk}.pdf"
