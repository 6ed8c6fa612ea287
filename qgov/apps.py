from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class QgovConfig(AppConfig):
    name = "qgov"
    verbose_name = _("qgov core")

    def ready(self):
        from django.db.models.signals import post_migrate

        from qgov import audit
        from qgov.migrations_ops import analyze_after_migrate

        post_migrate.connect(analyze_after_migrate, sender=self, dispatch_uid="qgov.analyze_after_migrate")

        audit.register_platform_models()
        audit.connect_signals()
        from qgov import files

        files.connect_signals()  # files stored in a transaction that rolled back are removed
        # Each app's imports.py declares what it lets people import (qgov.imports.register).
        autodiscover_modules("imports")
        from qgov import detail_panels
        from qgov.identity import sessions  # noqa: F401 - the sign-in and sign-out receivers (session records)
        from qgov.identity.panels import AGENCY_SIGN_IN_POLICY

        detail_panels.register(AGENCY_SIGN_IN_POLICY)  # on the agency's page
        from qgov.identity import sso  # noqa: F401 - re-authentication through providers
        from qgov.imports import tasks  # noqa: F401 - registers the import task with Celery
        from qgov.integrations.idempotency import tasks as idempotency_tasks  # noqa: F401 - and the key purge

        # The webhook outbox receivers (change_recorded, event_emitted) and the sender's tasks.
        from qgov.integrations.webhooks import services as webhook_services  # noqa: F401
        from qgov.integrations.webhooks import tasks as webhook_tasks  # noqa: F401
        from qgov.reports import tasks as report_tasks  # noqa: F401 - and the report tasks
