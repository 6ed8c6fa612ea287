from django.urls import path, re_path
from django.urls.resolvers import RoutePattern
from rest_framework.routers import DefaultRouter

from qgov import registry
from qgov.api import core
from qgov.api.exceptions import not_found
from qgov.duedates.api import DueDateViewSet
from qgov.evidence.api import EvidenceFileViewSet
from qgov.identity.providers.api import IdentityProviderViewSet
from qgov.imports.api import ImportRunViewSet
from qgov.integrations.changes import ChangeFeedView
from qgov.integrations.webhooks.api import WebhookDeliveryViewSet, WebhookEndpointViewSet
from qgov.reports.api import ReportRunViewSet, ReportScheduleViewSet
from qgov.routing import FirstSegmentResolver

app_name = "api"

router = DefaultRouter()
router.register("agencies", core.AgencyViewSet)
router.register("users", core.UserViewSet, basename="user")
router.register("memberships", core.MembershipViewSet)
router.register("audit-events", core.AuditEventViewSet)
router.register("audit-checkpoints", core.AuditCheckpointViewSet)
router.register("tokens", core.ApiTokenViewSet, basename="apitoken")
router.register("notifications", core.NotificationViewSet, basename="notification")
router.register("import-runs", ImportRunViewSet)
router.register("due-dates", DueDateViewSet, basename="duedate")
router.register("evidence-files", EvidenceFileViewSet)
router.register("reports", ReportRunViewSet)
router.register("report-schedules", ReportScheduleViewSet)
router.register("webhooks", WebhookEndpointViewSet)
router.register("webhook-deliveries", WebhookDeliveryViewSet)
router.register("identity-providers", IdentityProviderViewSet)

# Each domain app declares its routes in its QgovApp: (prefix, viewset) or (prefix, viewset, basename).
for prefix, viewset, *basename in registry.api_routes():
    router.register(prefix, viewset, *basename)

urlpatterns = [
    path("auth/token/", core.ObtainTokenView.as_view(), name="token_obtain"),
    path("changes/", ChangeFeedView.as_view(), name="changes"),
    # The router's ~350 patterns, tried by the path's first segment only (qgov.routing).
    FirstSegmentResolver(RoutePattern("", is_endpoint=False), router.urls),
    # Whatever else under /api/ (e.g. /api/<resource>/0.5/) is a 404 in the API's error shape, not the
    # site's HTML page. Only paths with the trailing slash: without it, APPEND_SLASH redirects first.
    # [\s\S], not `.`: a segment may hold an encoded newline (%0A), which `.` does not match.
    re_path(r"^[\s\S]*/$", not_found),
]
