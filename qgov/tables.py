"""The base table every qgov list declares on (django-tables2), and the core's tables."""

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from qgov.models import Agency, AuditEvent, Membership

NO_COLOUR = "#6c757d"


def badge_html(text, colour=None):
    """A coloured badge (rating bands, urgency, status colours); "—" when there is no text."""
    if text in (None, ""):
        return mark_safe('<span class="text-muted">—</span>')  # noqa: S308 (a constant)
    return format_html('<span class="badge" style="background:{}">{}</span>', colour or NO_COLOUR, text)


class BadgeColumn(tables.Column):
    """A column of coloured badges: `badge(record, table)` gives (text, colour), or None for "—".
    Exports get the text alone."""

    def __init__(self, badge, **kwargs):
        kwargs.setdefault("empty_values", ())
        super().__init__(**kwargs)
        self.badge = badge

    def render(self, record, table):
        text, colour = self.badge(record, table) or (None, None)
        return badge_html(text, colour)

    def value(self, record, table):
        text, _colour = self.badge(record, table) or ("", None)
        return text


class QgovTable(tables.Table):
    """Bootstrap styling, sortable headers, and the object's own link on its first column."""

    class Meta:
        template_name = "django_tables2/bootstrap5-responsive.html"
        attrs = {"class": "table table-sm table-hover align-middle"}
        empty_text = _("Nothing here yet.")

    def as_values(self, exclude_columns=None):
        # Exports carry data: an empty cell is empty, not the page's "—".
        for row in super().as_values(exclude_columns):
            yield ["" if value == self.default else value for value in row]


class AgencyTable(QgovTable):
    name = tables.Column(linkify=True)

    class Meta(QgovTable.Meta):
        model = Agency
        fields = ("name", "code", "sector", "parent", "time_zone")


class MembershipTable(QgovTable):
    user = tables.Column(linkify=lambda record: record.get_absolute_url(), order_by=("user__username",))
    email = tables.Column(accessor="user__email", verbose_name=_("Email"))

    class Meta(QgovTable.Meta):
        model = Membership
        fields = ("user", "email", "role", "agency", "created")


class AuditEventTable(QgovTable):
    seq = tables.Column(linkify=True, verbose_name="#", attrs={"td": {"class": "text-nowrap"}})
    timestamp = tables.DateTimeColumn(format="Y-m-d H:i:s T", attrs={"td": {"class": "text-nowrap"}})
    request_id = tables.Column(verbose_name=_("Request"))
    object_type = tables.Column(accessor="content_type__model", verbose_name=_("Type"), orderable=False)
    changed_fields = tables.Column(verbose_name=_("Changed"), orderable=False)

    class Meta(QgovTable.Meta):
        model = AuditEvent
        fields = ("seq", "chain", "timestamp", "actor_repr", "action", "object_type", "object_repr", "changed_fields",
                  "source", "request_id")

    def render_changed_fields(self, value, record):
        if record.action not in ("update", "transition"):
            return "—"
        changed = ", ".join(name for name in value if name != "version")
        transition = (record.detail or {}).get("transition")
        return f"{transition}: {changed}" if transition else changed

    def render_request_id(self, value):
        return format_html('<code title="{}">{}…</code>', value, value[:8])

    def value_changed_fields(self, value):
        return ",".join(value)
