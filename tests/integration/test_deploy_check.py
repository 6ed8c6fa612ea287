"""The production configuration passes Django's deployment checks, and a production process
refuses to start on the published development key or without allowed hosts."""

import os
import secrets
import string
import subprocess
import sys

import pytest
from django.conf import settings

# Variables the test run sets (pyproject.toml) that a production process would not have.
TEST_ONLY_VARIABLES = (
    "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "QGOV_AUDIT_KEY",
    "DJANGO_HTTPS",
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    "QGOV_MANIFEST_STATIC",
    "QGOV_STATIC_FINDERS",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)

SECRET_KEY_REFUSAL = (
    "django.core.exceptions.ImproperlyConfigured: DJANGO_SECRET_KEY must be set to a random value of at least "
    "50 characters when DJANGO_DEBUG is off."
)
AUDIT_KEY_REFUSAL = (
    "django.core.exceptions.ImproperlyConfigured: QGOV_AUDIT_KEY must be set to a random value of at least "
    "32 characters when DJANGO_DEBUG is off."
)
ALLOWED_HOSTS_REFUSAL = (
    "django.core.exceptions.ImproperlyConfigured: DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off."
)


def random_secret_key(length=60):
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def manage(*args, **variables):
    """Run manage.py in a fresh process with the production variables given (None removes one)."""
    env = {key: value for key, value in os.environ.items() if key not in TEST_ONLY_VARIABLES}
    for key, value in variables.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def last_line(text):
    return text.strip().splitlines()[-1]


def dotenv_defines(name):
    dotenv = settings.BASE_DIR / ".env"
    if not dotenv.exists():
        return False
    return any(line.strip().startswith(f"{name}=") for line in dotenv.read_text().splitlines())


@pytest.fixture
def report_signing_files(tmp_path):
    from django.test import override_settings

    from qgov.reports.signing import ensure_development_key_pair

    key_path, cert_path = tmp_path / "key.pem", tmp_path / "certificate.pem"
    with override_settings(QGOV_REPORT_SIGNING_KEY=key_path, QGOV_REPORT_SIGNING_CERT=cert_path):
        ensure_development_key_pair()
    return key_path, cert_path


def test_production_settings_pass_the_deploy_check_without_warnings(report_signing_files):
    key_path, cert_path = report_signing_files  # a production process needs them (check qgov.E101)
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DJANGO_DEBUG="0", DJANGO_SECRET_KEY=random_secret_key(), DJANGO_ALLOWED_HOSTS="qgov.example.gov",
        QGOV_AUDIT_KEY=random_secret_key(40),
        QGOV_REPORT_SIGNING_KEY=str(key_path), QGOV_REPORT_SIGNING_CERT=str(cert_path),
    )

    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert result.stdout == "System check identified no issues (0 silenced).\n"


@pytest.mark.parametrize(
    "secret_key",
    [
        pytest.param("django-insecure-qgov-development-only-key", id="published-development-key"),
        pytest.param("", id="empty"),
        pytest.param(random_secret_key(49), id="49-characters"),
    ],
)
def test_production_refuses_to_start_without_a_real_secret_key(secret_key):
    result = manage("check", DJANGO_DEBUG="0", DJANGO_SECRET_KEY=secret_key, DJANGO_ALLOWED_HOSTS="qgov.example.gov")

    assert result.returncode == 1
    assert result.stdout == ""
    assert last_line(result.stderr) == SECRET_KEY_REFUSAL


@pytest.mark.skipif(dotenv_defines("DJANGO_SECRET_KEY"), reason=".env in the project folder sets DJANGO_SECRET_KEY")
def test_production_refuses_to_start_when_the_secret_key_is_not_set():
    result = manage("check", DJANGO_DEBUG="0", DJANGO_SECRET_KEY=None, DJANGO_ALLOWED_HOSTS="qgov.example.gov")

    assert result.returncode == 1
    assert last_line(result.stderr) == SECRET_KEY_REFUSAL


@pytest.mark.skipif(dotenv_defines("DJANGO_ALLOWED_HOSTS"), reason=".env in the project folder sets it")
@pytest.mark.parametrize("allowed_hosts", [None, ""], ids=["not-set", "empty"])
def test_production_refuses_to_start_without_allowed_hosts(allowed_hosts):
    result = manage(
        "check", DJANGO_DEBUG="0", DJANGO_SECRET_KEY=random_secret_key(), DJANGO_ALLOWED_HOSTS=allowed_hosts
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert last_line(result.stderr) == ALLOWED_HOSTS_REFUSAL


@pytest.mark.parametrize(
    "audit_key",
    [
        pytest.param(None, id="not-set"),
        pytest.param("qgov-insecure-development-only-audit-key", id="published-development-key"),
        pytest.param(random_secret_key(31), id="31-characters"),
    ],
)
def test_production_refuses_to_start_without_a_real_audit_key(audit_key):
    if audit_key is None and dotenv_defines("QGOV_AUDIT_KEY"):
        pytest.skip(".env in the project folder sets QGOV_AUDIT_KEY")
    result = manage("check", DJANGO_DEBUG="0", DJANGO_SECRET_KEY=random_secret_key(),
                    DJANGO_ALLOWED_HOSTS="qgov.example.gov", QGOV_AUDIT_KEY=audit_key)

    assert result.returncode == 1
    assert result.stdout == ""
    assert last_line(result.stderr) == AUDIT_KEY_REFUSAL


def test_debug_mode_starts_with_the_development_defaults():
    result = manage("check", DJANGO_DEBUG="1", DJANGO_SECRET_KEY=None, DJANGO_ALLOWED_HOSTS=None)

    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert result.stdout == "System check identified no issues (0 silenced).\n"
