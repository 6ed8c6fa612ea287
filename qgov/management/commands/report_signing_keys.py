"""Create the development report signing key and certificate if they are missing (`make run`)."""

from django.core.management.base import BaseCommand

from qgov.reports.signing import ensure_development_key_pair


class Command(BaseCommand):
    help = ("Create a self-signed report signing key and certificate at QGOV_REPORT_SIGNING_KEY and "
            "QGOV_REPORT_SIGNING_CERT when they are missing (development only; production installs its own).")

    # The system checks include qgov.E101 (no key pair with DEBUG off): the very thing this command fixes.
    requires_system_checks = []

    def handle(self, *args, **options):
        key_path, cert_path, created = ensure_development_key_pair()
        if created:
            self.stdout.write(f"Created a self-signed development report signing key {key_path} "
                              f"and certificate {cert_path}.")
        else:
            self.stdout.write(f"Report signing key {key_path} and certificate {cert_path} already exist; "
                              "left as they are.")
