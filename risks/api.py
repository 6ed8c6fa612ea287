from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from qgov.api.serializers import QgovModelSerializer
from qgov.api.viewsets import QgovModelViewSet
from qgov.imports.api import ImportActionMixin
from qgov.models import RECORD_FIELDS
from qgov.roles import Action
from risks.choices import AssetProtectsChoices
from risks.filters import (
    AssetFilterSet,
    ControlFilterSet,
    RiskAcceptanceFilterSet,
    RiskFilterSet,
    RiskMatrixFilterSet,
    ThreatVectorFilterSet,
)
from risks.models import Asset, Control, Risk, RiskAcceptance, RiskMatrix, ThreatVector


class ThreatVectorSerializer(QgovModelSerializer):
    class Meta:
        model = ThreatVector
        fields = (*QgovModelSerializer.base_fields, "code", "title", "category", "description", "default_likelihood",
                  "default_impact", "rationale", "citations", *RECORD_FIELDS)


class RiskMatrixSerializer(QgovModelSerializer):
    z_policy = serializers.DecimalField(
        max_digits=4, decimal_places=1, read_only=True,
        help_text="Years from today to the end of policy_deadline_year (31 December); derived, never written.")

    class Meta:
        model = RiskMatrix
        fields = (*QgovModelSerializer.base_fields, "agency", "name", "size", "likelihood_labels", "impact_labels",
                  "bands", "z_optimistic", "z_central", "policy_deadline_year", "z_policy", *RECORD_FIELDS)

    def to_internal_value(self, data):
        # Clients that wrote the old stored z must learn it is derived now, not see it dropped.
        if isinstance(data, dict) and "z_policy" in data and (
                self.instance is None or str(data["z_policy"]) != str(self.instance.z_policy)):
            raise serializers.ValidationError({"z_policy": [_(
                "Derived from policy_deadline_year and today's date; write policy_deadline_year instead.")]})
        return super().to_internal_value(data)


class ExposureSerializer(serializers.Serializer):
    margin_optimistic = serializers.DecimalField(max_digits=5, decimal_places=1)
    margin_central = serializers.DecimalField(max_digits=5, decimal_places=1)
    margin_policy = serializers.DecimalField(max_digits=5, decimal_places=1)
    exposed = serializers.BooleanField()
    band = serializers.CharField()


class AssetSerializer(QgovModelSerializer):
    exposure = serializers.SerializerMethodField()

    class Meta:
        model = Asset
        fields = (*QgovModelSerializer.base_fields, "agency", "name", "asset_type", "description", "owner",
                  "criticality", "shelf_life_years", "migration_years", "protects", "harvestable", "exposure",
                  *RECORD_FIELDS)

    def validate(self, attrs):
        # Left out on create, harvest-now-decrypt-later follows what the asset protects.
        if self.instance is None and "harvestable" not in attrs:
            attrs["harvestable"] = attrs.get("protects", AssetProtectsChoices.CONFIDENTIALITY) == \
                AssetProtectsChoices.CONFIDENTIALITY
        return super().validate(attrs)

    @extend_schema_field(ExposureSerializer(allow_null=True))  # null while the agency has no matrix
    def get_exposure(self, obj):
        matrix = self.context["matrices"].get(obj.agency_id)
        return ExposureSerializer(obj.exposure(matrix)).data if matrix else None


class ControlSerializer(QgovModelSerializer):
    class Meta:
        model = Control
        fields = (*QgovModelSerializer.base_fields, "agency", "title", "description", "control_type", "status",
                  "owner", "due_date", "effectiveness", *RECORD_FIELDS)


class RiskSerializer(QgovModelSerializer):
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = Risk
        fields = (*QgovModelSerializer.base_fields, "agency", "reference", "title", "description", "threat_vectors",
                  "assets", "controls", "owner", "inherent_likelihood", "inherent_impact", "current_likelihood",
                  "current_impact", "residual_likelihood", "residual_impact", "inherent_score", "residual_score",
                  "rating_score", "rating", "treatment", "review_date", "status", "status_note", "is_overdue",
                  *RECORD_FIELDS)
        read_only_fields = ("status_note",)

    @cached_property
    def today(self):
        return timezone.localdate()  # once per serializer, so once per page

    def get_is_overdue(self, risk) -> bool:
        return risk.overdue_on(self.today)

    def validate_review_date(self, value):
        error = Risk.past_review_error(value) if self.instance is None else None
        if error:
            raise serializers.ValidationError(error)
        return value


class RiskAcceptanceSerializer(QgovModelSerializer):
    class Meta:
        model = RiskAcceptance
        fields = (*QgovModelSerializer.base_fields, "agency", "risk", "rationale", "valid_until", "status",
                  "requested_by", "approved_by", "approved_at", "decision_note", "residual_score_at_decision",
                  "rating_at_decision",
                  *RECORD_FIELDS)


class ThreatVectorViewSet(QgovModelViewSet):
    queryset = ThreatVector.objects.all()
    serializer_class = ThreatVectorSerializer
    filterset_class = ThreatVectorFilterSet


class RiskMatrixViewSet(QgovModelViewSet):
    queryset = RiskMatrix.objects.select_related("agency")
    serializer_class = RiskMatrixSerializer
    filterset_class = RiskMatrixFilterSet


class AssetViewSet(QgovModelViewSet):
    queryset = Asset.objects.select_related("agency", "owner")
    serializer_class = AssetSerializer
    filterset_class = AssetFilterSet

    def get_serializer_context(self):
        # One query for the matrices (their z values) of every agency the caller sees.
        matrices = RiskMatrix.objects.restrict(self.request.user, Action.VIEW) if self.request else []
        return {**super().get_serializer_context(), "matrices": {m.agency_id: m for m in matrices}}


class ControlViewSet(QgovModelViewSet):
    queryset = Control.objects.select_related("agency", "owner")
    serializer_class = ControlSerializer
    filterset_class = ControlFilterSet


class RiskViewSet(ImportActionMixin, QgovModelViewSet):
    queryset = Risk.objects.select_related("agency", "owner").prefetch_related("threat_vectors", "assets",
                                                                                "controls")
    serializer_class = RiskSerializer
    filterset_class = RiskFilterSet


class RiskAcceptanceViewSet(QgovModelViewSet):
    queryset = RiskAcceptance.objects.select_related("agency", "risk", "requested_by", "approved_by")
    serializer_class = RiskAcceptanceSerializer
    filterset_class = RiskAcceptanceFilterSet

