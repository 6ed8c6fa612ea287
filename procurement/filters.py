"""One filterset per procurement model, shared by the UI lists, the API and internal queries."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from procurement.choices import (
    AnswerChoices,
    AuthenticityResultChoices,
    ContractStatusChoices,
    CriticalityChoices,
    CryptoAssetTypeChoices,
    CryptoPrimitiveChoices,
    ReviewOutcomeChoices,
    ReviewStatusChoices,
    SupplierStatusChoices,
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
from qgov.filters import ExpiringWithinFilter, QgovFilterSet
from risks.models import Risk


def OwnChoiceFilter(choices, **kwargs):  # noqa: N802 (a filter factory, read like a class)
    """Several values of one of the model's own fields: no DISTINCT needed."""
    return django_filters.MultipleChoiceFilter(choices=choices, distinct=False, **kwargs)


class QuestionnaireFilterSet(QgovFilterSet):
    search_fields = ("code", "title", "description")

    class Meta:
        model = Questionnaire
        fields = ["series", "edition", "code"]


class CryptoPolicyFilterSet(QgovFilterSet):
    search_fields = ("code", "name", "issuer", "description")

    class Meta:
        model = CryptoPolicy
        fields = ["code"]


class CryptoPolicyAdoptionFilterSet(QgovFilterSet):
    class Meta:
        model = CryptoPolicyAdoption
        fields = ["agency", "policy"]


class SupplierFilterSet(QgovFilterSet):
    search_fields = ("name", "country", "contact_name", "contact_email", "notes")
    status = OwnChoiceFilter(SupplierStatusChoices.choices)
    criticality = OwnChoiceFilter(CriticalityChoices.choices)
    rating_outcome = OwnChoiceFilter(ReviewOutcomeChoices.choices, label=_("Rating outcome"))

    class Meta:
        model = Supplier
        fields = ["agency", "status", "criticality", "country", "owner", "rating_outcome"]


class DueDiligenceReviewFilterSet(QgovFilterSet):
    search_fields = ("supplier__name", "conclusion")
    status = OwnChoiceFilter(ReviewStatusChoices.choices)
    outcome = OwnChoiceFilter(ReviewOutcomeChoices.choices)
    supplier = django_filters.ModelMultipleChoiceFilter(queryset=Supplier.objects.all())
    due_within = ExpiringWithinFilter("next_review_due", 90, label=_("Next review due within 90 days"),
                                      when={"status": ReviewStatusChoices.SUBMITTED})

    class Meta:
        model = DueDiligenceReview
        fields = ["agency", "supplier", "questionnaire", "reviewer", "status", "outcome"]


class DueDiligenceAnswerFilterSet(QgovFilterSet):
    search_fields = ("question", "comment", "review__supplier__name")
    answer = OwnChoiceFilter(AnswerChoices.choices)
    review = django_filters.ModelChoiceFilter(
        queryset=DueDiligenceReview.objects.select_related("supplier", "questionnaire"))

    class Meta:
        model = DueDiligenceAnswer
        fields = ["agency", "review", "question", "answer"]


class ComponentFilterSet(QgovFilterSet):
    search_fields = ("name", "component_version", "part_number", "purl", "algorithm", "parameter_set_identifier")
    supplier = django_filters.ModelMultipleChoiceFilter(queryset=Supplier.objects.all())
    crypto_asset_type = OwnChoiceFilter(CryptoAssetTypeChoices.choices)
    primitive = OwnChoiceFilter(CryptoPrimitiveChoices.choices)
    authenticity_result = OwnChoiceFilter(AuthenticityResultChoices.choices, label=_("Authenticity"))
    policy_deadline_before = django_filters.DateFilter(field_name="policy_deadline", lookup_expr="lt",
                                                       label=_("Policy deadline before"))
    authenticity_not_verified = django_filters.BooleanFilter(
        method="filter_authenticity_not_verified", label=_("Authenticity not verified"),
        help_text=_("Not checked, or the check failed."))
    risk = django_filters.ModelChoiceFilter(field_name="risks", queryset=Risk.objects.all(),
                                            label=_("Register risk"))
    # A register of hundreds of risks: the sidebar picks one by typing and reads none to offer.
    autocomplete_filters = ("risk",)

    class Meta:
        model = Component
        fields = ["agency", "supplier", "device", "asset", "quantum_vulnerable", "crypto_asset_type", "primitive",
                  "authenticity_result", "origin_country", "bom_serial"]


    def filter_authenticity_not_verified(self, queryset, name, value):
        if value is None:
            return queryset
        verified = Q(authenticity_result=AuthenticityResultChoices.VERIFIED)
        return queryset.exclude(verified) if value else queryset.filter(verified)


class ContractFilterSet(QgovFilterSet):
    search_fields = ("reference", "title", "supplier__name", "notes")
    status = OwnChoiceFilter(ContractStatusChoices.choices)
    supplier = django_filters.ModelMultipleChoiceFilter(queryset=Supplier.objects.all())
    sunset_within = ExpiringWithinFilter("sunset_date", 180, label=_("Sunset within 180 days"),
                                         when={"status__in": [ContractStatusChoices.ACTIVE,
                                                              ContractStatusChoices.RENEWED,
                                                              ContractStatusChoices.UNDER_REEVALUATION]})

    class Meta:
        model = Contract
        fields = ["agency", "supplier", "status", "owner", "currency"]
