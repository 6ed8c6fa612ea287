"""Lifecycles of devices, certifications and accreditations: allowed and refused transitions, the
flags a lost certificate raises, and the daily expiry task."""

import datetime
import zoneinfo

import pytest
from django.utils import timezone

from certification.models import Device, DeviceCertification
from certification.selectors import devices_with_compliance
from certification.services import certifications_expire
from certification.tasks import expire_certifications
from qgov.choices import AuditActionChoices, RoleChoices
from qgov.models import Notification
from qgov.testing import events_for
from tests.certification.factories import (
    DeviceCertificationFactory,
    DeviceFactory,
    PersonnelAccreditationFactory,
    RequiredSchemeFactory,
)
from tests.risks.factories import AssetFactory

TODAY = timezone.localdate(timezone=zoneinfo.ZoneInfo("Europe/Brussels"))  # the factories' agency zone


@pytest.fixture
def people(agency, member_of):
    return {"editor": member_of(agency, RoleChoices.EDITOR), "admin": member_of(agency, RoleChoices.ADMIN),
            "viewer": member_of(agency, RoleChoices.VIEWER), "owner": member_of(agency, RoleChoices.EDITOR),
            "asset_owner": member_of(agency, RoleChoices.VIEWER)}


def transition(api_as, user, path, name, **body):
    return api_as(user).post(f"{path}{name}/", body, format="json")


# --- devices --------------------------------------------------------------------------------------

def test_a_device_goes_into_service_is_withdrawn_and_disposed(agency, people, api_as):
    device = DeviceFactory(agency=agency, status="planned")
    path = f"/api/devices/{device.pk}/"
    assert transition(api_as, people["editor"], path, "commission").json()["status"] == "in_service"
    assert transition(api_as, people["editor"], path, "dispose", reason="x").status_code == 409
    assert transition(api_as, people["editor"], path, "withdraw").status_code == 400  # reason required
    assert transition(api_as, people["editor"], path, "withdraw", reason="Link decommissioned.").status_code == 200
    response = transition(api_as, people["editor"], path, "dispose", reason="Keys zeroised; destroyed under witness.")
    assert (response.status_code, response.json()["status"]) == (200, "disposed")
    assert response.json()["status_note"] == "Keys zeroised; destroyed under witness."
    assert api_as(people["editor"]).patch(path, {"site": "Elsewhere"}, format="json").status_code == 400  # frozen


def test_a_viewer_may_not_move_a_device(agency, people, api_as):
    device = DeviceFactory(agency=agency, status="planned")
    assert transition(api_as, people["viewer"], f"/api/devices/{device.pk}/", "commission").status_code == 403
    assert Device.objects.get(pk=device.pk).status == "planned"


# --- certificates ---------------------------------------------------------------------------------

def test_a_certificate_is_confirmed_suspended_reinstated_and_revoked(agency, people, api_as):
    certification = DeviceCertificationFactory(agency=agency, status="pending")
    path = f"/api/device-certifications/{certification.pk}/"
    editor = people["editor"]
    assert transition(api_as, editor, path, "reinstate", reason="x").status_code == 409
    assert transition(api_as, editor, path, "confirm").json()["status"] == "valid"
    assert transition(api_as, editor, path, "suspend").status_code == 400
    assert transition(api_as, editor, path, "suspend", reason="Lab found a flaw.").json()["status"] == "suspended"
    assert transition(api_as, editor, path, "reinstate", reason="Flaw fixed.").json()["status"] == "valid"
    response = transition(api_as, editor, path, "revoke", reason="Vendor withdrew it.")
    assert response.json()["status"] == "revoked"
    refused = transition(api_as, editor, path, "reinstate", reason="Please.")
    assert refused.status_code == 409
    assert refused.json()["errors"] == {"status": ["Currently revoked."]}
    assert transition(api_as, editor, path, "expire", reason="x").status_code == 404  # a system transition
    events = events_for(certification).filter(action=AuditActionChoices.TRANSITION)
    assert [e.detail["transition"] for e in events.order_by("id")] == ["confirm", "suspend", "reinstate", "revoke"]


def test_a_certificate_past_its_expiry_cannot_be_confirmed(agency, people, api_as):
    certification = DeviceCertificationFactory(agency=agency, status="pending", issued=TODAY - datetime.timedelta(400),
                                               expires=TODAY - datetime.timedelta(days=1))
    response = transition(api_as, people["editor"], f"/api/device-certifications/{certification.pk}/", "confirm")
    assert response.status_code == 409
    assert "expired on" in response.json()["errors"]["non_field_errors"][0]


def test_revoking_flags_the_dependent_assets_at_once(agency, people, api_as):
    RequiredSchemeFactory(agency=agency, scheme__code="CC-BSI")
    link = AssetFactory(agency=agency, name="QKD link Capital–Northgate", owner=people["asset_owner"])
    node = AssetFactory(agency=agency, name="Trusted node TN-2", owner=people["asset_owner"])
    device = DeviceFactory(agency=agency, name="QKD-TX-01", owner=people["owner"])
    device.assets.set([link, node])
    certification = DeviceCertificationFactory(agency=agency, device=device, scheme__code="CC-BSI", level="EAL4+",
                                               certificate_id="BSI-DSZ-CC-1200")
    assert devices_with_compliance(Device.objects.all(), agency=agency).get().compliance == "compliant"
    Notification.objects.all().delete()
    response = transition(api_as, people["editor"], f"/api/device-certifications/{certification.pk}/", "revoke",
                          reason="Revoked by the certification body.")
    assert response.status_code == 200
    told = Notification.objects.order_by("user__username")
    assert sorted(n.user_id for n in told) == sorted([people["owner"].pk, people["asset_owner"].pk,
                                                      people["admin"].pk])
    assert {n.title for n in told} == {"QKD-TX-01: certificate BSI-DSZ-CC-1200 revoked"}
    assert {n.body for n in told} == {"Assets that depend on it: QKD link Capital–Northgate, Trusted node TN-2. "
                                      "Revoked by the certification body."}
    assert devices_with_compliance(Device.objects.all(), agency=agency).get().compliance == "non_compliant"


# --- the daily expiry -----------------------------------------------------------------------------

def test_the_expiry_task_expires_what_is_past_and_is_idempotent(agency, people):
    yesterday = TODAY - datetime.timedelta(days=1)
    due = DeviceCertificationFactory(agency=agency, issued=TODAY - datetime.timedelta(400), expires=yesterday)
    suspended = DeviceCertificationFactory(agency=agency, issued=TODAY - datetime.timedelta(400), expires=yesterday,
                                           status="suspended")
    today = DeviceCertificationFactory(agency=agency, issued=TODAY - datetime.timedelta(400), expires=TODAY)
    revoked = DeviceCertificationFactory(agency=agency, issued=TODAY - datetime.timedelta(400), expires=yesterday,
                                         status="revoked")
    accreditation = PersonnelAccreditationFactory(agency=agency, issued=TODAY - datetime.timedelta(400),
                                                  expires=yesterday)
    assert expire_certifications.delay().get() == {"device_certifications": 2, "personnel_accreditations": 1}
    assert certifications_expire() == {"device_certifications": 0, "personnel_accreditations": 0}
    states = dict(DeviceCertification.objects.values_list("pk", "status"))
    assert states == {due.pk: "expired", suspended.pk: "expired", today.pk: "valid", revoked.pk: "revoked"}
    accreditation.refresh_from_db()
    assert (accreditation.status, accreditation.status_note) == ("expired", f"Expired on {yesterday.isoformat()}.")
    event = events_for(due).filter(action=AuditActionChoices.TRANSITION).get()
    assert (event.source, event.detail["transition"]) == ("task", "expire")
    assert Notification.objects.filter(user=people["admin"]).count() == 3
