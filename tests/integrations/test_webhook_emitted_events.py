"""The events that change no record reach webhooks too: a due-date reminder, a report ready."""

import datetime as dt

import pytest

from qgov.choices import RoleChoices
from qgov.duedates.services import due_reminders_send
from qgov.integrations.events import DUE_DATE_REMINDER, REPORT_READY
from qgov.integrations.representation import represent
from qgov.integrations.webhooks.models import WebhookDelivery
from qgov.models import ReportRun
from qgov.reports import services as reports
from qgov.reports.choices import ReportKindChoices
from risks.services import risk_matrix_ensure
from tests.integrations.factories import make_endpoint
from tests.risks.factories import approved_acceptance

pytestmark = pytest.mark.django_db


def test_a_due_date_reminder_is_a_webhook_event_with_the_record(agency, member_of,
                                                                 django_capture_on_commit_callbacks):
    owner = member_of(agency, RoleChoices.EDITOR, username="owner")
    acceptance = approved_acceptance(agency=agency, owner=owner, valid_until=dt.date(2027, 3, 31))
    endpoint = make_endpoint(agency, event_types=[DUE_DATE_REMINDER])

    with django_capture_on_commit_callbacks(execute=False):
        assert due_reminders_send(today=dt.date(2027, 3, 1)) == 1

    delivery = WebhookDelivery.objects.get()
    data = delivery.payload["data"]
    assert (delivery.endpoint_id, delivery.event_type, delivery.payload["type"]) == (
        endpoint.pk, DUE_DATE_REMINDER, DUE_DATE_REMINDER)
    assert {key: data[key] for key in ("object_type", "object_id", "due", "due_on", "threshold_days",
                                       "escalated")} == {
        "object_type": "risks.riskacceptance", "object_id": str(acceptance.pk), "due": "valid_until",
        "due_on": "2027-03-31", "threshold_days": 30, "escalated": False}
    assert data["record"]["id"] == represent(acceptance)["id"] == acceptance.pk


def test_a_report_that_succeeds_is_a_report_ready_event(agency, member_of, settings, tmp_path,
                                                        django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    risk_matrix_ensure(agency)
    auditor = member_of(agency, RoleChoices.AUDITOR)
    endpoint = make_endpoint(agency, event_types=[REPORT_READY])

    with django_capture_on_commit_callbacks(execute=True):
        run = reports.report_run_request(user=auditor, agency=agency, kind=ReportKindChoices.COMPLIANCE)

    run = ReportRun.objects.get(pk=run.pk)
    delivery = WebhookDelivery.objects.get()
    data = delivery.payload["data"]
    assert (run.status, delivery.endpoint_id, delivery.event_type) == ("succeeded", endpoint.pk, REPORT_READY)
    assert (data["object_type"], data["object_id"], data["record"]["status"]) == (
        "qgov.reportrun", str(run.pk), "succeeded")
    assert sorted(f["format"] for f in data["record"]["files"]) == ["csv", "json", "oscal", "pdf"]
