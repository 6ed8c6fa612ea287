from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from qgov.evidence.services import evidence_orphans, evidence_storage


class Command(BaseCommand):
    help = (
        "List stored evidence files that no evidence record points at (left by a process that died between "
        "storing an upload and committing it); with --delete, remove them. Files younger than --min-age-minutes "
        "are left alone: their upload may still be committing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--delete", action="store_true", help="remove them")
        parser.add_argument("--min-age-minutes", type=int, default=60)

    def handle(self, *args, delete=False, min_age_minutes=60, **options):
        storage = evidence_storage()
        orphans = evidence_orphans(older_than=timezone.now() - timedelta(minutes=min_age_minutes))
        for name in orphans:
            if delete:
                storage.delete(name)
            self.stdout.write(f"{'removed' if delete else 'orphan'}: {name}")
        self.stdout.write(f"{len(orphans)} orphaned evidence files{' removed' if delete and orphans else ''}.")
