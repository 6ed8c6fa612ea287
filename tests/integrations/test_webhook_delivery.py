"""The sender against a real receiver on 127.0.0.1: signed (Standard Webhooks), retried on the
schedule with the same webhook-id, 410 disables, Retry-After honoured, redirects and timeouts fail,
the last retry disables and notifies, a claim lapses when its worker dies."""

import datetime as dt
import json

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from qgov.choices import RoleChoices
from qgov.integrations.events import REPORT_READY, emit
from qgov.integrations.representation import represent
from qgov.integrations.webhooks import delivery as sender
from qgov.integrations.webhooks import services
from qgov.integrations.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from qgov.models import AuditEvent, Notification
from qgov.services import object_create, object_delete
from risks.models import Risk
from risks.services import risk_matrix_ensure
from tests.integrations.factories import make_endpoint
from tests.integrations.receiver import Receiver, Reply

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_allowed")]


@pytest.fixture
def admin(agency, member_of):
    risk_matrix_ensure(agency)
    return member_of(agency, RoleChoices.ADMIN, username="ada", email="ada@dqn.test")


def create_risk(agency, user):
    return object_create(model=Risk, user=user, data={"agency": agency, "title": "Harvest now, decrypt later",
                                                      "inherent_likelihood": 3, "inherent_impact": 4})


def due_again(delivery):
    """Time passes until the delivery's next attempt (the tests do not wait hours)."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def verify(received, secret):
    return Webhook(secret).verify(received.body, received.headers)


def test_a_change_is_delivered_signed_with_the_record_as_the_api_serialises_it(agency, admin):
    with Receiver() as receiver:
        endpoint = make_endpoint(agency, target_url=receiver.url, event_types=["risks.risk.created"])
        risk = create_risk(agency, admin)

        assert sender.send_due() == 1

    [received] = receiver.received
    delivery = WebhookDelivery.objects.get()
    event = AuditEvent.objects.for_object(risk).get()
    payload = verify(received, endpoint.plain_secret)
    assert payload == {
        "type": "risks.risk.created",
        "timestamp": event.timestamp.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "data": {"object_type": "risks.risk", "object_id": str(risk.pk), "event_id": event.pk, "action": "create",
                 "changed_fields": event.changed_fields, "record": json.loads(json.dumps(represent(risk)))},
    }
    assert received.path == "/hooks/qgov"
    assert received.headers["webhook-id"] == delivery.webhook_id
    assert received.headers["Content-Type"] == "application/json"
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.payload) == (
        "succeeded", 1, 200, payload)
    attempt = WebhookAttempt.objects.get()
    assert (attempt.delivery_id, attempt.status_code, attempt.response_excerpt, attempt.error) == (
        delivery.pk, 200, "ok", "")
    with pytest.raises(WebhookVerificationError):  # another endpoint's secret does not verify it
        verify(received, make_endpoint(agency, name="Other").plain_secret)


def test_a_deleted_record_is_sent_as_a_tombstone_of_its_last_state(agency, admin):
    risk = create_risk(agency, admin)
    with Receiver() as receiver:
        endpoint = make_endpoint(agency, target_url=receiver.url, event_types=["risks.risk.deleted"])
        object_delete(instance=risk, user=admin)
        sender.send_due()

    data = verify(receiver.received[0], endpoint.plain_secret)["data"]
    before = AuditEvent.objects.get(action="delete").before
    assert (data["action"], data["record"]) == ("delete", {**json.loads(json.dumps(before)), "deleted": True})
    assert data["record"]["title"] == "Harvest now, decrypt later"


def test_a_receiver_failing_twice_then_succeeding_gets_three_attempts_with_one_webhook_id(agency, admin):
    with Receiver([Reply(500, body=b"boom"), Reply(502)]) as receiver:
        make_endpoint(agency, target_url=receiver.url)
        with transaction.atomic():
            emit(agency_id=agency.pk, event_type=REPORT_READY, data={"report": 1})
        delivery = WebhookDelivery.objects.get()

        before = timezone.now()
        sender.send_due()
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
        # The first retry about 5 s later (± 10 % jitter); nothing is sent before it is due.
        wait = delivery.next_attempt_at - before
        assert dt.timedelta(seconds=4.5) <= wait <= dt.timedelta(seconds=5.5) + (timezone.now() - before)
        assert sender.send_due() == 0

        due_again(delivery)
        sender.send_due()
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 2, 502)
        assert dt.timedelta(minutes=4.5) <= delivery.next_attempt_at - timezone.now() <= dt.timedelta(minutes=5.5)

        due_again(delivery)
        sender.send_due()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.next_attempt_at) == (
        "succeeded", 3, 200, None)
    assert [r.headers["webhook-id"] for r in receiver.received] == [delivery.webhook_id] * 3
    assert len({r.body for r in receiver.received}) == 1  # the same body every time
    assert list(delivery.attempt_log.values_list("status_code", "response_excerpt", "error")) == [
        (500, "boom", "Answered 500."), (502, "ok", "Answered 502."), (200, "ok", "")]


def test_a_receiver_answering_410_disables_the_endpoint_and_fails_what_it_had_pending(agency, admin, member_of):
    editor = member_of(agency, RoleChoices.EDITOR)
    with Receiver([Reply(410)]) as receiver:
        endpoint = make_endpoint(agency, target_url=receiver.url, created_by=editor)
        with transaction.atomic():
            emit(agency_id=agency.pk, event_type=REPORT_READY, data={"report": 1})
            emit(agency_id=agency.pk, event_type=REPORT_READY, data={"report": 2})
        first = WebhookDelivery.objects.order_by("pk").first()

        sender.claim_due(ids=[first.pk])
        sender.send_one(first.pk)
        assert sender.send_due() == 0  # the second is not sent to a disabled endpoint

    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason) == (False, "The receiver answered 410 Gone.")
    assert endpoint.disabled_at is not None
    assert list(WebhookDelivery.objects.order_by("pk").values_list("status", "attempts", "last_status_code")) == [
        ("failed", 1, 410), ("failed", 0, None)]
    assert len(receiver.received) == 1
    # Its creator and the agency's admins are told; the change is in the audit trail.
    assert sorted(Notification.objects.values_list("user__username", "title")) == sorted([
        ("ada", "Webhook endpoint “Receiver” disabled"), (editor.username, "Webhook endpoint “Receiver” disabled")])
    disabled = AuditEvent.objects.for_object(endpoint).filter(action="update").get()
    assert disabled.changed_fields == ["disabled_at", "disabled_reason", "is_active", "version"]


def test_429_and_503_come_back_when_retry_after_says(agency, admin):
    with Receiver([Reply(429, {"Retry-After": "120"}), Reply(503, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})]
                  ) as receiver:
        make_endpoint(agency, target_url=receiver.url)
        with transaction.atomic():
            emit(agency_id=agency.pk, event_type=REPORT_READY, data={})
        delivery = WebhookDelivery.objects.get()

        sender.send_due()
        delivery.refresh_from_db()
        attempted = delivery.attempt_log.get().attempted_at
        assert delivery.next_attempt_at - attempted == dt.timedelta(seconds=120)

        due_again(delivery)
        sender.send_due()  # a date in the past: retried after a second, not never
        delivery.refresh_from_db()
        last = delivery.attempt_log.last().attempted_at
        assert (delivery.last_status_code, delivery.next_attempt_at - last) == (503, dt.timedelta(seconds=1))


def test_a_redirect_is_a_failure_and_is_not_followed(agency, admin):
    with Receiver() as elsewhere, Receiver([Reply(302, {"Location": elsewhere.url})]) as receiver:
        make_endpoint(agency, target_url=receiver.url)
        with transaction.atomic():
            emit(agency_id=agency.pk, event_type=REPORT_READY, data={})
        sender.send_due()

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code, len(elsewhere.received)) == ("pending", 302, 0)
    assert delivery.last_error == (f"A redirect (to {elsewhere.url}) is not followed; point the endpoint at "
                                   "the final URL.")


def test_a_receiver_that_does_not_answer_in_time_is_a_failure(agency, admin, monkeypatch):
    monkeypatch.setattr(sender, "TIMEOUT_SECONDS", 0.5)  # 15 s in production
    with Receiver([Reply(200, delay=2)]) as receiver:
        make_endpoint(agency, target_url=receiver.url)
        with transaction.atomic():
            emit(agency_id=agency.pk, event_type=REPORT_READY, data={})
        sender.send_due()

    attempt = WebhookAttempt.objects.get()
    assert (attempt.status_code, attempt.error, attempt.delivery.status) == (
        None, "No answer within 0.5 seconds.", "pending")
    assert 500 <= attempt.latency_ms < 2000


def test_after_the_last_retry_the_endpoint_is_disabled_and_its_owner_notified(agency, admin):
    with Receiver(default=Reply(500)) as receiver:
        endpoint = make_endpoint(agency, target_url=receiver.url)
        with transaction.atomic():
            emit(agency_id=agency.pk, event_type=REPORT_READY, data={})
        delivery = WebhookDelivery.objects.get()
        waits = []
        for _ in range(len(sender.RETRY_DELAYS) + 1):
            before = timezone.now()
            sender.send_due()
            delivery.refresh_from_db()
            if delivery.next_attempt_at:
                waits.append(round((delivery.next_attempt_at - before).total_seconds() / 60, 1))
            due_again(delivery) if delivery.status == "pending" else None

    # ~5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, each within ± 10 %.
    for wait, expected in zip(waits, [d.total_seconds() / 60 for d in sender.RETRY_DELAYS], strict=True):
        assert expected * 0.89 <= wait <= expected * 1.11 + 0.1
    endpoint.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(receiver.received), endpoint.is_active) == ("failed", 10, 10, False)
    assert endpoint.disabled_reason == "Every attempt of a delivery failed over 10 tries (last: Answered 500.)."
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["ada"]


def test_during_a_rotation_both_secrets_sign_and_after_it_only_the_new_one(agency, admin):
    with Receiver() as receiver:
        endpoint = make_endpoint(agency, target_url=receiver.url)
        old = endpoint.plain_secret
        new = services.endpoint_rotate_secret(endpoint=endpoint, user=admin)
        with transaction.atomic():
            emit(agency_id=agency.pk, event_type=REPORT_READY, data={"n": 1})
        sender.send_due()
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret_expires=timezone.now())
        with transaction.atomic():
            emit(agency_id=agency.pk, event_type=REPORT_READY, data={"n": 2})
        sender.send_due()

    during, after = receiver.received
    assert (new.startswith("whsec_"), new != old) == (True, True)
    assert verify(during, old)["data"] == verify(during, new)["data"] == {"n": 1}
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert verify(after, new)["data"] == {"n": 2}
    with pytest.raises(WebhookVerificationError):
        verify(after, old)


def test_redelivery_sends_the_same_message_again(agency, admin):
    with Receiver([Reply(410)]) as receiver:
        endpoint = make_endpoint(agency, target_url=receiver.url)
        with transaction.atomic():
            emit(agency_id=agency.pk, event_type=REPORT_READY, data={"n": 1})
        sender.send_due()
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=True)  # the admin fixed the receiver
        delivery = WebhookDelivery.objects.get()

        services.delivery_redeliver(delivery=delivery, user=admin)
        sender.send_due()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 1)
    assert [r.headers["webhook-id"] for r in receiver.received] == [delivery.webhook_id] * 2
    assert delivery.attempt_log.count() == 2


def test_a_claim_of_a_worker_that_died_lapses_and_the_delivery_is_sent_again(agency, admin):
    with Receiver() as receiver:
        make_endpoint(agency, target_url=receiver.url)
        with transaction.atomic():
            emit(agency_id=agency.pk, event_type=REPORT_READY, data={})
        delivery = WebhookDelivery.objects.get()

        claimed_at = timezone.now()
        assert sender.claim_due() == [delivery.pk]  # ... and the worker is killed before it sends
        assert sender.send_due() == 0  # leased: no other sender takes it meanwhile
        assert sender.claim_due(now=claimed_at + sender.LEASE + dt.timedelta(seconds=1)) == [delivery.pk]
        due_again(delivery)
        assert sender.send_due() == 1

    assert len(receiver.received) == 1
