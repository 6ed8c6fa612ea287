from django.contrib import admin

from qgov.admin import QgovModelAdmin
from risks.models import Asset, Control, Risk, RiskAcceptance, RiskMatrix, ThreatVector


@admin.register(ThreatVector)
class ThreatVectorAdmin(QgovModelAdmin):
    list_display = ("code", "title", "category", "default_likelihood", "default_impact")
    list_filter = ("category",)
    search_fields = ("code", "title", "description")


@admin.register(RiskMatrix)
class RiskMatrixAdmin(QgovModelAdmin):
    list_display = ("agency", "name", "size", "z_optimistic", "z_central", "policy_deadline_year")


@admin.register(Asset)
class AssetAdmin(QgovModelAdmin):
    list_display = ("name", "agency", "asset_type", "criticality", "shelf_life_years", "migration_years")
    list_filter = ("agency", "asset_type")
    search_fields = ("name",)


@admin.register(Control)
class ControlAdmin(QgovModelAdmin):
    list_display = ("title", "agency", "control_type", "status", "effectiveness", "due_date")
    list_filter = ("agency", "status")
    search_fields = ("title",)


@admin.register(Risk)
class RiskAdmin(QgovModelAdmin):
    list_display = ("reference", "title", "agency", "rating", "status", "review_date")
    list_filter = ("agency", "status", "rating")
    search_fields = ("reference", "title")
    filter_horizontal = ("threat_vectors", "assets", "controls")
    readonly_fields = ("matrix", "inherent_score", "residual_score", "rating_score", "rating")


@admin.register(RiskAcceptance)
class RiskAcceptanceAdmin(QgovModelAdmin):
    list_display = ("risk", "agency", "status", "valid_until", "requested_by", "approved_by")
    list_filter = ("agency", "status")
    readonly_fields = ("requested_by",)  # the decision fields are the lifecycle's: read-only from the base

    def has_add_permission(self, request):
        return False  # requests carry their requester: they are made in the register, not here
