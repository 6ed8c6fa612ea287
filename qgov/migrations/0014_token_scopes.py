"""API tokens get agencies, scopes and allowed addresses, and keyed hashes (qgov.tokens).

Existing tokens keep working until they expire: each keeps what it could do before (scopes read
and write, its one agency if it had one, any address), and its stored SHA-256 becomes the keyed
hash of that SHA-256, which is what qgov.tokens.hash_secret computes from the secret."""

from django.db import migrations, models


def forward(apps, schema_editor):
    from qgov.tokens import keyed_hash

    ApiToken = apps.get_model("qgov", "ApiToken")
    for token in ApiToken.objects.all():
        token.key_hash = keyed_hash(token.key_hash)
        token.scopes = ["read", "write"]
        token.save(update_fields=["key_hash", "scopes"])
        if token.agency_id is not None:
            token.agencies.add(token.agency_id)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks before the ALTER TABLE


class Migration(migrations.Migration):

    dependencies = [
        ('qgov', '0013_auditevent_txid'),
    ]

    operations = [
        migrations.AddField(
            model_name='apitoken',
            name='agencies',
            field=models.ManyToManyField(blank=True, help_text='The agencies the token may act in; none: every agency of its user.', related_name='api_tokens', to='qgov.agency', verbose_name='agencies'),
        ),
        migrations.AddField(
            model_name='apitoken',
            name='allowed_ips',
            field=models.JSONField(blank=True, default=list, help_text='Networks in CIDR notation the token may be used from; none: any address.', verbose_name='allowed addresses'),
        ),
        migrations.AddField(
            model_name='apitoken',
            name='scopes',
            field=models.JSONField(default=list, help_text='read, write (which includes read), or per area: <area>:read, <area>:write, <area>:manage.', verbose_name='scopes'),
        ),
        migrations.AlterField(
            model_name='apitoken',
            name='prefix',
            field=models.CharField(editable=False, max_length=12, verbose_name='prefix'),
        ),
        # Old tokens' hashes are not reversible: going back leaves them unusable (issue new ones).
        migrations.RunPython(forward, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='apitoken',
            name='agency',
        ),
    ]
