from django.db import migrations

from qgov.migrations_ops import AddSearchIndex, TrigramExtension


class Migration(migrations.Migration):
    """Trigram indexes for `?q=` on PostgreSQL (no-ops elsewhere); see docs/api.md, Search."""

    dependencies = [("incidents", "0002_regulator_clocks_timeline_key_actions")]

    operations = [
        TrigramExtension(),
        AddSearchIndex("playbook", ["code", "title", "description"]),
        AddSearchIndex("playbookstep", ["csf_category", "instruction", "role"]),
        AddSearchIndex("incident", ["reference", "title", "description"]),
        AddSearchIndex("incidentstep", ["instruction", "note", "role"]),
        AddSearchIndex("regulatorregime", ["code", "name", "citation", "description"]),
        AddSearchIndex("regulatorclock", ["code", "label"]),
        AddSearchIndex("agencyregime", ["notes"]),
        AddSearchIndex("regulatornotification", ["reference"]),
        AddSearchIndex("timelineentry", ["author_name", "text"]),
        AddSearchIndex("keyaction", ["key_ids", "sae_ids", "kme_ids", "note"]),
    ]
