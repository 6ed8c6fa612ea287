"""What the regulator-clock, timeline and key-action tests share: the regime catalog loaded, and an
incident made without the incident services (those are tested in their own files)."""

import datetime as dt
import zoneinfo

from incidents.catalog import regimes
from incidents.models import AgencyRegime, Incident, RegulatorNotification, RegulatorRegime

UTC = dt.UTC
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def utc(*args):
    return dt.datetime(*args, tzinfo=UTC)


def load_regimes():
    regimes.load()
    return {regime.code: regime for regime in RegulatorRegime.objects.all()}


def choose_regimes(agency, *codes):
    for code in codes:
        AgencyRegime.objects.create(agency=agency, regime=RegulatorRegime.objects.get(code=code))


def make_incident(agency, *, detected_at, classified_at=None, reported_by=None, **fields):
    defaults = {"title": "Keys of link BER-POT declared compromised", "incident_type": "key_compromise",
                "severity": 1}
    return Incident.objects.create(agency=agency, detected_at=detected_at, classified_at=classified_at,
                                   reported_by=reported_by, **{**defaults, **fields})


def deadlines_of(incident) -> dict:
    """{"NIS2 early-warning": (clock_start, due_at, sent_at), …} of the incident's rows."""
    rows = RegulatorNotification.objects.filter(incident=incident).select_related("regime", "clock")
    return {f"{row.regime.code} {row.clock.code}": (row.clock_start, row.due_at, row.sent_at) for row in rows}
