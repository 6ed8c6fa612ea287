"""The import task: thin, like every task; it loads the run and calls the service."""

from celery import shared_task

from qgov.audit import audit_context
from qgov.choices import AuditSourceChoices


# Idempotent, so acks_late (and delivered again if its worker process dies): a finished run is not
# run again, and a run whose worker died was rolled back and starts over. The limits leave room for
# QGOV_IMPORT_MAX_ROWS rows, below Redis's one-hour visibility timeout (after which an
# unacknowledged task is delivered again).
@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=1740, time_limit=1800)
def import_run_execute(run_id: int) -> str:
    from qgov.imports.documents import run_request_id
    from qgov.imports.services import import_run_execute as execute
    from qgov.models import ImportRun

    run = ImportRun.objects.select_related("requested_by").filter(pk=run_id).first()
    if run is None:
        return "missing"
    # The records are written in the requester's name, so the audit trail names them.
    with audit_context(source=AuditSourceChoices.TASK, actor=run.requested_by, label="task:import_run_execute",
                       request_id=run_request_id(run_id)):
        return execute(run_id=run_id).status
