import re

import pytest
from django.conf import settings as django_settings
from django.test import override_settings
from rest_framework.test import APIClient

from qgov.choices import RoleChoices
from qgov.reports.signing import ensure_development_key_pair
from tests.factories import AgencyFactory, MembershipFactory, UserFactory


@pytest.fixture(scope="session", autouse=True)
def cache_of_this_test_process(worker_id):
    """With pytest-xdist, each test process other than the first gets its own Redis database for
    the cache (counting down from 15): tests clear the cache, and on Redis that empties the whole
    database, so a shared one would wipe another process's rate-limit counters mid-test. The
    in-process (locmem) cache is already private to each process."""
    cache = django_settings.CACHES["default"]
    number = int(worker_id[2:]) if worker_id.startswith("gw") else 0
    if number == 0 or "redis" not in cache["BACKEND"].lower():
        yield
        return
    location = re.sub(r"/\d*$", "", cache["LOCATION"].rstrip("/")) + f"/{16 - number}"
    with override_settings(CACHES={"default": {**cache, "LOCATION": location}}):
        yield


# The product hashes with Argon2, slow on purpose (tests/core/test_password_hashing.py keeps it
# proved); every factory user sets a password, so the tests hash with MD5. Argon2 stays listed
# second, so a hash made under it still verifies.
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *django_settings.PASSWORD_HASHERS]


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    with override_settings(PASSWORD_HASHERS=FAST_PASSWORD_HASHERS):
        yield


@pytest.fixture
def agency(db):
    return AgencyFactory(name="Department of Quantum Networks", code="DQN")


@pytest.fixture
def other_agency(db):
    return AgencyFactory(name="Ministry of Other Things", code="MOT")


@pytest.fixture
def member_of(db):
    """member_of(agency, role) -> a new user holding that role in that agency."""

    def make(agency, role=RoleChoices.VIEWER, **user_fields):
        return MembershipFactory(agency=agency, role=role, user=UserFactory(**user_fields)).user

    return make


@pytest.fixture
def superuser(db):
    return UserFactory(username="platform", is_superuser=True, is_staff=True)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_as(api_client):
    """api_as(user) -> an APIClient authenticated as that user."""

    def login(user):
        api_client.force_authenticate(user)
        return api_client

    return login


@pytest.fixture(autouse=True)
def celery_tasks_run_in_process(request):
    """Tasks run eagerly, in the test's own process and transaction, even when CELERY_BROKER_URL
    points at a real broker (CI's PostgreSQL + Redis run); without this, `.delay().get()` would
    wait for a worker that is not there. Tests marked `integration` start a worker and talk to
    the broker themselves."""
    from celery._state import _set_task_join_will_block

    # Celery keeps "inside a task: .get() would block" in one process-wide flag, set and restored
    # around each eager run. Two live-server threads running tasks at once can restore it in the
    # wrong order and leave it set, and every later `.get()` of this test process then raises
    # "Never call result.get() within a task!". No test starts inside a task.
    _set_task_join_will_block(False)
    if request.node.get_closest_marker("integration"):
        yield
        return
    from qgov.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = saved


@pytest.fixture
def import_file(api_as, django_capture_on_commit_callbacks, settings, tmp_path):
    """import_file(user, content, name=..., path="/api/risks/import/", **fields) -> the API's answer to
    the upload (202 with the queued run). Uploads are kept under a temporary MEDIA_ROOT; the run
    executes (eagerly) when the upload commits, and the answer's `run` is the run read back from
    its Location once it has: the JSON a client polls."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path / "media"

    def upload(user, content: bytes, name="register.csv", path="/api/risks/import/", **fields):
        client = api_as(user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(path, {"file": SimpleUploadedFile(name, content), **fields}, format="multipart")
        if response.status_code == 202:
            response.run = client.get(response["Location"]).json()
        return response

    return upload


@pytest.fixture(autouse=True)
def default_zone_is_the_test_agencys(settings):
    """The factories' agencies keep Europe/Brussels time; the test's own "today" (timezone.localdate())
    must be theirs, or every date test fails in the hour when Brussels is already on the next day."""
    settings.TIME_ZONE = "Europe/Brussels"


@pytest.fixture(scope="session", autouse=True)
def report_signing_key_pair(tmp_path_factory):
    """A report key pair for the session (reports are never issued unsigned), in a temporary folder."""
    folder = tmp_path_factory.mktemp("report-signing")
    with override_settings(QGOV_REPORT_SIGNING_KEY=folder / "key.pem",
                           QGOV_REPORT_SIGNING_CERT=folder / "certificate.pem"):
        ensure_development_key_pair()
        yield folder / "key.pem", folder / "certificate.pem"
