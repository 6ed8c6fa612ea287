"""How audit events read on pages: field labels instead of attribute names (`Owner`, not
`owner_id`), related records by their names instead of their ids, record types in words ("Audit
event"). The events keep the raw values, which the hash chain covers; only the display
resolves them, in one query per related model for a whole page of events.
"""

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _

HIDDEN_FIELDS = {"version"}  # record keeping, not a change anyone made


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str | None  # None: no value (shown as a dash)
    after: str | None


def model_label(content_type) -> str:
    """The model's verbose name ("Audit event", not "auditevent"); the raw name for a model that no
    longer exists."""
    model = content_type.model_class()
    if model is None:
        return f"{content_type.app_label}.{content_type.model}"
    return str(capfirst(model._meta.verbose_name))


def field_label(model, key: str) -> str:
    field = _fields_by_key(model).get(key) if model is not None else None
    return str(capfirst(field.verbose_name)) if field is not None else key


def changed_labels(event) -> list[str]:
    """The labels of the fields an event changed (for one line of a list; no query)."""
    model = _model_of(event)
    return [field_label(model, key) for key in event.changed_fields if key not in HIDDEN_FIELDS]


def attach_changes(events) -> list:
    """Give each event `display_changes`: a FieldChange per changed field, related records named.
    The names of each related model's records come in one query, however many events."""
    events = list(events)
    rows = {id(event): _rows(_model_of(event), event.before or {}, event.after or {}, _keys(event))
            for event in events}
    names = _related_names(row for event_rows in rows.values() for row in event_rows)
    for event in events:
        # A record created or deleted is told by the values it had, not by a row of empty ones.
        event.display_changes = [change for change in (_field_change(row, names) for row in rows[id(event)])
                                 if (change.before, change.after) != (None, None)]
    return events


def describe(model, changes) -> list[FieldChange]:
    """FieldChanges of (snapshot key, before, after) of a `model` record (e.g. what changed since
    the version a form was opened at), related records named."""
    rows = [(_fields_by_key(model).get(key), key, before, after) for key, before, after in changes]
    names = _related_names(rows)
    return [_field_change(row, names) for row in rows]


def _model_of(event):
    # From the content type cache, not a query per event.
    return ContentType.objects.get_for_id(event.content_type_id).model_class()


def _keys(event) -> list[str]:
    return [key for key in event.changed_fields if key not in HIDDEN_FIELDS]


def _rows(model, before: dict, after: dict, keys) -> list[tuple]:
    """(field or None, key, before, after) of each key; the primary key is not a change to show."""
    fields = _fields_by_key(model) if model is not None else {}
    rows = [(fields.get(key), key, before.get(key), after.get(key)) for key in keys]
    return [row for row in rows if not (row[0] is not None and row[0].primary_key)]


def _related_names(rows) -> dict:
    """{related model: {pk as text: name}} for every related id in `rows`, one query per model."""
    wanted: dict[type, set] = {}
    for field, _key, before, after in rows:
        if field is not None and field.is_relation and field.related_model is not None:
            wanted.setdefault(field.related_model, set()).update(_ids(before) + _ids(after))
    return {related: _names_of(related, ids) for related, ids in wanted.items()}


def _field_change(row, names) -> FieldChange:
    field, key, before, after = row
    return FieldChange(label=str(capfirst(field.verbose_name)) if field is not None else key,
                       before=_display(field, before, names), after=_display(field, after, names))


def _fields_by_key(model) -> dict:
    """A snapshot's keys are concrete fields' attnames (`owner_id`) and many-to-many names."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    fields.update({f.name: f for f in model._meta.many_to_many})
    return fields


def _ids(value) -> list:
    if value is None:
        return []
    return [item for item in value if item is not None] if isinstance(value, list) else [value]


def _names_of(model, ids) -> dict:
    if not ids:
        return {}
    # Records referred to by a change may since be deleted, or out of a default manager's scope.
    return {str(obj.pk): str(obj) for obj in model._base_manager.filter(pk__in=ids)}


def _display(field, value, names) -> str | None:
    if value is None or value == [] or value == "":
        return None
    if field is None:
        return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    if field.is_relation and field.related_model is not None:
        known = names.get(field.related_model, {})
        return ", ".join(known.get(str(pk), _("#%(id)s (deleted)") % {"id": pk}) for pk in _ids(value))
    if field.choices:
        choices = dict(field.flatchoices)
        if isinstance(value, list):
            return ", ".join(str(choices.get(item, item)) for item in value)
        return str(choices.get(value, value))
    if isinstance(field, models.BooleanField):
        return _("Yes") if value else _("No")
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None:
            return date_format(timezone.localtime(moment), "Y-m-d H:i T")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)
