"""Webhook workflows: endpoints (create, rotate the secret, send a test event), the outbox
(one delivery per subscribed endpoint, written in the transaction of the change), redelivery and
disabling. Sending is qgov.integrations.webhooks.delivery."""

import datetime as dt
import json
import time

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from qgov.audit import audit_context
from qgov.choices import AuditSourceChoices
from qgov.integrations.events import WEBHOOK_TEST, change_recorded, emit, event_emitted, event_type_of
from qgov.integrations.webhooks.choices import WebhookDeliveryStatusChoices as Status
from qgov.integrations.webhooks.models import WebhookDelivery, WebhookEndpoint
from qgov.integrations.webhooks.sealing import generate_secret, seal
from qgov.permissions import require, users_who_can
from qgov.roles import Action
from qgov.services import notify, object_create, object_update

# How long the old secret still signs after a rotation, so receivers can switch without a gap.
ROTATION_OVERLAP = dt.timedelta(hours=24)


# --- endpoints ------------------------------------------------------------------------------


def endpoint_create(*, user, data: dict) -> tuple[WebhookEndpoint, str]:
    """The new endpoint and its secret: the only time the secret is shown."""
    secret = generate_secret()
    endpoint = object_create(model=WebhookEndpoint, user=user, data={**data, "secret_sealed": seal(secret)})
    return endpoint, secret


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, user, overlap: dt.timedelta = ROTATION_OVERLAP) -> str:
    """A new secret, shown once; the current one keeps signing beside it for `overlap`."""
    secret = generate_secret()
    object_update(instance=endpoint, user=user, data={
        "secret_sealed": seal(secret),
        "previous_secret_sealed": endpoint.secret_sealed,
        "previous_secret_expires": timezone.now() + overlap,
    })
    return secret


def endpoint_send_test(*, endpoint: WebhookEndpoint, user) -> WebhookDelivery:
    """A `webhook.test` event to this endpoint only, whatever it subscribes to."""
    require(user, endpoint.agency_id, Action.MANAGE_WEBHOOKS)
    if not endpoint.is_active:
        raise ValidationError(_("This endpoint is disabled; enable it before sending a test event."))
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, agency_id=endpoint.agency_id, event_type=WEBHOOK_TEST, next_attempt_at=now,
            payload=event_payload(WEBHOOK_TEST, now, {"endpoint": endpoint.pk, "name": endpoint.name}))
        _send_after_commit([delivery.pk])
    return delivery


def endpoint_disable(*, endpoint_id: int, reason: str) -> bool:
    """Disable an endpoint (its receiver answered 410, or every retry failed), fail what it still had
    pending, and tell its creator and the agency's webhook managers. False if it was disabled already."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id, is_active=True).first()
        if endpoint is None:
            return False
        endpoint.is_active, endpoint.disabled_reason, endpoint.disabled_at = False, reason[:300], timezone.now()
        with audit_context(source=AuditSourceChoices.TASK, label="webhooks"):
            endpoint.save(update_fields=["is_active", "disabled_reason", "disabled_at"])  # audited
        endpoint.deliveries.filter(status=Status.PENDING).update(
            status=Status.FAILED, next_attempt_at=None, last_error=_("The endpoint was disabled."))
        recipients = {user.pk: user for user in users_who_can(endpoint.agency_id, Action.MANAGE_WEBHOOKS)}
        if endpoint.created_by is not None and endpoint.created_by.is_active:
            recipients.setdefault(endpoint.created_by_id, endpoint.created_by)
        notify(users=list(recipients.values()), agency=endpoint.agency,
               title=_("Webhook endpoint “%(name)s” disabled") % {"name": endpoint.name},
               body=_("%(url)s: %(reason)s Fix the receiver, enable the endpoint again and redeliver what "
                      "failed.") % {"url": endpoint.target_url, "reason": reason})
    return True


# --- the outbox -----------------------------------------------------------------------------


def event_payload(event_type: str, timestamp: dt.datetime, data: dict) -> dict:
    return {"type": event_type, "timestamp": timestamp.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "data": data}


def _subscribed_endpoint_ids(agency_id: int, event_type: str) -> list[int]:
    # One indexed query per event; an agency has a handful of endpoints, filtered here because
    # JSON containment is not portable to SQLite.
    endpoints = WebhookEndpoint.objects.filter(agency_id=agency_id, is_active=True).values_list(
        "pk", "all_events", "event_types")
    return [pk for pk, all_events, types in endpoints if all_events or event_type in types]


def _queue(agency_id: int, event_type: str, *, audit_event=None, data=None) -> list[int]:
    endpoint_ids = _subscribed_endpoint_ids(agency_id, event_type)
    if not endpoint_ids:
        return []
    now = timezone.now()
    payload = None
    if data is not None:  # an emitted event: its payload is frozen now
        data = data() if callable(data) else data
        payload = json.loads(json.dumps(event_payload(event_type, now, data), cls=DjangoJSONEncoder))
    deliveries = WebhookDelivery.objects.bulk_create([
        WebhookDelivery(endpoint_id=pk, agency_id=agency_id, audit_event=audit_event, event_type=event_type,
                        next_attempt_at=now, payload=payload)
        for pk in endpoint_ids])
    ids = [delivery.pk for delivery in deliveries if delivery.pk is not None]
    _send_after_commit(ids)
    return ids


def _send_after_commit(ids: list[int]) -> None:
    """Have the sender look soon after these deliveries commit. The beat (webhooks_send_due, every
    few seconds) is what guarantees them; this only saves the wait. With a broker, one message per
    process and second at most (a message per write cost the write path more than the outbox rows);
    without one (eager Celery: development, tests), these deliveries are sent right after commit."""
    from qgov.celery import app
    from qgov.integrations.webhooks.tasks import webhooks_send

    if not ids:
        return
    if app.conf.task_always_eager:
        transaction.on_commit(lambda: webhooks_send.delay(ids))
    else:
        transaction.on_commit(_wake_sender)


_last_wake = 0.0
WAKE_INTERVAL = 1.0  # seconds


def _wake_sender() -> None:
    global _last_wake
    from qgov.integrations.webhooks.tasks import webhooks_send_due

    now = time.monotonic()
    if now - _last_wake < WAKE_INTERVAL:
        return  # a sender woken a moment ago claims these too, or the beat does
    _last_wake = now
    webhooks_send_due.delay()


@receiver(change_recorded, dispatch_uid="qgov.webhooks.outbox")
def queue_change(sender, event, instance, **kwargs):
    """One delivery per subscribed endpoint, in the change's transaction; the payload is built at
    the first attempt (qgov.integrations.webhooks.delivery.build_payload)."""
    if event.agency_id is None or not getattr(sender, "emits_webhooks", True):
        return
    _queue(event.agency_id, event_type_of(event), audit_event=event)


@receiver(event_emitted, dispatch_uid="qgov.webhooks.outbox-emitted")
def queue_emitted(sender, agency_id, event_type, data, **kwargs):
    _queue(agency_id, event_type, data=data)


# --- redelivery -----------------------------------------------------------------------------


def _requeue(deliveries) -> int:
    return deliveries.update(status=Status.PENDING, attempts=0, next_attempt_at=timezone.now(), delivered_at=None)


def delivery_redeliver(*, delivery: WebhookDelivery, user) -> WebhookDelivery:
    """Send one delivery again: the same webhook-id and body, the retry schedule started afresh."""
    require(user, delivery.agency_id, Action.MANAGE_WEBHOOKS)
    if not delivery.endpoint.is_active:
        raise ValidationError(_("This endpoint is disabled; enable it before redelivering."))
    if delivery.status == Status.PENDING:
        raise ValidationError(_("This delivery is still pending; it is sent when due."))
    with transaction.atomic():
        _requeue(WebhookDelivery.objects.filter(pk=delivery.pk))
        _send_after_commit([delivery.pk])
    delivery.refresh_from_db()
    return delivery


def deliveries_redeliver_failed(*, endpoint: WebhookEndpoint, since: dt.datetime, user) -> int:
    """Send again every failed delivery of `endpoint` created at or after `since`; how many."""
    require(user, endpoint.agency_id, Action.MANAGE_WEBHOOKS)
    if not endpoint.is_active:
        raise ValidationError(_("This endpoint is disabled; enable it before redelivering."))
    with transaction.atomic():
        failed = endpoint.deliveries.filter(status=Status.FAILED, created__gte=since)
        ids = list(failed.values_list("pk", flat=True))
        count = _requeue(WebhookDelivery.objects.filter(pk__in=ids))
        _send_after_commit(ids)
    return count


__all__ = ["emit", "endpoint_create", "endpoint_rotate_secret", "endpoint_send_test", "endpoint_disable",
           "delivery_redeliver", "deliveries_redeliver_failed", "event_payload"]
