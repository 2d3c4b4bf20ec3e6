"""``Cache-Control: private, no-store`` on every response the application renders.

Routes, site cards, jobs, customers, contracts, calendar feeds and the support desk
carry customers' names, addresses and phone numbers. No browser cache, proxy or
"back" button should keep a copy, so every dynamic response gets ``private,
no-store`` (and ``Pragma: no-cache`` for HTTP/1.0 caches) unless its view chose a
``Cache-Control`` of its own: the login page's ``never_cache``, the calendar feed's
and the exports' ``no-store``.

The rule is by kind of response, not by who asks: deciding "authenticated" would
read the session from the database (the very read that fails during an outage, when
the 503 page must carry the header too), and a calendar feed is authorised by a
secret in its URL, not by a session. Nothing this service renders is meant for a
shared cache. Static files keep their own long-lived headers (WhiteNoise sets them;
anything under ``STATIC_URL`` is left alone in any case).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

NO_STORE = "private, no-store"


def static_prefix(static_url: str) -> str:
    """The path under which this site serves static files ('' when they live elsewhere)."""
    parts = urlsplit(static_url or "")
    if parts.netloc:
        return ""
    return "/" + parts.path.strip("/") + "/" if parts.path.strip("/") else ""


def apply(path: str, response: HttpResponse, static: str = "") -> HttpResponse:
    """Adds the headers to ``response`` for a request to ``path``."""
    if static and path.startswith(static):
        return response
    if "Cache-Control" not in response:
        response["Cache-Control"] = NO_STORE
    if "no-store" in response["Cache-Control"] and "Pragma" not in response:
        response["Pragma"] = "no-cache"
    return response


class NoStoreMiddleware:
    """Marks every dynamic response that did not choose its own caching as not storable."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.static = static_prefix(getattr(settings, "STATIC_URL", "") or "")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return apply(request.path, self.get_response(request), self.static)
