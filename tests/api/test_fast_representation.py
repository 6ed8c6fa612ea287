"""The serializers' representation (PortableModelSerializer.to_representation reads the model's own
columns as attributes) is exactly DRF's, field for field and in the same order: a risk has columns of
each kind (text, numbers, choices, dates, times, flags), relations one and many, and method fields,
filled and with its optional fields empty; its date-times in any active time zone; and a listed
risk, its relations attached to the page, as its own page reads it."""

import zoneinfo

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from risks.api import RiskSerializer
from tests.risks.factories import AssetFactory, ControlFactory, RiskFactory, ThreatVectorFactory

pytestmark = pytest.mark.django_db


def drf_representation(serializer, instance):
    return serializers.Serializer.to_representation(serializer, instance)


@pytest.mark.parametrize("empty", [False, True], ids=["filled", "optional fields empty"])
def test_a_risk_reads_as_drf_would_read_it(agency, member_of, empty):
    owner = None if empty else member_of(agency)
    risk = RiskFactory(agency=agency, owner=owner, description="" if empty else "Side channel via blinding.",
                       review_date=None if empty else "2027-03-01")
    request = APIRequestFactory().get("/api/risks/")
    request.user = member_of(agency)
    serializer = RiskSerializer(context={"request": request})
    risk = type(risk).objects.get(pk=risk.pk)
    fast = serializer.to_representation(risk)
    assert fast == drf_representation(RiskSerializer(context={"request": request}), risk)
    assert list(fast) == list(drf_representation(RiskSerializer(context={"request": request}), risk))
    assert fast["review_date"] == (None if empty else "2027-03-01")
    assert fast["owner"] is None if empty else fast["owner"]["id"] == owner.pk


@pytest.mark.parametrize("zone", ["UTC", "Europe/Brussels", "America/St_Johns"])
def test_date_times_read_in_the_active_time_zone_as_drf_reads_them(agency, member_of, zone):
    risk = RiskFactory(agency=agency)
    risk = type(risk).objects.get(pk=risk.pk)
    request = APIRequestFactory().get("/api/risks/")
    request.user = member_of(agency)
    with timezone.override(zone):
        fast = RiskSerializer(context={"request": request}).to_representation(risk)
        assert fast == drf_representation(RiskSerializer(context={"request": request}), risk)
    expected = risk.created.astimezone(zoneinfo.ZoneInfo(zone)).isoformat().replace("+00:00", "Z")
    assert fast["created"] == expected and fast["created"].endswith("Z") == (zone == "UTC")


def test_a_listed_risk_reads_as_its_own_page_does(agency, member_of, api_as):
    """A list reads relations as values attached to its page and related records joined; the detail
    page reads them through the ORM: the same representation."""
    owner = member_of(agency)
    risk = RiskFactory(agency=agency, owner=owner)
    risk.threat_vectors.set([ThreatVectorFactory(), ThreatVectorFactory()])
    risk.assets.set([AssetFactory(agency=agency)])
    risk.controls.set([ControlFactory(agency=agency), ControlFactory(agency=agency)])
    RiskFactory(agency=agency)  # no owner, no relations
    client = api_as(member_of(agency))
    listed = client.get("/api/risks/").json()["results"]
    assert len(listed) == 2
    for row in listed:
        assert row == client.get(f"/api/risks/{row['id']}/").json()
    full = next(row for row in listed if row["id"] == risk.pk)
    assert [len(full[name]) for name in ("threat_vectors", "assets", "controls")] == [2, 1, 2]
    assert full["owner"]["url"].endswith(f"/api/users/{owner.pk}/") and full["owner"]["display"] == str(owner)
