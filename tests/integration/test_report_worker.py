"""Reports through a real worker (PostgreSQL or SQLite, Redis, a `celery worker` process): requested
over the API, polled, downloaded and checked against their hash; and a worker killed in the middle of
a run leaves the run to be queued again by the beat task, after which it ends succeeded."""

import hashlib
import time

import pytest
from rest_framework.test import APIClient

from qgov.choices import ImportRunStatusChoices as RunStatus
from qgov.choices import RoleChoices
from qgov.models import ReportRun
from qgov.reports import services
from risks.services import risk_matrix_ensure
from tests.factories import AgencyFactory, MembershipFactory, UserFactory
from tests.integration.test_celery_worker import TASK_TIMEOUT, worker  # noqa: F401 - the worker fixture
from tests.risks.factories import RiskFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def auditor_client(settings, tmp_path):
    # Asked for before the worker, which is given this folder: it writes the files this test reads.
    settings.MEDIA_ROOT = tmp_path / "media"
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    risk_matrix_ensure(agency)
    auditor = UserFactory(username="audrey")
    MembershipFactory(agency=agency, user=auditor, role=RoleChoices.AUDITOR)
    client = APIClient()
    client.force_authenticate(auditor)
    client.agency = agency
    return client


def poll(client, url, *, worker, until=("succeeded", "failed"), timeout=TASK_TIMEOUT):  # noqa: F811
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(url).json()
        seen.append((run["status"], run["progress"]))
        if run["status"] in until:
            return run, seen
        time.sleep(0.05)
    raise AssertionError(f"the run did not reach {until} in {timeout} s; seen {seen[-5:]}; log:\n{worker.log()}")


def test_a_report_requested_over_the_api_is_built_by_the_worker_and_downloads_intact(auditor_client, worker):  # noqa: F811
    RiskFactory.create_batch(5, agency=auditor_client.agency)

    response = auditor_client.post("/api/reports/", {"kind": "compliance"}, format="json")

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"  # the worker, not this request, builds it
    run, _seen = poll(auditor_client, response["Location"], worker=worker)
    assert (run["status"], run["progress"], run["error"]) == ("succeeded", 100, ""), worker.log()
    files = {item["format"]: item for item in run["files"]}
    assert sorted(files) == ["csv", "json", "oscal", "pdf"]
    for report_format, item in files.items():
        download = auditor_client.get(f"/api/reports/{run['id']}/download/", {"format": report_format})
        assert download.status_code == 200
        content = b"".join(download.streaming_content)
        assert (hashlib.sha256(content).hexdigest(), len(content)) == (item["sha256"], item["size"])
    pdf = b"".join(auditor_client.get(f"/api/reports/{run['id']}/download/", {"format": "pdf"}).streaming_content)
    assert services.report_verify(data=pdf).run.pk == run["id"]


def test_a_worker_killed_mid_run_leaves_the_run_to_be_queued_again_and_it_ends_succeeded(auditor_client, worker):  # noqa: F811
    # Enough rows that the PDF takes the worker a few seconds: time to kill it in the middle.
    RiskFactory.create_batch(1500, agency=auditor_client.agency)
    response = auditor_client.post("/api/reports/", {"kind": "risk_register"}, format="json")
    assert response.status_code == 202, response.content

    poll(auditor_client, response["Location"], worker=worker, until=("running",))
    worker.kill()

    run = ReportRun.objects.get(pk=response.json()["id"])
    assert (run.status, run.files.count()) == (RunStatus.RUNNING, 0)  # stuck, as far as anyone can tell
    worker.start_again()
    # The beat task finds it once its heartbeat is stale (and, on PostgreSQL, no worker holds it:
    # the dead worker's session, and its advisory lock, went with it).
    deadline = time.monotonic() + 30
    while not (requeued := services.report_runs_requeue(now=run.heartbeat + services.STALE_AFTER * 2)):
        assert time.monotonic() < deadline, "the dead worker's claim on the run was never released"
        time.sleep(0.5)
    assert requeued == [run.pk]

    finished, _seen = poll(auditor_client, response["Location"], worker=worker, timeout=TASK_TIMEOUT * 2)
    assert (finished["status"], finished["attempts"], len(finished["files"])) == ("succeeded", 2, 3), worker.log()
