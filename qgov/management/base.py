from django.core.management.base import BaseCommand

from qgov.audit import audit_context
from qgov.choices import AuditSourceChoices


class AuditedCommand(BaseCommand):
    """A management command whose changes are audited as coming from that command."""

    def execute(self, *args, **options):
        name = self.__class__.__module__.rsplit(".", 1)[-1]
        with audit_context(source=AuditSourceChoices.COMMAND, label=f"command:{name}"):
            return super().execute(*args, **options)
