"""Web pages answer 503 "unavailable for a moment", not 500, while the database is down.

The API already maps ``OperationalError`` / ``InterfaceError`` to its 503 JSON
(``api/errors.py``); this does the same for the server-rendered pages. The page is
plain and standalone (``templates/503.html``): it reads nothing from the database,
not even the signed-in user, so it renders during the outage that caused it.
Django opens a fresh connection on the next request (``CONN_HEALTH_CHECKS``), so a
reload succeeds as soon as the database is back.

The middleware sees only what a view raises. A middleware that reads the database
before or after the view (sessions, authentication, axes) fails outside it, where
Django answers through ``handler500``; :func:`server_error` is that handler, and
gives the same 503 (the page here, the API's JSON through ``api.errors.json_500``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger(__name__)

TEMPLATE = "503.html"


def unavailable_page() -> HttpResponse:
    """The 503 page in the active language."""
    return HttpResponse(render_to_string(TEMPLATE), status=503)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a database outage anywhere in the request is a 503, the rest a 500.

    Django calls this from inside its ``except`` block (``response_for_exception`` in
    ``django/core/handlers/exception.py``), so ``sys.exc_info()`` is the error.
    """
    from api.errors import json_500  # the API's shape; imported late, api imports models

    error = sys.exc_info()[1]
    if request.path.startswith("/api/") or not isinstance(error, OperationalError | InterfaceError):
        return json_500(request)
    logger.warning("database unavailable for %s: %s", request.path, error)
    # A middleware that failed early (sessions) ran before LocaleMiddleware: choose the
    # language here, from the cookie and Accept-Language, which need no database.
    with translation.override(translation.get_language_from_request(request)):
        return unavailable_page()


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
