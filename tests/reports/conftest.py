import pytest
from django.test import override_settings

from qgov.reports.signing import ensure_development_key_pair


@pytest.fixture(scope="session", autouse=True)
def report_signing_key_pair(tmp_path_factory):
    """A report key pair for the session (reports are never issued unsigned), in a temporary folder."""
    folder = tmp_path_factory.mktemp("report-signing")
    with override_settings(QGOV_REPORT_SIGNING_KEY=folder / "key.pem",
                           QGOV_REPORT_SIGNING_CERT=folder / "certificate.pem"):
        ensure_development_key_pair()
        yield folder / "key.pem", folder / "certificate.pem"
