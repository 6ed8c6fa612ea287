from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("", include("qgov.ui_urls")),
    *[path(f"{app}/", include(f"{app}.urls")) for app in settings.QGOV_DOMAIN_APPS],
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("qgov.api.urls")),
    path("admin/", admin.site.urls),
]
