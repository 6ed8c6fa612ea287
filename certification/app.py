"""What certification adds to qgov: its section, routes, panels, schedule, loaders and its action
in the role table. The core reads this declaration (qgov.registry); it names no domain app itself."""

from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from certification import api, catalog, demo, panels, reports, tasks
from certification.choices import MANAGE_REQUIREMENTS
from qgov.choices import RoleChoices
from qgov.registry import AppAction, QgovApp

APP = QgovApp(
    label="certification",
    nav_label=_("Certification"),
    nav_order=20,
    nav=[
        (_("Compliance"), "certification:compliance"),
        (_("Devices"), "certification:device_list"),
        (_("Certifications"), "certification:devicecertification_list"),
        (_("Personnel"), "certification:person_list"),
        (_("Accreditations"), "certification:personnelaccreditation_list"),
        (_("Required schemes"), "certification:requiredscheme_list"),
        (_("Schemes"), "certification:scheme_list"),
        (_("Recognition"), "certification:recognitionarrangement_list"),
    ],
    urls="certification.urls",
    api_routes=[
        ("schemes", api.SchemeViewSet),
        ("recognition-arrangements", api.RecognitionArrangementViewSet),
        ("recognitions", api.RecognitionViewSet),
        ("devices", api.DeviceViewSet),
        ("device-certifications", api.DeviceCertificationViewSet),
        ("personnel", api.PersonViewSet),
        ("personnel-accreditations", api.PersonnelAccreditationViewSet),
        ("required-schemes", api.RequiredSchemeViewSet),
        ("compliance", api.ComplianceViewSet, "compliance"),
    ],
    beat_schedule={
        "expire-certifications-daily": {
            "task": tasks.expire_certifications.name,
            "schedule": crontab(hour=2, minute=15),
        },
    },
    panels=[panels.COMPLIANCE_PANEL],
    # What an agency requires of its devices and staff is a policy decision: its admins set it;
    # editors keep the devices, people and certificates.
    actions=[AppAction(MANAGE_REQUIREMENTS, _("Set the schemes devices and staff must hold"),
                       frozenset({RoleChoices.ADMIN}))],
    api_enum_names={f"{name.removesuffix('Choices')}Enum": f"certification.choices.{name}" for name in (
        "SchemeKindChoices", "SchemeValidityRuleChoices", "DeviceKindChoices", "DeviceStatusChoices",
        "CertificationStatusChoices", "PersonnelRoleChoices", "ComplianceChoices")},
    # Its section of the compliance, sunset-review and transparency reports (qgov.reports).
    report_sections=[reports.CERTIFICATION_SECTION],
    catalog_loader=catalog.load,
    demo_loader=demo.load,
)
