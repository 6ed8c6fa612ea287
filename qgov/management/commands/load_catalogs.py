from importlib import import_module, util

from django.conf import settings
from django.db import transaction

from qgov.management.base import AuditedCommand


class Command(AuditedCommand):
    help = "Load or update the shared reference catalogs of every domain app (idempotent)."

    def handle(self, *args, **options):
        loaded = 0
        for app in settings.QGOV_DOMAIN_APPS:
            if util.find_spec(f"{app}.catalog") is None:
                continue
            with transaction.atomic():
                summary = import_module(f"{app}.catalog").load()
            self.stdout.write(f"{app}: {summary}")
            loaded += 1
        if not loaded:
            self.stdout.write("No reference catalogs to load yet.")
