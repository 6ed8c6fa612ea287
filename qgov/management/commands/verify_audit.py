from django.core.management.base import BaseCommand, CommandError

from qgov.audit import verify_chain
from qgov.models import AuditChainHead


class Command(BaseCommand):
    help = "Verify the audit chain; exit non-zero naming the first altered or missing event."

    def handle(self, *args, **options):
        problem = verify_chain()
        if problem is not None:
            raise CommandError(f"Audit chain broken at {problem}")
        head = AuditChainHead.objects.filter(pk=1).first()
        count = head.seq if head else 0
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {count} events verified."))
