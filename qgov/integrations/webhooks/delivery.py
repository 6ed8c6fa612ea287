"""Sending the outbox: claim what is due (short transactions, `FOR UPDATE SKIP LOCKED` where the
database has it), build the payload once, sign it (Standard Webhooks v1), POST it to the checked
address, log the attempt and schedule the next one.

A claim moves `next_attempt_at` forward by a lease instead of holding a lock through the HTTP call,
so a worker killed mid-send loses nothing: its claim lapses and the beat sends the delivery again
(receivers dedupe on `webhook-id`, which every attempt repeats)."""

import datetime as dt
import email.utils
import json
import random
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import certifi
import urllib3
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from standardwebhooks.webhooks import Webhook

from qgov.integrations.events import model_event_prefix
from qgov.integrations.representation import represent
from qgov.integrations.webhooks.choices import WebhookDeliveryStatusChoices as Status
from qgov.integrations.webhooks.models import WebhookAttempt, WebhookDelivery
from qgov.integrations.webhooks.sealing import unseal
from qgov.integrations.webhooks.ssrf import TargetRefused, check_url

TIMEOUT_SECONDS = 15
# The waits before each retry after a failed attempt (the first attempt is immediate): ten
# attempts over about three days, then the endpoint is disabled.
RETRY_DELAYS = tuple(dt.timedelta(seconds=s) for s in (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400))
JITTER = 0.1  # ± 10 %, so the retries of one outage do not arrive together
MAX_RETRY_AFTER = dt.timedelta(hours=24)
EXCERPT_BYTES = 1024
CLAIM_BATCH = 5
# Long enough for a whole batch to time out; a killed worker's claims are due again after it.
LEASE = CLAIM_BATCH * dt.timedelta(seconds=TIMEOUT_SECONDS + 5)
USER_AGENT = "qgov-webhooks/1"


def claim_due(*, ids=None, limit: int = CLAIM_BATCH, now: dt.datetime | None = None) -> list[int]:
    """The ids of up to `limit` due deliveries (of `ids`, if given), leased to the caller."""
    now = now or timezone.now()
    with transaction.atomic():
        due = WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        if ids is not None:
            due = due.filter(pk__in=ids)
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)  # concurrent senders take different rows
        claimed = list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
        if claimed:
            WebhookDelivery.objects.filter(pk__in=claimed).update(next_attempt_at=now + LEASE)
    return claimed


def send_due(*, ids=None, budget_seconds: float = 50.0, threads: int = 1) -> int:
    """Send what is due (of `ids`, if given) until none is left or the time budget is spent. With
    `threads` > 1 (where claims skip each other's rows), that many senders work side by side, so
    one slow receiver does not hold up the others."""
    if threads > 1 and connection.features.has_select_for_update_skip_locked:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhooks") as pool:
            return sum(pool.map(lambda _: _send_loop(ids, budget_seconds, close=True), range(threads)))
    return _send_loop(ids, budget_seconds)


def _send_loop(ids, budget_seconds: float, close: bool = False) -> int:
    started, sent = time.monotonic(), 0
    try:
        while time.monotonic() - started < budget_seconds:
            claimed = claim_due(ids=ids)
            if not claimed:
                break
            for pk in claimed:
                send_one(pk)
                sent += 1
    finally:
        if close:  # a pool thread's own connection
            connection.close()
    return sent


# --- the payload ----------------------------------------------------------------------------


def _json_ready(value):
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def build_payload(delivery: WebhookDelivery) -> dict:
    """`{type, timestamp, data}` of a record event. `data.record` is the record as the API serialises
    it when first sent (its latest state: a receiver wants the record, not a diff); a record gone
    by then is the audit trail's last snapshot with `"deleted": true`."""
    from qgov.integrations.webhooks.services import event_payload

    event = delivery.audit_event
    model = event.content_type.model_class()
    instance = record = None
    if model is not None and event.action != "delete":
        instance = model._default_manager.filter(pk=event.object_id).first()
    if instance is not None:
        record = represent(instance)
        if record is None:  # a model the API does not serve
            record = dict(event.after or {})
    else:
        record = {**(event.before or event.after or {}), "deleted": True}
    data = {
        "object_type": model_event_prefix(model) if model is not None else event.content_type.model,
        "object_id": event.object_id,
        "event_id": event.pk,
        "action": event.action,
        "changed_fields": event.changed_fields,
        "record": record,
    }
    if event.detail:
        data["detail"] = event.detail  # a transition's name and reason
    return event_payload(delivery.event_type, event.timestamp, _json_ready(data))


def body_of(payload: dict) -> str:
    # Sorted keys: the body read back from the database (jsonb reorders keys) is the same text.
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def signature_header(endpoint, webhook_id: str, timestamp: dt.datetime, body: str) -> str:
    """`v1,<base64>` with the current secret, and with the previous one while a rotation lasts."""
    secrets = [unseal(endpoint.secret_sealed)]
    if endpoint.previous_secret_sealed and endpoint.previous_secret_expires and (
            endpoint.previous_secret_expires > timestamp):
        secrets.append(unseal(endpoint.previous_secret_sealed))
    return " ".join(Webhook(secret).sign(webhook_id, timestamp, body) for secret in secrets)


# --- HTTP -----------------------------------------------------------------------------------


class Answer:
    def __init__(self, status_code=None, headers=None, excerpt="", error=""):
        self.status_code, self.headers, self.excerpt, self.error = status_code, headers or {}, excerpt, error


def post(url: str, address: str, body: bytes, headers: dict) -> Answer:
    """POST `body` to `url` over a connection to `address` (the checked one: no second DNS lookup),
    with TLS verified against the URL's host name. No redirects followed, no retries."""
    parts = urlsplit(url)
    host = parts.hostname
    default_port = 443 if parts.scheme == "https" else 80
    port = parts.port or default_port
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = f"[{host}]" if ":" in host else host
    if port != default_port:
        host_header = f"{host_header}:{port}"
    timeout = urllib3.Timeout(total=TIMEOUT_SECONDS)
    if parts.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address, port, timeout=timeout, retries=False, server_hostname=host, assert_hostname=host,
            ssl_context=ssl.create_default_context(cafile=certifi.where()))
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
    try:
        response = pool.urlopen("POST", path, body=body, headers={**headers, "Host": host_header},
                                redirect=False, retries=False, preload_content=False, assert_same_host=False)
        try:
            excerpt = response.read(EXCERPT_BYTES, decode_content=False)
        finally:
            response.release_conn()
        return Answer(response.status, dict(response.headers), excerpt.decode("utf-8", "replace"))
    except urllib3.exceptions.TimeoutError:
        return Answer(error=_("No answer within %(seconds)s seconds.") % {"seconds": TIMEOUT_SECONDS})
    except urllib3.exceptions.HTTPError as error:
        return Answer(error=str(error)[:500])
    finally:
        pool.close()


def retry_after(answer: Answer, now: dt.datetime) -> dt.timedelta | None:
    value = answer.headers.get("Retry-After") or answer.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        wait = dt.timedelta(seconds=int(value))
    else:
        try:
            wait = email.utils.parsedate_to_datetime(value) - now
        except (TypeError, ValueError):
            return None
    return min(max(wait, dt.timedelta(seconds=1)), MAX_RETRY_AFTER)


# --- one attempt ----------------------------------------------------------------------------


def send_one(delivery_id: int) -> WebhookAttempt | None:
    """One attempt of a claimed delivery, logged; what happens next decided by its outcome."""
    from qgov.integrations.webhooks.services import endpoint_disable

    delivery = (WebhookDelivery.objects.select_related("endpoint", "audit_event__content_type")
                .filter(pk=delivery_id, status=Status.PENDING).first())
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=Status.FAILED, next_attempt_at=None,
                                                              last_error=_("The endpoint was disabled."))
        return None
    if delivery.payload is None:
        # Frozen at the first attempt: every retry sends the same body.
        delivery.payload = build_payload(delivery)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(payload=delivery.payload)
    body = body_of(delivery.payload)
    now = timezone.now()
    headers = {
        "webhook-id": delivery.webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature_header(endpoint, delivery.webhook_id, now, body),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    started = time.monotonic()
    try:
        address = check_url(endpoint.target_url)  # resolved again: the DNS may have changed since it was saved
    except TargetRefused as refused:
        answer = Answer(error=str(refused)[:500])
    else:
        answer = post(endpoint.target_url, address, body.encode(), headers)
    latency_ms = int((time.monotonic() - started) * 1000)
    return _record(delivery, answer, now, latency_ms, endpoint_disable)


def _next_attempt(delivery, answer: Answer, now: dt.datetime) -> dt.datetime | None:
    """When to try again after a failed attempt, or None when the retries are spent."""
    if delivery.attempts > len(RETRY_DELAYS):
        return None
    if answer.status_code in (429, 503):
        wait = retry_after(answer, now)
        if wait is not None:
            return now + wait
    delay = RETRY_DELAYS[delivery.attempts - 1]
    return now + delay * random.uniform(1 - JITTER, 1 + JITTER)


def _record(delivery, answer: Answer, now, latency_ms: int, endpoint_disable) -> WebhookAttempt:
    code = answer.status_code
    succeeded = code is not None and 200 <= code < 300
    error = answer.error
    if code is not None and 300 <= code < 400:
        error = _("A redirect (to %(location)s) is not followed; point the endpoint at the final URL.") % {
            "location": answer.headers.get("Location", "?")}
    elif code is not None and not succeeded:
        error = _("Answered %(code)s.") % {"code": code}
    delivery.attempts += 1
    disable_reason = None
    with transaction.atomic():
        attempt = WebhookAttempt.objects.create(delivery=delivery, attempted_at=now, status_code=code,
                                                latency_ms=latency_ms, response_excerpt=answer.excerpt,
                                                error=error[:500])
        delivery.last_status_code, delivery.last_error = code, error[:500]
        if succeeded:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = Status.SUCCEEDED, now, None
        elif code == 410:
            delivery.status, delivery.next_attempt_at = Status.FAILED, None
            disable_reason = _("The receiver answered 410 Gone.")
        else:
            delivery.next_attempt_at = _next_attempt(delivery, answer, now)
            if delivery.next_attempt_at is None:
                delivery.status = Status.FAILED
                disable_reason = _("Every attempt of a delivery failed over %(count)s tries (last: %(error)s).") % {
                    "count": delivery.attempts, "error": error or code}
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=delivery.status, attempts=delivery.attempts, next_attempt_at=delivery.next_attempt_at,
            last_status_code=code, last_error=delivery.last_error, delivered_at=delivery.delivered_at)
        if disable_reason:
            endpoint_disable(endpoint_id=delivery.endpoint_id, reason=disable_reason)
    return attempt
