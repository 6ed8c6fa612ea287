import django_filters

from qgov.filters import QgovFilterSet, UtcIsoDateTimeFilter
from qgov.integrations.webhooks.choices import WebhookDeliveryStatusChoices
from qgov.integrations.webhooks.models import WebhookDelivery, WebhookEndpoint


class WebhookEndpointFilterSet(QgovFilterSet):
    search_fields = ("name", "target_url")

    class Meta:
        model = WebhookEndpoint
        fields = ["agency", "is_active"]


class WebhookDeliveryFilterSet(QgovFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=WebhookDeliveryStatusChoices.choices)
    created_after = UtcIsoDateTimeFilter(field_name="created", lookup_expr="gte")

    class Meta:
        model = WebhookDelivery
        fields = ["agency", "endpoint", "status", "event_type", "webhook_id"]
