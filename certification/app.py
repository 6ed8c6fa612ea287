"""What certification adds to qgov: its section, routes, panels, schedule and loaders. The core
reads this declaration (qgov.registry); it names no domain app itself."""

from django.utils.translation import gettext_lazy as _

from certification import panels
from qgov.registry import QgovApp

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
    ],
    urls="certification.urls",
    api_routes=[],  # cert backend: the viewsets
    panels=[panels.COMPLIANCE_PANEL],
)
