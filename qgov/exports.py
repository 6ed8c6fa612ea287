"""CSV and XLSX files of a list: the columns each table declares in `export_columns`, written from
the list's filtered, ordered queryset.

Files carry data, not the page: plain typed values (dates, numbers), no HTML, related records by
name, times in the agency's time zone. A cell never runs as a formula in a spreadsheet: CSV text
that a spreadsheet would read as one gets a leading quote (OWASP, "CSV injection"), and XLSX text
cells are written as text. CSV is streamed from the database in chunks (constant memory); XLSX is
built in openpyxl's write-only mode in a temporary file and streamed from there.
"""

import csv
import datetime
import tempfile
from decimal import Decimal
from itertools import islice
from operator import attrgetter, itemgetter

from django.core.exceptions import FieldDoesNotExist
from django.db.models import DateTimeField
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import capfirst, slugify
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

CSV, XLSX = "csv", "xlsx"
FORMATS = (CSV, XLSX)
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# What makes a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_SIZE = 2000  # rows per database round trip (and per prefetch query)
MANY_SEPARATOR = "; "


class ExportColumn:
    """One column of a list's files.

    `path` reads the record like a queryset lookup (`"owner"`, `"scheme__code"`,
    `"threat_vectors__code"`): choices give their label, a related record its name (`str`), a
    many-to-many or reverse relation the values of all its records, sorted and joined by "; " (such a
    path ends in a plain field). The joins a path needs are made once per file and a many relation is
    read with one query per chunk of rows, never one per row. `annotate` adds the path as a queryset
    annotation (e.g. a subquery), `choices` labels its values.

    `value(record, table)` computes the cell instead (the table gives e.g. the agency's matrix); it
    needs a `header` and must not query the database (list what it reads in `select_related`).
    """

    def __init__(self, path=None, header=None, *, value=None, annotate=None, choices=None, select_related=()):
        if (path is None) == (value is None):
            raise ValueError("an export column has a path or a value function")
        if value is not None and header is None:
            raise ValueError("a computed export column needs a header")
        self.path, self.header, self.compute = path, header, value
        self.annotation, self.choices, self.select_related = annotate, choices, tuple(select_related)
        self.is_datetime = False
        self.steps, self.many_lookup, self.value_lookup, self.labels = (), None, None, None

    def bind(self, model):
        """A copy resolved against `model`, in the request's language: header, labels, joins."""
        column = ExportColumn.__new__(ExportColumn)
        column.__dict__.update(self.__dict__)
        if self.path is not None:
            column._resolve(model)
        column.header = str(column.header)
        return column

    def _resolve(self, model):
        attributes, lookups, select = [], [], []
        first_field = field = None
        current = model
        for part in self.path.split("__"):
            try:
                field = current._meta.get_field(part) if current is not None and self.annotation is None else None
            except FieldDoesNotExist:
                field = None  # a property
            reverse = field is not None and field.is_relation and not field.concrete and not field.many_to_many
            attributes.append(field.get_accessor_name() if reverse else part)  # risk.acceptances
            lookups.append(field.name if field is not None else part)
            first_field = first_field or field
            if field is not None and (field.many_to_many or field.one_to_many):
                self.many_lookup = self.path  # read per chunk by the lookup itself
            elif field is not None and field.is_relation and self.many_lookup is None:
                select.append("__".join(attributes))
            current = field.related_model if field is not None and field.is_relation else None
        if self.many_lookup is not None:
            if field is None or field.is_relation:
                raise ValueError(f"the many-valued export path {self.path!r} must end in a field")
            self.many_lookup, select = "__".join(lookups), select[:0]
        elif self.annotation is not None or (field is not None and not field.is_relation):
            self.value_lookup = "__".join(lookups)  # a plain value: readable with values_list()
        self.steps = tuple(attributes)
        self.select_related = (*self.select_related, *select)
        self.is_datetime = isinstance(field, DateTimeField)
        choices = self.choices or (field.flatchoices if field is not None and field.choices else None)
        if choices is not None:
            self.labels = {value: str(label) for value, label in dict(choices).items()}
        if self.header is None:
            self.header = capfirst(first_field.verbose_name if first_field is not None else self.path)

    def reader(self, table, related, index=None):
        """The function of a row that gives its cell, for one chunk of rows. A row is a record, or
        in `index` mode a tuple (pk first, this column's value at `index`); `related` holds each
        many lookup's values by record pk."""
        if self.compute is not None:
            compute = self.compute
            return lambda record: compute(record, table)
        labels = self.labels
        if self.many_lookup is not None:
            values_of, pk_of = related[self.many_lookup], attrgetter("pk") if index is None else itemgetter(0)

            def joined(row):
                values = values_of.get(pk_of(row))
                if not values:
                    return None
                return MANY_SEPARATOR.join(str(labels.get(v, v)) for v in values) if labels else \
                    MANY_SEPARATOR.join(map(str, values))
            return joined
        steps = self.steps
        if index is not None:
            read = itemgetter(index)
        elif len(steps) == 1:
            read = attrgetter(steps[0])
        else:
            def read(record):
                value = record
                for attribute in steps:
                    value = getattr(value, attribute)
                    if value is None:
                        return None
                return value
        if labels:
            def labelled(row):
                value = read(row)
                return labels.get(value, value)
            return labelled
        return read


def text_of(value) -> str:
    """The text of a value that is not a number or a date: yes/no, a JSON list of codes or labels
    joined, a related record's name, a lazy label."""
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return value if isinstance(value, str) else str(value)


def bound_columns(table_class):
    columns = getattr(table_class, "export_columns", None)
    if not columns:
        raise NotImplementedError(f"{table_class.__name__} declares no export_columns")
    return [column.bind(table_class._meta.model) for column in columns]


def chunks(queryset, columns, table):
    """(rows, readers) per chunk of the file's rows: one query for the rows of all chunks (a
    server-side cursor where the database has them) and, per chunk, one per many-valued column.

    Where every column is a plain value (no computed column, no path ending in a related record),
    rows are tuples from values_list(): no model instances, about three times faster."""
    annotations = {column.path: column.annotation for column in columns if column.annotation is not None}
    many = list(dict.fromkeys(column.many_lookup for column in columns if column.many_lookup))
    queryset = queryset.prefetch_related(None)  # the page's prefetches: the file reads its own, per chunk
    if annotations:
        queryset = queryset.annotate(**annotations)

    def value_lookup(column):  # an annotation of the view's queryset (e.g. compliance) is a value too
        if column.value_lookup is None and column.compute is None and column.path in queryset.query.annotations:
            return column.path
        return column.value_lookup

    single = [column for column in columns if column.many_lookup is None]
    lookups = [value_lookup(column) for column in single]
    by_value = None not in lookups
    if not by_value:
        select = sorted({name for column in columns for name in column.select_related})
        rows = (queryset.select_related(*select) if select else queryset).iterator(chunk_size=CHUNK_SIZE)
        indexes, pk_of = {}, attrgetter("pk")
    else:
        fetched = list(dict.fromkeys(["pk", *lookups]))
        rows = queryset.values_list(*fetched).iterator(chunk_size=CHUNK_SIZE)
        indexes = {id(column): fetched.index(lookup) for column, lookup in zip(single, lookups, strict=True)}
        pk_of = itemgetter(0)
    base = queryset.model._base_manager
    while chunk := list(islice(rows, CHUNK_SIZE)):
        related = {}
        for lookup in many:
            values = related[lookup] = {}
            pairs = base.filter(pk__in=[pk_of(row) for row in chunk]).order_by("pk", lookup).values_list(
                "pk", lookup)
            for pk, value in pairs:
                if value is not None and value != "":
                    values.setdefault(pk, []).append(value)
        yield chunk, [column.reader(table, related, indexes.get(id(column), 0) if by_value else None)
                      for column in columns]


# --- cells -------------------------------------------------------------------------------------

def local_datetime(value, tz):
    return timezone.localtime(value, tz).replace(microsecond=0) if timezone.is_aware(value) else value.replace(
        microsecond=0)


def csv_cell(value, tz=None):
    """A CSV field: numbers as they are, ISO 8601 dates and local times, text that cannot start a
    formula. (The common types first: this runs for every cell.)"""
    kind = type(value)
    if kind is not str:
        if value is None:
            return ""
        if kind is int or kind is float or kind is Decimal:
            return value
        if isinstance(value, datetime.datetime):
            return local_datetime(value, tz or timezone.get_current_timezone()).isoformat()
        if isinstance(value, datetime.date):
            return value.isoformat()
        value = text_of(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def xlsx_cell(sheet, value, tz):
    """An XLSX cell: typed numbers, dates and date-times (local, without microseconds); text always
    as text, never a formula. (The common types first: this runs for every cell.)"""
    kind = type(value)
    if kind is not str:
        if value is None or kind is int or kind is float or kind is Decimal:
            return value
        if isinstance(value, datetime.datetime):
            cell = WriteOnlyCell(sheet, value=local_datetime(value, tz).replace(tzinfo=None))
            cell.number_format = "yyyy-mm-dd hh:mm:ss"
            return cell
        if isinstance(value, datetime.date):
            return value  # openpyxl gives a date the format yyyy-mm-dd
        value = text_of(value)
    if ILLEGAL_CHARACTERS_RE.search(value):  # control characters have no place in the XML
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value.startswith("="):  # the only text openpyxl turns into a formula: say it is text
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


# --- files -------------------------------------------------------------------------------------

class _Line:
    """The file object csv.writer writes one line into, handed back as it comes."""

    def write(self, line):
        return line


def csv_lines(columns, queryset, table, tz):
    writer = csv.writer(_Line())
    yield writer.writerow([column.header for column in columns])
    for records, readers in chunks(queryset, columns, table):
        yield "".join(writer.writerow([csv_cell(read(record), tz) for read in readers]) for record in records)


def file_name(*, agency, model, export_format):
    """`DEMO-<list>-2026-11-30.csv`: the agency, the list and the agency's day."""
    list_name = slugify(str(model._meta.verbose_name_plural))
    parts = [slugify(agency.code).upper()] if agency is not None and agency.code else []
    return "-".join([*parts, list_name, timezone.localdate().isoformat()]) + f".{export_format}"


def export_response(*, queryset, table, export_format, agency):
    """The list `queryset` (filtered and ordered as shown) as a CSV or XLSX download, with the
    columns `table` declares."""
    columns = bound_columns(type(table))
    tz = timezone.get_current_timezone()  # the agency's; the response is streamed after the request
    name = file_name(agency=agency, model=queryset.model, export_format=export_format)
    if export_format == CSV:
        response = StreamingHttpResponse(csv_lines(columns, queryset, table, tz), content_type=CONTENT_TYPES[CSV])
        response["Content-Disposition"] = content_disposition_header(True, name)
        return response
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=capfirst(str(queryset.model._meta.verbose_name_plural))[:31])
    zone = getattr(tz, "key", str(tz))
    sheet.append([f"{column.header} ({zone})" if column.is_datetime else column.header for column in columns])
    for records, readers in chunks(queryset, columns, table):
        for record in records:
            sheet.append([xlsx_cell(sheet, read(record), tz) for read in readers])
    # Written to disk and streamed from there: a large workbook is not held in memory.
    output = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it when sent)
    workbook.save(output)
    output.seek(0)
    return FileResponse(output, as_attachment=True, filename=name, content_type=CONTENT_TYPES[XLSX])
