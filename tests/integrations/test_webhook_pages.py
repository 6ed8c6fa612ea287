"""The webhook pages: agency admins only; the secret shown once after a create or a rotation; the
delivery log with attempts and payload; test event and redelivery from the buttons."""

import datetime as dt

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from qgov.choices import RoleChoices
from qgov.integrations.webhooks.choices import WebhookDeliveryStatusChoices as Status
from qgov.integrations.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from qgov.integrations.webhooks.sealing import unseal
from qgov.models import AuditEvent
from tests.integrations.factories import make_endpoint
from tests.integrations.receiver import Receiver, Reply

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_allowed")]


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def test_an_admin_creates_an_endpoint_and_sees_its_secret_once(agency, admin, admin_client):
    response = admin_client.post("/agency/webhooks/add/", {
        "name": "SIEM", "target_url": "http://127.0.0.1:9/hook", "description": "",
        "event_types": ["risks.risk.created", "report.ready"]})

    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    secret = unseal(endpoint.secret_sealed)
    assert secret.startswith("whsec_") and secret in response.content.decode()
    assert (endpoint.agency, endpoint.created_by, endpoint.event_types, endpoint.is_active) == (
        agency, admin, ["report.ready", "risks.risk.created"], True)
    page = admin_client.get(f"/agency/webhooks/{endpoint.pk}/").content.decode()
    assert "SIEM" in page and "risks.risk.created" in page and secret not in page
    assert AuditEvent.objects.for_object(endpoint).get().action == "create"


def test_a_refused_address_shows_the_form_again_and_saves_nothing(admin_client, settings):
    settings.QGOV_WEBHOOK_ALLOWED_HOSTS = []

    response = admin_client.post("/agency/webhooks/add/", {
        "name": "Metadata", "target_url": "https://169.254.169.254/latest", "all_events": "on"})

    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["target_url"] and "169.254.169.254" in form.errors["target_url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_no_event_type_and_not_all_events_is_a_form_error(admin_client):
    response = admin_client.post("/agency/webhooks/add/", {"name": "x", "target_url": "http://127.0.0.1:9/h"})

    assert response.context["form"].errors == {"event_types": ["Choose at least one event type, or all events."]}
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("role", [RoleChoices.VIEWER, RoleChoices.EDITOR, RoleChoices.AUDITOR])
def test_only_admins_reach_the_pages(agency, member_of, client, role):
    endpoint = make_endpoint(agency, target_url="http://127.0.0.1:9/h")
    client.force_login(member_of(agency, role))

    answers = [client.get("/agency/webhooks/").status_code, client.get("/agency/webhooks/add/").status_code,
               client.get(f"/agency/webhooks/{endpoint.pk}/").status_code,
               client.post(f"/agency/webhooks/{endpoint.pk}/rotate-secret/").status_code,
               client.post(f"/agency/webhooks/{endpoint.pk}/test/").status_code]

    assert answers == [403, 403, 404, 404, 404]
    assert not WebhookDelivery.objects.filter(event_type="webhook.test").exists()
    assert WebhookEndpoint.objects.get().secret_sealed == endpoint.secret_sealed


def test_another_agencys_endpoint_is_not_found(other_agency, admin_client):
    endpoint = make_endpoint(other_agency, target_url="http://127.0.0.1:9/h")

    assert admin_client.get(f"/agency/webhooks/{endpoint.pk}/").status_code == 404
    assert admin_client.post(f"/agency/webhooks/{endpoint.pk}/test/").status_code == 404
    assert admin_client.get("/agency/webhooks/").context["table"].rows.data.data.count() == 0


def test_rotation_shows_the_new_secret_once_and_keeps_the_old_one_signing(agency, admin, admin_client):
    endpoint = make_endpoint(agency, target_url="http://127.0.0.1:9/h", created_by=admin)

    response = admin_client.post(f"/agency/webhooks/{endpoint.pk}/rotate-secret/")

    endpoint.refresh_from_db()
    new_secret = unseal(endpoint.secret_sealed)
    assert new_secret != endpoint.plain_secret and new_secret in response.content.decode()
    assert unseal(endpoint.previous_secret_sealed) == endpoint.plain_secret
    assert endpoint.previous_secret_expires > timezone.now() + dt.timedelta(hours=23)
    assert new_secret not in admin_client.get(f"/agency/webhooks/{endpoint.pk}/").content.decode()


def test_the_test_button_sends_a_signed_test_event(agency, admin, admin_client, django_capture_on_commit_callbacks):
    with Receiver() as receiver:
        endpoint = make_endpoint(agency, target_url=receiver.url, created_by=admin)
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(f"/agency/webhooks/{endpoint.pk}/test/", follow=True)

    delivery = WebhookDelivery.objects.get()
    assert (delivery.event_type, delivery.status, delivery.last_status_code) == ("webhook.test", Status.SUCCEEDED, 200)
    [received] = receiver.received
    payload = Webhook(endpoint.plain_secret).verify(received.body, received.headers)
    assert payload["type"] == "webhook.test" and received.headers["webhook-id"] == delivery.webhook_id
    page = response.content.decode()
    assert "Test event queued" in page and "webhook.test" in page


def test_a_delivery_page_shows_its_attempts_and_payload_and_redelivers(
        agency, admin, admin_client, django_capture_on_commit_callbacks):
    with Receiver([Reply(500, body=b"receiver broke")], default=Reply(204)) as receiver:
        endpoint = make_endpoint(agency, target_url=receiver.url, created_by=admin)
        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post(f"/agency/webhooks/{endpoint.pk}/test/")
        delivery = WebhookDelivery.objects.get()
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=Status.FAILED)  # as after the last retry

        page = admin_client.get(f"/agency/webhooks/deliveries/{delivery.pk}/").content.decode()
        assert "receiver broke" in page and "500" in page and "&quot;webhook.test&quot;" in page
        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post(f"/agency/webhooks/deliveries/{delivery.pk}/redeliver/")

    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == (Status.SUCCEEDED, 204)
    assert [a.status_code for a in WebhookAttempt.objects.filter(delivery=delivery)] == [500, 204]
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]


def test_redeliver_failed_since_a_time(agency, admin, admin_client):
    endpoint = make_endpoint(agency, target_url="http://127.0.0.1:9/h", created_by=admin)
    old, recent = (WebhookDelivery.objects.create(endpoint=endpoint, agency=agency, event_type="webhook.test",
                                                  status=Status.FAILED, payload={}) for _ in range(2))
    WebhookDelivery.objects.filter(pk=old.pk).update(created=timezone.now() - dt.timedelta(days=3))
    since = (timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")

    response = admin_client.post(f"/agency/webhooks/{endpoint.pk}/redeliver/", {"since": since}, follow=True)

    assert "1 failed deliveries queued again." in response.content.decode()
    assert dict(WebhookDelivery.objects.values_list("pk", "status")) == {old.pk: Status.FAILED,
                                                                          recent.pk: Status.PENDING}


def test_enabling_a_disabled_endpoint_clears_why_it_stopped(agency, admin, admin_client):
    endpoint = make_endpoint(agency, target_url="http://127.0.0.1:9/h", is_active=False,
                             disabled_reason="The receiver answered 410 Gone.", disabled_at=timezone.now())
    page = admin_client.get(f"/agency/webhooks/{endpoint.pk}/").content.decode()
    assert "The receiver answered 410 Gone." in page

    admin_client.post(f"/agency/webhooks/{endpoint.pk}/edit/", {
        "name": endpoint.name, "target_url": endpoint.target_url, "all_events": "on", "is_active": "on",
        "version": endpoint.version})

    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason, endpoint.disabled_at) == (True, "", None)


def test_the_list_page_reads_a_fixed_number_of_queries(agency, admin_client, django_assert_num_queries):
    for number in range(3):
        make_endpoint(agency, name=f"Receiver {number}", target_url="http://127.0.0.1:9/h")
    admin_client.get("/agency/webhooks/")  # sessions and caches warm

    with django_assert_num_queries(QUERIES := _queries(admin_client, "/agency/webhooks/")):
        admin_client.get("/agency/webhooks/")
    for number in range(3, 12):
        make_endpoint(agency, name=f"Receiver {number}", target_url="http://127.0.0.1:9/h")
    with django_assert_num_queries(QUERIES):
        admin_client.get("/agency/webhooks/")


def _queries(client, path) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    return len(captured)
