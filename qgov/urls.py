from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from qgov import registry

urlpatterns = [
    path("", include("qgov.ui_urls")),
    *registry.url_patterns(),  # each domain app's pages under /<app>/
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("qgov.api.urls")),
    path("admin/", admin.site.urls),
]
