"""Who may read ``/metrics``: scrapers on allowed networks, or with the metrics token.

The metrics say how busy the service is and how its queues stand: nothing
for the internet. An operator usually scrapes from a private network (an
address allow-list, loopback by default) or, across networks, with a bearer
token; either is enough, and both can be configured at once.

Behind a reverse proxy on the same machine every request comes from
127.0.0.1, so with ``TRUSTED_PROXIES`` at 0 a request carrying forwarding
headers never passes on its address: a proxied request from the internet
must not look like a local scraper. With ``TRUSTED_PROXIES=N`` the client's
address is read from ``X-Forwarded-For`` the way the API's throttles read it.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest

_FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def allowed_networks(values: Iterable[str]) -> list[Network]:
    """``METRICS_ALLOWED_IPS`` entries (addresses or CIDR blocks) as networks."""
    return [ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip()]


def client_address(request: HttpRequest, trusted_proxies: int) -> str | None:
    """The client's address, or None when it cannot be told from a proxy's."""
    if trusted_proxies <= 0:
        if any(request.META.get(header) for header in _FORWARDING_HEADERS):
            return None
        return request.META.get("REMOTE_ADDR")
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if not forwarded:
        return request.META.get("REMOTE_ADDR")
    return forwarded[-min(trusted_proxies, len(forwarded))]


def address_allowed(address: str | None, networks: Iterable[Network]) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def token_allowed(request: HttpRequest, token: str) -> bool:
    """A ``Authorization: Bearer <METRICS_TOKEN>`` header, compared in constant time."""
    if not token:
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


def metrics_allowed(request: HttpRequest) -> bool:
    networks = allowed_networks(getattr(settings, "METRICS_ALLOWED_IPS", []))
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES")
    trusted = proxies if isinstance(proxies, int) else 0
    return token_allowed(request, getattr(settings, "METRICS_TOKEN", "")) or address_allowed(
        client_address(request, trusted), networks
    )
