import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from qgov.audit_checkpoints import verify_checkpoint
from qgov.audit_verify import verify_chains


class Command(BaseCommand):
    help = (
        "Verify the audit chains (all, or --chain); exit non-zero naming the first altered or missing event "
        "of each broken chain. With --checkpoint FILE, prove the chain still extends a signed checkpoint."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chain", help='one chain, e.g. "agency:3", "platform" or "legacy"')
        parser.add_argument("--checkpoint", type=Path, metavar="FILE", help="a checkpoint file downloaded or mailed")

    def handle(self, *args, chain=None, checkpoint=None, **options):
        if checkpoint is not None:
            try:
                document = json.loads(checkpoint.read_text())
            except (OSError, ValueError) as error:
                raise CommandError(f"Cannot read checkpoint {checkpoint}: {error}") from None
            result = verify_checkpoint(document if isinstance(document, dict) else {})
            if not result.ok:
                raise CommandError(f"Checkpoint NOT verified: {result.message}")
            self.stdout.write(self.style.SUCCESS(f"Checkpoint verified: {result.message}"))
            return
        reports = verify_chains(chain=chain)
        broken = [report.problem for report in reports if report.problem is not None]
        if broken:
            raise CommandError("Audit chain broken at " + "; ".join(str(problem) for problem in broken))
        events = sum(report.events for report in reports)
        chains = f"{len(reports)} chain{'s' if len(reports) != 1 else ''}"
        self.stdout.write(self.style.SUCCESS(f"Audit chains intact: {events} events in {chains} verified."))
