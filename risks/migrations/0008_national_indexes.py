from django.db import migrations, models

from qgov.migrations_ops import AddLinkIndex


class Migration(migrations.Migration):
    """Indexes for the API's list pages at national scale (benchmarks/README.md, "PostgreSQL list
    pages"): a risk page in id order walks (agency, id); a search or filter that matches a few threat
    vectors reads their risks from the link table's (threatvector, risk) index alone."""

    dependencies = [("risks", "0007_asset_harvest_help")]

    operations = [
        migrations.AddIndex(model_name="risk", index=models.Index(fields=["agency", "id"], name="risk_agency_id_idx")),
        AddLinkIndex("risk", "threat_vectors"),
    ]
