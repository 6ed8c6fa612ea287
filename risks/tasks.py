from celery import shared_task

from qgov.audit import audit_context
from qgov.choices import AuditSourceChoices


@shared_task(acks_late=True)  # idempotent: only acceptances still due are lapsed
def lapse_risk_acceptances() -> int:
    from risks.services import acceptances_lapse

    with audit_context(source=AuditSourceChoices.TASK, label="task:lapse_risk_acceptances"):
        return acceptances_lapse()
