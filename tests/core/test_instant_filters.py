"""Filters on instants take any ISO 8601 offset: the value is held in UTC, so PostgreSQL (which refuses
offsets beyond ±15:59) gets one it accepts, and an instant that does not exist in UTC is a 400."""

import datetime as dt

import pytest

from qgov.choices import RoleChoices
from tests.incidents.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def test_an_offset_beyond_sixteen_hours_filters_by_the_same_instant(agency, member_of, api_as):
    client = api_as(member_of(agency, RoleChoices.AUDITOR))
    early = IncidentFactory(agency=agency, detected_at=dt.datetime(2026, 11, 30, 20, 0, tzinfo=dt.UTC))
    late = IncidentFactory(agency=agency, detected_at=dt.datetime(2026, 11, 30, 22, 0, tzinfo=dt.UTC))

    # 2026-11-30T00:00-21:00 is 2026-11-30T21:00 UTC: between the two.
    listed = client.get("/api/incidents/", {"detected_after": "2026-11-30T00:00:00-21:00"})
    action = client.get(f"/api/incidents/{late.pk}/evidence/", {"detected_after": "0199-07-12T15:32:30.072-21:04"})

    assert listed.status_code == 200, listed.content
    assert [row["id"] for row in listed.json()["results"]] == [late.pk]
    assert early.pk not in {row["id"] for row in listed.json()["results"]}
    assert action.status_code == 200, action.content


def test_an_instant_outside_the_calendar_in_utc_is_a_400_naming_the_filter(agency, member_of, api_as):
    response = api_as(member_of(agency, RoleChoices.AUDITOR)).get(
        "/api/audit-events/", {"since": "0001-01-01T00:00:00+05:00"})

    assert response.status_code == 400
    assert response.json()["errors"] == {"since": ["This instant is outside the range of dates."]}
