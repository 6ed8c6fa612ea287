from django.db import migrations

from qgov.migrations_ops import AddSearchIndex, TrigramExtension


class Migration(migrations.Migration):
    """Trigram indexes for `?q=` on PostgreSQL (no-ops elsewhere); see docs/api.md, Search."""

    dependencies = [("procurement", "0001_initial")]

    operations = [
        TrigramExtension(),
        AddSearchIndex("questionnaire", ["code", "title", "description"]),
        AddSearchIndex("cryptopolicy", ["code", "name", "issuer", "description"]),
        AddSearchIndex("supplier", ["name", "country", "contact_name", "contact_email", "notes"]),
        AddSearchIndex("duediligencereview", ["conclusion"]),
        AddSearchIndex("duediligenceanswer", ["question", "comment"]),
        AddSearchIndex("component", ["name", "component_version", "part_number", "purl", "algorithm", "parameter_set_identifier"]),
        AddSearchIndex("contract", ["reference", "title", "notes"]),
    ]
