"""Per-agency audit chains with keyed hashes, and signed checkpoints.

Events written before this migration keep their sequence numbers and plain SHA-256 hashes and
form the closed "legacy" chain (their head row becomes that chain's head), so `verify_audit`
passes on an upgraded database without rewriting history. New events go to one chain per
agency ("agency:<id>") or the platform chain, hashed with HMAC-SHA256 and the audit key."""

import django.db.models.deletion
from django.db import migrations, models


def legacy_chain(apps, schema_editor):
    AuditEvent = apps.get_model("qgov", "AuditEvent")
    AuditChainHead = apps.get_model("qgov", "AuditChainHead")
    AuditEvent.objects.all().update(chain="legacy", key_id="")
    if AuditEvent.objects.exists() or AuditChainHead.objects.exclude(seq=0).exists():
        AuditChainHead.objects.all().update(chain="legacy")
    else:
        AuditChainHead.objects.all().delete()  # an unused head: nothing to carry over


class Migration(migrations.Migration):

    dependencies = [
        ("qgov", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="chain",
            field=models.CharField(default="legacy", editable=False, max_length=40, verbose_name="chain"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(blank=True, default="", editable=False, max_length=16, verbose_name="key id"),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, help_text="Position in its chain.",
                                                 verbose_name="sequence"),
        ),
        migrations.AlterModelOptions(
            name="auditevent",
            options={"ordering": ["-id"], "verbose_name": "audit event", "verbose_name_plural": "audit events"},
        ),
        migrations.AddField(
            model_name="auditchainhead",
            name="chain",
            field=models.CharField(default="legacy", max_length=40),
            preserve_default=False,
        ),
        migrations.RunPython(legacy_chain, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditchainhead",
            name="chain",
            field=models.CharField(max_length=40, unique=True),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(fields=("chain", "seq"), name="auditevent_unique_chain_seq"),
        ),
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("chain", models.CharField(editable=False, max_length=40, verbose_name="chain")),
                ("seq", models.PositiveBigIntegerField(editable=False, verbose_name="sequence")),
                ("hash", models.CharField(editable=False, max_length=64, verbose_name="hash")),
                ("created", models.DateTimeField(db_index=True, editable=False, verbose_name="created")),
                ("key_id", models.CharField(editable=False, max_length=16, verbose_name="key id")),
                ("signature", models.CharField(editable=False, max_length=64, verbose_name="signature")),
                ("agency", models.ForeignKey(db_constraint=False, null=True,
                                             on_delete=django.db.models.deletion.DO_NOTHING, related_name="+",
                                             to="qgov.agency", verbose_name="agency")),
            ],
            options={
                "verbose_name": "audit checkpoint",
                "verbose_name_plural": "audit checkpoints",
                "ordering": ["-created", "chain"],
            },
        ),
    ]
