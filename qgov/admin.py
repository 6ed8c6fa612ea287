from django.contrib import admin, messages

from qgov import services
from qgov.models import Agency, ApiToken, AuditEvent, Membership, Notification


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "sector", "parent", "time_zone")
    search_fields = ("name", "code")
    list_filter = ("sector",)
    inlines = [MembershipInline]
    readonly_fields = ("version", "created", "last_updated")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "agency", "role")
    list_filter = ("role", "agency")
    search_fields = ("user__username", "agency__code")
    autocomplete_fields = ["user", "agency"]
    readonly_fields = ("version", "created", "last_updated")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "agency", "prefix", "expires", "revoked_at", "last_used")
    list_filter = ("agency",)
    readonly_fields = (
        "user", "agency", "name", "prefix", "created", "created_by", "expires", "revoked_at", "last_used",
    )
    exclude = ("key_hash",)
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # keys are shown once, so tokens are issued from the UI or API

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            services.token_revoke(token=token, user=request.user)
        messages.success(request, f"Revoked {queryset.count()} tokens.")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("seq", "timestamp", "actor_repr", "action", "content_type", "object_repr", "source")
    list_filter = ("action", "source", "content_type")
    search_fields = ("object_repr", "actor_repr", "request_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "agency", "created", "read_at", "emailed_at")
    readonly_fields = ("user", "agency", "title", "body", "url", "created", "read_at", "emailed_at")
