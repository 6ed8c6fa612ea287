"""The outbox: one delivery per subscribed endpoint, written in the transaction of the change (none
when it rolls back), only for the agency's own endpoints; events without a record change too."""

import pytest
from django.db import transaction

from qgov.choices import RoleChoices
from qgov.integrations.events import REPORT_READY, emit
from qgov.integrations.webhooks.models import WebhookDelivery
from qgov.models import AuditEvent
from qgov.services import object_create, object_delete, object_transition, object_update
from risks.models import Risk
from risks.services import risk_matrix_ensure
from tests.integrations.factories import make_endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(agency, member_of):
    risk_matrix_ensure(agency)
    return member_of(agency, RoleChoices.EDITOR)


def create_risk(agency, user, title="Harvest now, decrypt later"):
    return object_create(model=Risk, user=user, data={"agency": agency, "title": title,
                                                      "inherent_likelihood": 3, "inherent_impact": 4})


def test_a_change_writes_one_delivery_per_subscribed_endpoint_of_its_agency(agency, other_agency, editor):
    created = make_endpoint(agency, name="Created", event_types=["risks.risk.created"])
    everything = make_endpoint(agency, name="Everything")
    make_endpoint(agency, name="Updates only", event_types=["risks.risk.updated"])
    make_endpoint(agency, name="Disabled", is_active=False)
    make_endpoint(other_agency, name="Other agency's")

    risk = create_risk(agency, editor)

    event = AuditEvent.objects.for_object(risk).get()
    deliveries = WebhookDelivery.objects.order_by("endpoint__name")
    assert [(d.endpoint_id, d.agency_id, d.audit_event_id, d.event_type, d.status, d.attempts, d.payload)
            for d in deliveries] == [
        (created.pk, agency.pk, event.pk, "risks.risk.created", "pending", 0, None),
        (everything.pk, agency.pk, event.pk, "risks.risk.created", "pending", 0, None),
    ]
    assert deliveries[0].webhook_id != deliveries[1].webhook_id
    assert all(d.webhook_id.startswith("msg_") and d.next_attempt_at is not None for d in deliveries)


def test_a_change_that_rolls_back_leaves_no_delivery(agency, editor):
    make_endpoint(agency)

    with pytest.raises(RuntimeError), transaction.atomic():
        create_risk(agency, editor)
        assert WebhookDelivery.objects.count() == 1  # written inside the change's transaction
        raise RuntimeError("the request failed after the write")

    assert (Risk.objects.count(), AuditEvent.objects.filter(object_repr__contains="Harvest").count(),
            WebhookDelivery.objects.count()) == (0, 0, 0)


def test_updates_deletes_and_transitions_are_their_own_event_types(agency, editor, member_of):
    admin = member_of(agency, RoleChoices.ADMIN)
    make_endpoint(agency)
    risk = create_risk(agency, editor)
    object_update(instance=risk, user=editor, data={"title": "Renamed"})
    object_delete(instance=Risk.objects.get(pk=risk.pk), user=admin)

    assert list(WebhookDelivery.objects.order_by("pk").values_list("event_type", flat=True)) == [
        "risks.risk.created", "risks.risk.updated", "risks.risk.deleted"]


def test_an_emitted_event_is_delivered_with_its_payload_frozen_at_once(agency, other_agency):
    subscribed = make_endpoint(agency, event_types=[REPORT_READY])
    make_endpoint(agency, name="Risks only", event_types=["risks.risk.created"])
    make_endpoint(other_agency, name="Other agency's")

    with transaction.atomic():
        emit(agency_id=agency.pk, event_type=REPORT_READY, data={"report": 7, "kind": "compliance"})

    delivery = WebhookDelivery.objects.get()
    assert (delivery.endpoint_id, delivery.event_type, delivery.audit_event_id) == (subscribed.pk, REPORT_READY, None)
    assert delivery.payload["type"] == REPORT_READY
    assert delivery.payload["data"] == {"report": 7, "kind": "compliance"}
    assert delivery.payload["timestamp"].endswith("Z")


def test_writing_with_subscribed_endpoints_costs_one_query_more_than_without(agency, editor):
    create_risk(agency, editor, title="Warm-up")  # content types and the matrix cached
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as without:
        create_risk(agency, editor, title="Without endpoints")
    for n in range(5):
        make_endpoint(agency, name=f"Receiver {n}")
    with CaptureQueriesContext(connection) as with_five:
        create_risk(agency, editor, title="With five endpoints")

    # One read of the agency's active endpoints is paid either way; one bulk insert of five rows more.
    assert len(with_five) - len(without) == 1
    assert WebhookDelivery.objects.count() == 5


def test_a_lifecycle_transition_is_delivered_to_endpoints_subscribed_to_it_by_name(agency, editor):
    closes = make_endpoint(agency, name="Closes", event_types=["risks.risk.close"])
    make_endpoint(agency, name="Updates", event_types=["risks.risk.updated"])
    risk = create_risk(agency, editor)

    object_transition(instance=risk, name="close", user=editor, reason="Link decommissioned")

    delivery = WebhookDelivery.objects.get()
    event = AuditEvent.objects.for_object(risk).get(action="transition")
    assert (delivery.endpoint_id, delivery.event_type, delivery.audit_event_id) == (
        closes.pk, "risks.risk.close", event.pk)
    assert event.detail == {"transition": "close", "reason": "Link decommissioned"}
