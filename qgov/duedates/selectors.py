"""What is due: the records of every declaring model whose due date falls within a window, as
the due-soon page, the dashboard panel and the API list them."""

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db import models
from django.utils import timezone

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
        return self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return max(-self.days_left, 0)


def agency_today(agency) -> dt.date:
    """Today's date where the agency is."""
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(agency.time_zone or "UTC"))


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


def due_items(*, user, agency=None, within_days: int, overdue: bool = True, types=None, today=None) -> list[DueItem]:
    """What is due in `agency` (all of the user's agencies when None) within `within_days` days,
    and what is overdue unless `overdue=False`, across every model that declares a due date and
    restricted to the records the user may view: one query per declaring model, sorted by date.
    `types` limits it to some record types ("app_label.model_name")."""
    items = []
    for model, due in declared_due_dates():
        if types is not None and type_key(model) not in types:
            continue
        records = model.objects.restrict(user, Action.VIEW)
        if agency is not None:
            records = records.in_agency(agency)
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
    return sorted(items, key=lambda item: (item.due_on, item.type, item.record.pk))
