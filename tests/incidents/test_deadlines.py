"""Deadline arithmetic (incidents.deadlines) with exact instants: elapsed hours across DST
changes, calendar months on the agency's wall clock, end-of-month clamping, the spring gap and the
autumn overlap, and DORA's earlier-of-two bounds. Pure functions: no database."""

import datetime as dt
import zoneinfo

import pytest

from incidents.deadlines import (
    AFTER_CLOCK,
    AWARENESS,
    CLASSIFICATION,
    EARLIEST,
    UNKNOWN,
    ClockRule,
    Deadline,
    add_months,
    add_period,
    deadline,
    remaining,
)

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
UTC = dt.UTC


def utc(*args):
    return dt.datetime(*args, tzinfo=UTC)


def berlin(*args):
    return dt.datetime(*args, tzinfo=BERLIN)


def test_hours_are_elapsed_across_the_autumn_change_in_berlin():
    # Aware at 10:00 CEST on Saturday 24 October 2026; clocks go back at 03:00 CEST on the Sunday.
    aware = berlin(2026, 10, 24, 10, 0)
    assert aware == utc(2026, 10, 24, 8, 0)
    due = add_period(aware, hours=24, tz=BERLIN)
    assert due == utc(2026, 10, 25, 8, 0)
    assert due.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M %Z") == "2026-10-25 09:00 CET"  # not 10:00


def test_hours_are_elapsed_across_the_spring_change_in_berlin():
    # Aware at 10:00 CET on Saturday 28 March 2026; clocks go forward at 02:00 CET on the Sunday.
    aware = berlin(2026, 3, 28, 10, 0)
    assert aware == utc(2026, 3, 28, 9, 0)
    due = add_period(aware, hours=24, tz=BERLIN)
    assert due == utc(2026, 3, 29, 9, 0)
    assert due.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M %Z") == "2026-03-29 11:00 CEST"


def test_72_hours_across_the_new_york_change():
    # Aware at 20:30 EDT on 30 October 2026; clocks go back at 02:00 EDT on 1 November.
    aware = dt.datetime(2026, 10, 30, 20, 30, tzinfo=NEW_YORK)
    assert aware == utc(2026, 10, 31, 0, 30)
    due = add_period(aware, hours=72, tz=NEW_YORK)
    assert due == utc(2026, 11, 3, 0, 30)
    assert due.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M %Z") == "2026-11-02 19:30 EST"


def test_a_4_hour_clock_that_runs_through_the_repeated_hour_in_new_york():
    aware = dt.datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK)  # 00:30 EDT = 04:30 UTC
    due = add_period(aware, hours=4, tz=NEW_YORK)
    assert due == utc(2026, 11, 1, 8, 30)
    assert due.astimezone(NEW_YORK).strftime("%H:%M %Z") == "03:30 EST"  # 01:00–02:00 happened twice


def test_a_month_keeps_the_wall_clock_across_the_spring_change():
    start = berlin(2026, 3, 10, 12, 0)  # 11:00 UTC, CET
    due = add_months(start, 1, BERLIN)
    assert due == utc(2026, 4, 10, 10, 0)  # 12:00 CEST
    assert due - start == dt.timedelta(days=31, hours=-1)


def test_a_month_keeps_the_wall_clock_across_the_autumn_change():
    start = berlin(2026, 10, 10, 9, 15)  # 07:15 UTC, CEST
    assert add_months(start, 1, BERLIN) == utc(2026, 11, 10, 8, 15)  # 09:15 CET


def test_a_month_in_new_york_across_1_november():
    start = dt.datetime(2026, 10, 15, 17, 0, tzinfo=NEW_YORK)  # EDT
    assert add_months(start, 1, NEW_YORK) == utc(2026, 11, 15, 22, 0)  # 17:00 EST


@pytest.mark.parametrize(("start", "months", "expected"), [
    (berlin(2026, 1, 31, 10, 0), 1, utc(2026, 2, 28, 9, 0)),
    (berlin(2028, 1, 31, 10, 0), 1, utc(2028, 2, 29, 9, 0)),  # leap year
    (berlin(2026, 3, 31, 18, 0), 1, utc(2026, 4, 30, 16, 0)),  # CEST
    (berlin(2026, 12, 31, 23, 30), 1, utc(2027, 1, 31, 22, 30)),  # across the year
    (berlin(2026, 1, 31, 10, 0), 13, utc(2027, 2, 28, 9, 0)),
])
def test_end_of_month_clamps_to_the_last_day(start, months, expected):
    assert add_months(start, months, BERLIN) == expected


def test_31_january_is_the_berlin_date_not_the_utc_one():
    # 00:30 on 1 February in Berlin is still 31 January in UTC: the agency's calendar decides.
    start = berlin(2026, 2, 1, 0, 30)
    assert start == utc(2026, 1, 31, 23, 30)
    assert add_months(start, 1, BERLIN) == utc(2026, 2, 28, 23, 30)  # 1 March 00:30 CET
    assert add_months(start, 1, UTC) == utc(2026, 2, 28, 23, 30)  # 31 Jan UTC + 1 month clamps to 28 Feb
    late = berlin(2026, 1, 31, 23, 30)  # 22:30 UTC on the 31st in both
    assert add_months(late, 1, BERLIN) == utc(2026, 2, 28, 22, 30)


def test_a_month_landing_in_the_spring_gap_moves_forward_by_the_gap():
    start = berlin(2026, 1, 29, 2, 30)  # 01:30 UTC
    due = add_months(start, 2, BERLIN)  # 29 March 02:30 does not exist in Berlin
    assert due == utc(2026, 3, 29, 1, 30)
    assert due.astimezone(BERLIN).strftime("%H:%M %Z") == "03:30 CEST"


def test_a_month_landing_in_the_autumn_overlap_is_its_first_occurrence():
    start = berlin(2026, 9, 25, 2, 30)  # 00:30 UTC, CEST
    due = add_months(start, 1, BERLIN)  # 25 October 02:30 happens twice in Berlin
    assert due == utc(2026, 10, 25, 0, 30)  # the first, in summer time
    assert due.astimezone(BERLIN).strftime("%H:%M %Z") == "02:30 CEST"


def test_months_then_hours():
    assert add_period(berlin(2026, 1, 31, 10, 0), months=1, hours=2, tz=BERLIN) == utc(2026, 2, 28, 11, 0)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        add_period(dt.datetime(2026, 1, 1), hours=1)


DORA_INITIAL = ClockRule(start=EARLIEST, hours=4, awareness_hours=24)


def test_dora_initial_is_the_earlier_of_4_hours_after_classification_and_24_after_awareness():
    aware = utc(2026, 6, 1, 8, 0)
    early_classification = utc(2026, 6, 1, 10, 0)
    assert deadline(DORA_INITIAL, awareness=aware, classification=early_classification) == Deadline(
        early_classification, utc(2026, 6, 1, 14, 0))
    late_classification = utc(2026, 6, 2, 6, 0)  # + 4 h = 10:00 on the 2nd, after awareness + 24 h
    assert deadline(DORA_INITIAL, awareness=aware, classification=late_classification) == Deadline(
        aware, utc(2026, 6, 2, 8, 0))
    tie = utc(2026, 6, 2, 4, 0)
    assert deadline(DORA_INITIAL, awareness=aware, classification=tie) == Deadline(tie, utc(2026, 6, 2, 8, 0))


def test_dora_initial_before_classification_is_due_24_hours_after_awareness():
    aware = utc(2026, 6, 1, 8, 0)
    assert deadline(DORA_INITIAL, awareness=aware, classification=None) == Deadline(aware, utc(2026, 6, 2, 8, 0))


def test_a_classification_clock_has_no_deadline_before_the_classification():
    rule = ClockRule(start=CLASSIFICATION, hours=72)
    assert deadline(rule, awareness=utc(2026, 6, 1, 8, 0), classification=None) == UNKNOWN
    assert deadline(rule, awareness=utc(2026, 6, 1, 8, 0), classification=utc(2026, 6, 1, 9, 30)) == Deadline(
        utc(2026, 6, 1, 9, 30), utc(2026, 6, 4, 9, 30))


def test_after_another_clock_counts_from_its_sending_else_from_its_due_date():
    rule = ClockRule(start=AFTER_CLOCK, months=1)
    due = berlin(2026, 3, 20, 9, 0)
    sent = berlin(2026, 3, 19, 16, 45)
    assert deadline(rule, awareness=None, classification=None, previous_due=due, tz=BERLIN) == Deadline(
        utc(2026, 3, 20, 8, 0), utc(2026, 4, 20, 7, 0))
    assert deadline(rule, awareness=None, classification=None, previous_due=due, previous_sent=sent,
                    tz=BERLIN) == Deadline(utc(2026, 3, 19, 15, 45), utc(2026, 4, 19, 14, 45))
    assert deadline(rule, awareness=None, classification=None, tz=BERLIN) == UNKNOWN


def test_awareness_clock():
    aware = dt.datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NEW_YORK)  # the second 01:30, EST
    assert deadline(ClockRule(start=AWARENESS, hours=24), awareness=aware, classification=None) == Deadline(
        utc(2026, 11, 1, 6, 30), utc(2026, 11, 2, 6, 30))


@pytest.mark.parametrize(("due", "text"), [
    (utc(2026, 6, 3, 11, 4, 59), "2 d 03 h 04 min"),
    (utc(2026, 6, 1, 11, 5), "3 h 05 min"),
    (utc(2026, 6, 1, 8, 12), "12 min"),
    (utc(2026, 6, 1, 6, 30), "-1 h 30 min"),
])
def test_remaining_time_as_text(due, text):
    assert remaining(due, utc(2026, 6, 1, 8, 0)) == text
