from django.db import migrations

from qgov.migrations_ops import AddSearchIndex, TrigramExtension


class Migration(migrations.Migration):
    """Trigram indexes for `?q=` on PostgreSQL (no-ops elsewhere); see docs/api.md, Search."""

    dependencies = [("risks", "0004_policy_deadline_year_protects_long_text")]

    operations = [
        TrigramExtension(),
        AddSearchIndex("risk", ["reference", "title", "description"]),
        AddSearchIndex("asset", ["name", "description"]),
        AddSearchIndex("control", ["title", "description"]),
        AddSearchIndex("threatvector", ["code", "title", "description"]),
        AddSearchIndex("riskmatrix", ["name"]),
        AddSearchIndex("riskacceptance", ["rationale"]),
    ]
