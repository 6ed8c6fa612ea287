"""REST face of reports: `/api/reports/` (runs: request → 202, status, retry, download of each file,
verify an uploaded file) and `/api/report-schedules/`. Thin: the workflows are qgov.reports.services."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from qgov.api.exceptions import Conflict
from qgov.api.fields import BriefRelatedField
from qgov.api.schema import ErrorSerializer
from qgov.api.serializers import (
    PortableModelSerializer,
    QgovModelSerializer,
    QueryParametersSerializer,
    StrictFieldsMixin,
)
from qgov.api.viewsets import QgovModelViewSet, QgovReadOnlyViewSet
from qgov.models import RECORD_FIELDS, Agency
from qgov.reports import services
from qgov.reports.choices import PageSizeChoices, ReportFormatChoices, ReportKindChoices, ReportMarkingChoices
from qgov.reports.downloads import MEDIA_TYPES, report_file_response
from qgov.reports.filters import ReportRunFilterSet, ReportScheduleFilterSet
from qgov.reports.forms import read_upload
from qgov.reports.models import ReportFile, ReportRun, ReportSchedule
from qgov.reports.selectors import RUNS, SCHEDULES
from qgov.reports.services import HORIZON_MONTHS
from qgov.roles import Action

PARAMETERS_HELP = ("What the report reads besides the agency and the date: a sunset review's `horizon_months` "
                   "(1–60, default 12); a risk register's filters. Any other name is refused (400).")


def download_path(run_id: int, report_format: str) -> str:
    return f"{reverse('api:reportrun-download', args=[run_id])}?format={report_format}"


@extend_schema_field({
    "type": "object", "description": PARAMETERS_HELP, "additionalProperties": False,
    "properties": {
        "horizon_months": {"type": "integer", "minimum": HORIZON_MONTHS[0], "maximum": HORIZON_MONTHS[1],
                           "description": "Sunset review only: how many months ahead it looks."},
        "filters": {"type": "object", "additionalProperties": {},
                    "description": "Risk register only: the register's filters, as its list takes them "
                                   "(`{\"status\": [\"open\"], \"q\": \"HNDL\"}`)."}}})
class ParametersField(serializers.DictField):
    """A report's parameters: an object; which names it may hold depends on the kind."""


class ReportFileSerializer(PortableModelSerializer):
    filename = serializers.CharField(read_only=True)
    download = serializers.SerializerMethodField(help_text="GET it for the file (the API's authentication).")

    class Meta:
        model = ReportFile
        fields = ("format", "filename", "sha256", "size", "pages", "download", "created")
        read_only_fields = fields

    def get_download(self, obj) -> str:
        request = self.context.get("request")
        path = download_path(obj.run_id, obj.format)
        return request.build_absolute_uri(path) if request is not None else path


class ReportRunSerializer(QgovModelSerializer):
    requested_by = BriefRelatedField(read_only=True, allow_null=True)  # none for a scheduled run
    schedule = BriefRelatedField(read_only=True, allow_null=True)
    # In UTC: a date long past read in the agency's zone has a local-mean-time offset in seconds
    # (+00:17:30), which RFC 3339 cannot write.
    as_of = serializers.DateTimeField(read_only=True, default_timezone=dt.UTC)
    files = ReportFileSerializer(many=True, read_only=True,
                                 help_text="The outputs, once the run has succeeded: PDF, CSV, JSON (and OSCAL).")

    class Meta:
        model = ReportRun
        fields = (*QgovModelSerializer.base_fields, "agency", "kind", "parameters", "as_of", "marking", "page_size",
                  "requested_by", "schedule", "status", "progress", "stage", "error", "attempts", "started",
                  "finished", "generator_version", "files", *RECORD_FIELDS)
        read_only_fields = fields


class ReportRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReportKindChoices.choices)
    agency = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1,
                                      help_text="Needed when you belong to several agencies.")
    parameters = ParametersField(required=False, default=dict)
    as_of = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                      help_text="The date the report counts overdue reviews and expiries from; "
                                                "not in the future. Default: now.")
    marking = serializers.ChoiceField(choices=ReportMarkingChoices.choices, required=False, allow_null=True,
                                      default=None, help_text="Printed on every page; default OFFICIAL-SENSITIVE "
                                                              "(a transparency summary is always TLP:CLEAR).")
    page_size = serializers.ChoiceField(choices=PageSizeChoices.choices, required=False, default=PageSizeChoices.A4)


class DownloadQuerySerializer(QueryParametersSerializer):
    format = serializers.ChoiceField(choices=ReportFormatChoices.values, required=False,
                                     default=ReportFormatChoices.PDF)


class VerifyRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    file = serializers.FileField(help_text="A report file (PDF, CSV, JSON or OSCAL) to check.")


class SignatureSerializer(serializers.Serializer):
    signed = serializers.BooleanField(help_text="A signature was found.")
    intact = serializers.BooleanField(help_text="The signed bytes are unchanged.")
    trusted = serializers.BooleanField(help_text="Signed with this platform's report certificate.")
    whole_file = serializers.BooleanField(help_text="The signature covers the whole file.")
    signer = serializers.CharField()
    signed_at = serializers.DateTimeField(allow_null=True)


class VerificationSerializer(serializers.Serializer):
    valid = serializers.BooleanField(help_text="A file this platform issued, unchanged.")
    message = serializers.CharField()
    sha256 = serializers.CharField(help_text="SHA-256 of the uploaded file.")
    run = serializers.SerializerMethodField(help_text="The run it belongs to (null when none, or not yours).")
    format = serializers.SerializerMethodField()
    signature = serializers.SerializerMethodField(help_text="For a PDF; null for other files.")

    @extend_schema_field({"type": "object", "nullable": True, "properties": {
        "id": {"type": "integer"}, "url": {"type": "string", "format": "uri"}, "display": {"type": "string"}}})
    def get_run(self, obj):
        if obj.run is None:
            return None
        request = self.context.get("request")
        path = reverse("api:reportrun-detail", args=[obj.run.pk])
        return {"id": obj.run.pk, "url": request.build_absolute_uri(path) if request else path,
                "display": str(obj.run)}

    @extend_schema_field({"type": "string", "nullable": True, "enum": [*ReportFormatChoices.values, None]})
    def get_format(self, obj):
        return obj.report_file.format if obj.report_file is not None else None

    @extend_schema_field(SignatureSerializer(allow_null=True))
    def get_signature(self, obj):
        return SignatureSerializer(obj.signature).data if obj.signature is not None else None


def report_agency(*, user, agency_id=None) -> Agency:
    """The agency a report is requested for: the one named, or the caller's only agency."""
    from django.core.exceptions import ValidationError

    candidates = Agency.objects.restrict(user, Action.VIEW)
    if agency_id is not None:
        agency = candidates.filter(pk=agency_id).first()
        if agency is None:
            raise ValidationError({"agency": [_("Unknown agency.")]})
        return agency
    agencies = list(candidates[:2])
    if len(agencies) != 1:
        raise ValidationError({"agency": [_("Name the agency the report is about.")]})
    return agencies[0]


ERRORS = {
    404: OpenApiResponse(ErrorSerializer, description="No such run among those you may see, or no such file of it."),
    409: OpenApiResponse(ErrorSerializer, description="Only a failed run can be retried."),
}


class ReportRunViewSet(QgovReadOnlyViewSet):
    """Report runs of the agencies the caller belongs to: status, progress, stage, error and files.
    POST requests one (auditors and admins): 202, and the run is built in the background; poll the
    run's URL (also the Location header) until `status` is succeeded or failed."""

    queryset = RUNS
    serializer_class = ReportRunSerializer
    filterset_class = ReportRunFilterSet
    ordering_fields = ["id", "created", "status", "kind", "as_of"]

    def _accepted(self, run):
        run = self.get_queryset().get(pk=run.pk)  # where no worker is configured it has already finished
        location = self.request.build_absolute_uri(reverse("api:reportrun-detail", args=[run.pk]))
        return Response(self.get_serializer(run).data, status=status.HTTP_202_ACCEPTED, headers={"Location": location})

    @extend_schema(request=ReportRequestSerializer, responses={202: ReportRunSerializer},
                   summary="Request a report")
    def create(self, request):
        payload = ReportRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        agency = report_agency(user=request.user, agency_id=data.get("agency"))
        run = services.report_run_request(user=request.user, agency=agency, kind=data["kind"],
                                          parameters=data["parameters"], as_of=data["as_of"],
                                          marking=data["marking"], page_size=data["page_size"])
        return self._accepted(run)

    @extend_schema(request=None, responses={202: ReportRunSerializer, 404: ERRORS[404], 409: ERRORS[409]},
                   summary="Retry a failed run")
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Queue a failed run again, with the same parameters."""
        from django.core.exceptions import ValidationError

        run = self.get_object()
        try:
            run = services.report_run_retry(run=run, user=request.user)
        except ValidationError as refused:
            raise Conflict(_("Only a failed run can be retried."), refused.message_dict) from None
        return self._accepted(run)

    @extend_schema(
        parameters=[OpenApiParameter("format", enum=ReportFormatChoices.values, default=ReportFormatChoices.PDF,
                                     description="Which file of the run (oscal: compliance reports only).")],
        responses={**{(200, media): OpenApiTypes.BINARY for media in dict.fromkeys(MEDIA_TYPES.values())},
                   404: ERRORS[404]},
        summary="Download a file of the run")
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The stored file (404 until the run has succeeded, or when the run has no such file). The
        `X-Content-SHA256` header carries its SHA-256, the one /api/reports/verify/ checks."""
        query = DownloadQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return report_file_response(self.get_object(), query.validated_data["format"])

    @extend_schema(request={"multipart/form-data": VerifyRequestSerializer},
                   responses={200: VerificationSerializer}, summary="Verify a report file")
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def verify(self, request):
        """Is this file a report this platform issued, unchanged, and which run? 200 whatever the
        answer (`valid`); a PDF must also carry an intact signature by the platform's report key."""
        payload = VerifyRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = services.report_verify(data=read_upload(payload.validated_data["file"]), user=request.user)
        return Response(VerificationSerializer(result, context=self.get_serializer_context()).data)


class ReportScheduleSerializer(QgovModelSerializer):
    parameters = ParametersField(required=False, default=dict)
    next_run_at = serializers.DateTimeField(required=False, default_timezone=dt.UTC,  # UTC: see ReportRunSerializer
                                            help_text="When the next run is queued; default: now.")
    last_run_at = serializers.DateTimeField(read_only=True, default_timezone=dt.UTC)

    class Meta:
        model = ReportSchedule
        fields = (*QgovModelSerializer.base_fields, "agency", "kind", "frequency", "parameters", "marking",
                  "page_size", "enabled", "next_run_at", "last_run_at", *RECORD_FIELDS)
        read_only_fields = ("last_run_at",)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        instance = self.instance
        kind = attrs.get("kind", getattr(instance, "kind", None))
        agency = attrs.get("agency", getattr(instance, "agency", None))
        if "kind" in attrs or "parameters" in attrs or instance is None:
            parameters = attrs.get("parameters", getattr(instance, "parameters", {}))
            # Django's ValidationError becomes the field errors of the 400 (DRF's run_validation).
            attrs["parameters"] = services.report_parameters_clean(kind=kind, parameters=parameters, agency=agency)
        if instance is None and attrs.get("next_run_at") is None:
            attrs["next_run_at"] = timezone.now()
        return attrs


class ReportScheduleViewSet(QgovModelViewSet):
    """The agency's periodic reports: each queues a run when `next_run_at` has passed. Agency admins
    write; every member reads."""

    queryset = SCHEDULES
    serializer_class = ReportScheduleSerializer
    filterset_class = ReportScheduleFilterSet
