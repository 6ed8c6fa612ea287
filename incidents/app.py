"""What incidents adds to qgov: its section, routes, panels on other apps' pages, loaders, its
action in the role table and its section of the reports."""

from django.utils.translation import gettext_lazy as _

from incidents import api, catalog, demo, panels, reports
from incidents.catalog import regimes
from incidents.choices import MANAGE_PLAYBOOKS, MANAGE_REGIMES
from qgov.choices import RoleChoices
from qgov.registry import AppAction, QgovApp


def catalog_load() -> str:
    """The playbook templates and the regulator regimes."""
    return "; ".join((catalog.load(), regimes.load()))


def demo_load(*, agency, users):
    """The incidents, then their regulator clocks, timeline and key actions."""
    lines = demo.load(agency=agency, users=users) or []
    return [*lines, *demo.load_regulator_clocks(agency=agency, users=users)]


APP = QgovApp(
    label="incidents",
    nav_label=_("Incidents"),
    nav_order=40,
    nav=[
        (_("Board"), "incidents:board"),
        (_("Incidents"), "incidents:incident_list"),
        (_("Playbooks"), "incidents:playbook_list"),
        (_("Deadlines"), "incidents:regulatornotification_list"),
        (_("Our regimes"), "incidents:agencyregime_list"),
        (_("Regimes"), "incidents:regulatorregime_list"),
    ],
    urls="incidents.urls",
    api_routes=[
        ("playbooks", api.PlaybookViewSet),
        ("playbook-steps", api.PlaybookStepViewSet),
        ("incidents", api.IncidentViewSet),
        ("incident-steps", api.IncidentStepViewSet),
        ("regulator-regimes", api.RegulatorRegimeViewSet),
        ("regulator-clocks", api.RegulatorClockViewSet),
        ("agency-regimes", api.AgencyRegimeViewSet),
        ("regulator-notifications", api.RegulatorNotificationViewSet),
        ("timeline-entries", api.TimelineEntryViewSet),
        ("key-actions", api.KeyActionViewSet),
    ],
    detail_panels=[panels.DEVICE_INCIDENTS, panels.ASSET_INCIDENTS, panels.RISK_INCIDENTS, panels.SUPPLIER_INCIDENTS],
    # Adapting a response plan is a policy decision: the agency's admins keep its playbooks; editors
    # run incidents with them. Templates stay the platform admins'.
    actions=[AppAction(MANAGE_PLAYBOOKS, _("Adapt the agency's incident playbooks"),
                       frozenset({RoleChoices.ADMIN})),
             # Which regulators the agency reports to is its admins' call too.
             AppAction(MANAGE_REGIMES, _("Choose the regulator regimes the agency reports under"),
                       frozenset({RoleChoices.ADMIN}))],
    api_enum_names={f"{name.removesuffix('Choices')}Enum": f"incidents.choices.{name}" for name in (
        "IncidentTypeChoices", "SeverityChoices", "IncidentStatusChoices", "MarkingChoices", "PhaseChoices")} | {
        f"{name.removesuffix('Choices')}Enum": f"incidents.choices.{name}" for name in (
            "RegulatorClockStartChoices", "TimelineEntryKindChoices", "KeyActionChoices", "KeyDeviationChoices")},
    catalog_loader=catalog_load,
    demo_loader=demo_load,
    report_sections=[reports.INCIDENTS_SECTION],
)
