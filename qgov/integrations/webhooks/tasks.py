"""Webhook tasks: thin; the sender is qgov.integrations.webhooks.delivery. No countdowns: a retry is
a row with `next_attempt_at`, which the beat picks up (a long countdown past the Redis visibility
timeout would run twice)."""

from celery import shared_task


# Idempotent: a delivery is claimed (leased) before it is sent, so a redelivered message finds
# nothing to do; the time limit stays under the lease of a claim.
@shared_task(acks_late=True, soft_time_limit=110, time_limit=120)
def webhooks_send_due() -> int:
    from django.conf import settings

    from qgov.integrations.webhooks.delivery import send_due

    return send_due(budget_seconds=50, threads=settings.QGOV_WEBHOOK_SENDER_THREADS)


@shared_task(acks_late=True, soft_time_limit=110, time_limit=120)
def webhooks_send(ids: list[int]) -> int:
    """Send these new deliveries now (queued when they commit); what this misses, the beat sends."""
    from qgov.integrations.webhooks.delivery import send_due

    return send_due(ids=ids, budget_seconds=50)
