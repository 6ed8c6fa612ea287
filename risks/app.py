"""What the risk register adds to qgov: its section, routes, panels, schedule, loaders and
agency setup. The core reads this declaration (qgov.registry); it names no domain app itself."""

from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from qgov.registry import QgovApp
from risks import api, catalog, demo, panels, services, tasks
from risks.reports import RISKS_SECTION

APP = QgovApp(
    label="risks",
    nav_label=_("Risks"),
    nav_order=10,
    nav=[
        (_("Register"), "risks:risk_list"),
        (_("Assets"), "risks:asset_list"),
        (_("Controls"), "risks:control_list"),
        (_("Acceptances"), "risks:riskacceptance_list"),
        (_("Threat catalog"), "risks:threatvector_list"),
        (_("Matrix"), "risks:riskmatrix_list"),
    ],
    urls="risks.urls",
    api_routes=[
        ("threat-vectors", api.ThreatVectorViewSet),
        ("risk-matrices", api.RiskMatrixViewSet),
        ("assets", api.AssetViewSet),
        ("controls", api.ControlViewSet),
        ("risks", api.RiskViewSet),
        ("risk-acceptances", api.RiskAcceptanceViewSet),
    ],
    beat_schedule={
        "lapse-risk-acceptances-daily": {
            "task": tasks.lapse_risk_acceptances.name,
            "schedule": crontab(hour=2, minute=0),
        },
    },
    panels=[panels.APPROVALS_PANEL, panels.EXPOSURE_PANEL, panels.REGISTER_PANEL],
    agency_setup=[services.risk_matrix_ensure],  # every agency rates on a matrix
    catalog_loader=catalog.load,
    demo_loader=demo.load,
    report_sections=[RISKS_SECTION],
)
