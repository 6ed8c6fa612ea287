"""REST face of evidence files: `GET|POST /api/<resource>/{id}/evidence/` on the viewset of every
model that accepts evidence (added by QgovModelViewSet), and `/api/evidence-files/` with the
download, verify, handover and withdraw actions, and the custody log's check and exports."""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from qgov.api.fields import BriefRelatedField
from qgov.api.parsers import JSONParser
from qgov.api.serializers import PortableModelSerializer, QgovModelSerializer, StrictFieldsMixin
from qgov.api.viewsets import QgovReadOnlyViewSet
from qgov.evidence import services
from qgov.evidence.models import CustodyEvent, EvidenceFile
from qgov.filters import QgovFilterSet
from qgov.models import RECORD_FIELDS
from qgov.roles import Action


class CustodyEventSerializer(PortableModelSerializer):
    actor = BriefRelatedField(read_only=True)
    from_user = BriefRelatedField(read_only=True)
    to_user = BriefRelatedField(read_only=True)

    class Meta:
        model = CustodyEvent
        fields = ("id", "sequence", "action", "actor", "actor_name", "from_user", "to_user", "location", "reason",
                  "collected_at", "collected_by_name", "note", "observed_sha256", "chain_intact", "at",
                  "previous_hash", "entry_hash")
        read_only_fields = fields


class EvidenceFileSerializer(QgovModelSerializer):
    record_type = serializers.SerializerMethodField(help_text='The record\'s model, "app_label.model".')
    record_id = serializers.IntegerField(source="object_id", read_only=True)
    uploaded_by = BriefRelatedField(read_only=True)
    custodian = BriefRelatedField(read_only=True)
    withdrawn_by = BriefRelatedField(read_only=True)
    download = serializers.SerializerMethodField()

    class Meta:
        model = EvidenceFile
        fields = (*QgovModelSerializer.base_fields, "agency", "record_type", "record_id", "file_name", "description",
                  "sha256", "size", "media_type", "uploaded_by", "uploader_name", "uploaded_at", "custodian",
                  "withdrawn_at", "withdrawn_by", "withdrawn_reason", "download", *RECORD_FIELDS)
        read_only_fields = fields

    def get_record_type(self, obj) -> str:
        return f"{obj.content_type.app_label}.{obj.content_type.model}"

    def get_download(self, obj) -> str:
        path = reverse("api:evidencefile-download", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class EvidenceFileDetailSerializer(EvidenceFileSerializer):
    custody_events = CustodyEventSerializer(many=True, read_only=True)

    class Meta(EvidenceFileSerializer.Meta):
        fields = (*EvidenceFileSerializer.Meta.fields[:-len(RECORD_FIELDS)], "custody_events", *RECORD_FIELDS)
        read_only_fields = fields


class EvidenceUploadSerializer(StrictFieldsMixin, serializers.Serializer):
    file = serializers.FileField(help_text="The file; its type and size limits are the server's settings.")
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    collected_at = serializers.DateTimeField(required=False, allow_null=True,
                                             help_text="When the evidence was collected, if not at upload; "
                                                       "not in the future.")
    collected_by_name = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                              help_text="Who collected it, if not the uploader.")
    location = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                     help_text="Where it was collected.")


class HandoverSerializer(StrictFieldsMixin, serializers.Serializer):
    to_user = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all(),
                                                 help_text="The new custodian: a member of the agency who may view "
                                                           "the record.")
    reason = serializers.CharField(max_length=2000, help_text="Why custody changes hands.")
    location = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                     help_text="Where it was handed over.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class WithdrawSerializer(StrictFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ChainVerificationSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="The custody log's hash chain holds from entry 1 to the last.")
    entries = serializers.IntegerField(help_text="Entries read (up to the first problem).")
    broken_sequence = serializers.IntegerField(allow_null=True,
                                               help_text="The first sequence number at which the chain breaks.")
    reason = serializers.CharField(help_text="Why it breaks there; empty when ok.")
    head_hash = serializers.CharField(help_text="The hash of the last entry that holds.")
    checked_at = serializers.DateTimeField()


class VerifyResultSerializer(serializers.Serializer):
    match = serializers.BooleanField()
    expected = serializers.CharField(help_text="SHA-256 recorded at upload.")
    actual = serializers.CharField(help_text="SHA-256 of the stored file now; empty when it is missing.")
    chain = ChainVerificationSerializer(help_text="The custody chain as found before this verification's entry.")
    verified_at = serializers.DateTimeField(help_text="When: the time of this verification's custody entry.")


class EvidenceFileFilterSet(QgovFilterSet):
    record_type = django_filters.CharFilter(method="filter_record_type", label="Record type (app_label.model)")
    object_id = django_filters.NumberFilter(label="Record id")

    class Meta:
        model = EvidenceFile
        fields = ["record_type", "object_id", "agency", "sha256"]

    def filter_record_type(self, queryset, name, value):
        app_label, _dot, model = value.lower().partition(".")
        return queryset.filter(content_type__app_label=app_label, content_type__model=model)


EVIDENCE = EvidenceFile.objects.select_related("agency", "content_type", "uploaded_by", "custodian", "withdrawn_by")
ERRORS = {code: OpenApiResponse(description=text) for code, text in (
    (400, "Bad input; `errors` says what, field by field."), (403, "The role does not allow this on the record."),
    (404, "No such record in your agencies."))}


def _evidence_action():
    """`GET|POST /api/<resource>/{id}/evidence/`: the record's files, or a new one (multipart)."""

    @extend_schema(methods=["GET"], request=None, responses={200: EvidenceFileSerializer(many=True)},
                   summary="Evidence files of this record")
    @extend_schema(methods=["POST"], request={"multipart/form-data": EvidenceUploadSerializer},
                   responses={201: EvidenceFileSerializer, **ERRORS}, summary="Attach an evidence file")
    @action(detail=True, methods=["get", "post"], url_path="evidence", url_name="evidence",
            parser_classes=[MultiPartParser, FormParser])
    def evidence(self, request, pk=None):
        record = self.get_object()
        context = {"request": request}
        if request.method == "GET":
            files = EVIDENCE.restrict(request.user, Action.VIEW).for_record(record)
            return Response(EvidenceFileSerializer(files, many=True, context=context).data)
        payload = EvidenceUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        evidence = services.evidence_attach(record=record, upload=data["file"], user=request.user,
                                            description=data.get("description", ""),
                                            collected_at=data.get("collected_at"),
                                            collected_by_name=data.get("collected_by_name", ""),
                                            location=data.get("location", ""))
        location = request.build_absolute_uri(reverse("api:evidencefile-detail", args=[evidence.pk]))
        return Response(EvidenceFileSerializer(EVIDENCE.get(pk=evidence.pk), context=context).data,
                        status=status.HTTP_201_CREATED, headers={"Location": location})

    return evidence


def add_evidence_action(viewset_class) -> None:
    """Called by QgovModelViewSet for each viewset whose model accepts evidence."""
    viewset_class.evidence = _evidence_action()


class EvidenceFileViewSet(QgovReadOnlyViewSet):
    """Evidence files of the records the caller may view; a file's page lists its custody log."""

    queryset = EVIDENCE
    serializer_class = EvidenceFileSerializer
    filterset_class = EvidenceFileFilterSet
    ordering_fields = ["id", "uploaded_at", "file_name", "size"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(Prefetch(
                "custody_events", CustodyEvent.objects.select_related("actor", "from_user", "to_user")))
        return queryset

    def get_serializer_class(self):
        return EvidenceFileDetailSerializer if self.action == "retrieve" else EvidenceFileSerializer

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: ERRORS[404]})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The stored file, under its original name; the download is logged in the custody log."""
        from qgov.evidence.views import download_response

        return download_response(evidence=self.get_object(), user=request.user)

    @extend_schema(request=None, responses={200: VerifyResultSerializer, 404: ERRORS[404]})
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """Recompute the stored file's SHA-256 (`match`: is it the file uploaded?) and check the custody
        chain (`chain`); both outcomes are logged in the custody log."""
        result = services.evidence_verification(evidence=self.get_object(), user=request.user)
        return Response(VerifyResultSerializer({
            "match": result.match, "expected": result.expected, "actual": result.actual,
            "chain": result.chain.as_dict(), "verified_at": result.event.at}).data)

    @extend_schema(responses={200: ChainVerificationSerializer, 404: ERRORS[404]})
    @action(detail=True, methods=["get"], url_path="custody/verify", url_name="custody-verify")
    def custody_verify(self, request, pk=None):
        """Check the custody log's hash chain: `ok`, or the first broken sequence number and why.
        A read: nothing is written."""
        chain = services.evidence_custody_check(evidence=self.get_object(), user=request.user)
        return Response(ChainVerificationSerializer(chain.as_dict()).data)

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT, 404: ERRORS[404]})
    @action(detail=True, methods=["get"], url_path="custody", url_name="custody")
    def custody(self, request, pk=None):
        """The custody log as a JSON file with every entry's canonical fields and hashes, and the
        chain check (docs/evidence.md says how to recompute it). The export is logged."""
        return self._custody_export(request, "json")

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY, 404: ERRORS[404]})
    @action(detail=True, methods=["get"], url_path="custody/csv", url_name="custody-csv")
    def custody_csv(self, request, pk=None):
        """The custody log as CSV, with the hashes. The export is logged."""
        return self._custody_export(request, "csv")

    def _custody_export(self, request, export_format):
        from qgov.evidence.views import custody_export_response

        return custody_export_response(services.evidence_custody_export(
            evidence=self.get_object(), user=request.user, export_format=export_format))

    @extend_schema(request=HandoverSerializer, responses={200: CustodyEventSerializer, **ERRORS})
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser, MultiPartParser])
    def handover(self, request, pk=None):
        """Make another member of the agency the file's custodian (needs the change action on the record)."""
        evidence = self.get_object()
        services.require_on_record(request.user, evidence, services.MAY_WRITE)  # a 403 before a 400
        payload = HandoverSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        event = services.evidence_handover(evidence=evidence, user=request.user, to_user=data["to_user"],
                                           reason=data["reason"], location=data.get("location", ""),
                                           note=data.get("note", ""))
        return Response(CustodyEventSerializer(event, context={"request": request}).data)

    @extend_schema(request=WithdrawSerializer, responses={200: EvidenceFileSerializer, **ERRORS})
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser, MultiPartParser])
    def withdraw(self, request, pk=None):
        """Mark the file withdrawn, with a reason; it and its custody log are kept."""
        evidence = self.get_object()
        services.require_on_record(request.user, evidence, services.MAY_WRITE)  # a 403 before a 400
        payload = WithdrawSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.evidence_withdraw(evidence=evidence, user=request.user, reason=payload.validated_data["reason"])
        return Response(EvidenceFileSerializer(EVIDENCE.get(pk=evidence.pk), context={"request": request}).data)
