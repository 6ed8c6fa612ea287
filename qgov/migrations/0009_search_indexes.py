from django.db import migrations

from qgov.migrations_ops import AddSearchIndex, TrigramExtension


class Migration(migrations.Migration):
    """Trigram indexes for `?q=` on PostgreSQL (no-ops elsewhere); see docs/api.md, Search."""

    dependencies = [("qgov", "0008_audit_source_portal"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [
        TrigramExtension(),
        AddSearchIndex("agency", ["name", "code", "description"]),
        AddSearchIndex("auditevent", ["object_repr", "actor_repr", "request_id"]),
        AddSearchIndex("importrun", ["file_name", "sha256"]),
        AddSearchIndex("auth.user", ["username", "email", "first_name", "last_name"]),
    ]
