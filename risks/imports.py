"""What of the risk register can be imported from CSV or XLSX (the core runs the import)."""

from django.utils.translation import gettext_lazy as _

from qgov.imports import Choice, Date, ImportSpec, Integer, Member, Related, Text, register
from risks.models import Asset, Control, Risk, ThreatVector

RISK_IMPORT = register(ImportSpec(Risk, key="reference", columns=[
    Text("reference", help_text=_("R-number: an existing one updates that risk; left empty, the next is given")),
    Text("title", required=True),
    Text("description"),
    Related("threat_vectors", ThreatVector, key="code", many=True),
    Related("assets", Asset, key="name", many=True),
    Related("controls", Control, key="title", many=True),
    Member("owner"),
    Integer("inherent_likelihood", required=True),
    Integer("inherent_impact", required=True),
    Integer("current_likelihood"),
    Integer("current_impact"),
    Integer("residual_likelihood"),
    Integer("residual_impact"),
    Choice("treatment"),
    Date("review_date"),
]))
