from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QgovConfig(AppConfig):
    name = "qgov"
    verbose_name = _("qgov core")

    def ready(self):
        from qgov import audit

        audit.register_platform_models()
        audit.connect_signals()
