"""Webhooks through a real worker (PostgreSQL or SQLite, Redis, a `celery worker` process) to a real
receiver on 127.0.0.1: a change made over the API is delivered by the worker when it commits; a
receiver that fails twice gets the retries (the beat task sends what is due) with one webhook-id; one
that answers 410 is disabled; and deliveries whose messages were lost (worker down, Redis emptied) are
sent by the beat task once a worker is back."""

import time

import pytest
import redis
from django.utils import timezone
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook

from qgov.choices import RoleChoices
from qgov.integrations.webhooks.models import WebhookDelivery, WebhookEndpoint
from qgov.integrations.webhooks.tasks import webhooks_send_due
from risks.services import risk_matrix_ensure
from tests.factories import AgencyFactory, MembershipFactory, UserFactory
from tests.integration.test_celery_worker import TASK_TIMEOUT, broker_url, worker  # noqa: F401
from tests.integrations.factories import make_endpoint
from tests.integrations.receiver import Receiver, Reply

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def loopback_allowed(settings, monkeypatch):
    """Asked for before the worker: its environment allows the loopback receiver too."""
    monkeypatch.setenv("QGOV_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")
    settings.QGOV_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.fixture
def admin_client():
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    risk_matrix_ensure(agency)
    admin = UserFactory(username="ada")
    MembershipFactory(agency=agency, user=admin, role=RoleChoices.ADMIN)
    client = APIClient()
    client.force_authenticate(admin)
    client.agency = agency
    return client


def create_risk(client, title="Harvest now, decrypt later"):
    response = client.post("/api/risks/", {"agency": client.agency.pk, "title": title, "inherent_likelihood": 3,
                                           "inherent_impact": 4}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def beat():
    """What the beat does every few seconds, after time has passed until the next retry."""
    WebhookDelivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())
    webhooks_send_due.delay()


def wait_for(condition, *, worker, timeout=TASK_TIMEOUT):  # noqa: F811
    """Wait, with the beat's message every 5 s (no beat process runs here): a send woken on commit
    that another woke a moment before is left to the beat."""
    deadline, last_beat = time.monotonic() + timeout, time.monotonic()
    while time.monotonic() < deadline:
        if condition():
            return
        if time.monotonic() - last_beat > 5:
            webhooks_send_due.delay()
            last_beat = time.monotonic()
        time.sleep(0.2)
    raise AssertionError(f"gave up after {timeout} s; worker log:\n{worker.log()}")


def test_the_worker_retries_a_failing_receiver_with_one_webhook_id_until_it_succeeds(
        loopback_allowed, admin_client, worker):  # noqa: F811
    with Receiver([Reply(500), Reply(503)]) as receiver:
        endpoint = make_endpoint(admin_client.agency, target_url=receiver.url, event_types=["risks.risk.created"])

        risk = create_risk(admin_client)  # the worker sends it when the change commits

        def attempts(n):
            return lambda: WebhookDelivery.objects.filter(attempts=n).exists()

        wait_for(attempts(1), worker=worker)
        beat()
        wait_for(attempts(2), worker=worker)
        beat()
        wait_for(lambda: WebhookDelivery.objects.filter(status="succeeded").exists(), worker=worker)

    delivery = WebhookDelivery.objects.get()
    assert (delivery.attempts, list(delivery.attempt_log.values_list("status_code", flat=True))) == (
        3, [500, 503, 200])
    assert [r.headers["webhook-id"] for r in receiver.received] == [delivery.webhook_id] * 3
    payload = Webhook(endpoint.plain_secret).verify(receiver.received[-1].body, receiver.received[-1].headers)
    assert (payload["type"], payload["data"]["record"]["id"], payload["data"]["record"]["title"]) == (
        "risks.risk.created", risk["id"], "Harvest now, decrypt later")


def test_the_worker_disables_an_endpoint_that_answers_410(loopback_allowed, admin_client, worker):  # noqa: F811
    with Receiver([Reply(410)]) as receiver:
        endpoint = make_endpoint(admin_client.agency, target_url=receiver.url)
        create_risk(admin_client)
        wait_for(lambda: not WebhookEndpoint.objects.get(pk=endpoint.pk).is_active, worker=worker)

    endpoint.refresh_from_db()
    assert (endpoint.disabled_reason, len(receiver.received)) == ("The receiver answered 410 Gone.", 1)
    assert list(WebhookDelivery.objects.values_list("status", "last_status_code")) == [("failed", 410)]


def test_deliveries_whose_messages_were_lost_are_sent_by_the_beat(loopback_allowed, admin_client, worker):  # noqa: F811
    with Receiver() as receiver:
        make_endpoint(admin_client.agency, target_url=receiver.url, event_types=["risks.risk.created"])
        worker.kill()
        for n in range(3):
            create_risk(admin_client, title=f"Risk {n}")
        # Redis restarted empty: the queued sends are gone; the outbox rows are not.
        client = redis.Redis.from_url(broker_url())
        client.delete(worker.queue)
        worker.start_again()
        time.sleep(1)
        assert receiver.received == []

        webhooks_send_due.delay()  # the next beat
        wait_for(lambda: WebhookDelivery.objects.filter(status="succeeded").count() == 3, worker=worker)

    assert sorted(r.headers["webhook-id"] for r in receiver.received) == sorted(
        WebhookDelivery.objects.values_list("webhook_id", flat=True))
