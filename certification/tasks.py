from celery import shared_task

from qgov.audit import audit_context
from qgov.choices import AuditSourceChoices


@shared_task(acks_late=True)  # idempotent: only certificates still live and past their date are expired
def expire_certifications() -> dict:
    from certification.services import certifications_expire

    with audit_context(source=AuditSourceChoices.TASK, label="task:expire_certifications"):
        return certifications_expire()
