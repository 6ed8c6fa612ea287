from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProcurementConfig(AppConfig):
    name = "procurement"
    verbose_name = _("Procurement")

    def ready(self):
        from procurement.app import APP
        from procurement.models import PortalLink
        from qgov import audit, registry

        audit.register(PortalLink, exclude=("token_hash",))  # the token's hash is a credential
        registry.register(APP)
        from procurement.services import connect_component_hooks

        connect_component_hooks()  # a changed policy choice re-dates the agency's components
