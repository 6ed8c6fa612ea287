"""How a model says it has a due date, and how the core finds the models that do."""

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q


@dataclass(frozen=True)
class DueDate:
    """One expiry or deadline of a model.

    field     the date field (a DateTimeField works too: its date, in UTC, is what is due), or
              with `hours`, the DateTimeField holding the exact instant of the deadline
    label     what happens on that date, e.g. "Certificate expires"
    owner     lookup path to the user answerable for it ("risk__owner"), or None
    open      a Q, or a callable returning a Q or a boolean expression (e.g. ~Exists(renewal)),
              selecting the records still due; a record that leaves it is no longer reminded
              about nor listed. Evaluated each time it is used, so callables may read the clock.
    escalate  the reminder at the agency's last (smallest) threshold is an escalation to the
              agency admins, and one more escalation goes out when the date arrives with the
              record still open
    name      tells two due dates of one model apart; defaults to `field`
    hours     a deadline in hours (regulator clocks): the thresholds, in hours before the instant,
              e.g. (12, 4, 1). They replace the agency's day thresholds for this due date; the
              reminders go out from the frequent beat task, and with `escalate` the last of them
              is an escalation and one more goes out when the instant passes still open
    """

    field: str
    label: str
    owner: str | None = None
    open: Q | Callable | None = None
    escalate: bool = False
    name: str | None = None
    hours: tuple[int, ...] | None = None

    @property
    def key(self) -> str:
        return self.name or self.field

    @property
    def in_hours(self) -> bool:
        """A deadline at an instant, reminded in hours (rather than a date reminded in days)."""
        return self.hours is not None

    def hour_thresholds(self) -> list[int]:
        """The declared thresholds, largest first, and 0 (the instant itself) for escalating ones."""
        return [*sorted(self.hours, reverse=True), *([0] if self.escalate else [])]

    def open_condition(self):
        """The condition as a filter argument (a Q or an expression), or None for "always open"."""
        return self.open() if callable(self.open) else self.open


# A year: longer deadlines are dates, reminded in days.
MAX_THRESHOLD_HOURS = 8760


def _valid_hours(hours) -> bool:
    return (isinstance(hours, (tuple, list)) and 1 <= len(hours) <= 6 and len(set(hours)) == len(hours)
            and all(isinstance(h, int) and not isinstance(h, bool) and 1 <= h <= MAX_THRESHOLD_HOURS
                    for h in hours))


def declaring_models() -> list[type[models.Model]]:
    """The installed models that declare at least one due date, in a stable order."""
    from qgov.models import QgovModel

    found = [model for model in apps.get_models() if issubclass(model, QgovModel) and model.due_dates]
    return sorted(found, key=type_key)


def declared_due_dates() -> list[tuple[type[models.Model], DueDate]]:
    return [(model, due) for model in declaring_models() for due in model.due_dates]


def type_key(model) -> str:
    """How the page and the API name a record type: "<app_label>.<model_name>"."""
    return f"{model._meta.app_label}.{model._meta.model_name}"


def _resolve(model, path: str):
    """The field at the end of a lookup path, or raise FieldDoesNotExist / ValueError."""
    field = None
    for part in path.split("__"):
        if field is not None:
            if not field.is_relation or field.related_model is None:
                raise ValueError(f"{path!r}: {field.name!r} is not a relation")
            model = field.related_model
        field = model._meta.get_field(part)
    return field


def declaration_problems(model) -> list[str]:
    """What is wrong with a model's due-date declarations (empty when nothing is): run by the
    conventions test over every declaring model, so a typo fails CI rather than a nightly task."""
    problems = []
    if not any(field.name == "agency" for field in model._meta.concrete_fields):
        problems.append(f"{model.__name__}: only agency records (AgencyScopedModel) can declare due dates")
    names = [due.key for due in model.due_dates]
    if len(set(names)) != len(names):
        problems.append(f"{model.__name__}: two due dates share a name; give them distinct `name`s")
    for due in model.due_dates:
        where = f"{model.__name__}.due_dates[{due.key}]"
        if not isinstance(due, DueDate):
            problems.append(f"{where}: not a DueDate")
            continue
        try:
            field = _resolve(model, due.field)
        except (FieldDoesNotExist, ValueError) as error:
            problems.append(f"{where}: field {due.field!r}: {error}")
        else:
            if "__" in due.field or not isinstance(field, (models.DateField, models.DateTimeField)):
                problems.append(f"{where}: {due.field!r} is not a date or datetime field of the model")
            elif due.in_hours and not isinstance(field, models.DateTimeField):
                problems.append(f"{where}: a deadline in hours needs a DateTimeField; {due.field!r} is a date")
        if due.in_hours and not _valid_hours(due.hours):
            problems.append(f"{where}: hours must be 1 to 6 distinct whole numbers of hours from 1 to "
                            f"{MAX_THRESHOLD_HOURS}, e.g. (12, 4, 1)")
        if due.owner is not None:
            try:
                owner = _resolve(model, due.owner)
            except (FieldDoesNotExist, ValueError) as error:
                problems.append(f"{where}: owner {due.owner!r}: {error}")
            else:
                user_model = apps.get_model(settings.AUTH_USER_MODEL)
                if not (owner.many_to_one or owner.one_to_one) or owner.related_model is not user_model:
                    problems.append(f"{where}: owner {due.owner!r} is not a foreign key to the user model")
        if due.open is not None and not callable(due.open) and not isinstance(due.open, Q):
            problems.append(f"{where}: open must be a Q or a callable returning one")
        if len(due.key) > 50:
            problems.append(f"{where}: name longer than 50 characters")
        if not str(due.label).strip():
            problems.append(f"{where}: label is empty")
    return problems
