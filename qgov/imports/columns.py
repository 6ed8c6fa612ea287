"""Import columns: how one spreadsheet column becomes one value of a model field.

A column reads one cell and returns the value the write services expect, or raises CellError with
a message for the row report. Related records are found by a natural key (a threat vector's code,
an asset's name, a member's username) in maps built once per run, never by a query per row.
"""

import datetime
import decimal

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

LIST_SEPARATOR = ";"
AMBIGUOUS = object()  # a natural key that names several records


class CellError(Exception):
    """What is wrong with a cell: one message, or several (one per unknown entry of a list)."""

    def __init__(self, *messages: str):
        self.messages = list(messages)
        super().__init__(" ".join(messages))


def cell_text(value) -> str:
    """A cell as stripped text; XLSX gives whole numbers as floats (4.0 → "4")."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        value = value.date()
    return str(value).strip()


class Column:
    """A column named `name` in the header, writing model field `field` (default: the same name)."""

    def __init__(self, name: str, field: str | None = None, *, required: bool = False, help_text: str = ""):
        self.name = name.lower()
        self.field = field or name
        self.required = required
        self.help_text = help_text
        self.model_field = None

    def bind(self, model):
        self.model_field = model._meta.get_field(self.field)

    def prepare(self, agency):
        """What parse() needs to look values up (built once per run)."""
        return None

    def parse(self, value, lookup):
        raise NotImplementedError

    def describe(self) -> str:
        return self.help_text

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"


class Text(Column):
    def parse(self, value, lookup):
        return cell_text(value)


class Integer(Column):
    def parse(self, value, lookup):
        text = cell_text(value)
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            raise CellError(_("Enter a whole number.")) from None

    def describe(self):
        return self.help_text or _("a whole number")


class Decimal(Column):
    def parse(self, value, lookup):
        text = cell_text(value)
        if not text:
            return None
        try:
            return decimal.Decimal(text)
        except decimal.InvalidOperation:
            raise CellError(_("Enter a number.")) from None

    def describe(self):
        return self.help_text or _("a number")


class Boolean(Column):
    TRUE = {"1", "true", "yes", "y"}
    FALSE = {"0", "false", "no", "n"}

    def parse(self, value, lookup):
        if isinstance(value, bool):
            return value
        text = cell_text(value).lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise CellError(_("Write yes or no."))

    def describe(self):
        return self.help_text or _("yes or no")


class Date(Column):
    def parse(self, value, lookup):
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        text = cell_text(value)
        if not text:
            return None
        try:
            return datetime.date.fromisoformat(text)
        except ValueError:
            raise CellError(_("Write dates as YYYY-MM-DD.")) from None

    def describe(self):
        return self.help_text or _("YYYY-MM-DD")


class Choice(Column):
    """A choice by its value or its label, in any case. Anything else is passed on as written, so
    the model reports it exactly as a form or the API would."""

    def prepare(self, agency):
        choices = {}
        for value, label in self.model_field.flatchoices:
            choices[str(value).lower()] = value
            choices.setdefault(str(label).lower(), value)
        return choices

    def parse(self, value, lookup):
        text = cell_text(value)
        return lookup.get(text.lower(), text)

    def describe(self):
        return self.help_text or ", ".join(str(value) for value, _label in self.model_field.flatchoices)


class Related(Column):
    """A record (or, with many=True, records separated by ";") named by its natural `key`: records
    of the run's agency, or of a shared catalog."""

    def __init__(self, name, model=None, *, key: str, many: bool = False, field=None, required=False,
                 help_text=""):
        super().__init__(name, field, required=required, help_text=help_text)
        self.related_model = model
        self.key = key
        self.many = many

    def bind(self, model):
        super().bind(model)
        if self.related_model is None:
            self.related_model = self.model_field.related_model

    def queryset(self, agency):
        queryset = self.related_model._default_manager.all()
        agency_lookup = getattr(self.related_model, "agency_lookup", None)
        return queryset.filter(**{agency_lookup: agency}) if agency_lookup else queryset

    def prepare(self, agency):
        found = {}
        for obj in self.queryset(agency):
            name = cell_text(getattr(obj, self.key)).lower()
            found[name] = AMBIGUOUS if name in found else obj
        return found

    def unknown(self, key) -> str:
        return _("“%(key)s” is not a known %(model)s.") % {
            "key": key, "model": self.related_model._meta.verbose_name}

    def find(self, key, lookup):
        obj = lookup.get(key.lower())
        if obj is None:
            raise CellError(self.unknown(key))
        if obj is AMBIGUOUS:
            raise CellError(_("“%(key)s” names several records; make the %(field)s unique first.") % {
                "key": key, "field": self.related_model._meta.get_field(self.key).verbose_name})
        return obj

    def parse(self, value, lookup):
        text = cell_text(value)
        if not self.many:
            return self.find(text, lookup) if text else None
        keys = [key.strip() for key in text.split(LIST_SEPARATOR) if key.strip()]
        records, problems = [], []
        for key in keys:
            try:
                records.append(self.find(key, lookup))
            except CellError as error:
                problems += error.messages
        if problems:
            raise CellError(*problems)
        return records

    def describe(self):
        what = _("%(model)s %(key)s") % {"model": self.related_model._meta.verbose_name,
                                        "key": self.related_model._meta.get_field(self.key).verbose_name}
        return self.help_text or (_("%(what)s, several separated by “;”") % {"what": what} if self.many else what)


class Member(Related):
    """A person by username, who must be a member of the run's agency."""

    def __init__(self, name, *, field=None, required=False, help_text=""):
        super().__init__(name, get_user_model(), key="username", field=field, required=required,
                         help_text=help_text)

    def queryset(self, agency):
        return self.related_model._default_manager.filter(memberships__agency=agency)

    def unknown(self, key):
        return _("“%(key)s” is not a member of this agency.") % {"key": key}

    def describe(self):
        return self.help_text or _("username of a member of the agency")
