from django.db import transaction

from qgov import registry
from qgov.management.base import AuditedCommand


class Command(AuditedCommand):
    help = "Load or update the shared reference catalogs of every domain app (idempotent)."

    def handle(self, *args, **options):
        loaded = 0
        for app in registry.apps():
            if app.catalog_loader is None:
                continue
            with transaction.atomic():
                summary = app.catalog_loader()
            self.stdout.write(f"{app.label}: {summary}")
            loaded += 1
        if not loaded:
            self.stdout.write("No reference catalogs to load yet.")
