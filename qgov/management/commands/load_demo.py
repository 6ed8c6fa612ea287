import secrets

from django.contrib.auth import get_user_model
from django.db import transaction
from django.test.utils import override_settings

from qgov import registry
from qgov.choices import AgencySectorChoices, RoleChoices
from qgov.management.base import AuditedCommand
from qgov.models import Agency, Membership
from qgov.reports import demo as reports_demo

DEMO_AGENCY = {"code": "DEMO", "name": "Department of Quantum Networks",
               "sector": AgencySectorChoices.DIGITAL, "time_zone": "Europe/Brussels",
               "description": "Demonstration agency: rolls out a metropolitan QKD backbone with trusted nodes "
                              "and migrates its PKI to post-quantum cryptography."}


# 20 characters: longer than the 15 that AUTH_PASSWORD_VALIDATORS ask of a password.
DEMO_PASSWORD_BYTES = 15


class Command(AuditedCommand):
    help = ("Create (or refresh) the demo agency with one login per role and each domain app's demo records. "
            "Prints the logins; passwords are new on every run.")

    def add_arguments(self, parser):
        parser.add_argument("--password", help="Use this password for every demo login instead of random ones.")

    def handle(self, *args, password=None, **options):
        user_model = get_user_model()
        logins = []
        # Demo notifications stay in the app: nothing is emailed to the demo addresses.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"), transaction.atomic():
            agency, _ = Agency.objects.get_or_create(code=DEMO_AGENCY["code"], defaults=DEMO_AGENCY)
            registry.agency_setup(agency)
            users = {}
            for role in RoleChoices.values:
                user, _ = user_model.objects.get_or_create(
                    username=f"demo-{role}", defaults={"email": f"demo-{role}@example.org", "first_name": "Demo",
                                                       "last_name": role.capitalize()})
                secret = password or secrets.token_urlsafe(DEMO_PASSWORD_BYTES)
                user.set_password(secret)
                user.save()
                membership, _ = Membership.objects.get_or_create(user=user, agency=agency, defaults={"role": role})
                if membership.role != role:
                    membership.role = role
                    membership.save()
                users[role] = user
                logins.append((user.username, secret, role))
            platform, _ = user_model.objects.get_or_create(
                username="demo-platform", defaults={"email": "platform@example.org", "is_staff": True,
                                                    "is_superuser": True})
            secret = password or secrets.token_urlsafe(DEMO_PASSWORD_BYTES)
            platform.set_password(secret)
            platform.save()
            logins.append((platform.username, secret, "platform admin"))
            notes = []
            for app in registry.apps():
                if app.demo_loader is not None:
                    notes.extend(app.demo_loader(agency=agency, users=users) or ())
            # After every app's data, so the demo report has something to say.
            notes.extend(reports_demo.load(agency=agency, users=users))
        self.stdout.write(self.style.SUCCESS(f"Demo agency: {agency}"))
        self.stdout.write("Demo logins (username / password / role):")
        for username, secret, role in logins:
            self.stdout.write(f"  {username:16} {secret:20} {role}")
        for note in notes:
            self.stdout.write(f"  {note}")
