"""A real Celery round trip: this test run starts a worker process on the same test database,
sends it tasks through Redis and reads what it did (results, emails on disk, rows).

Runs whenever Redis answers at CELERY_BROKER_URL (or, when that is not set, at the default
redis://127.0.0.1:6379/0); skips, saying why, only when it does not.
"""

import email
import io
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import kombu.pools
import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from qgov import services, tasks
from qgov.celery import app as celery_app
from qgov.choices import RoleChoices
from qgov.models import AuditEvent, Notification
from tests.factories import AgencyFactory, MembershipFactory, UserFactory
from tests.integration.processes import TestProcess

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
TASK_TIMEOUT = 60


def broker_url() -> str:
    configured = os.environ.get("CELERY_BROKER_URL", "")
    return configured if configured.startswith("redis") else DEFAULT_BROKER_URL


def redis_problem(url: str) -> str | None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as error:
        return f"Redis is not reachable at {url}: {error}"
    return None


def worker_database_url() -> str:
    """The URL of the database this test run uses (the test database, not the configured one)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    if connection.vendor == "postgresql":
        credentials = quote(db["USER"] or "", safe="")
        if db["PASSWORD"]:
            credentials += ":" + quote(db["PASSWORD"], safe="")
        host = f"{credentials}@" if credentials else ""
        host += db["HOST"] or "127.0.0.1"
        if db["PORT"]:
            host += f":{db['PORT']}"
        return f"postgres://{host}/{db['NAME']}"
    raise AssertionError(f"no worker database URL for {connection.vendor}")


def _forget_connections(app):
    # Celery builds its broker pool, routing and result backend from the configuration on first use
    # and keeps them; drop them so that the next use reads the configuration in force.
    kombu.pools.reset()
    app._pool = None
    app.__dict__.pop("amqp", None)
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


class Worker(TestProcess):
    what = "the Celery worker"

    def __init__(self, process, name, log_path, mail_dir, queue, command=(), env=None):
        self.process, self.name, self.log_path, self.mail_dir, self.queue = process, name, log_path, mail_dir, queue
        self.command, self.env = list(command), env

    def kill(self):
        """SIGKILL, as a crashed machine or the OOM killer would: no warm shutdown, no acknowledgement."""
        self.process.kill()
        self.process.wait(timeout=10)

    def start_again(self):
        """A new worker process on the same queue (after kill())."""
        with self.log_path.open("a") as log_file:
            self.process = subprocess.Popen(  # noqa: S603 - our own worker, from our own venv
                self.command, cwd=settings.BASE_DIR, env=self.env, stdout=log_file, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)
        self.wait_until_ready()

    def answers(self) -> bool:
        return bool(celery_app.control.ping(destination=[self.name], timeout=1.0))


@pytest.fixture
def worker(transactional_db, tmp_path):
    """A `celery worker` process on the test database and the Redis broker; this process sends
    to it through Redis too (not eagerly) while the test runs. Its queue is private to the test,
    so no other worker on the same Redis takes these tasks."""
    url = broker_url()
    problem = redis_problem(url)
    if problem:
        pytest.skip(problem)

    queue = f"qgov-test-{uuid.uuid4().hex[:12]}"
    name = f"{queue}@localhost"
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": url,
        "CELERY_RESULT_BACKEND": url,
        "EMAIL_URL": f"filemail:///{mail_dir}",  # django-environ drops one slash: an absolute path needs four
        "DEFAULT_FROM_EMAIL": "qgov <noreply@qgov.test>",
        # Where this test run keeps files and the report signing key, so the worker writes what it reads.
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        **{name: str(getattr(settings, name)) for name in ("QGOV_REPORT_SIGNING_KEY", "QGOV_REPORT_SIGNING_CERT")
           if getattr(settings, name, None)},
    }
    celery = Path(sys.executable).parent / "celery"
    command = [
        str(celery), "-A", "qgov", "worker", "--pool", "solo", "-l", "warning",
        "-Q", queue, "-n", name, "--without-gossip", "--without-mingle",
    ]

    keys = ("broker_url", "result_backend", "task_always_eager", "task_default_queue")
    saved = {key: celery_app.conf[key] for key in keys}
    celery_app.conf.update(broker_url=url, result_backend=url, task_always_eager=False, task_default_queue=queue)
    _forget_connections(celery_app)

    with log_path.open("w") as log_file:
        process = subprocess.Popen(  # noqa: S603 - our own worker, from our own venv
            command, cwd=settings.BASE_DIR, env=env, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    running = Worker(process, name, log_path, mail_dir, queue, command, env)
    try:
        running.wait_until_ready()
        yield running
    finally:
        running.stop()
        _forget_connections(celery_app)
        celery_app.conf.update(saved)
        client = redis.Redis.from_url(url)
        leftovers = list(client.scan_iter(match=f"*{queue}*"))  # the queue and kombu's bindings of it
        if leftovers:
            client.delete(*leftovers)


def wait_for(condition, *, timeout=TASK_TIMEOUT, worker):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"gave up after {timeout} s; worker log:\n{worker.log()}")


def test_verify_audit_chain_runs_in_the_worker(worker):
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    MembershipFactory(agency=agency, role=RoleChoices.ADMIN)
    assert AuditEvent.objects.count() == 3  # agency, user, membership

    result = tasks.verify_audit_chain.delay()

    assert result.get(timeout=TASK_TIMEOUT) == {"ok": True, "problem": None}
    assert result.state == "SUCCESS"


def test_the_worker_reads_the_same_database_and_finds_a_tampered_event(worker):
    AgencyFactory(name="Department of Quantum Networks", code="DQN")
    first = AuditEvent.objects.get(seq=1)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE qgov_auditevent SET object_repr = %s WHERE id = %s", ["Forged", first.pk])

    result = tasks.verify_audit_chain.delay().get(timeout=TASK_TIMEOUT)

    assert result == {
        "ok": False,
        "problem": f"chain {first.chain}: event #1 (id {first.pk}): content does not match its hash: "
                   "the event was altered",
    }


def test_the_worker_signs_checkpoints_that_verify_here(worker, tmp_path):
    """The daily checkpoint task in the worker signs with the same key this process verifies with,
    and mails the auditor the file."""
    from django.core.management import call_command

    from qgov.models import AuditCheckpoint

    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    auditor = MembershipFactory(agency=agency, role=RoleChoices.AUDITOR).user

    written = tasks.write_audit_checkpoints.delay().get(timeout=TASK_TIMEOUT)

    checkpoint = AuditCheckpoint.objects.get(chain=f"agency:{agency.pk}")
    assert sorted(written) == sorted(str(c) for c in AuditCheckpoint.objects.all())
    mails = [email.message_from_string(f.read_text().split("\n" + "-" * 79 + "\n")[0])
             for f in worker.mail_dir.iterdir()]
    to_auditor = [m for m in mails if m["To"] == auditor.email]
    assert len(to_auditor) == 1
    attachment = [part for part in to_auditor[0].walk() if part.get_filename()][0]
    assert attachment.get_filename() == checkpoint.filename()
    path = tmp_path / checkpoint.filename()
    path.write_bytes(attachment.get_payload(decode=True))
    out = io.StringIO()
    call_command("verify_audit", checkpoint=path, stdout=out)
    assert out.getvalue().startswith(f"Checkpoint verified: chain agency:{agency.pk} still extends checkpoint event #2")


def test_notify_emails_through_the_worker_after_commit(worker):
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    alice = UserFactory(username="alice", email="alice@example.org")
    nomail = UserFactory(username="nomail", email="")

    with transaction.atomic():
        alice_note, nomail_note = services.notify(
            users=[alice, nomail],
            agency=agency,
            title="Device certificate expires in 30 days",
            body="QKD transmitter TX-7 loses its certificate on 2027-01-31.",
            url="https://qgov.example.gov/certification/devices/7/",
        )

    wait_for(lambda: Notification.objects.get(pk=alice_note.pk).emailed_at is not None, worker=worker)

    files = list(worker.mail_dir.iterdir())
    assert len(files) == 1
    raw = files[0].read_text().split("\n" + "-" * 79 + "\n")[0]
    message = email.message_from_string(raw)
    assert (message["Subject"], message["From"], message["To"]) == (
        "[qgov] Device certificate expires in 30 days",
        "qgov <noreply@qgov.test>",
        "alice@example.org",
    )
    assert message.get_payload() == (
        "QKD transmitter TX-7 loses its certificate on 2027-01-31.\n\n"
        "https://qgov.example.gov/certification/devices/7/"
    )
    nomail_note.refresh_from_db()
    assert nomail_note.emailed_at is None
    assert get_user_model().objects.count() == 2
