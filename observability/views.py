"""``/metrics``: django-prometheus's and the domain's metrics, for allowed scrapers only."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .access import metrics_allowed
from .metrics import scrape_registry


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """The Prometheus text format; 403 for anyone neither on an allowed network nor with the token.

    Our own view rather than django-prometheus's ``ExportToDjangoView`` only to
    check access first and to add the queue-depth collector in multiprocess mode.
    """
    if not metrics_allowed(request):
        return HttpResponseForbidden(b"", content_type="text/plain")
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)
