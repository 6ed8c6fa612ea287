"""REST face of webhooks: `/api/webhooks/` (endpoints: CRUD, rotate-secret, test, redeliver) and
`/api/webhook-deliveries/` (the delivery log with its attempts; redeliver one). Agency admins only
(`manage_webhooks`): others do not see the endpoints at all. Thin: the workflows are `services`."""


from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from qgov.api.fields import BriefRelatedField
from qgov.api.schema import ErrorSerializer
from qgov.api.serializers import PortableModelSerializer, QgovModelSerializer, StrictFieldsMixin
from qgov.api.viewsets import QgovModelViewSet, QgovReadOnlyViewSet
from qgov.integrations.events import known_event_types
from qgov.integrations.webhooks import services
from qgov.integrations.webhooks.filters import WebhookDeliveryFilterSet, WebhookEndpointFilterSet
from qgov.integrations.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from qgov.models import RECORD_FIELDS

# "<app>.<model>.<verb>" or a fixed name such as "report.ready": lower-case words joined by dots.
EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"


class WebhookEndpointSerializer(QgovModelSerializer):
    created_by = BriefRelatedField(read_only=True, allow_null=True)
    event_types = serializers.ListField(
        child=serializers.RegexField(EVENT_TYPE_PATTERN, max_length=150), required=False, max_length=500,
        help_text="Event type names (GET /api/webhooks/event-types/ lists them), e.g. "
                  "[\"qgov.membership.created\", \"report.ready\"].")
    secret = serializers.SerializerMethodField(
        help_text="The signing secret (`whsec_…`): in the answer to the create only, never again.")

    class Meta:
        model = WebhookEndpoint
        fields = (*QgovModelSerializer.base_fields, "agency", "name", "target_url", "description", "all_events",
                  "event_types", "is_active", "disabled_reason", "disabled_at", "previous_secret_expires",
                  "created_by", "secret", *RECORD_FIELDS)
        read_only_fields = ("disabled_reason", "disabled_at", "previous_secret_expires")

    def get_secret(self, obj) -> str | None:
        return getattr(obj, "new_secret", None)

    def create(self, validated_data):
        endpoint, secret = services.endpoint_create(user=self._user(), data=validated_data)
        endpoint.new_secret = secret
        return endpoint


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="The new signing secret; shown this once.")
    previous_secret_expires = serializers.DateTimeField(
        help_text="Until then deliveries carry a signature with the previous secret too.")


class RedeliverSinceSerializer(StrictFieldsMixin, serializers.Serializer):
    since = serializers.DateTimeField(help_text="Send again every failed delivery created at or after this time.")


class RedeliveredSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many deliveries were queued again.")


class WebhookAttemptSerializer(PortableModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ("attempted_at", "status_code", "latency_ms", "response_excerpt", "error")
        read_only_fields = fields


class WebhookDeliverySerializer(QgovModelSerializer):
    endpoint = BriefRelatedField(read_only=True)
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True, help_text="Every attempt, oldest first.")

    class Meta:
        model = WebhookDelivery
        fields = (*QgovModelSerializer.base_fields, "agency", "endpoint", "event_type", "webhook_id", "status",
                  "attempts", "next_attempt_at", "last_status_code", "last_error", "created", "delivered_at",
                  "audit_event", "payload", "attempt_log")
        read_only_fields = fields


ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="The endpoint is disabled, or the delivery still pending."),
    404: OpenApiResponse(ErrorSerializer, description="Not among the webhooks you manage."),
}


class WebhookEndpointViewSet(QgovModelViewSet):
    """The agency's webhook endpoints. The create's answer holds the signing `secret`, shown once."""

    queryset = WebhookEndpoint.objects.select_related("agency", "created_by")
    serializer_class = WebhookEndpointSerializer
    filterset_class = WebhookEndpointFilterSet

    @extend_schema(request=None, responses={200: SecretSerializer, 404: ERRORS[404]}, summary="Rotate the secret")
    @action(detail=True, methods=["post"], url_path="rotate-secret", url_name="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new signing secret, shown once; the previous one keeps signing beside it for 24 hours."""
        endpoint = self.get_object()
        secret = services.endpoint_rotate_secret(endpoint=endpoint, user=request.user)
        endpoint.refresh_from_db()
        return Response({"secret": secret, "previous_secret_expires": endpoint.previous_secret_expires})

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer, 400: ERRORS[400], 404: ERRORS[404]},
                   summary="Send a test event")
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Queue a `webhook.test` event to this endpoint; follow it in its delivery."""
        delivery = services.endpoint_send_test(endpoint=self.get_object(), user=request.user)
        return Response(WebhookDeliverySerializer(delivery, context=self.get_serializer_context()).data,
                        status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=RedeliverSinceSerializer, responses={202: RedeliveredSerializer, 400: ERRORS[400],
                                                                404: ERRORS[404]},
                   summary="Redeliver what failed since a time")
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        """Queue again every failed delivery of this endpoint created since `since`."""
        payload = RedeliverSinceSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        count = services.deliveries_redeliver_failed(endpoint=self.get_object(), user=request.user,
                                                     since=payload.validated_data["since"])
        return Response({"count": count}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: serializers.ListSerializer(child=serializers.CharField())},
                   summary="Event types")
    @action(detail=False, methods=["get"], url_path="event-types", url_name="event-types", pagination_class=None,
            filterset_class=None)
    def event_types(self, request):
        """Every event type an endpoint may subscribe to."""
        return Response(known_event_types())


class WebhookDeliveryViewSet(QgovReadOnlyViewSet):
    """The delivery log of the agency's endpoints (filter by `endpoint`, `status`, `created_after`)."""

    queryset = WebhookDelivery.objects.select_related("agency", "endpoint").prefetch_related("attempt_log")
    serializer_class = WebhookDeliverySerializer
    filterset_class = WebhookDeliveryFilterSet
    ordering_fields = ["id", "created", "status", "next_attempt_at"]

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer, 400: ERRORS[400], 404: ERRORS[404]},
                   summary="Redeliver")
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        """Send this delivery again: the same `webhook-id` and body, the retry schedule started afresh."""
        delivery = services.delivery_redeliver(delivery=self.get_object(), user=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=delivery.pk)).data,
                        status=status.HTTP_202_ACCEPTED)



