"""Which URLs an endpoint may have: HTTPS, or plain HTTP to this machine when allowed.

Plain HTTP would send signed schedule data (addresses, times) readable on the
way, so it is refused except to ``localhost``/``127.0.0.1``/``::1`` when
``WEBHOOK_ALLOW_LOCAL_HTTP`` is on (default: ``DEBUG``; tests turn it on).
The same switch guards loopback, private and link-local addresses over HTTPS:
in production a partner must not make the server call into its own network.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import INVALID_INPUT, DomainError

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_URL_LENGTH = 500


class InvalidWebhookUrl(DomainError):
    code = "invalid"
    status = INVALID_INPUT

    def __init__(self, message: str) -> None:
        super().__init__(message, field="url")


def local_http_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_LOCAL_HTTP", settings.DEBUG))


def _is_internal(host: str) -> bool:
    if host in LOCAL_HOSTS or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
        or address.is_multicast
    )


def resolves_internally(host: str) -> bool:
    """True if ``host`` is or resolves to an address the server must not call for a partner.

    Checked before each attempt, as a hostname registered as public may later
    resolve to a private address. (A resolver that answers differently to the
    connection a moment later is not caught: egress filtering is the backstop.)
    """
    if _is_internal(host):
        return True
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return False  # unresolvable: the connection attempt fails and is logged
    return any(_is_internal(str(info[4][0]).split("%")[0]) for info in infos)


def check_url(url: str) -> str:
    """``url`` stripped if an endpoint may have it; else :class:`InvalidWebhookUrl` (400)."""
    url = (url or "").strip()
    if not url:
        raise InvalidWebhookUrl(_("this field is required"))
    if len(url) > MAX_URL_LENGTH:
        raise InvalidWebhookUrl(_("at most %(count)s characters") % {"count": MAX_URL_LENGTH})
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError as exc:
        raise InvalidWebhookUrl(_("not a valid URL")) from exc
    if not host:
        raise InvalidWebhookUrl(_("not a valid URL"))
    if parts.username or parts.password:
        raise InvalidWebhookUrl(_("credentials in the URL are not allowed"))
    if parts.fragment:
        raise InvalidWebhookUrl(_("a URL with a fragment (#) is not allowed"))
    scheme = parts.scheme.lower()
    if scheme == "http":
        if not (host in LOCAL_HOSTS and local_http_allowed()):
            raise InvalidWebhookUrl(_("the URL must use https"))
    elif scheme != "https":
        raise InvalidWebhookUrl(_("the URL must use https"))
    elif _is_internal(host) and not local_http_allowed():
        raise InvalidWebhookUrl(_("the URL must point to a public host"))
    return url
