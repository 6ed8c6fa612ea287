"""What certification adds to qgov: its section, routes, panels, schedule and loaders. The core
reads this declaration (qgov.registry); it names no domain app itself."""

from django.utils.translation import gettext_lazy as _

from qgov.registry import QgovApp

APP = QgovApp(
    label="certification",
    nav_label=_("Certification"),
    nav_order=20,
    nav=[],  # cert UI: the section's pages
    urls=None,  # cert UI: "certification.urls"
    api_routes=[],  # cert backend: the viewsets
    panels=[],  # cert UI: dashboard panels
)
