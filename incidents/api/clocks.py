"""The API of the regulator clocks, timeline and key actions.

On each incident (IncidentRecordsMixin, a base of the incident viewset):
  GET|POST /api/incidents/{id}/timeline/        entries, oldest first; a correction names `corrects`
  GET|POST /api/incidents/{id}/key-actions/     key actions (key IDs, never key bytes)
  GET      /api/incidents/{id}/notifications/   regulator deadlines
  POST     /api/incidents/{id}/notifications/{nid}/sent/   record one as sent (sent_at, reference)
and the same records across incidents (`?incident=`): /api/timeline-entries/, /api/key-actions/,
/api/regulator-notifications/, plus the regime catalog (/api/regulator-regimes/,
/api/regulator-clocks/) and the agency's chosen regimes (/api/agency-regimes/, admins write).
Timeline entries and key actions are records: no PUT, PATCH or DELETE (405)."""

from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404  # a malformed id is a 404 too, not a 500
from rest_framework.response import Response

from incidents import clocks
from incidents.filters import (
    AgencyRegimeFilterSet,
    KeyActionFilterSet,
    RegulatorClockFilterSet,
    RegulatorNotificationFilterSet,
    RegulatorRegimeFilterSet,
    TimelineEntryFilterSet,
)
from incidents.models import (
    AgencyRegime,
    Incident,
    KeyAction,
    RegulatorClock,
    RegulatorNotification,
    RegulatorRegime,
    TimelineEntry,
)
from qgov.api.schema import ErrorSerializer
from qgov.api.serializers import PortableModelSerializer, QgovModelSerializer, StrictFieldsMixin
from qgov.api.viewsets import QgovModelViewSet
from qgov.models import RECORD_FIELDS
from qgov.roles import Action

ERRORS = {code: OpenApiResponse(ErrorSerializer, description=text) for code, text in (
    (400, "Bad input; `errors` says what, field by field. Nothing was written."),
    (403, "The role does not allow this."), (404, "No such incident (or record of it) in your agencies."))}
RECORD_METHODS = ["get", "post", "head", "options"]  # records are added, never edited or removed


class RegulatorClockSerializer(QgovModelSerializer):
    class Meta:
        model = RegulatorClock
        fields = (*QgovModelSerializer.base_fields, "regime", "code", "label", "position", "start", "hours", "months",
                  "awareness_hours", "after", *RECORD_FIELDS)


class NestedRegulatorClockSerializer(PortableModelSerializer):
    after = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = RegulatorClock
        fields = ("id", "code", "label", "position", "start", "hours", "months", "awareness_hours", "after")


class RegulatorRegimeSerializer(QgovModelSerializer):
    clocks = NestedRegulatorClockSerializer(many=True, read_only=True)

    class Meta:
        model = RegulatorRegime
        fields = (*QgovModelSerializer.base_fields, "code", "name", "citation", "description", "applies_from",
                  "sources", "clocks", *RECORD_FIELDS)


class AgencyRegimeSerializer(QgovModelSerializer):
    class Meta:
        model = AgencyRegime
        fields = (*QgovModelSerializer.base_fields, "agency", "regime", "notes", *RECORD_FIELDS)


class RegulatorNotificationSerializer(QgovModelSerializer):
    clock_label = serializers.CharField(source="clock.label", read_only=True)
    state = serializers.SerializerMethodField(
        help_text="waiting (start not known yet), open, overdue, sent, or sent_late (sent after its deadline).")
    seconds_left = serializers.SerializerMethodField(
        help_text="Seconds to the deadline now (negative: overdue); null when sent or not yet known.")

    class Meta:
        model = RegulatorNotification
        fields = (*QgovModelSerializer.base_fields, "agency", "incident", "regime", "clock", "clock_label",
                  "clock_start", "due_at", "sent_at", "reference", "sent_by", "state", "seconds_left", *RECORD_FIELDS)
        read_only_fields = ("agency", "incident", "regime", "clock", "clock_start", "due_at", "sent_at", "reference",
                            "sent_by")

    def get_state(self, obj) -> str:
        return notification_state(obj)

    def get_seconds_left(self, obj) -> int | None:
        if obj.sent_at is not None or obj.due_at is None:
            return None
        return int((obj.due_at - timezone.now()).total_seconds())


def notification_state(row, now=None) -> str:
    if row.sent_at is not None:
        return "sent_late" if row.due_at is not None and row.sent_at > row.due_at else "sent"
    if row.due_at is None:
        return "waiting"
    return "overdue" if (now or timezone.now()) > row.due_at else "open"


class NotificationSentSerializer(StrictFieldsMixin, serializers.Serializer):
    sent_at = serializers.DateTimeField(help_text="When it went to the regulator: not in the future, not before "
                                                  "the clock started.")
    reference = serializers.CharField(required=False, allow_blank=True, max_length=120,
                                      help_text="The regulator's case or submission reference.")
    version = serializers.IntegerField(required=False, min_value=1,
                                       help_text="The notification's version you saw (or send If-Match); stale → 412.")


class TimelineEntrySerializer(QgovModelSerializer):
    class Meta:
        model = TimelineEntry
        fields = (*QgovModelSerializer.base_fields, "agency", "incident", "at", "kind", "author", "author_name",
                  "text", "corrects", *RECORD_FIELDS)
        read_only_fields = ("agency", "kind", "author", "author_name")

    def create(self, validated_data):
        incident = validated_data["incident"]
        return clocks.timeline_add(incident=incident, user=self._user(), text=validated_data["text"],
                                   at=validated_data.get("at"), corrects=validated_data.get("corrects"))


class KeyActionSerializer(QgovModelSerializer):
    class Meta:
        model = KeyAction
        fields = (*QgovModelSerializer.base_fields, "agency", "incident", "action", "key_ids", "sae_ids", "kme_ids",
                  "window_start", "window_end", "deviation", "performed_by", "performed_at", "note", *RECORD_FIELDS)
        read_only_fields = ("agency", "performed_by")

    def create(self, validated_data):
        incident = validated_data.pop("incident")
        return clocks.key_action_record(incident=incident, user=self._user(), data=validated_data)


class TimelineEntryInputSerializer(TimelineEntrySerializer):
    """POST …/incidents/{id}/timeline/: the incident is the one in the URL."""

    class Meta(TimelineEntrySerializer.Meta):
        read_only_fields = (*TimelineEntrySerializer.Meta.read_only_fields, "incident")


class KeyActionInputSerializer(KeyActionSerializer):
    class Meta(KeyActionSerializer.Meta):
        read_only_fields = (*KeyActionSerializer.Meta.read_only_fields, "incident")


TIMELINE = TimelineEntry.objects.select_related("agency", "incident", "author", "corrects")
KEY_ACTIONS = KeyAction.objects.select_related("agency", "incident", "performed_by")
NOTIFICATIONS = RegulatorNotification.objects.select_related("agency", "incident", "regime", "clock", "sent_by")


# --- viewsets across incidents ----------------------------------------------------------------------

class RegulatorRegimeViewSet(QgovModelViewSet):
    queryset = RegulatorRegime.objects.prefetch_related(
        Prefetch("clocks", RegulatorClock.objects.select_related("after").order_by("position")))
    serializer_class = RegulatorRegimeSerializer
    filterset_class = RegulatorRegimeFilterSet


class RegulatorClockViewSet(QgovModelViewSet):
    queryset = RegulatorClock.objects.select_related("regime", "after")
    serializer_class = RegulatorClockSerializer
    filterset_class = RegulatorClockFilterSet


class AgencyRegimeViewSet(QgovModelViewSet):
    queryset = AgencyRegime.objects.select_related("agency", "regime")
    serializer_class = AgencyRegimeSerializer
    filterset_class = AgencyRegimeFilterSet


class RegulatorNotificationViewSet(QgovModelViewSet):
    """Rows are computed from the incident (its regimes, detected and classified times); the one
    write is recording that a notification was sent."""

    http_method_names = RECORD_METHODS
    queryset = NOTIFICATIONS
    serializer_class = RegulatorNotificationSerializer
    filterset_class = RegulatorNotificationFilterSet
    ordering = ["due_at", "pk"]

    @classmethod
    def as_view(cls, actions=None, **initkwargs):
        # No create: the list route answers POST with 405 and does not advertise it (Allow, schema).
        actions = {method: name for method, name in (actions or {}).items() if name != "create"}
        return super().as_view(actions, **initkwargs)

    @extend_schema(request=NotificationSentSerializer, responses={200: RegulatorNotificationSerializer, **ERRORS,
                                                                  412: OpenApiResponse(ErrorSerializer)},
                   summary="Record a notification as sent")
    @action(detail=True, methods=["post"])
    def sent(self, request, pk=None):
        return notification_sent_response(self, request, self.get_object())


class TimelineEntryViewSet(QgovModelViewSet):
    http_method_names = RECORD_METHODS
    queryset = TIMELINE
    serializer_class = TimelineEntrySerializer
    filterset_class = TimelineEntryFilterSet
    ordering = ["at", "pk"]


class KeyActionViewSet(QgovModelViewSet):
    http_method_names = RECORD_METHODS
    queryset = KEY_ACTIONS
    serializer_class = KeyActionSerializer
    filterset_class = KeyActionFilterSet
    ordering = ["performed_at", "pk"]


def notification_sent_response(view, request, notification):
    payload = NotificationSentSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    expected = view.expected_version()  # If-Match, else the body's version
    clocks.notification_mark_sent(notification=notification, user=request.user,
                                  sent_at=payload.validated_data["sent_at"],
                                  reference=payload.validated_data.get("reference", ""), expected_version=expected)
    row = NOTIFICATIONS.get(pk=notification.pk)
    return Response(RegulatorNotificationSerializer(row, context={"request": request}).data)


# --- on each incident ------------------------------------------------------------------------------

class IncidentRecordsMixin:
    """The timeline, key actions and regulator notifications of one incident, as actions of the
    incident viewset (the core nests evidence the same way)."""

    def _incident(self):
        """The incident of the URL, scoped like get_object() but without the prefetches its own
        page needs (the records' lists then cost two queries)."""
        incident = get_object_or_404(Incident.objects.restrict(self.request.user, Action.VIEW)
                                     .select_related("agency"), pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, incident)
        return incident

    def _records_response(self, request, queryset, serializer_class, input_class, create):
        incident = self._incident()
        context = {"request": request}
        if request.method == "GET":
            rows = queryset.restrict(request.user, Action.VIEW).filter(incident=incident)
            return Response(serializer_class(rows, many=True, context=context).data)
        payload = input_class(data=request.data, context=context)
        payload.is_valid(raise_exception=True)
        record = create(incident, payload.validated_data)
        location = request.build_absolute_uri(
            reverse(f"api:{record._meta.model_name}-detail", args=[record.pk]))
        return Response(serializer_class(queryset.get(pk=record.pk), context=context).data,
                        status=status.HTTP_201_CREATED, headers={"Location": location})

    @extend_schema(methods=["GET"], request=None, responses={200: TimelineEntrySerializer(many=True), **ERRORS},
                   summary="The incident's timeline")
    @extend_schema(methods=["POST"], request=TimelineEntryInputSerializer,
                   responses={201: TimelineEntrySerializer, **ERRORS}, summary="Add a timeline entry",
                   description="Entries are append-only; to correct one, add an entry whose `corrects` is its id.")
    @action(detail=True, methods=["get", "post"], url_path="timeline", url_name="timeline")
    def timeline(self, request, pk=None):
        def create(incident, data):
            return clocks.timeline_add(incident=incident, user=request.user, text=data["text"], at=data.get("at"),
                                       corrects=data.get("corrects"))

        return self._records_response(request, TIMELINE, TimelineEntrySerializer, TimelineEntryInputSerializer,
                                      create)

    @extend_schema(methods=["GET"], request=None, responses={200: KeyActionSerializer(many=True), **ERRORS},
                   summary="The incident's key actions")
    @extend_schema(methods=["POST"], request=KeyActionInputSerializer,
                   responses={201: KeyActionSerializer, **ERRORS}, summary="Record a key action",
                   description="Key IDs (UUIDs) or ranges of them; text that looks like key bytes (hex, Base64, PEM) "
                               "in any field is a 400 naming the field, and nothing is written.")
    @action(detail=True, methods=["get", "post"], url_path="key-actions", url_name="key-actions")
    def key_actions(self, request, pk=None):
        def create(incident, data):
            data = {name: value for name, value in data.items() if name != "incident"}
            return clocks.key_action_record(incident=incident, user=request.user, data=data)

        return self._records_response(request, KEY_ACTIONS, KeyActionSerializer, KeyActionInputSerializer, create)

    @extend_schema(request=None, responses={200: RegulatorNotificationSerializer(many=True), **ERRORS},
                   summary="The incident's regulator deadlines")
    @action(detail=True, methods=["get"], url_path="notifications", url_name="notifications")
    def notifications(self, request, pk=None):
        incident = self._incident()
        rows = NOTIFICATIONS.restrict(request.user, Action.VIEW).filter(incident=incident).order_by(
            "regime__code", "clock__position")
        return Response(RegulatorNotificationSerializer(rows, many=True, context={"request": request}).data)

    @extend_schema(request=NotificationSentSerializer,
                   responses={200: RegulatorNotificationSerializer, **ERRORS, 412: OpenApiResponse(ErrorSerializer)},
                   summary="Record a regulator notification as sent")
    @action(detail=True, methods=["post"], url_path=r"notifications/(?P<notification_id>[0-9]+)/sent",
            url_name="notification-sent")
    def notification_sent(self, request, pk=None, notification_id=None):
        incident = self._incident()
        notification = get_object_or_404(NOTIFICATIONS.restrict(request.user, Action.VIEW).filter(incident=incident),
                                         pk=notification_id)
        return notification_sent_response(self, request, notification)


