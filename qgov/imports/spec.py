"""ImportSpec: a model's import columns, declared once in its app's imports.py, and the registry
the core reads them from."""

from django.utils.translation import gettext as _

from qgov.imports.columns import CellError, Column, cell_text
from qgov.lifecycle import owned_fields_of


class HeaderProblem(Exception):
    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems  # (column, message)
        super().__init__(f"{len(problems)} header problems")




class ImportSpec:
    """`model` is imported from files whose header names some of `columns`. A row whose `key`
    column names an existing record of the agency updates it; other rows create records."""

    def __init__(self, model, columns: list[Column], *, key: str | None = None):
        self.model = model
        self.columns = {column.name: column for column in columns}
        for column in columns:
            column.bind(model)
        self.key = key
        if key is not None and key not in self.columns:
            raise ValueError(f"{model.__name__} import: the key {key!r} is not one of the columns")

    def column_of(self, field: str) -> str:
        """The column that writes `field` (for the row report), else the field's own name."""
        return next((column.name for column in self.columns.values() if column.field == field), field)

    @property
    def key_column(self) -> Column | None:
        return self.columns.get(self.key) if self.key else None

    def importable_columns(self) -> list[Column]:
        owned = owned_fields_of(self.model)  # written only by the lifecycle: never importable
        return [column for column in self.columns.values() if column.field not in owned]

    def read_header(self, cells) -> list[Column | None]:
        """The column of each position (None for a blank header cell), or HeaderProblem."""
        owned = owned_fields_of(self.model)  # written only by the lifecycle: never importable
        names = [cell_text(cell).lower() for cell in cells]
        problems, seen = [], set()
        for name in names:
            if not name:
                continue
            column = self.columns.get(name)
            if name in seen:
                problems.append((name, _("This column appears twice.")))
            elif name in owned or (column is not None and column.field in owned):
                problems.append((name, _("This field is set by the record's workflow and cannot be imported.")))
            elif column is None:
                problems.append((name, _("Unknown column.")))
            seen.add(name)
        for column in self.columns.values():
            if column.required and column.name not in seen:
                problems.append((column.name, _("Required column is missing.")))
        if problems:
            raise HeaderProblem(problems)
        return [self.columns[name] if name else None for name in names]

    def prepare(self, agency, header: list[Column | None]) -> dict:
        """Look-up maps for the columns of this file, one query each."""
        return {column.name: column.prepare(agency) for column in header if column is not None}

    def parse_row(self, header, cells, lookups) -> tuple[dict, list[tuple[str, str]]]:
        """(data for the write services, [(column, message), ...]) of one row; the data leaves
        out fields whose cell could not be read."""
        data, problems = {}, []
        for position, column in enumerate(header):
            if column is None:
                continue
            value = cells[position] if position < len(cells) else None
            try:
                data[column.field] = column.parse(value, lookups[column.name])
            except CellError as error:
                problems += [(column.name, message) for message in error.messages]
        return data, problems


_SPECS: dict[type, ImportSpec] = {}


def register(spec: ImportSpec) -> ImportSpec:
    """Make `spec.model` importable (called at import time of an app's imports.py)."""
    _SPECS[spec.model] = spec
    return spec


def spec_for(model) -> ImportSpec | None:
    return _SPECS.get(model)


def importable_models() -> list[type]:
    return list(_SPECS)
