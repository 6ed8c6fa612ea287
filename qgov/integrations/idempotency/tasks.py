from celery import shared_task

from qgov.integrations.idempotency.services import idempotency_keys_purge


@shared_task(acks_late=True)  # idempotent: deletes what has expired, whenever it runs
def idempotency_keys_purge_expired() -> int:
    return idempotency_keys_purge()
