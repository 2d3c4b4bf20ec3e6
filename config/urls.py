"""Top-level URLs."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import health
from observability.views import metrics

urlpatterns = [
    path("", include("web.urls")),
    path("support/", include("support.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # Probes (docs/OPERATIONS.md): liveness touches nothing, readiness every dependency.
    # /api/v1/health/ itself stays the API's database round-trip for existing clients.
    path("api/v1/health/live/", health.liveness, name="health-live"),
    path("api/v1/health/ready/", health.readiness, name="health-ready"),
    path("api/v1/", include("api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Split: the init script is a second request, not inline (Content-Security-Policy).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("metrics", metrics, name="metrics"),  # allowed scrapers only (observability.access)
]

handler404 = "api.errors.json_404"
# A database outage met anywhere in a request is a 503 (pages and API); the rest a 500.
handler500 = "config.unavailable.server_error"
