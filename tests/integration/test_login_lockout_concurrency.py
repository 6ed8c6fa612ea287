"""The lockout against a real server: gunicorn with three worker processes on the test database
(SQLite file or PostgreSQL), sign-in attempts sent at once from 20 threads. The server's password
hasher notes every check in a file (tests/integration/lockout_server_settings.py), so the test
counts the checks that every worker made, not what the lockout says it allowed."""

import json
import math
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from qgov.models import ApiToken, AuditEvent, LoginAttempt
from tests.factories import TEST_PASSWORD, UserFactory
from tests.integration.processes import TestProcess
from tests.integration.test_celery_worker import worker_database_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WORKERS = 3
THREADS = 20
WRONG_ATTEMPTS = 40
LIMIT = 5
LOCKOUT_SECONDS = 15 * 60


class Server(TestProcess):
    what = "gunicorn"

    def __init__(self, process, port, log_path, checks_path):
        self.process, self.port, self.log_path, self.checks_path = process, port, log_path, checks_path

    def password_checks(self) -> int:
        return len(self.checks_path.read_text().splitlines()) if self.checks_path.exists() else 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def request_token(self, username: str, password: str):
        """(status, headers, JSON body) of POST /api/auth/token/."""
        body = json.dumps({"username": username, "password": password}).encode()
        request = urllib.request.Request(self.url("/api/auth/token/"), data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - our own server
                return response.status, response.headers, self.json_body(response.status, response.read())
        except urllib.error.HTTPError as error:
            return error.code, error.headers, self.json_body(error.code, error.read())

    def json_body(self, status: int, body: bytes):
        try:
            return json.loads(body)
        except ValueError:
            # Not the API's JSON: a server error page. Say what it was, and what the server logged.
            title = re.search(rb"<title>(.*?)</title>", body, re.S)
            raise AssertionError(f"{status} {title[1].decode().strip() if title else body[:300]!r}\n"
                                 f"{self.log()[-3000:]}") from None

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url("/login/"), timeout=5) as response:  # noqa: S310
                return response.status == 200
        except OSError:
            time.sleep(0.2)
            return False


@pytest.fixture
def server(transactional_db, tmp_path):
    """gunicorn with WORKERS sync workers on the test database, listening on a socket this process
    bound to a free port and hands over (no port is guessed)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    log_path = tmp_path / "gunicorn.log"
    checks_path = tmp_path / "password-checks"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.integration.lockout_server_settings",
        "DATABASE_URL": worker_database_url(),
        "DJANGO_DEBUG": "1",
        "DJANGO_HTTPS": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "QGOV_LOGIN_FAILURE_LIMIT": str(LIMIT),
        "QGOV_LOGIN_LOCKOUT_MINUTES": str(LOCKOUT_SECONDS // 60),
        "QGOV_TEST_PASSWORD_CHECKS": str(checks_path),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [str(gunicorn), "qgov.wsgi:application", "--bind", f"fd://{listener.fileno()}",
               "--workers", str(WORKERS), "--worker-class", "sync", "--timeout", "120", "--log-level", "warning"]
    with log_path.open("w") as log_file:
        process = subprocess.Popen(  # noqa: S603 - our own server, from our own venv
            command, cwd=settings.BASE_DIR, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, pass_fds=[listener.fileno()])
    listener.close()  # gunicorn holds its own copy
    running = Server(process, port, log_path, checks_path)
    try:
        running.wait_until_ready()
        yield running
    finally:
        running.stop()


def user_with_argon2_password(username):
    """A user whose password is hashed as in production (the tests' factories hash with MD5): the
    server's checks are then the slow ones an attacker races."""
    user = UserFactory(username=username)
    user.password = make_password(TEST_PASSWORD, hasher="argon2")
    user.save(update_fields=["password"])
    return user


def assert_locked_out(status, headers, body):
    assert (status, body) == (429, {"status": 429, "code": "locked_out",
                                    "detail": "Too many failed sign-in attempts. Try again later.", "errors": {}})
    # The real time left: the window started no more than a few minutes ago.
    assert LOCKOUT_SECONDS - 120 <= int(headers["Retry-After"]) <= LOCKOUT_SECONDS


def test_forty_concurrent_wrong_passwords_check_exactly_five_and_then_the_right_one_is_refused(server):
    alice = user_with_argon2_password("alice")

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        answers = list(pool.map(lambda n: server.request_token("alice", f"wrong-password-{n}"),
                                range(WRONG_ATTEMPTS)))

    statuses = Counter(status for status, _headers, _body in answers)
    assert server.password_checks() == LIMIT, server.log()
    assert set(statuses) <= {400, 429}, statuses
    # A check that failed answers 400, or 429 when the count was full by the time it ended (the
    # failure that filled it says so); every attempt that was not checked answers 429.
    assert statuses[400] <= LIMIT
    assert statuses[429] == WRONG_ATTEMPTS - statuses[400]
    for status, headers, body in answers:
        if status == 429:
            assert_locked_out(status, headers, body)
    assert server.log().count("Failed sign-in for 'alice' from 127.0.0.1") == LIMIT
    assert "wrong-password" not in server.log()  # no password in the log
    assert LoginAttempt.objects.get(username="alice", address="127.0.0.1").failures == LIMIT
    locks = AuditEvent.objects.filter(object_id=str(alice.pk), action="transition")
    assert [(e.detail, e.after) for e in locks] == [  # one event, however many failures saw the lock
        ({"transition": "lock_sign_in", "reason": "5 failed sign-ins from 127.0.0.1"},
         {"sign_in_locked_until": locks[0].after["sign_in_locked_until"]})]

    assert_locked_out(*server.request_token("alice", TEST_PASSWORD))
    assert server.password_checks() == LIMIT  # refused without a check
    assert ApiToken.objects.count() == 0


def test_right_password_sent_sixth_one_at_a_time_is_refused(server):
    user_with_argon2_password("bob")
    answers = [server.request_token("bob", f"wrong-password-{n}")[0] for n in range(LIMIT)]

    status, headers, body = server.request_token("bob", TEST_PASSWORD)

    assert answers == [400] * (LIMIT - 1) + [429]
    assert_locked_out(status, headers, body)
    assert server.password_checks() == LIMIT
    assert ApiToken.objects.count() == 0
    # Retry-After is the time the lock really has left, by the server's clock and the stored window.
    locked_until = LoginAttempt.objects.get(username="bob", address="127.0.0.1").window_ends
    left = (locked_until - timezone.now()).total_seconds()
    assert left - 2 <= int(headers["Retry-After"]) <= math.ceil(left) + 1
