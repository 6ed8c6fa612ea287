"""Regulator deadlines as pure functions: no database, no clock, so every rule is tested with exact
instants (tests/incidents/test_clocks.py). `incidents.clocks` applies them to incidents.

Two kinds of period, on purpose:

- **Hours are elapsed hours.** "Within 72 hours" is 72 × 3600 seconds after the start, whatever
  the wall clock does in between: 24 hours after 10:00 CEST on the Saturday before the autumn
  change is 09:00 CET on the Sunday. Computed on absolute instants, so DST cannot move them.
- **Months are calendar months on the agency's wall clock.** "One month after" keeps the local
  time of day and the day of the month (clamped to the month's last day: 31 January + 1 month is
  28 February, or 29 in a leap year), in the agency's time zone, so a month that crosses a DST
  change is one hour shorter or longer in elapsed time.

A calendar month can land on a local time that does not exist (the spring gap) or exists twice
(the autumn overlap). Both resolve as Python reads a wall time with `fold=0` (PEP 495), the
offset in force *before* the change:

- a time in the spring gap moves forward by the gap: 02:30 on 29 March 2026 in Europe/Berlin is
  03:30 CEST (01:30 UTC);
- a time in the autumn overlap is its first occurrence, still in summer time: 02:30 on
  25 October 2026 in Europe/Berlin is 02:30 CEST (00:30 UTC) — the earlier, stricter deadline.
"""

import calendar
import datetime as dt
import zoneinfo
from dataclasses import dataclass

UTC = dt.UTC

# How a clock's start is found (RegulatorClockStartChoices holds the same values for the model).
AWARENESS = "awareness"  # when the agency became aware: Incident.detected_at
CLASSIFICATION = "classification"  # when it was classified as significant/major: Incident.classified_at
EARLIEST = "earliest"  # the earlier of `hours` after classification and `awareness_hours` after awareness
AFTER_CLOCK = "after_clock"  # after another clock's notification: its sent_at when sent, else its due_at


@dataclass(frozen=True)
class ClockRule:
    start: str
    hours: int | None = None  # elapsed hours after the start (for EARLIEST: after classification)
    months: int | None = None  # calendar months after the start, in the agency's time zone
    awareness_hours: int | None = None  # EARLIEST only: the bound counted from awareness


@dataclass(frozen=True)
class Deadline:
    """When a clock started and when it is due; both None while its start is unknown."""

    start: dt.datetime | None
    due: dt.datetime | None


UNKNOWN = Deadline(None, None)


def add_months(instant: dt.datetime, months: int, tz: dt.tzinfo) -> dt.datetime:
    """`instant` plus calendar months on the wall clock of `tz`, as an instant in UTC (see the
    module's note for end-of-month clamping and DST gaps and overlaps)."""
    local = instant.astimezone(tz)
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    wall = local.replace(tzinfo=None, year=year, month=month, day=day, fold=0)
    return wall.replace(tzinfo=tz).astimezone(UTC)


def add_period(start: dt.datetime, *, hours: int | None = None, months: int | None = None,
               tz: dt.tzinfo = UTC) -> dt.datetime:
    """Calendar months first (wall clock of `tz`), then elapsed hours."""
    if start.tzinfo is None:
        raise ValueError("Deadlines are computed from aware datetimes.")
    due = start.astimezone(UTC)
    if months:
        due = add_months(due, months, tz)
    if hours:
        due = due + dt.timedelta(hours=hours)
    return due


def deadline(rule: ClockRule, *, awareness: dt.datetime | None, classification: dt.datetime | None,
             previous_sent: dt.datetime | None = None, previous_due: dt.datetime | None = None,
             tz: dt.tzinfo = UTC) -> Deadline:
    """The start and due instant of one clock.

    awareness / classification  the incident's detected_at / classified_at (None: not yet)
    previous_sent / previous_due  for AFTER_CLOCK: the other clock's notification, sent or due
    tz  the agency's time zone (months only)

    EARLIEST with no classification yet is due `awareness_hours` after awareness: that bound holds
    whatever the classification brings, so the deadline is shown from the start and can only move
    earlier once the classification is known. Its start is the start of the bound that binds."""
    if rule.start == AWARENESS:
        start = awareness
    elif rule.start == CLASSIFICATION:
        start = classification
    elif rule.start == AFTER_CLOCK:
        start = previous_sent or previous_due
    elif rule.start == EARLIEST:
        candidates = []
        if classification is not None:
            candidates.append(Deadline(classification, add_period(classification, hours=rule.hours,
                                                                  months=rule.months, tz=tz)))
        if awareness is not None and rule.awareness_hours is not None:
            candidates.append(Deadline(awareness, add_period(awareness, hours=rule.awareness_hours, tz=tz)))
        # Ties go to the classification bound: it is the one DORA names first.
        return min(candidates, key=lambda candidate: candidate.due) if candidates else UNKNOWN
    else:
        raise ValueError(f"Unknown clock start {rule.start!r}")
    if start is None:
        return UNKNOWN
    return Deadline(start.astimezone(UTC), add_period(start, hours=rule.hours, months=rule.months, tz=tz))


def zone(name: str) -> dt.tzinfo:
    """The agency's time zone by name (UTC when blank or unknown, which the model's choices prevent)."""
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def remaining(due: dt.datetime, now: dt.datetime) -> str:
    """The time left (or overdue) as text the page shows without JavaScript: "2 d 03 h 04 min",
    "3 h 05 min", "12 min"; past the deadline the same with a leading minus."""
    seconds = int((due - now).total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{sign}{days} d {hours:02d} h {minutes:02d} min"
    if hours:
        return f"{sign}{hours} h {minutes:02d} min"
    return f"{sign}{minutes} min"
