from django.db import migrations, models

import qgov.fields
from qgov.evidence.custody import GENESIS_HASH, entry_hash


def chain_existing_events(apps, schema_editor):
    """Number each file's existing custody entries in the order they were written and hash-chain
    them, as qgov.evidence.custody does for new ones (the same canonical serialisation)."""
    CustodyEvent = apps.get_model("qgov", "CustodyEvent")
    sequence, previous, current = 0, GENESIS_HASH, None
    for event in CustodyEvent.objects.order_by("evidence_id", "at", "pk").iterator(chunk_size=2000):
        if event.evidence_id != current:
            sequence, previous, current = 0, GENESIS_HASH, event.evidence_id
        sequence += 1
        event.sequence, event.previous_hash = sequence, previous
        event.entry_hash = entry_hash(event)
        # Historical models are plain: their save() is not the append-only one.
        CustodyEvent.objects.filter(pk=event.pk).update(
            sequence=sequence, previous_hash=previous, entry_hash=event.entry_hash)
        previous = event.entry_hash


class Migration(migrations.Migration):
    """The custody log's own hash chain per evidence file, and who/where/why/when fields."""

    dependencies = [("qgov", "0010_reminder_hour_deadlines")]

    operations = [
        migrations.AddField("custodyevent", "location",
                            models.CharField(blank=True, max_length=200, verbose_name="where")),
        migrations.AddField("custodyevent", "reason",
                            qgov.fields.LongTextField(blank=True, max_length=10000, verbose_name="reason")),
        migrations.AddField("custodyevent", "collected_at",
                            models.DateTimeField(blank=True, null=True, verbose_name="collected")),
        migrations.AddField("custodyevent", "collected_by_name",
                            models.CharField(blank=True, max_length=200, verbose_name="collected by")),
        migrations.AddField("custodyevent", "chain_intact",
                            models.BooleanField(blank=True, null=True, verbose_name="custody chain intact")),
        migrations.AddField("custodyevent", "sequence",
                            models.PositiveIntegerField(default=0, verbose_name="sequence"), preserve_default=False),
        migrations.AddField("custodyevent", "previous_hash",
                            models.CharField(default="", max_length=64, verbose_name="previous entry's hash"),
                            preserve_default=False),
        migrations.AddField("custodyevent", "entry_hash",
                            models.CharField(default="", max_length=64, verbose_name="entry hash"),
                            preserve_default=False),
        migrations.AlterField("custodyevent", "action", models.CharField(choices=[
            ("uploaded", "Uploaded"), ("downloaded", "Downloaded"), ("handed_over", "Handed over"),
            ("verified_match", "Verified: hash matches"), ("verified_mismatch", "Verified: hash does NOT match"),
            ("withdrawn", "Withdrawn"), ("exported", "Custody log exported")], max_length=20, verbose_name="action")),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
        migrations.AlterModelOptions("custodyevent", options={
            "ordering": ["sequence", "pk"], "verbose_name": "custody event",
            "verbose_name_plural": "custody events"}),
        migrations.AddConstraint("custodyevent", models.UniqueConstraint(
            fields=("evidence", "sequence"), name="qgov_custodyevent_unique_sequence")),
    ]
