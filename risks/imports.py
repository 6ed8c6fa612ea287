"""Bulk import of the risk register from CSV or XLSX: every row is checked first, and either all
rows are written in one transaction or none is, with a row-by-row error report."""

import csv
import datetime
import io
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from qgov.roles import Action
from qgov.services import object_create, require
from risks.models import Asset, Control, Risk, RiskMatrix, ThreatVector

COLUMNS = [
    "reference", "title", "description", "threat_vectors", "assets", "controls", "owner",
    "inherent_likelihood", "inherent_impact", "current_likelihood", "current_impact",
    "residual_likelihood", "residual_impact", "treatment", "review_date",
]
REQUIRED_COLUMNS = {"title", "inherent_likelihood", "inherent_impact"}
INTEGER_COLUMNS = {c for c in COLUMNS if c.endswith(("likelihood", "impact"))}
LIST_SEPARATOR = ";"
MAX_ROWS = 5000


@dataclass
class RowError:
    row: int
    field: str
    message: str

    def as_dict(self):
        return {"row": self.row, "field": self.field, "message": self.message}


class ImportFailed(Exception):
    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__(f"{len(errors)} problems")

    def as_list(self):
        return [error.as_dict() for error in self.errors]


def read_rows(content: bytes, filename: str) -> list[dict]:
    """The data rows as dicts keyed by lower-case column name; the header is spreadsheet row 1."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
        except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
            raise ImportFailed([RowError(0, "file", _("This is not a readable XLSX workbook."))]) from exc
        values = [list(row) for row in sheet.iter_rows(values_only=True)]
    elif name.endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportFailed([RowError(0, "file", _("CSV files must be UTF-8 encoded."))]) from exc
        values = list(csv.reader(io.StringIO(text)))
    else:
        raise ImportFailed([RowError(0, "file", _("Upload a .csv or .xlsx file."))])
    if not values:
        raise ImportFailed([RowError(0, "file", _("The file is empty."))])
    header = [str(cell or "").strip().lower() for cell in values[0]]
    unknown = [h for h in header if h and h not in COLUMNS]
    missing = sorted(REQUIRED_COLUMNS - set(header))
    errors = [RowError(1, h, _("Unknown column.")) for h in unknown]
    errors += [RowError(1, m, _("Required column is missing.")) for m in missing]
    if errors:
        raise ImportFailed(errors)
    rows = []
    for cells in values[1:]:
        if all(cell in (None, "") for cell in cells):
            continue
        rows.append({h: cells[i] if i < len(cells) else None for i, h in enumerate(header) if h})
    if len(rows) > MAX_ROWS:
        raise ImportFailed([RowError(0, "file", _("At most %(n)s rows per import.") % {"n": MAX_ROWS})])
    return rows


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _parse_row(number, row, *, agency, lookups, errors) -> dict:
    data = {"agency": agency}
    m2m = {}
    for column in COLUMNS:
        raw = _text(row.get(column))
        if column in INTEGER_COLUMNS:
            if raw:
                try:
                    data[column] = int(raw)
                except ValueError:
                    errors.append(RowError(number, column, _("Enter a whole number.")))
            else:
                data[column] = None
        elif column == "review_date":
            value = row.get(column)
            if isinstance(value, datetime.datetime):
                data[column] = value.date()
            elif raw:
                try:
                    data[column] = datetime.date.fromisoformat(raw)
                except ValueError:
                    errors.append(RowError(number, column, _("Write dates as YYYY-MM-DD.")))
            else:
                data[column] = None
        elif column in ("threat_vectors", "assets", "controls"):
            keys = [key.strip() for key in raw.split(LIST_SEPARATOR) if key.strip()]
            found = [lookups[column].get(key.lower()) for key in keys]
            for key, obj in zip(keys, found, strict=True):
                if obj is None:
                    errors.append(RowError(number, column, _("“%(key)s” is not known in this agency.") % {"key": key}))
            m2m[column] = [obj for obj in found if obj is not None]
        elif column == "owner":
            if raw:
                data["owner"] = lookups["owner"].get(raw.lower())
                if data["owner"] is None:
                    errors.append(RowError(number, column, _("“%(key)s” is not a member of this agency.") % {
                        "key": raw}))
        elif raw or column in ("reference", "title", "description"):
            data[column] = raw
    return {**data, **m2m}


@transaction.atomic
def risk_import(*, agency, user, content: bytes, filename: str) -> list[Risk]:
    """Create one risk per row, or none at all. Raises ImportFailed with every problem found."""
    require(user, agency.pk, Action.ADD, Risk)
    rows = read_rows(content, filename)
    if not rows:
        raise ImportFailed([RowError(0, "file", _("The file has a header but no rows."))])
    matrix = RiskMatrix.objects.get(agency=agency)
    lookups = {
        "threat_vectors": {tv.code.lower(): tv for tv in ThreatVector.objects.all()},
        "assets": {a.name.lower(): a for a in Asset.objects.filter(agency=agency)},
        "controls": {c.title.lower(): c for c in Control.objects.filter(agency=agency)},
        "owner": {u.username.lower(): u for u in get_user_model().objects.filter(memberships__agency=agency)},
    }
    errors: list[RowError] = []
    parsed = []
    seen_references = {}
    for number, row in enumerate(rows, start=2):
        before = len(errors)
        data = _parse_row(number, row, agency=agency, lookups=lookups, errors=errors)
        reference = data.get("reference")
        if reference:
            if reference in seen_references:
                errors.append(RowError(number, "reference", _("Also used on row %(row)s.") % {
                    "row": seen_references[reference]}))
            seen_references.setdefault(reference, number)
        if len(errors) == before:
            candidate = Risk(**{k: v for k, v in data.items() if k not in ("threat_vectors", "assets", "controls")},
                             matrix=matrix)
            try:
                candidate.full_clean(exclude=["matrix"])
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    errors.extend(RowError(number, field, message) for message in messages)
        parsed.append(data)
    if errors:
        raise ImportFailed(errors)
    return [object_create(model=Risk, user=user, data=data) for data in parsed]
