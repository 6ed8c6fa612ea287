"""The core's import machinery, on the risk register (the one importable model so far): limits,
streaming parsers, the parser registry, workflow-owned columns, the run's life (queued, running,
finished; idempotent), its private file, and who sees which runs."""

import hashlib
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from qgov.choices import RoleChoices
from qgov.imports import parsers
from qgov.imports.services import import_run_create
from qgov.imports.tasks import import_run_execute
from qgov.models import AuditEvent, ImportRun
from risks.models import Risk
from risks.services import risk_matrix_ensure

HEADER = b"reference,title,inherent_likelihood,inherent_impact\n"


def risk_rows(n, start=1):
    return b"".join(f"R-{i:05d},Risk {i},3,4\n".encode() for i in range(start, start + n))


TWO_ROWS = HEADER + risk_rows(2)


@pytest.fixture
def editor(agency, member_of):
    risk_matrix_ensure(agency)
    return member_of(agency, RoleChoices.EDITOR, username="ed")


@pytest.fixture
def queued_run(agency, editor, settings, tmp_path):
    """A run accepted but not executed: the test's transaction never commits, so nothing is queued."""
    settings.MEDIA_ROOT = tmp_path

    def make(content=TWO_ROWS, name="register.csv"):
        return import_run_create(user=editor, agency=agency, model=Risk, upload=SimpleUploadedFile(name, content))

    return make


# --- limits -------------------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_at_upload(editor, import_file, settings):
    settings.QGOV_IMPORT_MAX_BYTES = 100
    content = HEADER + risk_rows(3)
    response = import_file(editor, content)
    assert len(content) == 109
    assert response.status_code == 400
    assert response.json()["errors"] == {"file": ["The file is 109\xa0bytes; an import may be at most 100\xa0bytes."]}
    assert ImportRun.objects.count() == 0


def test_a_file_over_the_row_limit_fails_before_anything_is_written(editor, import_file, settings):
    settings.QGOV_IMPORT_MAX_ROWS = 3
    response = import_file(editor, HEADER + risk_rows(4))
    assert response.status_code == 202
    assert {key: response.run[key] for key in ("status", "rows_total", "errors")} == {
        "status": "failed", "rows_total": None,
        "errors": [{"row": 0, "field": "file",
                    "message": "The file has more than 3 rows; an import may hold at most 3. Split it."}]}
    assert Risk.objects.count() == 0
    assert import_file(editor, HEADER + risk_rows(3)).run["status"] == "succeeded"


# --- parsers ------------------------------------------------------------------------------------


def test_csv_is_read_as_a_stream(tmp_path):
    # Rows come out before the parser has seen the end of the file: the broken tail is found later.
    path = tmp_path / "big.csv"
    path.write_bytes(HEADER + risk_rows(5000) + b"\xff\xfe broken tail\n")
    with path.open("rb") as file:
        rows = parsers.CsvParser().rows(file)
        assert next(rows) == ["reference", "title", "inherent_likelihood", "inherent_impact"]
        assert next(rows) == ["R-00001", "Risk 1", "3", "4"]
        with pytest.raises(parsers.FileProblem, match="CSV files must be UTF-8 encoded."):
            list(rows)


def test_xlsx_is_read_in_streaming_mode(tmp_path):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["reference", "title", "description", "inherent_likelihood", "inherent_impact"])
    for i in range(10000):
        sheet.append([f"R-{i:05d}", f"Risk {i}", "A description long enough to take some room. " * 3, 3, 4])
    path = tmp_path / "big.xlsx"
    workbook.save(path)
    tracemalloc.start()
    try:
        with path.open("rb") as file:
            count = sum(1 for _row in parsers.XlsxParser().rows(file))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 10001
    # Loaded whole, this workbook takes about 22 MB (openpyxl's cells); read as a stream, about
    # 1.3 MB (the shared-strings table and one row at a time).
    assert peak < 5 * 1024 * 1024, peak


def test_another_format_plugs_into_the_parser_registry(editor, import_file):
    class TabParser(parsers.Parser):
        format = "tsv"
        extensions = (".tsv",)

        def rows(self, file):
            for line in file:
                yield line.decode().rstrip("\n").split("\t")

    parsers.register_parser(TabParser())
    try:
        response = import_file(editor, b"title\tinherent_likelihood\tinherent_impact\nTabbed\t2\t3\n", name="r.tsv")
    finally:
        del parsers._PARSERS["tsv"]
    assert (response.run["status"], response.run["format"], response.run["created_count"]) == ("succeeded", "tsv", 1)
    assert list(Risk.objects.values_list("title", "inherent_score")) == [("Tabbed", 6)]


# --- columns ------------------------------------------------------------------------------------


def test_a_column_owned_by_the_lifecycle_is_refused(editor, import_file, client):
    # Whatever the lifecycle declares as its own (a risk's status and status note), an import cannot write it.
    response = import_file(editor, b"title,inherent_likelihood,inherent_impact,status,status_note\n"
                                   b"Accepted,2,2,accepted,by hand\n")
    assert response.run["errors"] == [{"row": 1, "field": name, "message": (
        "This field is set by the record's workflow and cannot be imported.")} for name in ("status", "status_note")]
    assert Risk.objects.count() == 0
    client.force_login(editor)
    listed = [c.name for c in client.get("/risks/register/import/").context["columns"]]
    assert ("status" in listed, "status_note" in listed, "title" in listed) == (False, False, True)


def test_without_a_lifecycle_the_column_is_imported(editor, import_file, monkeypatch):
    from qgov.imports import Choice
    from qgov.imports.spec import spec_for

    # A model without a lifecycle imports a status like any other choice.
    monkeypatch.setattr(Risk, "lifecycle", None)
    spec = spec_for(Risk)
    column = Choice("status")
    column.bind(Risk)
    monkeypatch.setitem(spec.columns, "status", column)
    response = import_file(editor, b"title,inherent_likelihood,inherent_impact,status\nAssessed,2,2,assessed\n")
    assert response.run["status"] == "succeeded"
    assert list(Risk.objects.values_list("status", flat=True)) == ["assessed"]


# --- the run --------------------------------------------------------------------------------------


def test_the_upload_is_kept_privately_until_the_run_ends(queued_run, tmp_path, editor, api_as,
                                                        django_capture_on_commit_callbacks):
    content = TWO_ROWS
    run = queued_run(content)
    stored = tmp_path / run.file.name
    assert run.file.name.startswith("private/imports/") and run.file.name.endswith(".csv")
    assert stored.read_bytes() == content
    assert (run.status, run.file_name, run.size, run.format, run.requested_by) == (
        "queued", "register.csv", 90, "csv", editor)
    assert run.sha256 == hashlib.sha256(content).hexdigest()
    body = api_as(editor).get(f"/api/import-runs/{run.pk}/").json()
    assert "file" not in body and run.file.name not in str(body)
    with django_capture_on_commit_callbacks(execute=True):  # the file is removed once the outcome is committed
        assert import_run_execute.delay(run.pk).get() == "succeeded"
    run.refresh_from_db()
    assert (run.status, run.file.name, stored.exists()) == ("succeeded", "", False)


def test_a_finished_run_is_not_run_again(queued_run):
    run = queued_run()
    assert import_run_execute.delay(run.pk).get() == "succeeded"
    finished = ImportRun.objects.get(pk=run.pk).finished
    events = AuditEvent.objects.count()
    assert import_run_execute.delay(run.pk).get() == "succeeded"
    assert (Risk.objects.count(), AuditEvent.objects.count()) == (2, events)
    assert ImportRun.objects.get(pk=run.pk).finished == finished


def test_a_run_left_running_by_a_dead_worker_starts_over(queued_run):
    run = queued_run()
    ImportRun.objects.filter(pk=run.pk).update(status="running", rows_processed=1)
    assert import_run_execute.delay(run.pk).get() == "succeeded"
    run.refresh_from_db()
    assert (run.status, run.rows_processed, run.created_count) == ("succeeded", 2, 2)


def test_a_run_whose_file_is_gone_fails_cleanly(queued_run, tmp_path):
    run = queued_run()
    (tmp_path / run.file.name).unlink()
    assert import_run_execute.delay(run.pk).get() == "failed"
    run.refresh_from_db()
    assert run.errors == [{"row": 0, "field": "file", "message": (
        "The import stopped on an unexpected error; nothing was imported. Try again, or tell an administrator.")}]
    assert Risk.objects.count() == 0


def test_a_requester_who_lost_the_role_gets_a_failed_run(queued_run, editor):
    run = queued_run()
    editor.memberships.update(role=RoleChoices.VIEWER)
    assert import_run_execute.delay(run.pk).get() == "failed"
    assert ImportRun.objects.get(pk=run.pk).errors == [
        {"row": 0, "field": "file", "message": "ed may no longer add these records in this agency."}]
    assert Risk.objects.count() == 0


def test_the_run_is_audited(editor, import_file):
    response = import_file(editor, HEADER + risk_rows(1))
    run_events = AuditEvent.objects.filter(content_type__model="importrun").order_by("seq")
    assert [(e.action, e.actor, e.after["status"]) for e in run_events] == [
        ("create", editor, "queued"), ("update", editor, "running"), ("update", editor, "succeeded")]
    assert [e.source for e in run_events] == ["api", "task", "task"]
    assert response.run["created_count"] == 1


# --- who sees what ------------------------------------------------------------------------------


def test_members_of_the_agency_see_its_runs_and_others_get_404(agency, other_agency, editor, member_of,
                                                               import_file, api_as, client):
    run_id = import_file(editor, HEADER + risk_rows(1)).run["id"]
    import_file(editor, b"title\nno numbers\n")
    viewer = member_of(agency, RoleChoices.VIEWER)
    listed = api_as(viewer).get("/api/import-runs/").json()
    assert [(row["id"] == run_id, row["status"]) for row in listed["results"]] == [
        (False, "failed"), (True, "succeeded")]
    assert [row["id"] for row in api_as(viewer).get("/api/import-runs/", {"status": "succeeded"}).json()[
        "results"]] == [run_id]
    client.force_login(viewer)
    assert client.get(f"/imports/{run_id}/").status_code == 200
    assert client.get("/imports/").status_code == 200
    outsider = member_of(other_agency, RoleChoices.ADMIN)
    assert api_as(outsider).get(f"/api/import-runs/{run_id}/").status_code == 404
    assert api_as(outsider).get("/api/import-runs/").json()["count"] == 0
    client.force_login(outsider)
    assert client.get(f"/imports/{run_id}/").status_code == 404


def test_import_runs_are_read_only(editor, import_file, api_as):
    run_id = import_file(editor, HEADER + risk_rows(1)).run["id"]
    client = api_as(editor)
    assert client.patch(f"/api/import-runs/{run_id}/", {"status": "failed"}).status_code == 405
    assert client.delete(f"/api/import-runs/{run_id}/").status_code == 405
    assert client.post("/api/import-runs/", {}).status_code == 405
    assert ImportRun.objects.get(pk=run_id).status == "succeeded"


def test_the_import_page_sits_on_the_run_list(editor, import_file, client):
    run_id = import_file(editor, HEADER + risk_rows(1)).run["id"]
    client.force_login(editor)
    page = client.get("/risks/register/import/")
    assert [run.pk for run in page.context["runs"]] == [run_id]
    assert 'href="/imports/"' in page.content.decode()
    assert f'href="/imports/{run_id}/"' in client.get("/imports/").content.decode()


def test_a_long_report_is_cut_but_every_failed_row_is_counted(editor, import_file, monkeypatch):
    from qgov.imports import services

    monkeypatch.setattr(services, "MAX_REPORTED", 2)
    response = import_file(editor, HEADER + b"".join(f"R-{i},Bad {i},x,4\n".encode() for i in range(1, 5)))
    assert (response.run["failed_count"], response.run["errors"]) == (4, [
        {"row": 2, "field": "inherent_likelihood", "message": "Enter a whole number."},
        {"row": 3, "field": "inherent_likelihood", "message": "Enter a whole number."},
        {"row": 0, "field": "file",
         "message": "… and 2 more problems, not listed; fix the ones above and import again."},
    ])


def test_a_run_another_worker_holds_is_left_to_it(queued_run):
    # On PostgreSQL a worker holds a run with an advisory lock for as long as it runs it (a second
    # delivery of the same task must not import the file twice); SQLite has one writer at a time.
    from django.db import connections

    from qgov.runs import ADVISORY_LOCK_CLASS

    connection = connections["default"]
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    run = queued_run()
    other = type(connection)(dict(connection.settings_dict))  # a second worker's connection
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [ADVISORY_LOCK_CLASS, run.pk])
        assert import_run_execute.delay(run.pk).get() == "queued"
        assert Risk.objects.count() == 0
    finally:
        other.close()
    assert import_run_execute.delay(run.pk).get() == "succeeded"
