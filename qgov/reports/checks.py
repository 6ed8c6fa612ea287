"""System check: with DEBUG off, the report signing key and certificate must exist and belong together,
so a misconfigured process stops at start instead of failing its first report run."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security)
def report_signing_key_pair(app_configs=None, **kwargs):
    if settings.DEBUG:
        return []
    from qgov.reports.signing import key_pair_problem

    problem = key_pair_problem()
    if not problem:
        return []
    return [checks.Error(problem, hint="Set QGOV_REPORT_SIGNING_KEY and QGOV_REPORT_SIGNING_CERT to the platform's "
                         "report key and certificate (PEM files); see .env.example.", id="qgov.E101")]
