import django_tables2 as tables
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from qgov.exports import ExportColumn
from qgov.integrations.webhooks.models import WebhookDelivery, WebhookEndpoint
from qgov.tables import BadgeColumn, QgovTable, shown_from

DELIVERY_COLOURS = {"pending": "#0d6efd", "succeeded": "#198754", "failed": "#dc3545"}


class WebhookEndpointTable(QgovTable):
    name = tables.Column(linkify=True)
    target_url = tables.Column(attrs={"td": {"class": "text-break"}})
    is_active = BadgeColumn(lambda record, table: (_("Active"), "#198754") if record.is_active
                            else (_("Disabled"), "#dc3545"), verbose_name=_("Status"))
    events = tables.Column(accessor="pk", verbose_name=_("Events"), orderable=False)
    created = tables.DateTimeColumn(attrs=shown_from("lg"))

    class Meta(QgovTable.Meta):
        model = WebhookEndpoint
        fields = ("name", "target_url", "is_active", "events", "created")

    export_columns = (
        ExportColumn("id"), ExportColumn("name"), ExportColumn("target_url"), ExportColumn("all_events"),
        ExportColumn("event_types"), ExportColumn("is_active"), ExportColumn("disabled_reason"),
        ExportColumn("disabled_at"), ExportColumn("created"),
    )

    def render_events(self, record):
        if record.all_events:
            return _("All events")
        return ", ".join(record.event_types)


class WebhookDeliveryTable(QgovTable):
    """The delivery log of one endpoint (on its page)."""

    created = tables.DateTimeColumn(linkify=lambda record: reverse("qgov:webhookdelivery_detail", args=[record.pk]),
                                    attrs={"td": {"class": "text-nowrap"}})
    event_type = tables.Column()
    status = BadgeColumn(lambda record, table: (record.get_status_display(), DELIVERY_COLOURS.get(record.status)))
    attempts = tables.Column()
    last_status_code = tables.Column(verbose_name=_("Last code"))
    next_attempt_at = tables.DateTimeColumn(attrs=shown_from("lg"))
    webhook_id = tables.Column(attrs=shown_from("xl"))

    class Meta(QgovTable.Meta):
        model = WebhookDelivery
        fields = ("created", "event_type", "status", "attempts", "last_status_code", "next_attempt_at",
                  "webhook_id")
        empty_text = _("No delivery yet.")
        orderable = False
