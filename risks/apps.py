from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RisksConfig(AppConfig):
    name = "risks"
    verbose_name = _("Risks")

    def ready(self):
        from qgov import dashboard, registry
        from risks import panels, services

        registry.agency_setup_hooks.append(services.risk_matrix_ensure)
        dashboard.register(panels.APPROVALS_PANEL)
        dashboard.register(panels.EXPOSURE_PANEL)
        dashboard.register(panels.REGISTER_PANEL)
