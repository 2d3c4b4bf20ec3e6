"""Django app: registers the scrape-time collectors and configures structlog."""

from __future__ import annotations

from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "observability"
    verbose_name = "Observability"

    def ready(self) -> None:
        """Once per process (web or worker), after settings are read."""
        from django.core.signals import request_finished

        from . import logs, metrics
        from .middleware import unbind_request_id

        logs.configure_structlog()
        metrics.register_scrape_collectors()
        request_finished.connect(unbind_request_id, dispatch_uid="obs-unbind-request-id")
