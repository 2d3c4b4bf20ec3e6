"""Content-Security-Policy on every response: scripts only from this site, never inline.

Stored markup in a site name or a crew's note is escaped where the pages draw it;
this header is the second wall. Should a payload ever reach the DOM as markup,
``<script>…</script>``, ``onerror=`` and ``javascript:`` do not run: ``script-src
'self'`` allows only the files under ``/static/`` (no inline code, no ``eval``).

The pages carry no inline script or event-handler attribute (data for the scripts is
in ``data-*`` attributes or ``json_script``; ``tests/web/test_csp.py`` keeps it so).

Styles: stylesheets only from this site and no ``<style>`` element, but ``style=""``
attributes are allowed (``style-src-attr 'unsafe-inline'``): the week board draws each
crew-day's bar as one server-computed gradient in a ``style`` attribute (numbers and
colours, never user text), which is what keeps a 500-cell board fast. An attribute
cannot load a script nor select other elements, so this does not reopen the XSS.

Map tiles come from ``MAP_TILE_URL``'s host when one is configured (``{s}`` becomes a
``*`` wildcard); everything else (fetch, fonts, images) from this site or ``data:``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


def tile_source(url: str) -> str:
    """The CSP source of a Leaflet tile URL template ('' when there is none)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return ""
    labels = parts.netloc.split(".")
    # "{s}.tile.example.org": the subdomain is a template; CSP allows a leftmost "*".
    if any("{" in label for label in labels[1:]):
        return f"{parts.scheme}:"
    if "{" in labels[0]:
        labels[0] = "*"
    host = ".".join(labels)
    if not re.fullmatch(r"[A-Za-z0-9.*:\-\[\]]+", host):
        return f"{parts.scheme}:"
    return f"{parts.scheme}://{host}"


def build_policy(tile_url: str = "") -> str:
    images = ["'self'", "data:"]
    tiles = tile_source(tile_url)
    if tiles:
        images.append(tiles)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": images,
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


class ContentSecurityPolicyMiddleware:
    """Adds the policy to every response that does not set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = build_policy(getattr(settings, "MAP_TILE_URL", ""))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = self.policy
        return response
