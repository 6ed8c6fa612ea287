"""What incidents adds to qgov: its section, routes, panels on other apps' pages, loaders and its
action in the role table."""

from django.utils.translation import gettext_lazy as _

from incidents import api, catalog, demo, panels
from incidents.choices import MANAGE_PLAYBOOKS
from qgov.choices import RoleChoices
from qgov.registry import AppAction, QgovApp

APP = QgovApp(
    label="incidents",
    nav_label=_("Incidents"),
    nav_order=40,
    nav=[
        (_("Board"), "incidents:board"),
        (_("Incidents"), "incidents:incident_list"),
        (_("Playbooks"), "incidents:playbook_list"),
    ],
    urls="incidents.urls",
    api_routes=[
        ("playbooks", api.PlaybookViewSet),
        ("playbook-steps", api.PlaybookStepViewSet),
        ("incidents", api.IncidentViewSet),
        ("incident-steps", api.IncidentStepViewSet),
    ],
    detail_panels=[panels.DEVICE_INCIDENTS, panels.ASSET_INCIDENTS, panels.RISK_INCIDENTS, panels.SUPPLIER_INCIDENTS],
    # Adapting a response plan is a policy decision: the agency's admins keep its playbooks; editors
    # run incidents with them. Templates stay the platform admins'.
    actions=[AppAction(MANAGE_PLAYBOOKS, _("Adapt the agency's incident playbooks"),
                       frozenset({RoleChoices.ADMIN}))],
    api_enum_names={f"{name.removesuffix('Choices')}Enum": f"incidents.choices.{name}" for name in (
        "IncidentTypeChoices", "SeverityChoices", "IncidentStatusChoices", "MarkingChoices", "PhaseChoices")},
    catalog_loader=catalog.load,
    demo_loader=demo.load,
)
