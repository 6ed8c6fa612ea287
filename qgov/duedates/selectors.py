"""What is due: the records of every declaring model whose due date falls within a window, as
the due-soon page, the dashboard panel and the API list them."""

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db import models
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from qgov.duedates.declaration import DueDate, declared_due_dates, type_key
from qgov.roles import Action
from qgov.writing import forward_relations


@dataclass(frozen=True)
class DueItem:
    record: models.Model
    due: DueDate
    due_on: dt.date
    days_left: int  # negative when overdue
    owner: object | None  # the user answerable for it, or None
    escalated: bool  # the escalation point (the agency's last threshold, for escalating due dates) is reached
    # A deadline in hours: the instant in the agency's zone, and the seconds left (negative when passed).
    due_at: dt.datetime | None = None
    seconds_left: float | None = None

    @property
    def type(self) -> str:
        return type_key(type(self.record))

    @property
    def type_label(self) -> str:
        return str(type(self.record)._meta.verbose_name)

    @property
    def label(self) -> str:
        return str(self.due.label)

    @property
    def url(self) -> str:
        return self.record.get_absolute_url()

    @property
    def overdue(self) -> bool:
        return self.seconds_left < 0 if self.due_at is not None else self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return max(-self.days_left, 0)

    @property
    def due_at_display(self) -> str:
        """The instant as people read it where the agency is: "14:00 CET (UTC+01:00), 3 Dec 2026"."""
        return deadline_text(self.due_at) if self.due_at is not None else ""

    @property
    def time_left(self) -> str:
        """Elapsed time to (or since) the instant: "3 hours 57 minutes"."""
        return duration_text(self.seconds_left) if self.due_at is not None else ""


def agency_today(agency) -> dt.date:
    """Today's date where the agency is."""
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(agency.time_zone or "UTC"))


def agency_zone(agency) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(agency.time_zone or "UTC")


def deadline_text(instant: dt.datetime, zone=None) -> str:
    """An instant as local wall time with the zone's abbreviation and its UTC offset, so that it
    cannot be misread across a DST change or between zones sharing an abbreviation:
    "14:00 CET (UTC+01:00), 3 Dec 2026"; "14:00 UTC, 3 Dec 2026" in UTC."""
    local = instant.astimezone(zone) if zone is not None else instant
    offset = local.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    numeric = f"UTC{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    name = local.tzname() or ""
    if not minutes:
        zone_text = "UTC"
    elif not name or name[0] in "+-":  # zones without an abbreviation are named by their offset
        zone_text = numeric
    else:
        zone_text = f"{name} ({numeric})"
    return _("%(time)s %(zone)s, %(date)s") % {
        "time": dateformat.format(local, "H:i"), "zone": zone_text, "date": dateformat.format(local, "j M Y")}


def duration_text(seconds: float) -> str:
    """Elapsed time in whole minutes, without sign: "4 hours", "3 hours 57 minutes", "45 minutes";
    from two days on, days and hours ("2 days 2 hours"): minutes a month away are noise."""
    hours, minutes = divmod(round(abs(seconds) / 60), 60)
    if hours >= 48:
        days, hours = divmod(hours, 24)
        text = ngettext("%(n)s day", "%(n)s days", days) % {"n": days}
        return text + (" " + ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours} if hours else "")
    parts = []
    if hours:
        parts.append(ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours})
    if minutes or not hours:
        parts.append(ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes})
    return " ".join(parts)


def seconds_between(start: dt.datetime, end: dt.datetime) -> float:
    """Elapsed seconds from one instant to another. Both go to UTC first: Python subtracts two
    datetimes of the same zone by their wall clocks, which is wrong across a DST change."""
    return (end.astimezone(dt.UTC) - start.astimezone(dt.UTC)).total_seconds()


def due_instant_of(record, due: DueDate) -> dt.datetime | None:
    """The instant of a deadline in hours (aware; a naive value is taken as UTC)."""
    value = getattr(record, due.field)
    if value is not None and timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    return value


def due_date_of(record, due: DueDate) -> dt.date | None:
    value = getattr(record, due.field)
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value, dt.UTC).date() if timezone.is_aware(value) else value.date()
    return value


def owner_of(record, due: DueDate):
    if due.owner is None:
        return None
    value = record
    for part in due.owner.split("__"):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def related_to_load(model, due: DueDate) -> list[str]:
    """Relations to read with each record in the same query: its agency, what its name and URL
    may use (its own foreign keys) and the owner."""
    paths = {"agency", *forward_relations(model)} & {f.name for f in model._meta.concrete_fields}
    if due.owner is not None:
        paths.add(due.owner)
    return sorted(paths)


def due_records(model, due: DueDate, queryset=None):
    """The records of `model` still due under `due` (date set, `open` met)."""
    queryset = model._default_manager.all() if queryset is None else queryset
    queryset = queryset.filter(**{f"{due.field}__isnull": False})
    condition = due.open_condition()
    return queryset.filter(condition) if condition is not None else queryset


def due_items(*, user, agency=None, within_days: int, overdue: bool = True, types=None, today=None,
              now=None) -> list[DueItem]:
    """What is due in `agency` (all of the user's agencies when None) within `within_days` days,
    and what is overdue unless `overdue=False`, across every model that declares a due date and
    restricted to the records the user may view: one query per declaring model, sorted by date
    (on one date, deadlines in hours first, by instant: a date is due by its end).
    `types` limits it to some record types ("app_label.model_name"); `today` and `now` (tests)
    replace the clock."""
    items = []
    now = now or timezone.now()
    for model, due in declared_due_dates():
        if types is not None and type_key(model) not in types:
            continue
        records = model.objects.restrict(user, Action.VIEW)
        if agency is not None:
            records = records.in_agency(agency)
        if due.in_hours:
            items.extend(_hour_items(model, due, records, within_days=within_days, overdue=overdue, today=today,
                                     now=now))
            continue
        start = today or (agency_today(agency) if agency is not None else timezone.localdate())
        records = due_records(model, due, records).filter(
            **{f"{due.field}__lt": start + dt.timedelta(days=within_days + 1)})
        if not overdue:
            records = records.filter(**{f"{due.field}__gte": start})
        for record in records.select_related(*related_to_load(model, due)).order_by(due.field, "pk"):
            due_on = due_date_of(record, due)
            days_left = (due_on - (today or agency_today(record.agency))).days
            if days_left > within_days or (days_left < 0 and not overdue):
                continue  # a datetime near midnight, or another agency's time zone
            escalated = due.escalate and days_left <= record.agency.last_threshold_days
            items.append(DueItem(record, due, due_on, days_left, owner_of(record, due), escalated))
    return sorted(items, key=_order)


_NO_INSTANT = dt.datetime.min.replace(tzinfo=dt.UTC)  # day-level items are never compared on it


def _order(item: DueItem):
    return (item.due_on, item.due_at is None, item.due_at or _NO_INSTANT, item.type, item.record.pk)


def _hour_items(model, due: DueDate, records, *, within_days: int, overdue: bool, today, now) -> list[DueItem]:
    """Deadlines in hours within the window: on or before the window's last day where the agency
    is, and not yet passed unless `overdue`. A day either side of the bound in the query, exact in
    Python per agency zone."""
    last_day = (today or now.astimezone(dt.UTC).date()) + dt.timedelta(days=within_days + 2)
    records = due_records(model, due, records).filter(
        **{f"{due.field}__lt": dt.datetime.combine(last_day, dt.time.min, tzinfo=dt.UTC)})
    if not overdue:
        records = records.filter(**{f"{due.field}__gte": now})
    items = []
    for record in records.select_related(*related_to_load(model, due)).order_by(due.field, "pk"):
        zone = agency_zone(record.agency)
        due_at = due_instant_of(record, due).astimezone(zone)
        days_left = (due_at.date() - (today or now.astimezone(zone).date())).days
        if days_left > within_days:
            continue
        seconds_left = seconds_between(now, due_at)
        escalated = due.escalate and seconds_left <= min(due.hours) * 3600
        items.append(DueItem(record, due, due_at.date(), days_left, owner_of(record, due), escalated,
                             due_at=due_at, seconds_left=seconds_left))
    return items
