from datetime import timedelta

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qgov.filters import QgovFilterSet
from risks.choices import (
    AssetCriticalityChoices,
    AssetTypeChoices,
    ControlStatusChoices,
    ControlTypeChoices,
    RiskAcceptanceStatusChoices,
    RiskStatusChoices,
    RiskTreatmentChoices,
    ThreatVectorCategoryChoices,
)
from risks.models import Asset, Control, Risk, RiskAcceptance, RiskMatrix, ThreatVector

ACCEPTANCE_EXPIRY_WINDOW = timedelta(days=30)


class ThreatVectorFilterSet(QgovFilterSet):
    search_fields = ("code", "title", "description")
    category = django_filters.MultipleChoiceFilter(choices=ThreatVectorCategoryChoices.choices)

    class Meta:
        model = ThreatVector
        fields = ["category", "code", "default_likelihood", "default_impact"]


class RiskMatrixFilterSet(QgovFilterSet):
    search_fields = ("name",)

    class Meta:
        model = RiskMatrix
        fields = ["agency", "size"]


class AssetFilterSet(QgovFilterSet):
    search_fields = ("name", "description")
    asset_type = django_filters.MultipleChoiceFilter(choices=AssetTypeChoices.choices)
    criticality = django_filters.MultipleChoiceFilter(choices=AssetCriticalityChoices.choices)

    class Meta:
        model = Asset
        fields = ["agency", "asset_type", "criticality", "owner", "harvestable"]


class ControlFilterSet(QgovFilterSet):
    search_fields = ("title", "description")
    control_type = django_filters.MultipleChoiceFilter(choices=ControlTypeChoices.choices)
    status = django_filters.MultipleChoiceFilter(choices=ControlStatusChoices.choices)
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"))

    class Meta:
        model = Control
        fields = ["agency", "control_type", "status", "owner", "effectiveness"]

    def filter_overdue(self, queryset, name, value):
        late = Q(due_date__lt=timezone.localdate()) & ~Q(status__in=["implemented", "retired"])
        return queryset.filter(late) if value else queryset.exclude(late)


class RiskFilterSet(QgovFilterSet):
    search_fields = ("reference", "title", "description")
    status = django_filters.MultipleChoiceFilter(choices=RiskStatusChoices.choices)
    treatment = django_filters.MultipleChoiceFilter(choices=RiskTreatmentChoices.choices)
    rating = django_filters.CharFilter(label=_("Rating band"), lookup_expr="iexact")
    category = django_filters.MultipleChoiceFilter(
        field_name="threat_vectors__category", choices=ThreatVectorCategoryChoices.choices,
        label=_("Threat category"), distinct=True)
    threat_vector = django_filters.ModelMultipleChoiceFilter(
        field_name="threat_vectors", queryset=ThreatVector.objects.all(), label=_("Threat vector"), distinct=True)
    asset = django_filters.ModelChoiceFilter(field_name="assets", queryset=Asset.objects.all(), label=_("Asset"),
                                             distinct=True)
    owner = django_filters.ModelChoiceFilter(queryset=get_user_model().objects.all(), label=_("Owner"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Review overdue"))
    acceptance_expiring = django_filters.BooleanFilter(method="filter_acceptance_expiring",
                                                       label=_("Acceptance expires within 30 days"))

    class Meta:
        model = Risk
        fields = ["agency", "status", "treatment", "rating", "owner", "inherent_likelihood", "inherent_impact",
                  "residual_likelihood", "residual_impact"]

    def __init__(self, data=None, queryset=None, *, request=None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        # In the browser, lists are the active agency's; API callers may span several agencies.
        agency = getattr(request, "agency", None) if isinstance(request, HttpRequest) else None
        if agency is not None:
            # Owners and assets offered in the form are the active agency's.
            self.filters["owner"].queryset = get_user_model().objects.filter(
                memberships__agency=agency).order_by("username")
            self.filters["asset"].queryset = Asset.objects.filter(agency=agency)
            matrix = RiskMatrix.objects.filter(agency=agency).first()
            if matrix is not None:  # the bands of the agency's own matrix, highest first
                self.filters["rating"] = django_filters.ChoiceFilter(
                    field_name="rating", label=_("Rating band"),
                    choices=[(band["name"], band["name"]) for band in reversed(matrix.bands)])

    def filter_overdue(self, queryset, name, value):
        late = Q(review_date__lt=timezone.localdate()) & ~Q(status=RiskStatusChoices.CLOSED)
        return queryset.filter(late) if value else queryset.exclude(late)

    def filter_acceptance_expiring(self, queryset, name, value):
        today = timezone.localdate()
        expiring = RiskAcceptance.objects.filter(
            status=RiskAcceptanceStatusChoices.APPROVED, valid_until__gte=today,
            valid_until__lte=today + ACCEPTANCE_EXPIRY_WINDOW).values("risk_id")
        return queryset.filter(pk__in=expiring) if value else queryset.exclude(pk__in=expiring)


class RiskAcceptanceFilterSet(QgovFilterSet):
    search_fields = ("rationale", "risk__reference", "risk__title")
    status = django_filters.MultipleChoiceFilter(choices=RiskAcceptanceStatusChoices.choices)

    class Meta:
        model = RiskAcceptance
        fields = ["agency", "risk", "status", "valid_until"]
