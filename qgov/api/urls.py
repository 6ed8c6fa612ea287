from importlib import import_module

from django.conf import settings
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from qgov.api import core
from qgov.imports.api import ImportRunViewSet

app_name = "api"

router = DefaultRouter()
router.register("agencies", core.AgencyViewSet)
router.register("users", core.UserViewSet, basename="user")
router.register("memberships", core.MembershipViewSet)
router.register("audit-events", core.AuditEventViewSet)
router.register("tokens", core.ApiTokenViewSet, basename="apitoken")
router.register("notifications", core.NotificationViewSet, basename="notification")
router.register("import-runs", ImportRunViewSet)

# Each domain app's api.py lists its routes in API_ROUTES: [(prefix, viewset), ...].
for app in settings.QGOV_DOMAIN_APPS:
    for prefix, viewset in import_module(f"{app}.api").API_ROUTES:
        router.register(prefix, viewset)

urlpatterns = [
    path("auth/token/", core.ObtainTokenView.as_view(), name="token_obtain"),
    path("", include(router.urls)),
]
