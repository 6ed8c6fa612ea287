"""CSV and XLSX files of a list: the columns each table declares in `export_columns`, written from
the list's filtered, ordered queryset.

Files carry data, not the page: plain typed values (dates, numbers), no HTML, related records by
name, times in the agency's time zone. A cell never runs as a formula in a spreadsheet: CSV text
that a spreadsheet would read as one gets a leading quote (OWASP, "CSV injection"), and XLSX text
cells are written as text.

Built for registers of hundreds of thousands of rows, in constant memory:
- rows are read as tuples (`values_list`) in chunks, through a server-side cursor where the
  database has one; a many-valued column (threat vectors, assets) is a subquery of the same query
  (an array per row), so a file takes one query whatever its size; a related record's name is read
  once per record (one query per relation and chunk, for the records not seen yet). Model
  instances are made only for a table with a computed column (`value=`) or a property path.
- each column's conversion is chosen once per file from its field's type (text, number, date,
  time, choice label), not worked out per cell;
- CSV is streamed chunk by chunk (`csv.writer.writerows`); XLSX is written by XlsxWriter in its
  constant-memory mode (rows go to a temporary file as they come) and the finished workbook is
  streamed from disk.
"""

import csv
import datetime
import io
import json
import re
import tempfile
from contextlib import contextmanager
from decimal import Decimal
from itertools import islice
from operator import attrgetter, itemgetter
from xml.sax.saxutils import escape as xml_escape

import xlsxwriter
from django.core.exceptions import FieldDoesNotExist, FieldError
from django.db import connections, models
from django.db.models import F, OuterRef, Subquery
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.text import capfirst, slugify
from django.utils.translation import gettext as _

CSV, XLSX = "csv", "xlsx"
FORMATS = (CSV, XLSX)
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# What makes a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(FORMULA_STARTS)
CHUNK_SIZE = 500  # rows per database round trip and per piece of the CSV stream
RELATED_NAMES_LIMIT = 50_000  # names of related records kept between chunks (memory stays bounded)
MANY_SEPARATOR = "; "
XLSX_OPTIONS = {
    "constant_memory": True,  # each row is written out when the next begins: flat memory
    # Text is text: never a formula, a link or a number because of how it reads.
    "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
}
DATE_FORMAT, DATETIME_FORMAT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"
# Control characters have no place in a sheet's XML (Excel would show them as _xHHHH_ escapes).
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010\013\014\016-\037]")

# What a column's values are, which decides their conversion (chosen once per file).
TEXT, NUMBER, DATE, DATETIME, OTHER = "text", "number", "date", "datetime", "other"


def kind_of(field) -> str:
    """The kind of the values a model field (or an annotation's output field) reads as."""
    if isinstance(field, models.DateTimeField):
        return DATETIME
    if isinstance(field, models.DateField):
        return DATE
    if isinstance(field, models.BooleanField):
        return OTHER
    if isinstance(field, models.IntegerField | models.FloatField | models.DecimalField):
        return NUMBER
    if isinstance(field, models.CharField | models.TextField):
        return TEXT
    return OTHER


class Labels(dict):
    """value → label; a value without a label is itself (a dict lookup per cell, no call)."""

    def __missing__(self, value):
        return value


class ManyValues(Subquery):
    """The values a many-valued path reaches from each row, in one column of the row's query: a
    JSON array on SQLite, an array on PostgreSQL (read back as a list by `many_values`).

    Read from the records that hold the values, filtered back to the row through the way back
    (`Tag.objects.filter(articles=OuterRef("pk"))`: the link table's index, no join to the row's own
    table); where a relation has no name for the way back, through the row's table."""

    VALUE = "qgov_export_value"
    template = '(SELECT json_group_array("qgov_export_value") FROM (%(subquery)s))'  # the name of VALUE

    def __init__(self, model, lookup):
        values = None
        back = reverse_path(model, lookup.split("__")[:-1])
        if back is not None:
            holder, names = back
            last = lookup.split("__")[-1]
            values = holder._base_manager.filter(**{"__".join(names): OuterRef("pk"), f"{last}__isnull": False})
            values = values.values(**{self.VALUE: F(last)})
        if values is None:
            values = model._base_manager.filter(pk=OuterRef("pk"), **{f"{lookup}__isnull": False})
            values = values.values(**{self.VALUE: F(lookup)})
        super().__init__(values.order_by(), output_field=models.TextField())

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="ARRAY(%(subquery)s)", **extra_context)


def reverse_path(model, relations):
    """(the model the relation path `relations` reaches from `model`, the lookup from it back to
    `model`), or None where a relation on the way has no name for the way back."""
    names, current = [], model
    for name in relations:
        field = current._meta.get_field(name)
        if field.concrete or field.many_to_many and not field.auto_created:  # declared here: FK, M2M
            if field.remote_field.hidden:
                return None
            names.append(field.related_query_name())
        elif isinstance(field, models.ForeignObjectRel):  # a reverse relation: the declaring field's name
            names.append(field.field.name)
        else:  # e.g. a generic relation
            return None
        current = field.related_model
    return current, names[::-1]


class ExportColumn:
    """One column of a list's files.

    `path` reads the record like a queryset lookup (`"owner"`, `"scheme__code"`,
    `"threat_vectors__code"`): choices give their label, a related record its name (`str`), a
    many-to-many or reverse relation the values of all its records, sorted and joined by "; " (such a
    path ends in a plain field). A file reads all of them in one query, plus one per related record's
    name (per chunk of rows, for the records not read yet), never one per row. `annotate` adds the
    path as a queryset annotation (e.g. a subquery), `choices` labels its values.

    `value(record, table)` computes the cell instead (the table gives e.g. the agency's matrix); it
    needs a `header` and must not query the database (list what it reads in `select_related`). A
    table with such a column is read as model instances, more slowly.
    """

    def __init__(self, path=None, header=None, *, value=None, annotate=None, choices=None, select_related=()):
        if (path is None) == (value is None):
            raise ValueError("an export column has a path or a value function")
        if value is not None and header is None:
            raise ValueError("a computed export column needs a header")
        self.path, self.header, self.compute = path, header, value
        self.annotation, self.choices, self.select_related = annotate, choices, tuple(select_related)
        self.kind = OTHER
        self.steps, self.many_lookup, self.many_field, self.value_lookup, self.labels = (), None, None, None, None
        self.many_text = self.many_reads = False
        self.relation = None  # (values_list lookup of a related record's key, its model, key field, attributes)

    @property
    def is_datetime(self) -> bool:
        return self.kind == DATETIME

    def bind(self, model):
        """A copy resolved against `model`, in the request's language: header, labels, joins."""
        column = ExportColumn.__new__(ExportColumn)
        column.__dict__.update(self.__dict__)
        if self.path is not None:
            column._resolve(model)
        column.header = str(column.header)
        return column

    def _resolve(self, model):
        attributes, lookups, fields, select = [], [], [], []
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
            fields.append(field)
            first_field = first_field or field
            if field is not None and (field.many_to_many or field.one_to_many):
                self.many_lookup = self.path  # a subquery of the row's query
            elif field is not None and field.is_relation and self.many_lookup is None:
                select.append("__".join(attributes))
            current = field.related_model if field is not None and field.is_relation else None
        if self.many_lookup is not None:
            if field is None or field.is_relation:
                raise ValueError(f"the many-valued export path {self.path!r} must end in a field")
            self.many_lookup, self.many_field, select = "__".join(lookups), field, select[:0]
            self.many_text = kind_of(field) == TEXT  # joined as they are
            self.many_reads = kind_of(field) not in (TEXT, NUMBER)  # dates, flags: JSON text, the field reads it
            self.kind = TEXT
        elif self.annotation is not None or (field is not None and not field.is_relation):
            self.value_lookup = "__".join(lookups)  # a plain value: readable with values_list()
            self.kind = kind_of(field)
        elif field is not None:  # the path ends in a related record: its name
            self.relation = ("__".join(lookups), field.related_model, field.target_field, ())
            self.kind = TEXT
        elif None in fields and self.annotation is None:  # a property: of a related record, or of the row's
            step = fields.index(None)
            if step and all(f is not None and f.is_relation and f.concrete for f in fields[:step]):
                relation = fields[step - 1]  # content_type__name: read on each content type once
                self.relation = ("__".join(lookups[:step]), relation.related_model, relation.target_field,
                                 tuple(attributes[step:]))
        self.steps = tuple(attributes)
        self.select_related = (*self.select_related, *select)
        choices = self.choices or (field.flatchoices if field is not None and field.choices else None)
        if choices is not None:
            self.labels = Labels({value: str(label) for value, label in dict(choices).items()})
            self.kind = TEXT
        elif isinstance(field, models.BooleanField) and self.many_lookup is None:
            self.labels = Labels({True: str(_("Yes")), False: str(_("No"))})
            self.kind = TEXT
        if self.header is None:
            self.header = capfirst(first_field.verbose_name if first_field is not None else self.path)

    def many_values(self, values):
        """The cell of a many-valued column from its subquery's list: sorted, labelled, joined."""
        if values.__class__ is str:  # SQLite's JSON array: text and numbers; the field reads the rest
            values = _json_array(values)[0]
            if self.many_reads and values:
                values = [self.many_field.to_python(value) for value in values]
        if not values:
            return None
        if "" in values:
            values = [value for value in values if value != ""]
            if not values:
                return None
        values.sort()
        labels = self.labels
        return MANY_SEPARATOR.join([str(labels[v]) for v in values]) if labels else \
            MANY_SEPARATOR.join(values if self.many_text else map(str, values))


_json_array = json.JSONDecoder().raw_decode  # a whole array, no surrounding space: (list, end)


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


# --- reading rows ------------------------------------------------------------------------------

class RelatedNames:
    """The names of one relation's records by key, read per chunk for the keys not seen yet."""

    def __init__(self, model, key_field, attributes):
        self.model, self.key, self.attributes, self.names = model, key_field.attname, attributes, {}

    def load(self, keys):
        names = self.names
        missing = {key for key in keys if key is not None and key not in names}
        if not missing:
            return
        if len(names) + len(missing) > RELATED_NAMES_LIMIT:
            names.clear()
        for record in self.model._base_manager.filter(**{f"{self.key}__in": missing}):
            value = record
            for attribute in self.attributes:
                value = getattr(value, attribute)
                if value is None:
                    break
            names[getattr(record, self.key)] = value if self.attributes else str(record)


class RowPlan:
    """How a file reads its rows: the query, and per column where its value is in a row and the
    function (or none) that makes it the column's value."""

    def __init__(self, queryset, columns, table):
        self.columns = columns
        queryset = queryset.prefetch_related(None)  # the page's prefetches: the file reads its own
        annotations = {column.path: column.annotation for column in columns if column.annotation is not None}
        if annotations:
            queryset = queryset.annotate(**annotations)
        many = {}
        for column in columns:
            if column.many_lookup is not None and column.many_lookup not in many:
                many[column.many_lookup] = f"qgov_export_many_{len(many)}"
        if many:
            queryset = queryset.annotate(**{name: ManyValues(queryset.model, lookup) for lookup, name in many.items()})
        query_annotations = queryset.query.annotations
        self.kinds = []
        for column in columns:
            kind = column.kind
            if column.path in query_annotations and column.value_lookup in (None, column.path) \
                    and column.labels is None:
                try:  # an annotation's values are of its output field's kind
                    kind = kind_of(query_annotations[column.path].output_field)
                except FieldError:
                    kind = OTHER
            self.kinds.append(kind)

        def lookup_of(column):  # an annotation of the view's queryset (e.g. compliance) is a value too
            if column.many_lookup is not None:
                return many[column.many_lookup]
            if column.relation is not None:
                return column.relation[0]
            if column.value_lookup is None and column.compute is None and column.path in query_annotations:
                return column.path
            return column.value_lookup

        lookups = [lookup_of(column) for column in columns]
        self.loaders = []
        self.by_value = None not in lookups
        if self.by_value:
            fetched = list(dict.fromkeys(lookups))
            self.rows = queryset.values_list(*fetched)
            indexes = [fetched.index(lookup) for lookup in lookups]
            self.getter = itemgetter(*indexes) if len(indexes) > 1 else (lambda row, i=indexes[0]: (row[i],))
            self.values = []
            for column, index in zip(columns, indexes, strict=True):
                if column.many_lookup is not None:
                    self.values.append(column.many_values)
                elif column.relation is not None:
                    _lookup, model, key_field, attributes = column.relation
                    loader = RelatedNames(model, key_field, attributes)
                    self.loaders.append((loader, index))
                    self.values.append(loader.names.get)
                else:
                    self.values.append(column.labels.__getitem__ if column.labels else None)
        else:
            select = sorted({name for column in columns for name in column.select_related})
            self.rows = queryset.select_related(*select) if select else queryset
            readers = [self._reader(column, table, many) for column in columns]
            self.getter = lambda record: [read(record) for read in readers]
            self.values = [column.many_values if column.many_lookup is not None else
                           column.labels.__getitem__ if column.labels else None for column in columns]

    @staticmethod
    def _reader(column, table, many):
        if column.compute is not None:
            compute = column.compute
            return lambda record: compute(record, table)
        if column.many_lookup is not None:
            return attrgetter(many[column.many_lookup])
        steps = column.steps
        if len(steps) == 1:
            return attrgetter(steps[0])

        def read(record):
            value = record
            for attribute in steps:
                value = getattr(value, attribute)
                if value is None:
                    return None
            return value
        return read

    def row_function(self, cell_of_kind):
        """The function of a fetched row that gives the file's row: each column's value made a
        cell by `cell_of_kind[kind]` (None: the value is the cell), composed once per file."""
        conversions = []
        for position, (value, kind) in enumerate(zip(self.values, self.kinds, strict=True)):
            cell = cell_of_kind[kind]
            if value is not None and cell is not None:
                conversions.append((position, lambda v, value=value, cell=cell: cell(value(v))))
            elif value is not None or cell is not None:
                conversions.append((position, value or cell))
        getter = self.getter

        def row(fetched):
            cells = list(getter(fetched))
            for position, convert in conversions:
                cells[position] = convert(cells[position])
            return cells
        return row

    def chunks(self, make_row, tz, chunk_size=None):
        """Lists of the file's rows (made by `make_row`), `chunk_size` rows at a time, each computed in
        the request's language and time zone (a streamed response outlives the request)."""
        chunk_size = chunk_size or CHUNK_SIZE
        language = translation.get_language()
        rows = self.rows.iterator(chunk_size=chunk_size)
        with without_jit(connections[self.rows.db]):  # the query is planned when its cursor opens
            first = list(islice(rows, chunk_size))
        while True:
            with timezone.override(tz), translation.override(language):
                fetched, first = first or list(islice(rows, chunk_size)), None
                if not fetched:
                    return
                for loader, index in self.loaders:
                    loader.load(row[index] for row in fetched)
                chunk = list(map(make_row, fetched))
            yield chunk


@contextmanager
def without_jit(connection):
    """PostgreSQL compiles a query it estimates as costly to machine code before running it; a
    file's query, with a subquery per row and many-valued column, is estimated so (10,000 rows:
    0.7 s of compiling for 1 s of running). Off while the query is planned, then as it was."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit'), set_config('jit', 'off', false)")
        previous = cursor.fetchone()[0]
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('jit', %s, false)", [previous])


# --- cells -------------------------------------------------------------------------------------

def local_datetime(value, tz):
    return timezone.localtime(value, tz).replace(microsecond=0) if timezone.is_aware(value) else value.replace(
        microsecond=0)


def csv_cell(value, tz=None):
    """A CSV field: numbers as they are, ISO 8601 dates and local times, text that cannot start a
    formula."""
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


def csv_cells(tz):
    """Per kind of column, the function that makes a value a CSV field (None: csv writes it as it
    is — numbers, ISO dates, None as an empty field)."""
    def text(value):
        if value.__class__ is str:
            return "'" + value if value and value[0] in _FORMULA_FIRST else value
        return None if value is None else csv_cell(value, tz)

    return {TEXT: text, NUMBER: None, DATE: None, OTHER: lambda value: csv_cell(value, tz),
            DATETIME: lambda value: None if value is None else local_datetime(value, tz).isoformat()}


def xlsx_value(value, tz):
    """An XLSX cell's value of a column of no known kind: a number, a date, a local time (without
    microseconds or zone), or text."""
    kind = type(value)
    if value is None or kind is str or kind is int or kind is float or kind is Decimal:
        return value
    if isinstance(value, datetime.datetime):
        return local_datetime(value, tz).replace(tzinfo=None)
    if isinstance(value, datetime.date):
        return value
    return text_of(value)


def xlsx_cells(tz):
    """Per kind of column, the function that makes a value an XLSX cell's value (None: as it is)."""
    def text(value):
        return value if value.__class__ is str or value is None else xlsx_value(value, tz)

    return {TEXT: text, NUMBER: None, DATE: None, OTHER: lambda value: xlsx_value(value, tz),
            DATETIME: lambda value: None if value is None else local_datetime(value, tz).replace(tzinfo=None)}


def xlsx_writers(workbook, sheet):
    """Per kind of column, the function that writes a (non-empty) value in a cell."""
    date_format = workbook.add_format({"num_format": DATE_FORMAT})
    datetime_format = workbook.add_format({"num_format": DATETIME_FORMAT})
    write_string, write_number, write_datetime = sheet.write_string, sheet.write_number, sheet.write_datetime
    search_illegal, remove_illegal = ILLEGAL_CHARACTERS_RE.search, ILLEGAL_CHARACTERS_RE.sub

    def text(row, column, value):
        if search_illegal(value):
            value = remove_illegal("", value)
        if value.startswith("<r>") and value.endswith("</r>"):
            # XlsxWriter copies text of this form into the XML unescaped, as rich text (formulas
            # could be slipped in): given as one escaped run, it reads back as the same text.
            value = f'<r><t xml:space="preserve">{xml_escape(value)}</t></r>'
        elif not value:
            return
        write_string(row, column, value)

    def number(row, column, value):
        try:
            write_number(row, column, value)
        except TypeError:  # NaN or infinity: no number in a sheet (and not an error formula either)
            write_string(row, column, str(value))

    def any_kind(row, column, value):
        kind = type(value)
        if kind is str:
            text(row, column, value)
        elif kind is int or kind is float or kind is Decimal:
            number(row, column, value)
        elif kind is datetime.datetime:
            write_datetime(row, column, value, datetime_format)
        else:
            write_datetime(row, column, value, date_format)

    return {TEXT: any_kind, NUMBER: number, OTHER: any_kind,
            DATE: lambda row, column, value: write_datetime(row, column, value, date_format),
            DATETIME: lambda row, column, value: write_datetime(row, column, value, datetime_format)}


# --- files -------------------------------------------------------------------------------------

def csv_lines(columns, queryset, table, tz, chunk_size=None):
    """The CSV file as pieces of text: the header, then one piece per chunk of rows."""
    tz = tz or timezone.get_current_timezone()
    plan = RowPlan(queryset, columns, table)
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def taken():
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([column.header for column in columns])
    yield taken()
    for rows in plan.chunks(plan.row_function(csv_cells(tz)), tz, chunk_size):
        writer.writerows(rows)
        yield taken()


def xlsx_file(columns, queryset, table, tz, output, sheet_name, chunk_size=None):
    """Write the XLSX workbook of the list into the binary file `output`."""
    plan = RowPlan(queryset, columns, table)
    workbook = xlsxwriter.Workbook(output, XLSX_OPTIONS)
    sheet = workbook.add_worksheet(sheet_name)
    zone = getattr(tz, "key", str(tz))
    for position, (column, kind) in enumerate(zip(columns, plan.kinds, strict=True)):
        sheet.write_string(0, position, f"{column.header} ({zone})" if kind == DATETIME else column.header)
    by_kind = xlsx_writers(workbook, sheet)
    writers = list(enumerate(by_kind[kind] for kind in plan.kinds))
    number = 1
    for rows in plan.chunks(plan.row_function(xlsx_cells(tz)), tz, chunk_size):
        for cells in rows:
            for position, write in writers:
                value = cells[position]
                if value is not None:
                    write(number, position, value)
            number += 1
    workbook.close()


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
    # Written to disk and streamed from there: a large workbook is not held in memory.
    output = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it when sent)
    xlsx_file(columns, queryset, table, tz, output,
              sheet_name=capfirst(str(queryset.model._meta.verbose_name_plural))[:31])
    output.seek(0)
    return FileResponse(output, as_attachment=True, filename=name, content_type=CONTENT_TYPES[XLSX])
