"""REST face of imports: `POST /api/<resource>/import/` on any viewset of an importable model
(ImportActionMixin), and the read-only `/api/import-runs/`."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from qgov.api.fields import BriefRelatedField
from qgov.api.serializers import QgovModelSerializer
from qgov.api.viewsets import QgovReadOnlyViewSet
from qgov.imports.filters import ImportRunFilterSet
from qgov.imports.services import import_agency, import_run_create
from qgov.models import RECORD_FIELDS, ImportRun


class RowProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Spreadsheet row: 1 is the header, 0 the file as a whole (always 0 for "
                                             "a document import such as CycloneDX).")
    field = serializers.CharField(help_text="The column; for a document import, where in it (e.g. a JSON path).")
    message = serializers.CharField()


class ImportRunSerializer(QgovModelSerializer):
    model = serializers.SerializerMethodField()
    requested_by = BriefRelatedField(read_only=True)
    errors = RowProblemSerializer(many=True, read_only=True)

    class Meta:
        model = ImportRun
        fields = (*QgovModelSerializer.base_fields, "agency", "model", "requested_by", "file_name", "sha256", "size",
                  "format", "status", "started", "finished", "rows_total", "rows_processed",
                  "created_count", "updated_count", "unchanged_count", "failed_count", "errors", *RECORD_FIELDS)
        read_only_fields = fields

    def get_model(self, obj) -> str:
        return f"{obj.content_type.app_label}.{obj.content_type.model}"


class ImportRunViewSet(QgovReadOnlyViewSet):
    """Import runs of the agencies the caller belongs to: status, progress, counts and the row report."""

    queryset = ImportRun.objects.select_related("agency", "content_type", "requested_by")
    serializer_class = ImportRunSerializer
    filterset_class = ImportRunFilterSet
    ordering_fields = ["id", "created", "status"]


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV (UTF-8) or XLSX; the first row names the columns.")
    agency = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1,
                                      help_text="Needed when you belong to several agencies.")


class ImportActionMixin:
    """Adds `POST …/import/` to a model viewset: the file is queued as an ImportRun and the answer
    is 202 with the run (poll its URL, also in the Location header, until it has finished)."""

    @extend_schema(request={"multipart/form-data": ImportRequestSerializer}, responses={202: ImportRunSerializer})
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    def import_records(self, request):
        """Import records from a CSV or XLSX file, in the background: all rows or none."""
        payload = ImportRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        agency = import_agency(user=request.user, agency_id=payload.validated_data.get("agency"))
        run = import_run_create(user=request.user, agency=agency, model=self.queryset.model,
                                upload=payload.validated_data["file"])
        run.refresh_from_db()  # where no worker is configured the run has already finished
        location = request.build_absolute_uri(reverse("api:importrun-detail", args=[run.pk]))
        return Response(ImportRunSerializer(run, context=self.get_serializer_context()).data,
                        status=status.HTTP_202_ACCEPTED, headers={"Location": location})
