from django.db import migrations

from qgov.migrations_ops import AddSearchIndex, TrigramExtension


class Migration(migrations.Migration):
    """Trigram indexes for `?q=` on PostgreSQL (no-ops elsewhere); see docs/api.md, Search."""

    dependencies = [("certification", "0002_long_text_fields")]

    operations = [
        TrigramExtension(),
        AddSearchIndex("scheme", ["code", "name", "issuing_body", "description"]),
        AddSearchIndex("recognitionarrangement", ["code", "name", "description"]),
        AddSearchIndex("recognition", ["conditions"]),
        AddSearchIndex("device", ["name", "vendor", "model", "serial", "site", "firmware_version"]),
        AddSearchIndex("devicecertification", ["certificate_id", "evaluation_lab", "protection_profile"]),
        AddSearchIndex("person", ["name", "email", "unit"]),
        AddSearchIndex("personnelaccreditation", ["credential_id", "level"]),
        AddSearchIndex("requiredscheme", ["notes"]),
    ]
