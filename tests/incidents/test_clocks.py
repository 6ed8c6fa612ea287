"""Regulator clocks on incidents: the regime catalog, rows computed from the right start in the
agency's time zone (exact instants across DST changes), DORA's earlier-of, recomputation when
the starts or the regimes change, sent rows never touched, and the reminder declaration."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from incidents.catalog import regimes as regime_catalog
from incidents.clocks import notifications_sync
from incidents.models import AgencyRegime, RegulatorClock, RegulatorNotification, RegulatorRegime
from qgov.duedates import declaration_problems
from qgov.models import AuditEvent
from tests.incidents.clock_helpers import (
    BERLIN,
    NEW_YORK,
    choose_regimes,
    deadlines_of,
    load_regimes,
    make_incident,
    utc,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def regimes(db):
    return load_regimes()


@pytest.fixture
def berlin_agency(agency):
    agency.time_zone = "Europe/Berlin"
    agency.save()
    return agency


def test_the_catalog_loads_every_regime_and_clock_once(db):
    assert regime_catalog.load() == "regulator regimes and clocks: 16 created, 0 updated, 0 unchanged"
    assert regime_catalog.load() == "regulator regimes and clocks: 0 created, 0 updated, 16 unchanged"
    assert list(RegulatorRegime.objects.values_list("code", flat=True)) == ["DORA", "EU-CRA", "GDPR", "NIS2",
                                                                            "UK-NIS"]
    clocks = [(c.regime.code, c.code, c.start, c.hours, c.months, c.awareness_hours, c.after and c.after.code)
              for c in RegulatorClock.objects.select_related("regime", "after")]
    assert clocks == [
        ("DORA", "initial", "earliest", 4, None, 24, None),
        ("DORA", "intermediate", "classification", 72, None, None, None),
        ("DORA", "final-report", "after_clock", None, 1, None, "intermediate"),
        ("EU-CRA", "early-warning", "awareness", 24, None, None, None),
        ("EU-CRA", "notification", "awareness", 72, None, None, None),
        ("EU-CRA", "final-report", "after_clock", None, 1, None, "notification"),
        ("GDPR", "notification", "awareness", 72, None, None, None),
        ("NIS2", "early-warning", "awareness", 24, None, None, None),
        ("NIS2", "notification", "awareness", 72, None, None, None),
        ("NIS2", "final-report", "after_clock", None, 1, None, "notification"),
        ("UK-NIS", "notification", "awareness", 72, None, None, None),
    ]
    assert RegulatorRegime.objects.get(code="EU-CRA").applies_from == dt.date(2026, 9, 11)
    assert RegulatorRegime.objects.get(code="NIS2").citation == "Directive (EU) 2022/2555 (NIS2), Art. 23(4)"


def test_a_clock_rule_that_does_not_add_up_is_refused(regimes):
    clock = RegulatorClock(regime=regimes["GDPR"], code="x", label="X", start="earliest", hours=4)
    with pytest.raises(ValidationError) as refused:
        clock.full_clean()
    assert refused.value.message_dict == {
        "awareness_hours": ["“Earlier of” needs hours after classification and awareness hours."]}


def test_a_new_incident_gets_the_agency_regimes_and_their_deadlines_in_berlin(regimes, berlin_agency):
    choose_regimes(berlin_agency, "NIS2", "DORA")
    # Aware at 10:00 CEST on Saturday 24 October 2026, the day before the clocks go back.
    incident = make_incident(berlin_agency, detected_at=dt.datetime(2026, 10, 24, 10, 0, tzinfo=BERLIN))
    assert notifications_sync(incident) == {"created": 6, "updated": 0, "removed": 0, "unchanged": 0}
    assert sorted(incident.regimes.values_list("code", flat=True)) == ["DORA", "NIS2"]
    aware = utc(2026, 10, 24, 8, 0)
    assert deadlines_of(incident) == {
        "DORA initial": (aware, utc(2026, 10, 25, 8, 0), None),  # 24 h after awareness until classified
        "DORA intermediate": (None, None, None),  # counts from the classification: not yet
        "DORA final-report": (None, None, None),
        "NIS2 early-warning": (aware, utc(2026, 10, 25, 8, 0), None),  # 09:00 CET: 24 elapsed hours
        "NIS2 notification": (aware, utc(2026, 10, 27, 8, 0), None),
        # One calendar month after the notification's due time, on the Berlin wall clock: 09:00 CET.
        "NIS2 final-report": (utc(2026, 10, 27, 8, 0), utc(2026, 11, 27, 8, 0), None),
    }
    # The choice of regimes is audited with the incident's other changes.
    events = AuditEvent.objects.for_object(incident).order_by("id")
    assert [(event.action, event.after.get("regimes")) for event in events if "regimes" in event.changed_fields] == [
        ("create", []), ("update", sorted([regimes["DORA"].pk, regimes["NIS2"].pk]))]


def test_the_spring_change_in_berlin(regimes, berlin_agency):
    incident = make_incident(berlin_agency, detected_at=dt.datetime(2026, 3, 28, 10, 0, tzinfo=BERLIN))
    incident.regimes.set([regimes["NIS2"]])
    notifications_sync(incident)
    assert deadlines_of(incident) == {
        "NIS2 early-warning": (utc(2026, 3, 28, 9, 0), utc(2026, 3, 29, 9, 0), None),  # 11:00 CEST
        "NIS2 notification": (utc(2026, 3, 28, 9, 0), utc(2026, 3, 31, 9, 0), None),
        "NIS2 final-report": (utc(2026, 3, 31, 9, 0), utc(2026, 4, 30, 9, 0), None),
    }


def test_new_york_across_1_november(regimes, agency):
    agency.time_zone = "America/New_York"
    agency.save()
    incident = make_incident(agency, detected_at=dt.datetime(2026, 10, 30, 20, 30, tzinfo=NEW_YORK),
                             classified_at=dt.datetime(2026, 10, 31, 23, 15, tzinfo=NEW_YORK))
    incident.regimes.set([regimes["DORA"], regimes["GDPR"]])
    notifications_sync(incident)
    aware, classified = utc(2026, 10, 31, 0, 30), utc(2026, 11, 1, 3, 15)
    assert deadlines_of(incident) == {
        "DORA initial": (aware, utc(2026, 11, 1, 0, 30), None),  # 24 h after awareness is earlier
        "DORA intermediate": (classified, utc(2026, 11, 4, 3, 15), None),
        # 3 November 22:15 EST + 1 calendar month = 3 December 22:15 EST.
        "DORA final-report": (utc(2026, 11, 4, 3, 15), utc(2026, 12, 4, 3, 15), None),
        "GDPR notification": (aware, utc(2026, 11, 3, 0, 30), None),  # 19:30 EST on 2 November
    }


def test_31_january_and_the_month_clock(regimes, berlin_agency):
    # Aware 28 January 10:00 CET: the NIS2 notification is due 31 January 10:00, the final report
    # one calendar month later, clamped to 28 February.
    incident = make_incident(berlin_agency, detected_at=dt.datetime(2026, 1, 28, 10, 0, tzinfo=BERLIN))
    incident.regimes.set([regimes["NIS2"]])
    notifications_sync(incident)
    assert deadlines_of(incident)["NIS2 final-report"] == (utc(2026, 1, 31, 9, 0), utc(2026, 2, 28, 9, 0), None)


def test_dora_earliest_of_and_recompute_when_classified(regimes, berlin_agency):
    incident = make_incident(berlin_agency, detected_at=dt.datetime(2026, 6, 1, 8, 0, tzinfo=BERLIN))
    incident.regimes.set([regimes["DORA"]])
    notifications_sync(incident)
    aware = utc(2026, 6, 1, 6, 0)
    assert deadlines_of(incident)["DORA initial"] == (aware, utc(2026, 6, 2, 6, 0), None)

    incident.classified_at = utc(2026, 6, 1, 9, 0)  # 4 h later is well before awareness + 24 h
    incident.save()
    assert notifications_sync(incident) == {"created": 0, "updated": 3, "removed": 0, "unchanged": 0}
    assert deadlines_of(incident) == {
        "DORA initial": (utc(2026, 6, 1, 9, 0), utc(2026, 6, 1, 13, 0), None),
        "DORA intermediate": (utc(2026, 6, 1, 9, 0), utc(2026, 6, 4, 9, 0), None),
        "DORA final-report": (utc(2026, 6, 4, 9, 0), utc(2026, 7, 4, 9, 0), None),
    }
    assert notifications_sync(incident) == {"created": 0, "updated": 0, "removed": 0, "unchanged": 3}


def test_sent_rows_are_never_touched(regimes, berlin_agency, member_of):
    editor = member_of(berlin_agency, "editor")
    incident = make_incident(berlin_agency, detected_at=utc(2026, 6, 1, 6, 0))
    incident.regimes.set([regimes["NIS2"]])
    notifications_sync(incident)
    early = RegulatorNotification.objects.get(incident=incident, clock__code="early-warning")
    early.sent_at, early.reference, early.sent_by = utc(2026, 6, 1, 20, 0), "CSIRT-4711", editor
    early.save()
    before = deadlines_of(incident)

    incident.detected_at = utc(2026, 6, 1, 2, 0)  # found out earlier than first thought
    incident.save()
    assert notifications_sync(incident) == {"created": 0, "updated": 2, "removed": 0, "unchanged": 1}
    after = deadlines_of(incident)
    assert after["NIS2 early-warning"] == before["NIS2 early-warning"] == (
        utc(2026, 6, 1, 6, 0), utc(2026, 6, 2, 6, 0), utc(2026, 6, 1, 20, 0))
    assert after["NIS2 notification"] == (utc(2026, 6, 1, 2, 0), utc(2026, 6, 4, 2, 0), None)

    incident.regimes.set([])  # NIS2 no longer chosen: the unsent rows go, the sent one stays
    assert notifications_sync(incident) == {"created": 0, "updated": 0, "removed": 2, "unchanged": 0}
    assert list(deadlines_of(incident)) == ["NIS2 early-warning"]


def test_an_incident_without_regimes_after_creation_is_not_given_the_agency_ones(regimes, berlin_agency):
    choose_regimes(berlin_agency, "GDPR")
    incident = make_incident(berlin_agency, detected_at=utc(2026, 6, 1, 6, 0))
    notifications_sync(incident, created=False)
    assert incident.regimes.count() == 0
    assert deadlines_of(incident) == {}


def test_the_cyber_resilience_act_covers_incidents_from_11_september_2026_on_the_agency_date(
        regimes, berlin_agency):
    before = make_incident(berlin_agency, detected_at=dt.datetime(2026, 9, 10, 23, 30, tzinfo=BERLIN))
    on_the_day = make_incident(berlin_agency, detected_at=dt.datetime(2026, 9, 11, 0, 30, tzinfo=BERLIN))
    assert on_the_day.detected_at.astimezone(dt.UTC).date() == dt.date(2026, 9, 10)  # still the 10th in UTC
    for incident in (before, on_the_day):
        incident.regimes.set([regimes["EU-CRA"]])
        notifications_sync(incident)
    assert deadlines_of(before) == {}
    assert list(deadlines_of(on_the_day)) == ["EU-CRA early-warning", "EU-CRA notification", "EU-CRA final-report"]


def test_regulator_deadlines_are_declared_to_the_reminder_service():
    (due,) = RegulatorNotification.due_dates
    assert (due.field, str(due.label), due.owner, due.escalate) == ("due_at", "Regulator deadline",
                                                                    "incident__reported_by", True)
    assert declaration_problems(RegulatorNotification) == []


def test_agency_regimes_are_unique_per_agency(regimes, agency):
    AgencyRegime.objects.create(agency=agency, regime=regimes["GDPR"])
    with pytest.raises(ValidationError) as refused:
        AgencyRegime(agency=agency, regime=regimes["GDPR"]).full_clean()
    assert list(refused.value.message_dict) == ["__all__"]


def test_the_demo_incident_reports_under_nis2_with_a_deadline_hours_ahead(db):
    from django.core.management import call_command
    from django.utils import timezone

    from incidents.demo import OPEN_TITLE
    from incidents.models import Incident, KeyAction, TimelineEntry
    from qgov.models import Agency

    call_command("load_catalogs", verbosity=0)
    call_command("load_demo", password="demo-password-1", verbosity=0)
    call_command("load_demo", password="demo-password-1", verbosity=0)  # twice: nothing doubles
    agency = Agency.objects.get(code="DEMO")
    assert list(AgencyRegime.objects.filter(agency=agency).values_list("regime__code", flat=True)) == ["NIS2"]
    incident = Incident.objects.get(agency=agency, title=OPEN_TITLE)
    rows = {row.clock.code: row for row in RegulatorNotification.objects.filter(incident=incident)
            .select_related("clock")}
    assert sorted(rows) == ["early-warning", "final-report", "notification"]
    left = rows["early-warning"].due_at - timezone.now()
    assert dt.timedelta(hours=2, minutes=50) < left <= dt.timedelta(hours=3)
    assert rows["early-warning"].due_at == incident.detected_at + dt.timedelta(hours=24)
    assert KeyAction.objects.filter(incident=incident).count() == 1
    assert TimelineEntry.objects.filter(incident=incident, kind="note").count() == 1
    # The closed tampering case predates the agency's choice: no regimes, no reminders about it.
    assert RegulatorNotification.objects.filter(agency=agency).exclude(incident=incident).count() == 0
