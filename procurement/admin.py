from django.contrib import admin

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
from qgov.admin import QgovModelAdmin


@admin.register(Questionnaire)
class QuestionnaireAdmin(QgovModelAdmin):
    list_display = ("code", "title", "series", "edition")
    search_fields = ("code", "title")


@admin.register(CryptoPolicy)
class CryptoPolicyAdmin(QgovModelAdmin):
    list_display = ("code", "name", "issuer")
    search_fields = ("code", "name")


@admin.register(CryptoPolicyAdoption)
class CryptoPolicyAdoptionAdmin(QgovModelAdmin):
    list_display = ("agency", "policy", "adopted_on")


@admin.register(Supplier)
class SupplierAdmin(QgovModelAdmin):
    list_display = ("name", "agency", "country", "criticality", "status", "rating_score")
    list_filter = ("status", "criticality")
    search_fields = ("name",)


@admin.register(DueDiligenceReview)
class DueDiligenceReviewAdmin(QgovModelAdmin):
    list_display = ("supplier", "agency", "questionnaire", "status", "score", "outcome")
    list_filter = ("status", "outcome")


@admin.register(DueDiligenceAnswer)
class DueDiligenceAnswerAdmin(QgovModelAdmin):
    list_display = ("review", "question", "answer")


@admin.register(Component)
class ComponentAdmin(QgovModelAdmin):
    list_display = ("name", "component_version", "agency", "supplier", "algorithm", "quantum_vulnerable",
                    "policy_deadline")
    list_filter = ("quantum_vulnerable", "crypto_asset_type")
    search_fields = ("name", "purl", "algorithm")


@admin.register(Contract)
class ContractAdmin(QgovModelAdmin):
    list_display = ("reference", "title", "agency", "supplier", "status", "sunset_date")
    list_filter = ("status",)
    search_fields = ("reference", "title")
