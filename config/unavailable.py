"""Web pages answer 503 "unavailable for a moment", not 500, while the database is down.

The API already maps ``OperationalError`` / ``InterfaceError`` to its 503 JSON
(``api/errors.py``); this does the same for the server-rendered pages. The page is
plain and standalone (``templates/503.html``): it reads nothing from the database,
not even the signed-in user, so it renders during the outage that caused it.
Django opens a fresh connection on the next request (``CONN_HEALTH_CHECKS``), so a
reload succeeds as soon as the database is back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

TEMPLATE = "503.html"


def unavailable_page() -> HttpResponse:
    """The 503 page in the active language."""
    return HttpResponse(render_to_string(TEMPLATE), status=503)


class DatabaseUnavailableMiddleware:
    """Turns a database outage inside a page's view into the 503 page (never under /api/)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/"):
            return None
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning("database unavailable for %s: %s", request.path, exception)
        return unavailable_page()
