"""Background work of the core. Tasks stay thin: they set the audit context and call a service."""

import logging

from celery import shared_task

from qgov.audit import audit_context
from qgov.audit_checkpoints import checkpoint_send, checkpoints_write
from qgov.audit_verify import verify_chain
from qgov.choices import AuditSourceChoices

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)  # idempotent: only unsent notifications are emailed
def send_notification_emails(ids: list[int]) -> int:
    from qgov.services import notification_emails_send

    with audit_context(source=AuditSourceChoices.TASK, label="task:send_notification_emails"):
        return notification_emails_send(ids=ids)


@shared_task(acks_late=True)  # idempotent: each reminder is a unique row, inserted before anything is sent
def send_due_date_reminders() -> int:
    from qgov.duedates.services import due_reminders_send

    with audit_context(source=AuditSourceChoices.TASK, label="task:send_due_date_reminders"):
        return due_reminders_send()


@shared_task(acks_late=True)  # idempotent for the same reason as the daily one
def send_hour_reminders() -> int:
    """Every few minutes: reminders of deadlines in hours (regulator clocks)."""
    from qgov.duedates.services import hour_reminders_send

    with audit_context(source=AuditSourceChoices.TASK, label="task:send_hour_reminders"):
        return hour_reminders_send()


@shared_task(acks_late=True)
def verify_audit_chain() -> dict:
    """Nightly check of the audit chain; platform admins are told when it is broken."""
    from django.contrib.auth import get_user_model

    from qgov.services import notify

    problem = verify_chain()
    if problem is None:
        return {"ok": True, "problem": None}
    logger.error("Audit chain broken: %s", problem)
    with audit_context(source=AuditSourceChoices.TASK, label="task:verify_audit_chain"):
        notify(
            users=list(get_user_model().objects.filter(is_superuser=True, is_active=True)),
            title="Audit chain verification failed",
            body=str(problem),
            url="/audit/",
        )
    return {"ok": False, "problem": str(problem)}


@shared_task
def write_audit_checkpoints() -> list[str]:
    """Daily: sign each chain's head and send the checkpoint to the chain's auditors."""
    with audit_context(source=AuditSourceChoices.TASK, label="task:write_audit_checkpoints"):
        checkpoints = checkpoints_write()
        for checkpoint in checkpoints:
            checkpoint_send(checkpoint)
    return [str(checkpoint) for checkpoint in checkpoints]


@shared_task(acks_late=True)  # idempotent: a record closed once is skipped the next time
def end_expired_user_sessions() -> int:
    """Every 15 minutes: records of browser sessions past their limits are closed, their sessions deleted."""
    from qgov.identity.sessions import user_sessions_end_expired

    with audit_context(source=AuditSourceChoices.TASK, label="task:end_expired_user_sessions"):
        return user_sessions_end_expired()
