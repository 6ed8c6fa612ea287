"""Settings of the gunicorn server started by tests/integration/test_login_lockout_concurrency.py:
qgov's own, except for a password hasher that also notes each check in a file, so that the test
counts the checks made by every worker process."""

import os

from django.contrib.auth.hashers import Argon2PasswordHasher

from qgov.settings import *  # noqa: F403 - everything else as in production


class CountingArgon2PasswordHasher(Argon2PasswordHasher):
    def verify(self, password, encoded):
        # One line per check, appended (O_APPEND: lines of concurrent processes do not mix).
        with open(os.environ["QGOV_TEST_PASSWORD_CHECKS"], "a") as checks:
            checks.write(f"{os.getpid()}\n")
        return super().verify(password, encoded)


PASSWORD_HASHERS = ["tests.integration.lockout_server_settings.CountingArgon2PasswordHasher"]
