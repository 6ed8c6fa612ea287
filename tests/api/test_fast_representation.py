"""The serializers' representation (PortableModelSerializer.to_representation reads the model's own
columns as attributes) is exactly DRF's, field for field and in the same order: a risk has columns of
each kind (text, numbers, choices, dates, times, flags), relations one and many, and method fields,
filled and with its optional fields empty."""

import pytest
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from risks.api import RiskSerializer
from tests.risks.factories import RiskFactory

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
