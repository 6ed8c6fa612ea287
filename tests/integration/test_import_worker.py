"""An import run end to end through a real worker: the upload answers 202 with the queued run, a
`celery worker` process (started by the fixture of test_celery_worker.py, on this test database
and Redis) runs it, and the client polls the run's URL until it has succeeded."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from qgov.choices import RoleChoices
from qgov.models import AuditEvent, ImportRun
from risks.models import Risk
from risks.services import risk_matrix_ensure
from tests.factories import AgencyFactory, MembershipFactory, UserFactory
from tests.integration.test_celery_worker import TASK_TIMEOUT, worker  # noqa: F401 - the worker fixture
from tests.risks.factories import AssetFactory, ControlFactory, ThreatVectorFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROWS = 300


def register_csv(rows: int) -> bytes:
    lines = ["reference,title,threat_vectors,assets,controls,owner,inherent_likelihood,inherent_impact"]
    lines += [f"R-{i:04d},Risk {i},CRY-01;QIM-01,Link A,Rotate keys,ed,{1 + i % 5},{1 + (i * 3) % 5}"
              for i in range(1, rows + 1)]
    return ("\n".join(lines) + "\n").encode()


def poll(client, url, *, worker):  # noqa: F811 - the fixture, for its log
    seen, deadline = [], time.monotonic() + TASK_TIMEOUT
    while time.monotonic() < deadline:
        run = client.get(url).json()
        seen.append((run["status"], run["rows_processed"]))
        if run["status"] in ("succeeded", "failed"):
            return run, seen
        time.sleep(0.05)
    raise AssertionError(f"the run did not finish in {TASK_TIMEOUT} s; seen {seen[-5:]}; worker log:\n{worker.log()}")


def test_a_worker_runs_an_import_through_redis(worker):  # noqa: F811
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    risk_matrix_ensure(agency)
    ThreatVectorFactory(code="CRY-01")
    ThreatVectorFactory(code="QIM-01")
    AssetFactory(agency=agency, name="Link A")
    ControlFactory(agency=agency, title="Rotate keys")
    editor = UserFactory(username="ed")
    MembershipFactory(agency=agency, user=editor, role=RoleChoices.EDITOR)
    client = APIClient()
    client.force_authenticate(editor)

    response = client.post("/api/risks/import/", {"file": SimpleUploadedFile("register.csv", register_csv(ROWS))},
                           format="multipart")

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"  # the worker, not this request, does the work
    run, seen = poll(client, response["Location"], worker=worker)
    assert {key: run[key] for key in ("status", "rows_total", "rows_processed", "created_count", "updated_count",
                                      "unchanged_count", "failed_count", "errors")} == {
        "status": "succeeded", "rows_total": ROWS, "rows_processed": ROWS, "created_count": ROWS,
        "updated_count": 0, "unchanged_count": 0, "failed_count": 0, "errors": []}
    assert Risk.objects.count() == ROWS
    last = Risk.objects.get(reference=f"R-{ROWS:04d}")
    assert (sorted(tv.code for tv in last.threat_vectors.all()), [a.name for a in last.assets.all()],
            [c.title for c in last.controls.all()], last.owner) == (["CRY-01", "QIM-01"], ["Link A"],
                                                                    ["Rotate keys"], editor)
    assert AuditEvent.objects.filter(content_type__model="risk", action="create", actor=editor,
                                     source="task").count() == ROWS
    stored = ImportRun.objects.get(pk=run["id"])
    assert (stored.file.name, stored.started is not None, stored.finished is not None) == ("", True, True)
    assert seen[0][0] in ("queued", "running")


def test_a_failed_row_rolls_back_everything_in_the_worker(worker):  # noqa: F811
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    risk_matrix_ensure(agency)
    editor = UserFactory(username="ed")
    MembershipFactory(agency=agency, user=editor, role=RoleChoices.EDITOR)
    client = APIClient()
    client.force_authenticate(editor)
    content = b"title,inherent_likelihood,inherent_impact\nFine,2,2\nAlso fine,3,3\nBroken,7,x\n"

    response = client.post("/api/risks/import/", {"file": SimpleUploadedFile("register.csv", content)},
                           format="multipart")

    run, _seen = poll(client, response["Location"], worker=worker)
    assert (run["status"], run["failed_count"], run["errors"]) == ("failed", 1, [
        {"row": 4, "field": "inherent_impact", "message": "Enter a whole number."},
        {"row": 4, "field": "inherent_likelihood", "message": "Must be between 1 and 5 on this agency's matrix."},
    ])
    assert Risk.objects.count() == 0
