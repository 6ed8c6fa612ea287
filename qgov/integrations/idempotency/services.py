from django.utils import timezone

from qgov.integrations.idempotency.models import IdempotencyKey


def idempotency_keys_purge(*, now=None) -> int:
    """Deletes the keys past their retention (QGOV_IDEMPOTENCY_KEY_HOURS); returns how many."""
    deleted, _by_model = IdempotencyKey.objects.filter(expires__lte=now or timezone.now()).delete()
    return deleted
