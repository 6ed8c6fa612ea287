"""The procurement API: the questionnaire and crypto-policy catalogs, the agency's policy choice,
suppliers, due-diligence reviews and their answers, components and contracts."""

import json

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError, UnsupportedMediaType, ValidationError
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response

from procurement import services as procurement_services
from procurement.choices import AnswerChoices, OpenInterfaceChoices, ReviewOutcomeChoices
from procurement.cyclonedx import CycloneDxImporter
from procurement.filters import (
    ComponentFilterSet,
    ContractFilterSet,
    CryptoPolicyAdoptionFilterSet,
    CryptoPolicyFilterSet,
    DueDiligenceAnswerFilterSet,
    DueDiligenceReviewFilterSet,
    QuestionnaireFilterSet,
    SupplierFilterSet,
)
from procurement.models import (
    Component,
    Contract,
    CryptoPolicy,
    CryptoPolicyAdoption,
    DueDiligenceAnswer,
    DueDiligenceReview,
    Questionnaire,
    Supplier,
)
from procurement.services import answers_frozen_message, review_answers_save, review_running_score
from qgov.api.schema import ErrorSerializer
from qgov.api.serializers import QgovModelSerializer, StrictFieldsMixin
from qgov.api.viewsets import QgovModelViewSet, QgovReadOnlyViewSet
from qgov.imports.api import ImportRunSerializer
from qgov.imports.filters import ImportRunFilterSet
from qgov.imports.services import import_agency, import_run_create
from qgov.imports.views import run_changes
from qgov.models import RECORD_FIELDS, ImportRun


class QuestionnaireSerializer(QgovModelSerializer):
    class Meta:
        model = Questionnaire
        fields = (*QgovModelSerializer.base_fields, "code", "series", "edition", "title", "description", "questions",
                  "escalation", "outcome_bands", "citations", "unverified", *RECORD_FIELDS)


class CryptoPolicySerializer(QgovModelSerializer):
    class Meta:
        model = CryptoPolicy
        fields = (*QgovModelSerializer.base_fields, "code", "name", "issuer", "description", "deadlines",
                  "milestones", "citations", "unverified", *RECORD_FIELDS)


class CryptoPolicyAdoptionSerializer(QgovModelSerializer):
    class Meta:
        model = CryptoPolicyAdoption
        fields = (*QgovModelSerializer.base_fields, "agency", "policy", "adopted_on", "notes", *RECORD_FIELDS)


class SupplierSerializer(QgovModelSerializer):
    class Meta:
        model = Supplier
        fields = (*QgovModelSerializer.base_fields, "agency", "name", "country", "criticality", "owner",
                  "contact_name", "contact_email", "beneficial_ownership", "foreign_control_notes",
                  "export_control_notes", "status", "status_note", "rating_score", "rating_outcome", "rated_on",
                  "notes", *RECORD_FIELDS)
        read_only_fields = ("rating_score", "rating_outcome", "rated_on")


class ReviewAnswerSerializer(serializers.Serializer):
    """One answer of a review as the review shows it, with its question from the questionnaire."""

    id = serializers.IntegerField(read_only=True)
    question = serializers.CharField(read_only=True, help_text="The question's code, e.g. Q1.")
    text = serializers.CharField(read_only=True, help_text="The question, from the questionnaire.")
    weight = serializers.IntegerField(read_only=True, help_text="Its weight; the weights total 100.")
    answer = serializers.ChoiceField(AnswerChoices.choices, read_only=True)
    comment = serializers.CharField(read_only=True)
    version = serializers.IntegerField(read_only=True)


class RunningScoreSerializer(serializers.Serializer):
    score = serializers.DecimalField(max_digits=4, decimal_places=1, help_text="0.0 – 100.0")
    outcome = serializers.ChoiceField(ReviewOutcomeChoices.choices)
    escalation_reasons = serializers.ListField(child=serializers.CharField())
    answered = serializers.IntegerField(help_text="Questions answered other than “unknown”.")
    total = serializers.IntegerField()


class DueDiligenceReviewSerializer(QgovModelSerializer):
    answers = serializers.SerializerMethodField(
        help_text="The answers, in the questionnaire's order (read-only: write them with POST …/answers/).")
    running_score = serializers.SerializerMethodField(
        help_text="What the current answers would score; null once the review is submitted (see score).")

    class Meta:
        model = DueDiligenceReview
        fields = (*QgovModelSerializer.base_fields, "agency", "supplier", "questionnaire", "reviewer", "status",
                  "status_note", "score", "outcome", "escalation_reasons", "submitted_at", "submitted_by",
                  "supersedes", "conclusion", "next_review_due", "answers", "running_score", *RECORD_FIELDS)

    @extend_schema_field(ReviewAnswerSerializer(many=True))
    def get_answers(self, review) -> list[dict]:
        questions = {question["code"]: (order, question) for order, question in
                     enumerate(review.questionnaire.questions or ())}
        answers = sorted(review.answers.all(), key=lambda a: (questions.get(a.question, (len(questions),))[0], a.pk))
        return [{"id": a.pk, "question": a.question, "text": questions.get(a.question, (0, {}))[1].get("text", ""),
                 "weight": questions.get(a.question, (0, {}))[1].get("weight", 0), "answer": a.answer,
                 "comment": a.comment, "version": a.version} for a in answers]

    @extend_schema_field(RunningScoreSerializer(allow_null=True))
    def get_running_score(self, review) -> dict | None:
        if review.pk is None or answers_frozen_message(review):
            return None
        return RunningScoreSerializer(review_running_score(review)).data


class AnswerItemSerializer(serializers.Serializer):
    """One item of POST /api/due-diligence-reviews/{id}/answers/ (checked by the service)."""

    question = serializers.CharField(help_text="A question code of the review's questionnaire, e.g. Q1.")
    answer = serializers.ChoiceField(AnswerChoices.choices)
    comment = serializers.CharField(required=False, allow_blank=True,
                                    help_text="Left as it is when omitted.")


class DueDiligenceAnswerSerializer(QgovModelSerializer):
    class Meta:
        model = DueDiligenceAnswer
        fields = (*QgovModelSerializer.base_fields, "agency", "review", "question", "answer", "comment",
                  *RECORD_FIELDS)


class ComponentSerializer(QgovModelSerializer):
    class Meta:
        model = Component
        fields = (*QgovModelSerializer.base_fields, "agency", "supplier", "name", "component_type", "part_number",
                  "component_version", "purl", "origin_country", "firmware_sha256", "authenticity_method",
                  "authenticity_checked_on", "authenticity_result", "device", "asset", "crypto_asset_type",
                  "primitive", "algorithm", "parameter_set_identifier", "classical_security_level",
                  "nist_quantum_security_level", "certification_level", "key_state", "quantum_vulnerable",
                  "policy_deadline", "bom_serial", "bom_version", "bom_ref", "depends_on", "risks", "notes",
                  *RECORD_FIELDS)
        read_only_fields = ("quantum_vulnerable", "policy_deadline", "bom_serial", "bom_version", "bom_ref")


class ContractSerializer(QgovModelSerializer):
    # Known interfaces only (the model checks it too): a list of OpenInterfaceChoices values.
    open_interfaces = serializers.ListField(child=serializers.ChoiceField(choices=OpenInterfaceChoices.choices),
                                            required=False)

    class Meta:
        model = Contract
        fields = (*QgovModelSerializer.base_fields, "agency", "supplier", "reference", "title", "owner", "devices",
                  "assets", "value", "currency", "start", "end", "sunset_date", "reevaluation_months",
                  "next_reevaluation", "open_interfaces", "multi_vendor_terms", "escrow_terms", "exit_plan",
                  "status", "status_note", "notes", *RECORD_FIELDS)


# --- viewsets --------------------------------------------------------------------------------------

class QuestionnaireViewSet(QgovModelViewSet):
    queryset = Questionnaire.objects.all()
    serializer_class = QuestionnaireSerializer
    filterset_class = QuestionnaireFilterSet


class CryptoPolicyViewSet(QgovModelViewSet):
    queryset = CryptoPolicy.objects.all()
    serializer_class = CryptoPolicySerializer
    filterset_class = CryptoPolicyFilterSet


class CryptoPolicyAdoptionViewSet(QgovModelViewSet):
    queryset = CryptoPolicyAdoption.objects.select_related("agency", "policy")
    serializer_class = CryptoPolicyAdoptionSerializer
    filterset_class = CryptoPolicyAdoptionFilterSet


class SupplierViewSet(QgovModelViewSet):
    queryset = Supplier.objects.select_related("agency", "owner")
    serializer_class = SupplierSerializer
    filterset_class = SupplierFilterSet


class DueDiligenceReviewViewSet(QgovModelViewSet):
    queryset = DueDiligenceReview.objects.select_related("agency", "supplier", "questionnaire", "reviewer",
                                                         "submitted_by").prefetch_related("answers")
    serializer_class = DueDiligenceReviewSerializer
    filterset_class = DueDiligenceReviewFilterSet

    @extend_schema(
        request=AnswerItemSerializer(many=True),
        responses={
            200: DueDiligenceReviewSerializer,
            400: OpenApiResponse(ErrorSerializer, description=(
                "Nothing was written. `errors` is keyed `<index>.<field>` by the item's place in the list "
                "(`1.question`: an unknown or repeated question code; `2.answer`: not unknown, partial or "
                "evidenced), or `non_field_errors` when the review's answers cannot change now (submitted or "
                "superseded: frozen; sent: with the supplier).")),
        },
        summary="Answer questions",
        description=("Writes every answer of the list in one transaction, or none. Allowed while the review is "
                     "draft or answered. Each changed answer is one audited update. Returns the review, with its "
                     "answers and running score."),
        # drf-spectacular lists a many=True request's example itself: this is one item of the list.
        examples=[OpenApiExample("An answer", request_only=True, value={
            "question": "Q6", "answer": "partial", "comment": "HSM signing; no PQC roadmap yet."})],
    )
    @action(detail=True, methods=["post"], url_path="answers", url_name="answers")
    def answers(self, request, pk=None):
        review_answers_save(review=self.get_object(), user=request.user, items=request.data)
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)


class DueDiligenceAnswerViewSet(QgovModelViewSet):
    queryset = DueDiligenceAnswer.objects.select_related("agency", "review__supplier", "review__questionnaire")
    serializer_class = DueDiligenceAnswerSerializer
    filterset_class = DueDiligenceAnswerFilterSet


class ComponentViewSet(QgovModelViewSet):
    queryset = Component.objects.select_related("agency", "supplier", "device", "asset").prefetch_related(
        "depends_on", "risks")
    serializer_class = ComponentSerializer
    filterset_class = ComponentFilterSet


class ContractViewSet(QgovModelViewSet):
    queryset = Contract.objects.select_related("agency", "supplier", "owner").prefetch_related("devices", "assets")
    serializer_class = ContractSerializer
    filterset_class = ContractFilterSet


# --- the supplier portal: POST /api/due-diligence-reviews/{id}/send/ ----------------------------------

class ReviewSendSerializer(StrictFieldsMixin, serializers.Serializer):
    contact_name = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                         help_text="Default: the supplier's contact name.")
    contact_email = serializers.EmailField(max_length=254, required=False, allow_blank=True,
                                           help_text="Default: the supplier's contact e-mail.")
    days = serializers.IntegerField(min_value=1, max_value=procurement_services.PORTAL_MAX_DAYS,
                                    default=procurement_services.PORTAL_LINK_DAYS,
                                    help_text="How long the link works (1–60 days).")


class ReviewSentSerializer(serializers.Serializer):
    review = DueDiligenceReviewSerializer(help_text="The review, now “sent to supplier”.")
    link = serializers.IntegerField(help_text="The portal link's id (to revoke it).")
    portal_url = serializers.URLField(help_text="The one-time link. Shown in this response only: only its hash "
                                                "is kept.")
    contact_name = serializers.CharField()
    contact_email = serializers.EmailField()
    expires_at = serializers.DateTimeField()


@extend_schema(
    request=ReviewSendSerializer,
    responses={
        201: ReviewSentSerializer,
        400: OpenApiResponse(ErrorSerializer, description="Bad input: `errors` names the fields."),
        403: OpenApiResponse(ErrorSerializer, description="The role may not send reviews."),
        404: OpenApiResponse(ErrorSerializer, description="No such review in your agencies."),
        409: OpenApiResponse(ErrorSerializer, description="The review is not a draft."),
    },
    summary="Send to supplier",
    description="Send a draft review to the supplier's contact: a one-time link to the supplier portal, "
                "e-mailed to the contact and returned once in `portal_url`; earlier links stop working and the "
                "review becomes “sent”. The contact answers without an account until the link expires, then "
                "submits once (the review becomes “answered”). Revoke with the `recall` transition.")
@action(detail=True, methods=["post"], url_path="send", url_name="send")
def send(self, request, pk=None):
    payload = ReviewSendSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    review = self.get_object()
    data = payload.validated_data
    link, _token, url = procurement_services.review_send_invite(
        review=review, user=request.user, days=data["days"],
        contact_name=data.get("contact_name") or review.supplier.contact_name,
        contact_email=data.get("contact_email") or review.supplier.contact_email,
        base_url=settings.QGOV_SITE_URL or request.build_absolute_uri("/"))
    return Response({
        "review": self.get_serializer(self.get_queryset().get(pk=review.pk)).data, "link": link.pk,
        "portal_url": url, "contact_name": link.contact_name, "contact_email": link.contact_email,
        "expires_at": serializers.DateTimeField().to_representation(link.expires_at),
    }, status=status.HTTP_201_CREATED)


DueDiligenceReviewViewSet.send = send
# --- CycloneDX imports ----------------------------------------------------------------------------

class RawJsonParser(BaseParser):
    """A BOM sent as the JSON body is kept as bytes: the import reads and validates it, and keeps its
    hash. Bodies above the import size limit are refused before they are read."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        request = parser_context["request"]
        limit = settings.QGOV_IMPORT_MAX_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise ParseError("Invalid Content-Length.") from None
        if length > limit:
            raise ValidationError({"file": [f"The BOM is {filesizeformat(length)}; an import may be at most "
                                            f"{filesizeformat(limit)}."]})
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise ValidationError({"file": [f"The BOM is larger than {filesizeformat(limit)}, the import limit."]})
        return raw


class CycloneDxImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A CycloneDX JSON BOM, spec 1.4, 1.5 or 1.6.")
    agency = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1,
                                      help_text="Needed when you belong to several agencies.")


class AgencyQuerySerializer(serializers.Serializer):
    agency = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)


class ComponentChangeSerializer(serializers.Serializer):
    object_id = serializers.CharField()
    object_repr = serializers.CharField()
    changed_fields = serializers.ListField(child=serializers.CharField())


class CycloneDxImportSerializer(ImportRunSerializer):
    changes = serializers.SerializerMethodField()

    class Meta(ImportRunSerializer.Meta):
        fields = (*ImportRunSerializer.Meta.fields[:-len(RECORD_FIELDS)], "changes", *RECORD_FIELDS)
        read_only_fields = fields

    @extend_schema_field(ComponentChangeSerializer(many=True))
    def get_changes(self, obj):
        # Only on a run's own page: on a list it would cost a query per run.
        return run_changes(obj) if self.context.get("view") and self.context["view"].action != "list" else []


@extend_schema_view(create=extend_schema(
    parameters=[OpenApiParameter("agency", {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
                                 OpenApiParameter.QUERY, required=False,
                                 description="With a JSON body: the agency to import into, when you belong to "
                                             "several.")],
    request={"multipart/form-data": CycloneDxImportRequestSerializer, "application/json": {"type": "object"}},
    responses={202: CycloneDxImportSerializer},
    description="Import a CycloneDX JSON BOM in the background: upload it as `file` (multipart), or send the BOM "
                "itself as the JSON body (`?agency=<id>` when you belong to several agencies). Answers 202 with "
                "the run; poll it until `status` is `succeeded` or `failed`."))
class CycloneDxImportViewSet(mixins.CreateModelMixin, QgovReadOnlyViewSet):
    """CycloneDX imports of components: the runs (file hash, counts, problems with JSON paths, and the
    fields each updated component changed), and POST to import a BOM."""

    queryset = ImportRun.objects.select_related("agency", "content_type", "requested_by").filter(
        format=CycloneDxImporter.format)
    serializer_class = CycloneDxImportSerializer
    filterset_class = ImportRunFilterSet
    ordering_fields = ["id", "created", "status"]
    parser_classes = [MultiPartParser, RawJsonParser]

    def create(self, request, *args, **kwargs):
        if not request.content_type and request.META.get("CONTENT_LENGTH") in (None, "", "0"):
            raise ValidationError({"file": ["No file was submitted."]})  # the DRF message for a missing file
        if request.content_type.startswith("multipart/"):
            payload = CycloneDxImportRequestSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            upload, agency_id = payload.validated_data["file"], payload.validated_data.get("agency")
        else:
            raw = request.data  # the body as bytes (RawJsonParser), refused above the size limit
            if not isinstance(raw, bytes):  # no parser took it (DRF may have answered that once already)
                raise UnsupportedMediaType(request.content_type)
            query = AgencyQuerySerializer(data=request.query_params)
            query.is_valid(raise_exception=True)
            agency_id = query.validated_data.get("agency")
            try:
                body = json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                raise ValidationError({"file": [f"Malformed JSON: {error}."]}) from None
            if not isinstance(body, dict):
                raise ValidationError({"file": ["Send a CycloneDX BOM: a JSON object."]})
            upload = SimpleUploadedFile("bom.json", raw, content_type="application/json")
        agency = import_agency(user=request.user, agency_id=agency_id)
        run = import_run_create(user=request.user, agency=agency, model=Component, upload=upload)
        run.refresh_from_db()  # where no worker is configured the run has already finished
        location = request.build_absolute_uri(reverse("api:cyclonedx-import-detail", args=[run.pk]))
        return Response(self.get_serializer(run).data, status=status.HTTP_202_ACCEPTED,
                        headers={"Location": location})
