from django.contrib import admin

from risks.models import Asset, Control, Risk, RiskAcceptance, RiskMatrix, ThreatVector

RECORD_FIELDS = ("version", "created", "last_updated")


@admin.register(ThreatVector)
class ThreatVectorAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "category", "default_likelihood", "default_impact")
    list_filter = ("category",)
    search_fields = ("code", "title", "description")
    readonly_fields = RECORD_FIELDS


@admin.register(RiskMatrix)
class RiskMatrixAdmin(admin.ModelAdmin):
    list_display = ("agency", "name", "size", "z_optimistic", "z_central", "z_policy")
    readonly_fields = RECORD_FIELDS


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ("name", "agency", "asset_type", "criticality", "shelf_life_years", "migration_years")
    list_filter = ("agency", "asset_type")
    search_fields = ("name",)
    readonly_fields = RECORD_FIELDS


@admin.register(Control)
class ControlAdmin(admin.ModelAdmin):
    list_display = ("title", "agency", "control_type", "status", "effectiveness", "due_date")
    list_filter = ("agency", "status")
    search_fields = ("title",)
    readonly_fields = RECORD_FIELDS


@admin.register(Risk)
class RiskAdmin(admin.ModelAdmin):
    list_display = ("reference", "title", "agency", "rating", "status", "review_date")
    list_filter = ("agency", "status", "rating")
    search_fields = ("reference", "title")
    filter_horizontal = ("threat_vectors", "assets", "controls")
    readonly_fields = ("matrix", "inherent_score", "residual_score", "rating_score", "rating", *RECORD_FIELDS)


@admin.register(RiskAcceptance)
class RiskAcceptanceAdmin(admin.ModelAdmin):
    list_display = ("risk", "agency", "status", "valid_until", "requested_by", "approved_by")
    list_filter = ("agency", "status")
    readonly_fields = ("requested_by", "approved_by", "approved_at", "status", "residual_score_at_decision",
                       "rating_at_decision", *RECORD_FIELDS)

    def has_add_permission(self, request):
        return False  # requests carry their requester: they are made in the register, not here
