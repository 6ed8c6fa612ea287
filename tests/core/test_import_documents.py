"""Document importers (qgov.imports.documents): a non-tabular format plugs into the same runs,
upload checks, background task, run page and API as CSV/XLSX imports. Shown with a toy importer of
risks from a JSON list, registered for the test only."""

import json

import pytest

from qgov.choices import RoleChoices
from qgov.imports import documents
from qgov.imports.services import FILE_ROW, ImportFailed, problem
from qgov.models import ImportRun
from qgov.services import object_create, object_update
from risks.models import Risk
from risks.services import risk_matrix_ensure


class RiskListImporter(documents.DocumentImporter):
    model = Risk
    format = "risk-list"
    label = "Risk list"
    extensions = (".risks.json",)
    description = "A JSON list of risks."

    def execute(self, run, file):
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        items = json.loads(file.read())
        for index, item in enumerate(items):
            if not item.get("title"):
                raise ImportFailed([problem(FILE_ROW, f"$[{index}].title", "A title is required.")])
            existing = Risk.objects.filter(agency=run.agency, reference=item["reference"]).first()
            data = {"title": item["title"], "inherent_likelihood": 3, "inherent_impact": 3}
            if existing is None:
                object_create(model=Risk, user=run.requested_by, data={"agency": run.agency,
                                                                       "reference": item["reference"], **data})
                counts["created"] += 1
            elif existing.title != item["title"]:
                object_update(instance=existing, user=run.requested_by, data={"title": item["title"]})
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        return counts


@pytest.fixture
def importer(monkeypatch):
    monkeypatch.setitem(documents._DOCUMENTS, RiskListImporter.format, RiskListImporter())


@pytest.fixture
def editor(agency, member_of):
    risk_matrix_ensure(agency)
    return member_of(agency, RoleChoices.EDITOR, username="ed")


def body(*items) -> bytes:
    return json.dumps(list(items)).encode()


def test_a_document_import_runs_like_a_tabular_one(importer, editor, import_file, agency, client):
    response = import_file(editor, body({"reference": "R-1", "title": "One"}, {"reference": "R-2", "title": "Two"}),
                           name="list.risks.json")
    assert response.status_code == 202, response.content
    run = response.run
    assert (run["status"], run["format"]) == ("succeeded", "risk-list")
    assert (run["created_count"], run["rows_total"]) == (2, 2)
    renamed = body({"reference": "R-1", "title": "One, renamed"}, {"reference": "R-2", "title": "Two"})
    again = import_file(editor, renamed,
                        name="list.risks.json").run
    assert (again["updated_count"], again["unchanged_count"]) == (1, 1)
    client.force_login(editor)
    page = client.get(ImportRun.objects.get(pk=again["id"]).get_absolute_url())
    assert [change["changed_fields"] for change in page.context["changes"]] == [["title", "version"]]  # audited


def test_a_failing_document_rolls_back_and_reports_the_path(importer, editor, import_file, agency):
    run = import_file(editor, body({"reference": "R-1", "title": "One"}, {"reference": "R-2"}),
                      name="list.risks.json").run
    assert run["status"] == "failed"
    assert run["errors"] == [{"row": 0, "field": "$[1].title", "message": "A title is required."}]
    assert not Risk.objects.filter(agency=agency).exists()


def test_the_document_format_decides_which_files_are_accepted(importer, editor, import_file):
    response = import_file(editor, b"reference,title\n", name="register.csv")
    assert response.status_code == 400 and "Risk list" in str(response.json())


def test_a_document_importer_needs_a_model_and_a_format():
    with pytest.raises(ValueError):
        documents.register_document(documents.DocumentImporter())
