from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from qgov import registry
from qgov.views.core import favicon, integration_guide

# The API first: Django tries patterns in order, and an API call that had to miss every page's pattern
# before reaching /api/ spent 0.8 ms of a 5 ms request in the resolver (benchmarks/results/national-analysis.md).
urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/guide/", integration_guide, name="api-guide"),
    path("api/", include("qgov.api.urls")),
    # SCIM 2.0 for agency identity providers (qgov.identity.scim; docs/scim.md), outside the REST API.
    path("scim/v2/", include("qgov.identity.scim.urls")),
    path("", include("qgov.ui_urls")),
    *registry.url_patterns(),  # each domain app's pages under /<app>/
    *registry.public_url_patterns(),  # pages for visitors without an account (one-time links)
    path("admin/", admin.site.urls),
    # Browsers and tools ask for /favicon.ico whatever the page links; the file is a static one.
    path("favicon.ico", favicon),
]

# Error pages inside the layout, saying why and linking back (DEBUG off).
handler403 = "qgov.views.core.permission_denied"
handler404 = "qgov.views.core.page_not_found"
handler500 = "qgov.views.core.server_error"
