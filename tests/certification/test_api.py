"""The certification API beyond the generic suite: the compliance endpoint (constant queries, reasons,
filters), who may set required schemes, the catalog being read-only, and the device inventory import."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certification.models import Device, RequiredScheme
from qgov.choices import RoleChoices
from tests.certification.factories import (
    ArrangementFactory,
    DeviceCertificationFactory,
    DeviceFactory,
    RecognitionFactory,
    RequiredSchemeFactory,
    SchemeFactory,
)


@pytest.fixture
def fleet(agency):
    bsi = SchemeFactory(code="CC-BSI")
    anssi = SchemeFactory(code="CC-ANSSI", jurisdictions=["FR"])
    RecognitionFactory(arrangement=ArrangementFactory(code="SOG-IS"), scheme=anssi, max_level="EAL4")
    RequiredSchemeFactory(agency=agency, scheme=bsi, min_level="EAL4")
    return {"bsi": bsi, "anssi": anssi}


def add_devices(agency, fleet, n):
    for i in range(n):
        DeviceCertificationFactory(agency=agency, scheme=fleet["anssi" if i % 2 else "bsi"],
                                   level="EAL4" if i % 3 else "EAL3")


def test_compliance_list_is_paginated_with_reasons_in_constant_queries(agency, member_of, api_as, fleet):
    client = api_as(member_of(agency, RoleChoices.VIEWER))
    counts = []
    for _ in range(2):
        add_devices(agency, fleet, 4)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/compliance/")
        assert response.status_code == 200
        counts.append(len(queries))
    # the agency, the count, the page with its compliance, then for the findings the requirements and the
    # certificates (an agency without a jurisdiction has no recognitions to read)
    assert counts == [5, 5], [q["sql"][:100] for q in queries.captured_queries]
    body = response.json()
    assert body["count"] == 8
    first = body["results"][0]
    assert set(first) == {"subject", "id", "url", "display", "agency", "kind", "compliance", "findings"}
    assert first["subject"] == "device"
    assert set(first["findings"][0]) == {"requirement", "requirement_label", "status", "reason_code", "message",
                                         "certification", "arrangement"}


def test_compliance_is_judged_in_the_agency_jurisdiction_and_filterable(agency, member_of, api_as, fleet):
    agency.jurisdiction = "FR"
    agency.save()
    french = DeviceCertificationFactory(agency=agency, scheme=fleet["anssi"], level="EAL4").device
    low = DeviceCertificationFactory(agency=agency, scheme=fleet["bsi"], level="EAL3").device
    client = api_as(member_of(agency, RoleChoices.VIEWER))
    rows = {row["id"]: row for row in client.get("/api/compliance/").json()["results"]}
    assert rows[french.pk]["compliance"] == "compliant"
    assert rows[french.pk]["findings"][0]["arrangement"] == "SOG-IS"
    assert rows[low.pk]["compliance"] == "non_compliant"
    assert [f["reason_code"] for f in rows[low.pk]["findings"]] == ["level_too_low"]
    only = client.get("/api/compliance/", {"compliance": "non_compliant"}).json()["results"]
    assert low.pk in {row["id"] for row in only}


def test_compliance_of_people_and_the_summary(agency, member_of, api_as, fleet):
    client = api_as(member_of(agency, RoleChoices.AUDITOR))
    assert client.get("/api/compliance/", {"subject": "person"}).json()["count"] == 0
    assert client.get("/api/compliance/", {"subject": "cat"}).status_code == 400
    DeviceCertificationFactory(agency=agency, scheme=fleet["bsi"], level="EAL4",
                               expires=datetime.date.today() + datetime.timedelta(days=10))
    summary = client.get("/api/compliance/summary/").json()
    assert summary["devices"] == {"compliant": 0, "expiring": 1, "non_compliant": 0, "not_required": 0}
    assert len(summary["expiring_certifications"]) == 1


def test_compliance_needs_an_agency_when_you_belong_to_several(agency, other_agency, member_of, api_as):
    from tests.factories import MembershipFactory

    user = member_of(agency, RoleChoices.VIEWER)
    MembershipFactory(agency=other_agency, user=user)
    client = api_as(user)
    assert client.get("/api/compliance/").status_code == 400
    assert client.get("/api/compliance/", {"agency": other_agency.pk}).status_code == 200
    assert client.get("/api/compliance/", {"agency": 999999}).status_code == 400


def test_compliance_filter_on_the_devices_list(agency, member_of, api_as, fleet):
    bad = DeviceCertificationFactory(agency=agency, scheme=fleet["bsi"], level="EAL3").device
    DeviceCertificationFactory(agency=agency, scheme=fleet["bsi"], level="EAL5")
    response = api_as(member_of(agency, RoleChoices.VIEWER)).get("/api/devices/", {"compliance": "non_compliant"})
    assert [row["id"] for row in response.json()["results"]] == [bad.pk]


@pytest.mark.parametrize(("role", "allowed"), [(RoleChoices.ADMIN, True), (RoleChoices.EDITOR, False),
                                               (RoleChoices.VIEWER, False), (RoleChoices.AUDITOR, False)])
def test_only_admins_set_required_schemes(role, allowed, agency, member_of, api_as):
    client = api_as(member_of(agency, role))
    response = client.post("/api/required-schemes/", {"agency": agency.pk, "scheme": SchemeFactory().pk,
                                                      "min_level": "EAL4", "device_kind": "trusted_node"},
                           format="json")
    assert response.status_code == (201 if allowed else 403)
    assert RequiredScheme.objects.count() == (1 if allowed else 0)
    assert client.get("/api/required-schemes/").status_code == 200


def test_the_catalog_is_read_only_for_agency_members(agency, member_of, api_as):
    scheme = SchemeFactory()
    client = api_as(member_of(agency, RoleChoices.ADMIN))
    assert client.get("/api/schemes/").json()["count"] == 1
    assert client.patch(f"/api/schemes/{scheme.pk}/", {"name": "Mine"}, format="json").status_code == 403
    assert client.get("/api/recognition-arrangements/").status_code == 200


def test_recognition_arrangements_list_their_recognitions(agency, member_of, api_as):
    RecognitionFactory(arrangement=ArrangementFactory(code="SOG-IS"), scheme=SchemeFactory(code="CC-BSI"))
    body = api_as(member_of(agency)).get("/api/recognition-arrangements/").json()["results"][0]
    assert body["recognitions"][0]["scheme"] == "CC-BSI" and body["recognitions"][0]["max_level"] == "EAL4"


# --- the inventory import -------------------------------------------------------------------------

HEADER = b"name,kind,vendor,model,serial,firmware_version,firmware_sha256,site\n"


def test_the_device_inventory_imports_and_updates_by_serial(agency, member_of, import_file):
    editor = member_of(agency, RoleChoices.EDITOR)
    DeviceFactory(agency=agency, name="Old name", serial="TX-1", status="planned")
    content = HEADER + (b"QKD-TX-01,qkd_transmitter,Photonica,QX-100,TX-1,2.1.0,,Capital DC\n"
                        b"QKD-RX-01,QKD receiver,Photonica,QX-100R,RX-1,2.1.0," + b"ab" * 32 + b",Northgate DC\n")
    response = import_file(editor, content, name="devices.csv", path="/api/devices/import/")
    assert response.status_code == 202
    assert {k: response.run[k] for k in ("status", "created_count", "updated_count")} == {
        "status": "succeeded", "created_count": 1, "updated_count": 1}
    assert sorted(Device.objects.values_list("name", "kind", "site")) == [
        ("QKD-RX-01", "qkd_receiver", "Northgate DC"), ("QKD-TX-01", "qkd_transmitter", "Capital DC")]


def test_a_bad_inventory_row_writes_nothing(agency, member_of, import_file):
    editor = member_of(agency, RoleChoices.EDITOR)
    content = HEADER + (b"QKD-TX-01,qkd_transmitter,Photonica,QX-100,TX-1,2.1.0,,\n"
                        b"QKD-RX-01,qkd_receiver,Photonica,QX-100R,RX-1,2.1.0,nothex,\n")
    response = import_file(editor, content, name="devices.csv", path="/api/devices/import/")
    assert response.run["status"] == "failed"
    assert [(e["row"], e["field"]) for e in response.run["errors"]] == [(3, "firmware_sha256")]
    assert Device.objects.count() == 0


def test_the_status_column_is_not_importable(agency, member_of, import_file):
    editor = member_of(agency, RoleChoices.EDITOR)
    response = import_file(editor, b"name,kind,vendor,model,serial,status\nA,qrng,V,M,1,disposed\n",
                           name="devices.csv", path="/api/devices/import/")
    assert response.status_code in (400, 202)
    assert Device.objects.count() == 0


def test_the_schema_names_the_app_enums(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    enums = schema["components"]["schemas"]
    assert enums["DeviceStatusEnum"]["enum"] == ["planned", "in_service", "withdrawn", "disposed"]
    assert enums["CertificationStatusEnum"]["enum"] == ["pending", "valid", "suspended", "revoked", "expired"]
    assert "/api/compliance/" in schema["paths"] and "/api/device-certifications/{id}/revoke/" in schema["paths"]


def test_compliance_list_with_recognitions_in_constant_queries(agency, member_of, api_as, fleet):
    agency.jurisdiction = "FR"
    agency.save()
    client = api_as(member_of(agency, RoleChoices.VIEWER))
    counts = []
    for _ in range(2):
        add_devices(agency, fleet, 4)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/compliance/").status_code == 200
        counts.append(len(queries))
    assert counts == [7, 7], [q["sql"][:100] for q in queries.captured_queries]  # + the recognitions, twice
