"""Report tasks: thin, like every task; they load the run by id and call the service."""

from celery import shared_task

from qgov.audit import audit_context
from qgov.choices import AuditSourceChoices


# Idempotent (a finished run is not built again; one held by another worker is left to it), so
# acks_late, and delivered again if its worker process dies. The limits leave room for a national
# register and stay below Redis's one-hour visibility timeout.
@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=1740, time_limit=1800)
def report_run_execute(run_id: int) -> str:
    from qgov.reports.services import report_run_execute as execute

    run = execute(run_id=run_id)
    return run.status if run else "missing"


@shared_task(acks_late=True)  # idempotent: a run held by a worker is never queued again
def report_runs_requeue() -> list[int]:
    from qgov.reports.services import report_runs_requeue as requeue

    with audit_context(source=AuditSourceChoices.TASK, label="task:report_runs_requeue"):
        return requeue()


@shared_task(acks_late=True)  # idempotent: the schedule moves on in the transaction that queues its run
def report_schedules_run_due() -> list[int]:
    from qgov.reports.services import report_schedules_run_due as run_due

    with audit_context(source=AuditSourceChoices.TASK, label="task:report_schedules_run_due"):
        return [run.pk for run in run_due()]
