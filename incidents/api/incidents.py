"""The incidents API: playbooks (templates and agency copies, POST …/{id}/copy/), their steps,
incidents with their lifecycle actions, evidence and `POST …/{id}/steps/{step_id}/complete/`, and
incident checklist steps."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.generics import get_object_or_404  # a malformed id is a 404 too, not a 500
from rest_framework.response import Response

from incidents import services
from incidents.api.clocks import IncidentRecordsMixin
from incidents.filters import IncidentFilterSet, IncidentStepFilterSet, PlaybookFilterSet, PlaybookStepFilterSet
from incidents.models import Incident, IncidentStep, Playbook, PlaybookStep
from qgov.api.schema import MAX_INT64, RECORD_ID, ErrorSerializer
from qgov.api.serializers import PortableModelSerializer, QgovModelSerializer, StrictFieldsMixin
from qgov.api.viewsets import QgovModelViewSet
from qgov.models import RECORD_FIELDS, Agency
from qgov.roles import Action


class PlaybookStepSerializer(QgovModelSerializer):
    class Meta:
        model = PlaybookStep
        fields = (*QgovModelSerializer.base_fields, "playbook", "position", "phase", "csf_category", "instruction",
                  "mandatory", "role", *RECORD_FIELDS)


class NestedPlaybookStepSerializer(PortableModelSerializer):
    class Meta:
        model = PlaybookStep
        fields = ("id", "position", "phase", "csf_category", "instruction", "mandatory", "role")


class PlaybookSerializer(QgovModelSerializer):
    steps = NestedPlaybookStepSerializer(many=True, read_only=True)
    template_moved_on = serializers.SerializerMethodField(
        help_text="An agency copy whose template has a newer version than the one copied.")

    class Meta:
        model = Playbook
        fields = (*QgovModelSerializer.base_fields, "agency", "code", "title", "incident_type", "description",
                  "source", "source_version", "template_moved_on", "citations", "steps", *RECORD_FIELDS)
        read_only_fields = ("source", "source_version")

    def get_template_moved_on(self, obj) -> bool:
        return obj.template_moved_on


class IncidentStepSerializer(QgovModelSerializer):
    class Meta:
        model = IncidentStep
        fields = (*QgovModelSerializer.base_fields, "incident", "step", "position", "phase", "csf_category",
                  "instruction", "mandatory", "role", "completed_at", "completed_by", "note", *RECORD_FIELDS)
        read_only_fields = ("step", "completed_at", "completed_by")


class NestedIncidentStepSerializer(PortableModelSerializer):
    completed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = IncidentStep
        fields = ("id", "position", "phase", "csf_category", "instruction", "mandatory", "role", "completed_at",
                  "completed_by", "note")


class IncidentSerializer(QgovModelSerializer):
    steps = NestedIncidentStepSerializer(many=True, read_only=True)

    class Meta:
        model = Incident
        fields = (*QgovModelSerializer.base_fields, "agency", "reference", "title", "description", "incident_type",
                  "severity", "marking", "classification", "detected_at", "classified_at", "reported_by",
                  "reporter_name", "playbook", "status", "status_note", "devices", "assets", "risks", "suppliers",
                  "regimes", "review_summary", "root_cause", "lessons", "follow_up_risks", "closed_at", "steps",
                  *RECORD_FIELDS)
        read_only_fields = ("reported_by", "closed_at")


class StepCompleteSerializer(StrictFieldsMixin, serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, help_text="What was done.")


class PlaybookCopySerializer(StrictFieldsMixin, serializers.Serializer):
    agency = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all(),
                                                help_text="The agency the copy is for.")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            self.fields["agency"].queryset = Agency.objects.restrict(user, Action.VIEW)


ERRORS = {code: OpenApiResponse(ErrorSerializer) for code in (400, 403, 404)}


class PlaybookViewSet(QgovModelViewSet):
    queryset = Playbook.objects.select_related("agency", "source").prefetch_related("steps")
    serializer_class = PlaybookSerializer
    filterset_class = PlaybookFilterSet

    @extend_schema(request=PlaybookCopySerializer, responses={201: PlaybookSerializer, **ERRORS},
                   summary="Copy a template into an agency",
                   description="The agency's own copy of a platform template, with its steps; it records the "
                               "template version it came from. Needs the agency's manage_playbooks action.")
    @action(detail=True, methods=["post"])
    def copy(self, request, pk=None):
        payload = PlaybookCopySerializer(data=request.data, user=request.user)
        payload.is_valid(raise_exception=True)
        copy = services.playbook_copy(template=self.get_object(), agency=payload.validated_data["agency"],
                                      user=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=copy.pk)).data, status=status.HTTP_201_CREATED)


class PlaybookStepViewSet(QgovModelViewSet):
    queryset = PlaybookStep.objects.select_related("playbook")
    serializer_class = PlaybookStepSerializer
    filterset_class = PlaybookStepFilterSet


class IncidentViewSet(IncidentRecordsMixin, QgovModelViewSet):
    queryset = Incident.objects.select_related("agency", "reported_by", "playbook").prefetch_related(
        "devices", "assets", "risks", "suppliers", "follow_up_risks", "steps__completed_by", "regimes")
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilterSet

    @extend_schema(request=StepCompleteSerializer, responses={200: IncidentSerializer, **ERRORS},
                   parameters=[OpenApiParameter("step_id", RECORD_ID, OpenApiParameter.PATH,
                                                description="The id of one of this incident's steps.")],
                   summary="Complete a checklist step",
                   description="Marks the step done, recording who and when; audited. A step of another incident "
                               "is a 404 and changes nothing; a step already done, or a closed incident, is a 400.")
    @action(detail=True, methods=["post"], url_path=r"steps/(?P<step_id>[0-9]+)/complete", url_name="step-complete")
    def complete_step(self, request, pk=None, step_id=None):
        payload = StepCompleteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        incident = self.get_object()
        step_id = int(step_id)
        if not 1 <= step_id <= MAX_INT64:  # past a 64-bit id no step can match (PostgreSQL would overflow)
            raise NotFound
        get_object_or_404(IncidentStep.objects.filter(incident=incident), pk=step_id)
        services.incident_step_complete(incident=incident, step_id=step_id, user=request.user,
                                        note=payload.validated_data.get("note", ""))
        return Response(self.get_serializer(self.get_queryset().get(pk=incident.pk)).data)


class IncidentStepViewSet(QgovModelViewSet):
    queryset = IncidentStep.objects.select_related("incident", "completed_by")
    serializer_class = IncidentStepSerializer
    filterset_class = IncidentStepFilterSet
