import django_filters
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from qgov.filters import ExpiringWithinFilter, OverdueFilter, QgovFilterSet
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
from risks.selectors import matrix_of, with_current_rating

ACCEPTANCE_EXPIRY_DAYS = 30


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
    overdue = OverdueFilter("due_date", unless={
        "status__in": [ControlStatusChoices.IMPLEMENTED, ControlStatusChoices.RETIRED]})

    class Meta:
        model = Control
        fields = ["agency", "control_type", "status", "owner", "effectiveness"]


class RiskFilterSet(QgovFilterSet):
    search_fields = ("reference", "title", "description",
                     "threat_vectors__code", "threat_vectors__title", "threat_vectors__description")
    status = django_filters.MultipleChoiceFilter(choices=RiskStatusChoices.choices)
    treatment = django_filters.MultipleChoiceFilter(choices=RiskTreatmentChoices.choices)
    rating = django_filters.CharFilter(label=_("Rating band"), lookup_expr="iexact")
    category = django_filters.MultipleChoiceFilter(
        field_name="threat_vectors__category", choices=ThreatVectorCategoryChoices.choices,
        label=_("Threat category"))
    threat_vector = django_filters.ModelMultipleChoiceFilter(
        field_name="threat_vectors", queryset=ThreatVector.objects.all(), label=_("Threat vector"))
    asset = django_filters.ModelChoiceFilter(field_name="assets", queryset=Asset.objects.all(), label=_("Asset"))
    # The current rating as the register shows it: the inherent one while none is given.
    current_likelihood = django_filters.NumberFilter(label=_("Current likelihood"), method="filter_current")
    current_impact = django_filters.NumberFilter(label=_("Current impact"), method="filter_current")
    overdue = OverdueFilter("review_date", label=_("Review overdue"), unless={"status": RiskStatusChoices.CLOSED})
    acceptance_expiring = ExpiringWithinFilter(
        "acceptances__valid_until", ACCEPTANCE_EXPIRY_DAYS, label=_("Acceptance expires within 30 days"),
        when={"acceptances__status": RiskAcceptanceStatusChoices.APPROVED})

    class Meta:
        model = Risk
        fields = ["agency", "status", "treatment", "rating", "owner", "inherent_likelihood", "inherent_impact",
                  "residual_likelihood", "residual_impact"]

    def __init__(self, data=None, queryset=None, *, request=None, matrix=None, **kwargs):
        """`matrix`: the active agency's, when the caller has read it already (the register)."""
        super().__init__(data, queryset, request=request, **kwargs)
        # In the browser, the rating bands are the active agency's matrix's.
        agency = getattr(request, "agency", None) if isinstance(request, HttpRequest) else None
        if agency is not None:
            if matrix is None:
                matrix = matrix_of(agency)
            if matrix is not None:  # the bands of the agency's own matrix, highest first
                self.filters["rating"] = django_filters.ChoiceFilter(
                    field_name="rating", label=_("Rating band"),
                    choices=[(band["name"], band["name"]) for band in reversed(matrix.bands)])


    def filter_current(self, queryset, name, value):
        return with_current_rating(queryset).filter(**{name.replace("current_", "rated_"): value})


class RiskAcceptanceFilterSet(QgovFilterSet):
    search_fields = ("rationale", "risk__reference", "risk__title")
    status = django_filters.MultipleChoiceFilter(choices=RiskAcceptanceStatusChoices.choices)
    expiring = ExpiringWithinFilter("valid_until", ACCEPTANCE_EXPIRY_DAYS, label=_("Expires within 30 days"),
                                    when={"status": RiskAcceptanceStatusChoices.APPROVED})

    class Meta:
        model = RiskAcceptance
        fields = ["agency", "risk", "status", "valid_until"]
