"""`/api/webhooks/` and `/api/webhook-deliveries/`: agency admins only; the secret shown once;
rotation, test event, redelivery; another agency's endpoints answer 404."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from qgov.choices import RoleChoices
from qgov.integrations.webhooks import services
from qgov.integrations.webhooks.models import WebhookDelivery, WebhookEndpoint
from qgov.integrations.webhooks.sealing import unseal
from qgov.models import AuditEvent
from tests.integrations.factories import make_endpoint
from tests.integrations.receiver import Receiver, Reply

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_allowed")]


def body(agency, **fields):
    return {"agency": agency.pk, "name": "SIEM", "target_url": "http://127.0.0.1:9/hook",
            "event_types": ["risks.risk.created", "report.ready"], **fields}


def test_an_admin_creates_an_endpoint_and_sees_its_secret_once(agency, admin, api_as):
    client = api_as(admin)

    response = client.post("/api/webhooks/", body(agency), format="json")

    assert response.status_code == 201, response.content
    created = response.json()
    endpoint = WebhookEndpoint.objects.get()
    assert created["secret"].startswith("whsec_") and created["secret"] == unseal(endpoint.secret_sealed)
    assert {key: created[key] for key in ("name", "target_url", "event_types", "all_events", "is_active",
                                          "created_by")} == {
        "name": "SIEM", "target_url": "http://127.0.0.1:9/hook", "event_types": ["report.ready", "risks.risk.created"],
        "all_events": False, "is_active": True, "created_by": {"id": admin.pk, "display": "ada", "url": f"http://testserver/api/users/{admin.pk}/"}}
    assert client.get(f"/api/webhooks/{endpoint.pk}/").json()["secret"] is None
    assert client.get("/api/webhooks/").json()["results"][0]["secret"] is None
    event = AuditEvent.objects.for_object(endpoint).get()
    assert "secret_sealed" not in event.after


def test_unknown_event_types_are_refused_by_name(agency, admin, api_as):
    response = api_as(admin).post("/api/webhooks/", body(agency, event_types=["risks.risk.exploded"]), format="json")

    assert (response.status_code, response.json()["errors"]) == (
        400, {"event_types": ["Unknown event types: risks.risk.exploded."]})
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.parametrize("role", [RoleChoices.EDITOR, RoleChoices.AUDITOR, RoleChoices.VIEWER])
def test_only_admins_manage_or_even_see_endpoints(agency, admin, member_of, api_as, role):
    client = api_as(member_of(agency, role))
    endpoint = make_endpoint(agency)

    assert client.post("/api/webhooks/", body(agency), format="json").status_code == 403
    assert client.get("/api/webhooks/").json()["results"] == []
    assert client.get(f"/api/webhooks/{endpoint.pk}/").status_code == 404
    assert client.patch(f"/api/webhooks/{endpoint.pk}/", {"name": "Mine"}, format="json").status_code == 404
    assert client.post(f"/api/webhooks/{endpoint.pk}/rotate-secret/").status_code == 404
    assert client.post(f"/api/webhooks/{endpoint.pk}/test/").status_code == 404
    assert client.delete(f"/api/webhooks/{endpoint.pk}/").status_code == 404
    endpoint.refresh_from_db()
    assert (WebhookEndpoint.objects.count(), endpoint.name, endpoint.version, WebhookDelivery.objects.count()) == (
        1, "Receiver", 1, 0)


def test_another_agencys_admin_gets_404_and_changes_nothing(agency, other_agency, member_of, api_as):
    endpoint = make_endpoint(agency)
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, agency=agency, event_type="report.ready",
                                              status="failed")
    client = api_as(member_of(other_agency, RoleChoices.ADMIN))

    assert client.get(f"/api/webhooks/{endpoint.pk}/").status_code == 404
    assert client.patch(f"/api/webhooks/{endpoint.pk}/", {"name": "Mine"}, format="json").status_code == 404
    assert client.post(f"/api/webhooks/{endpoint.pk}/rotate-secret/").status_code == 404
    assert client.get(f"/api/webhook-deliveries/{delivery.pk}/").status_code == 404
    assert client.post(f"/api/webhook-deliveries/{delivery.pk}/redeliver/").status_code == 404
    refused = client.post("/api/webhooks/", body(agency), format="json")
    assert (refused.status_code, refused.json()["errors"]) == (
        400, {"agency": [f'Invalid pk "{agency.pk}" - object does not exist.']})  # not one of theirs
    assert client.get("/api/webhook-deliveries/").json()["results"] == []
    endpoint.refresh_from_db()
    delivery.refresh_from_db()
    assert (endpoint.name, endpoint.secret_sealed == endpoint.secret_sealed, delivery.status) == (
        "Receiver", True, "failed")
    assert WebhookEndpoint.objects.count() == 1


def test_rotate_secret_shows_the_new_one_once_and_keeps_the_old_one_for_a_day(agency, admin, api_as):
    endpoint = make_endpoint(agency)
    before = timezone.now()

    response = api_as(admin).post(f"/api/webhooks/{endpoint.pk}/rotate-secret/")

    assert response.status_code == 200
    endpoint.refresh_from_db()
    assert response.json()["secret"] == unseal(endpoint.secret_sealed) != endpoint.plain_secret
    assert unseal(endpoint.previous_secret_sealed) == endpoint.plain_secret
    assert before + dt.timedelta(hours=24) <= endpoint.previous_secret_expires <= timezone.now() + dt.timedelta(
        hours=24)
    assert endpoint.version == 2


def test_send_test_event_delivers_a_signed_webhook_test(agency, admin, api_as, django_capture_on_commit_callbacks):
    with Receiver() as receiver:
        endpoint = make_endpoint(agency, target_url=receiver.url, event_types=["report.ready"])
        with django_capture_on_commit_callbacks(execute=True):  # sent when it commits (eager here)
            response = api_as(admin).post(f"/api/webhooks/{endpoint.pk}/test/")

    assert response.status_code == 202
    assert (response.json()["event_type"], response.json()["status"]) == ("webhook.test", "pending")
    payload = Webhook(endpoint.plain_secret).verify(receiver.received[0].body, receiver.received[0].headers)
    assert (payload["type"], payload["data"]) == ("webhook.test", {"endpoint": endpoint.pk, "name": "Receiver"})
    assert WebhookDelivery.objects.get().status == "succeeded"


def test_the_delivery_log_and_redelivery_of_what_failed_since_a_time(agency, admin, api_as,
                                                                     django_capture_on_commit_callbacks):
    with Receiver([Reply(500, body=b"x" * 5000)]) as receiver:
        endpoint = make_endpoint(agency, target_url=receiver.url)
        client = api_as(admin)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/api/webhooks/{endpoint.pk}/test/")
        old = WebhookDelivery.objects.create(endpoint=endpoint, agency=agency, event_type="report.ready",
                                             status="failed", payload={"type": "report.ready", "data": {}})
        WebhookDelivery.objects.filter(pk=old.pk).update(created=timezone.now() - dt.timedelta(days=3))
        failed = WebhookDelivery.objects.get(event_type="webhook.test")
        WebhookDelivery.objects.filter(pk=failed.pk).update(status="failed")

        listing = client.get("/api/webhook-deliveries/", {"endpoint": endpoint.pk, "status": "failed"})
        with django_capture_on_commit_callbacks(execute=True):
            redelivered = client.post(f"/api/webhooks/{endpoint.pk}/redeliver/",
                                      {"since": (timezone.now() - dt.timedelta(days=1)).isoformat()}, format="json")

    assert listing.status_code == 200
    [logged, logged_old] = sorted(listing.json()["results"], key=lambda d: d["id"])
    assert logged["id"] == failed.pk and logged_old["id"] == old.pk
    assert [(a["status_code"], len(a["response_excerpt"]), a["error"]) for a in logged["attempt_log"]] == [
        (500, 1024, "Answered 500.")]
    assert (redelivered.status_code, redelivered.json()) == (202, {"count": 1})
    failed.refresh_from_db()
    old.refresh_from_db()
    assert (failed.status, failed.attempts, old.status) == ("succeeded", 1, "failed")
    assert [r.headers["webhook-id"] for r in receiver.received] == [failed.webhook_id] * 2


def test_the_delivery_list_costs_the_same_queries_for_one_delivery_or_twenty(agency, admin, api_as):
    endpoint = make_endpoint(agency)
    client = api_as(admin)

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/webhook-deliveries/").status_code == 200
        return len(queries)

    WebhookDelivery.objects.create(endpoint=endpoint, agency=agency, event_type="report.ready")
    one = count_queries()
    for _ in range(19):
        WebhookDelivery.objects.create(endpoint=endpoint, agency=agency, event_type="report.ready")
    assert (one, count_queries()) == (3, 3)


def test_enabling_a_disabled_endpoint_again_clears_why_it_was_disabled(agency, admin, api_as):
    endpoint = make_endpoint(agency)
    services.endpoint_disable(endpoint_id=endpoint.pk, reason="The receiver answered 410 Gone.")

    response = api_as(admin).patch(f"/api/webhooks/{endpoint.pk}/", {"is_active": True}, format="json")

    assert response.status_code == 200, response.content
    assert {key: response.json()[key] for key in ("is_active", "disabled_reason", "disabled_at")} == {
        "is_active": True, "disabled_reason": "", "disabled_at": None}
