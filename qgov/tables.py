"""The base table every qgov list declares on (django-tables2), and the core's tables."""

import functools
import types

import django_tables2 as tables
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db.models import Model
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format, localize
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django_tables2 import utils as table_utils
from django_tables2.utils import AttributeDict

from qgov.audit_display import changed_labels, model_label
from qgov.exports import ExportColumn
from qgov.models import Agency, AuditEvent, Membership, QgovModel

NO_COLOUR = "#6c757d"
# A primary key no record has, reversed once to find where a record's key goes in its URL.
URL_SENTINEL = 918273645

_uncached_signature = table_utils.signature


@functools.lru_cache(maxsize=4096)
def _function_signature(function):
    return _uncached_signature(function)


def _signature(fn):
    """django-tables2 inspects the signature of a column's render function for every cell (a fifth
    of a 50-row page); a function's signature does not change, so it is read once per function."""
    function = getattr(fn, "__func__", fn)
    if not isinstance(function, types.FunctionType):
        return _uncached_signature(fn)  # callable objects, partials: as the library does
    args, keywords = _function_signature(function)
    if function is not fn and args:  # a bound method: `self` is given, not asked for
        args = args[1:]
    return args, keywords


table_utils.signature = _signature  # read by django_tables2.utils.call_with_appropriate


def badge_html(text, colour=None):
    """A coloured badge (rating bands, urgency, status colours); "—" when there is no text."""
    if text in (None, ""):
        return mark_safe('<span class="text-muted">—</span>')  # noqa: S308 (a constant)
    return format_html('<span class="badge" style="background:{}">{}</span>', colour or NO_COLOUR, text)


class BadgeColumn(tables.Column):
    """A column of coloured badges: `badge(record, table)` gives (text, colour), or None for "—"."""

    def __init__(self, badge, **kwargs):
        kwargs.setdefault("empty_values", ())
        super().__init__(**kwargs)
        self.badge = badge

    def render(self, record, table):
        text, colour = self.badge(record, table) or (None, None)
        return badge_html(text, colour)


def _choice_labels(model, name):
    """{stored value: label} of a model field with choices (what get_FOO_display reads), or None."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if not getattr(field, "choices", None) or field.is_relation:
        return None
    return {value: str(label) for value, label in field.flatchoices}


RELATED_VALUES_ATTRIBUTE = "_qgov_related_values"


def attach_related_values(records, relations: dict[str, tuple[str, ...]]) -> None:
    """For each many-to-many field named in `relations`, the given fields of the related records of
    each of `records` (model instances of one model), in the related model's order, as a list of
    tuples kept on the record (QgovTable.related_values_of): one narrow query per relation through
    the link table, no model instance built."""
    records = [record for record in records if isinstance(record, Model)]
    if not records or not relations:
        return
    model, ids = type(records[0]), [record.pk for record in records]
    for record in records:
        record.__dict__[RELATED_VALUES_ATTRIBUTE] = {}
    for name, fields in relations.items():
        field = model._meta.get_field(name)
        if not field.many_to_many or not field.concrete:
            raise ImproperlyConfigured(f"related_values: {model.__name__}.{name} is not a many-to-many field")
        source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
        order = [f"-{target}__{term[1:]}" if term.startswith("-") else f"{target}__{term}"
                 for term in field.related_model._meta.ordering if isinstance(term, str)]
        links = (field.remote_field.through._default_manager.using(records[0]._state.db)
                 .filter(**{f"{source}__in": ids}).order_by(*order, f"{target}_id")
                 .values_list(f"{source}_id", *(f"{target}__{name}" for name in fields)))
        found = {}
        for source_id, *values in links:
            found.setdefault(source_id, []).append(tuple(values))
        for record in records:
            record.__dict__[RELATED_VALUES_ATTRIBUTE][name] = found.get(record.pk, [])


class QgovTable(tables.Table):
    """Bootstrap styling, sortable headers, and the object's own link on its first column.

    Each table also declares `export_columns`: the columns of the list's CSV and XLSX files
    (qgov/exports.py), usually more than the page shows — what an auditor needs of the records.
    """

    export_columns: tuple[ExportColumn, ...] = ()
    # {many-to-many field: (fields of the related model)}: what the page's cells show of those
    # relations, read for the page's records as tuples, one query per relation (related_values_of),
    # instead of prefetching a model instance per link (150 threat vectors on a register page).
    related_values: dict[str, tuple[str, ...]] = {}

    class Meta:
        template_name = "qgov/table.html"
        attrs = {"class": "table table-sm table-hover align-middle"}
        empty_text = _("Nothing here yet.")

    def tbody_html(self):
        """The <tbody> of the page's rows, as django-tables2's bootstrap template writes it (cells
        localized and escaped as `{{ cell }}` is), built here rather than by a template per cell.
        Each column's cell is written by a function prepared once per table (`_cell_writer`):
        django-tables2's per-cell pipeline (accessor parsing, signature inspection, attribute
        dictionaries rebuilt for every cell, reverse() for every link) was most of a list page's time."""
        tbody = self.attrs.get("tbody")
        parts = [f"<tbody {AttributeDict(tbody).as_html()}>" if tbody else "<tbody>"]
        rows = list(self.paginated_rows)  # once: each pass over BoundRows alternates the rows' classes anew
        attach_related_values([row.record for row in rows], self.related_values)
        writers = [(column, self._cell_writer(column)) for column in self.columns]
        plain_rows = not self.row_attrs  # a row's attributes are then its even/odd class alone
        for row in rows:
            parts.append(f'<tr class="{row.get_even_odd_css_class()}">' if plain_rows
                         else f"<tr {row.attrs.as_html()}>")
            record = row.record
            for column, writer in writers:
                html = writer(record) if writer is not None else None
                parts.append(html if html is not None else self._library_cell(row, column))
            parts.append("</tr>")
        if not len(rows) and self.empty_text:
            parts.append(format_html('<tr><td colspan="{}">{}</td></tr>', len(self.columns), self.empty_text or ""))
        parts.append("</tbody>")
        return mark_safe("".join(parts))  # noqa: S308 — each cell is escaped above, attributes by as_html

    def related_values_of(self, record, name) -> list[tuple]:
        """The `related_values` tuples of `record`'s relation `name`: as the page read them, or read
        now for a record rendered outside the page's rows."""
        attached = record.__dict__.get(RELATED_VALUES_ATTRIBUTE, {}).get(name)
        if attached is None:
            attached = list(getattr(record, name).values_list(*self.related_values[name]))
        return attached

    @staticmethod
    def _library_cell(row, column):
        """A cell through django-tables2's own pipeline, for columns `_cell_writer` does not prepare."""
        cell = row.get_cell(column.name)
        column.current_value, column.current_record = cell, row.record  # what computed attributes read
        value = localize(cell) if column.localize is None else localize(cell, use_l10n=column.localize)
        return f"<td {column.attrs['td'].as_html()}>{conditional_escape(value)}</td>"

    def _cell_writer(self, bound_column):
        """record -> the column's <td>, the same HTML as django-tables2's pipeline gives, with what
        does not change from row to row (attributes, the render function's arguments, choice labels,
        the URL pattern of links) worked out once. None for a column it does not cover (attributes
        computed per cell, paths through relations, template or many-to-many columns, custom links):
        those keep the library's pipeline."""
        column, name = bound_column.column, bound_column.name
        cell_attrs = [attrs.get(key) or {} for attrs in (self.attrs, column.attrs) for key in ("td", "cell")]
        render = bound_column.render
        own_render = getattr(render, "__self__", None) is column  # not the table's render_<name>
        if (bound_column.accessor != name or "." in name or "__" in name
                or isinstance(column, tables.ManyToManyColumn)
                or (own_render and isinstance(column, tables.TemplateColumn))
                or any(callable(value) for attrs in cell_attrs for value in attrs.values())):
            return None
        link = bound_column.link
        if link is not None and (link.url is not None or link.attrs or link.reverse_args or link.accessor is not None):
            return None
        arguments, takes_any = table_utils.signature(render)
        if "bound_row" in arguments:
            return None
        wanted = None if takes_any else tuple(arguments)
        plain = getattr(render, "__func__", None) is tables.Column.render  # returns the value as it is
        td = f"<td {bound_column.attrs['td'].as_html()}>"
        default, empty_values, localized = bound_column.default, column.empty_values, column.localize
        labels_of = {}  # model -> {stored value: label} of the column's field, or None
        url_of = self._url_writer()
        table = self
        # A render that takes the record only, in a column with no empty values and no link, never
        # sees the value: it is not read (for a many-to-many column, a related manager per row).
        reads_value = plain or wanted is None or "value" in wanted or bool(empty_values) or link is not None

        def write(record):
            model = type(record)
            if model not in labels_of:
                if not isinstance(record, Model):
                    return None  # dicts, tuples: the library's accessor reads them
                labels_of[model] = _choice_labels(model, name)
            labels = labels_of[model]
            if reads_value:
                try:
                    raw = getattr(record, name)
                except Exception:  # as the library's accessor: a missing value is the column's default
                    raw = None
                if callable(raw) and not getattr(raw, "do_not_call_in_templates", False):
                    return None  # the accessor would call it: rare, this cell is left to the library
                try:
                    value = labels.get(raw, raw) if labels is not None else raw
                except TypeError:  # an unhashable value is no choice
                    value = raw
            else:
                raw = value = None  # never seen: no empty values to test, no link, a render without it
            if value in empty_values:
                content = default
            else:
                if plain:
                    content = value
                else:
                    given = {"value": value, "record": record, "column": column, "bound_column": bound_column,
                             "table": table}
                    content = render(**(given if wanted is None else {key: given[key] for key in wanted}))
                if link is not None:
                    url = url_of(raw if hasattr(raw, "get_absolute_url") else record)
                    if url is not None:
                        content = format_html('<a href="{}">{}</a>', url, content)
            content = localize(content) if localized is None else localize(content, use_l10n=localized)
            return f"{td}{conditional_escape(content)}</td>"

        return write

    def _url_writer(self):
        """record -> its get_absolute_url(); for the core's default detail URL, by filling a URL
        pattern reversed once per model rather than resolving the URL for each record."""
        patterns = {}

        def url_of(record):
            model = type(record)
            if getattr(model, "get_absolute_url", None) is not QgovModel.get_absolute_url:
                return record.get_absolute_url()
            if model not in patterns:
                try:
                    url = reverse(f"{model._meta.app_label}:{model._meta.model_name}_detail", args=[URL_SENTINEL])
                    patterns[model] = url.split(str(URL_SENTINEL), 1) if url.count(str(URL_SENTINEL)) == 1 else None
                except NoReverseMatch:
                    patterns[model] = None
            pattern = patterns[model]
            if pattern is None or record.pk is None:
                return record.get_absolute_url()
            return f"{pattern[0]}{record.pk}{pattern[1]}"

        return url_of


class AgencyTable(QgovTable):
    name = tables.Column(linkify=True)

    class Meta(QgovTable.Meta):
        model = Agency
        fields = ("name", "code", "sector", "parent", "time_zone")

    export_columns = (
        ExportColumn("code"), ExportColumn("name"), ExportColumn("sector"), ExportColumn("parent__code"),
        ExportColumn("jurisdiction"), ExportColumn("time_zone"), ExportColumn("description"),
        ExportColumn("created"), ExportColumn("last_updated"),
    )


class MembershipTable(QgovTable):
    user = tables.Column(linkify=lambda record: record.get_absolute_url(), order_by=("user__username",))
    email = tables.Column(accessor="user__email", verbose_name=_("Email"))

    class Meta(QgovTable.Meta):
        model = Membership
        fields = ("user", "email", "role", "source", "agency", "created")

    export_columns = (
        ExportColumn("user__username", _("User")), ExportColumn("user__email", _("Email")), ExportColumn("role"),
        ExportColumn("source"),
        ExportColumn("agency__code"), ExportColumn("created"), ExportColumn("last_updated"),
    )


def shown_from(breakpoint: str) -> dict:
    """Column attrs: the column shows from a Bootstrap breakpoint up (its record's page has it on
    smaller screens), so a wide table fits its box."""
    cell = {"class": f"d-none d-{breakpoint}-table-cell"}
    return {"th": cell, "td": cell}


class AuditEventTable(QgovTable):
    seq = tables.Column(linkify=True, verbose_name="#", attrs={"td": {"class": "text-nowrap"}})
    chain = tables.Column(attrs=shown_from("xxl"))  # within one agency's list, always that agency's chain
    timestamp = tables.DateTimeColumn()
    request_id = tables.Column(verbose_name=_("Request"), attrs=shown_from("xl"))
    source = tables.Column(attrs=shown_from("xl"))
    object_type = tables.Column(accessor="content_type", verbose_name=_("Type"), orderable=False)
    # Wide enough to read a title in a few lines when the table is squeezed (a phone scrolls it in its box).
    object_repr = tables.Column(attrs={"td": {"style": "min-width: 11rem"}})
    changed_fields = tables.Column(verbose_name=_("Changed"), orderable=False,
                                   attrs={"td": {"style": "min-width: 9rem"}})

    class Meta(QgovTable.Meta):
        model = AuditEvent
        fields = ("seq", "chain", "timestamp", "actor_repr", "action", "object_type", "object_repr", "changed_fields",
                  "source", "request_id")

    export_columns = (
        ExportColumn("chain"), ExportColumn("seq"), ExportColumn("timestamp"), ExportColumn("actor_repr"),
        ExportColumn("action"),
        ExportColumn("content_type__name", _("Type")),  # read once per content type, not per row
        ExportColumn("object_id"), ExportColumn("object_repr"), ExportColumn("changed_fields"),
        ExportColumn("source"), ExportColumn("request_id"), ExportColumn("hash", _("Hash")),
    )

    def render_timestamp(self, value):
        # Date and time on two lines when the table is squeezed, never broken inside the date.
        local = timezone.localtime(value)
        return format_html('<span class="text-nowrap">{}</span> <span class="text-nowrap">{}</span>',
                           date_format(local, "Y-m-d"), date_format(local, "H:i:s T"))

    def render_object_type(self, value):
        return model_label(value)

    def render_changed_fields(self, value, record):
        if record.action not in ("update", "transition"):
            return "—"
        changed = ", ".join(changed_labels(record))
        transition = (record.detail or {}).get("transition")
        return f"{transition}: {changed}" if transition else changed

    def render_request_id(self, value):
        return format_html('<code title="{}">{}…</code>', value, value[:8])
