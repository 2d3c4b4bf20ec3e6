"""Turning a site's address into coordinates, through geopy.

The planner cannot route to a building without coordinates, and addresses
arrive in bulk from imports, so geocoding must never be the reason an import
fails: every outcome (found, not found, geocoder down, nonsense answer) is
stored on the site as a :class:`~sites.models.GeocodeStatus` with a short
error, and the coordinates are only ever written with a confident answer.

The geocoder is configured by ``settings.GEOCODER`` (``NAME``, ``DOMAIN``,
``SCHEME``, ``USER_AGENT``, ``TIMEOUT_SECONDS``, ``COUNTRY_CODES``, optional
``MIN_DELAY_SECONDS`` and ``OPTIONS`` for service-specific arguments such as an
API key). The default is the public Nominatim, whose usage policy asks for an
identifying user agent and at most one request per second.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from geopy.exc import GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import get_geocoder_for_service
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from .models import GeocodeStatus, Site

logger = logging.getLogger(__name__)

GeocodeFunc = Callable[..., Location | None]
"""Something called like ``Geocoder.geocode`` (possibly wrapped in a rate limiter)."""

ProgressCallback = Callable[[int, int, Site], None]
"""Called after each site of a batch with (sites done, sites in the batch, the site)."""

_ERROR_MAX_LENGTH = Site._meta.get_field("geocode_error").max_length or 300

_SITE_GEOCODE_FIELDS = [
    "latitude",
    "longitude",
    "geocode_status",
    "geocode_error",
    "geocoded_at",
    "updated_at",
]


@dataclass(frozen=True)
class _Box:
    min_latitude: float
    max_latitude: float
    min_longitude: float
    max_longitude: float

    def contains(self, latitude: float, longitude: float) -> bool:
        return (
            self.min_latitude <= latitude <= self.max_latitude
            and self.min_longitude <= longitude <= self.max_longitude
        )


# Generous boxes around each country we may restrict searches to. Japan runs
# from Okinotorishima (20.4 N) to Benten-jima (45.6 N) and from Yonaguni
# (122.9 E) to Minamitorishima (154.0 E).
_COUNTRY_BOXES: dict[str, _Box] = {
    "jp": _Box(min_latitude=20.0, max_latitude=46.0, min_longitude=122.0, max_longitude=154.0),
}


@dataclass(frozen=True)
class GeocodeResult:
    """What the geocoder said about one address.

    ``latitude``/``longitude`` are set only when ``status`` is ``ok``;
    ``error`` explains any other status in a line a coordinator can read.
    """

    status: GeocodeStatus
    latitude: float | None = None
    longitude: float | None = None
    error: str = ""
    matched_address: str = ""

    @property
    def is_ok(self) -> bool:
        return self.status == GeocodeStatus.OK


def _config() -> Mapping[str, Any]:
    # Typed loosely on purpose: the dict mixes strings and numbers, and keys
    # such as MIN_DELAY_SECONDS and OPTIONS are optional.
    config: Mapping[str, Any] = settings.GEOCODER
    return config


def geocoder_from_settings() -> Geocoder:
    """Build the geopy geocoder that ``settings.GEOCODER`` describes.

    Built on every call rather than at import so that a settings override (in
    tests, or a different geocoder per deployment) takes effect. Only the
    arguments the chosen service accepts are passed, so that e.g. ``DOMAIN``
    does not break a service without one.

    Raises
    ------
    django.core.exceptions.ImproperlyConfigured
        For an unknown service name or arguments geopy rejects: a deployment
        bug that should stop a batch before it marks every site as failed.
    """
    config = _config()
    try:
        geocoder_class = get_geocoder_for_service(config.get("NAME", "nominatim"))
    except GeopyError as exc:
        raise ImproperlyConfigured(f"GEOCODER['NAME']: {exc}") from exc
    candidates: dict[str, Any] = {
        "domain": config.get("DOMAIN") or None,
        "scheme": config.get("SCHEME") or None,
        "user_agent": config.get("USER_AGENT") or None,
        "timeout": config.get("TIMEOUT_SECONDS"),
    }
    accepted = inspect.signature(geocoder_class.__init__).parameters
    kwargs = {
        name: value for name, value in candidates.items() if value is not None and name in accepted
    }
    kwargs.update(config.get("OPTIONS", {}))
    try:
        return geocoder_class(**kwargs)
    except (GeopyError, TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"GEOCODER: {geocoder_class.__name__}: {exc}") from exc


def _configured_country_codes() -> list[str]:
    raw = _config().get("COUNTRY_CODES") or ""
    return [code.strip().lower() for code in raw.split(",") if code.strip()]


def _country_boxes(country_codes: list[str]) -> list[_Box] | None:
    """The boxes an answer must fall in, or None when no check is possible."""
    if not country_codes or any(code not in _COUNTRY_BOXES for code in country_codes):
        return None
    return [_COUNTRY_BOXES[code] for code in country_codes]


def _short_error(text: str) -> str:
    return text if len(text) <= _ERROR_MAX_LENGTH else text[: _ERROR_MAX_LENGTH - 1] + "…"


def _geocode_with(geocode: GeocodeFunc, address: str) -> GeocodeResult:
    """Ask ``geocode`` about ``address`` and judge the answer; never raises for geocoder trouble."""
    address = address.strip()
    if not address:
        return GeocodeResult(status=GeocodeStatus.NOT_FOUND, error="The address is empty.")
    country_codes = _configured_country_codes()
    kwargs: dict[str, Any] = {"exactly_one": True}
    # Only some services (Nominatim and its kin) can restrict a search by
    # country; the box check below still applies to the others.
    if country_codes and _accepts_country_codes(geocode):
        kwargs["country_codes"] = country_codes
    try:
        location = geocode(address, **kwargs)
    except (GeopyError, ValueError) as exc:
        # GeopyError covers HTTP errors, timeouts, an unreachable server and
        # unparsable JSON; ValueError a body that parsed but holds nonsense
        # such as a non-numeric "lat".
        # The address is the customer's: the log says what failed, not where.
        logger.warning("Geocoding failed: %s", type(exc).__name__)
        return GeocodeResult(
            status=GeocodeStatus.FAILED, error=_short_error(f"{type(exc).__name__}: {exc}")
        )
    if location is None:
        return GeocodeResult(
            status=GeocodeStatus.NOT_FOUND, error="The geocoder found no match for this address."
        )
    latitude, longitude = float(location.latitude), float(location.longitude)
    matched = location.address or ""
    if latitude == 0.0 and longitude == 0.0:
        # geopy turns an answer without coordinates into (0, 0), a spot in the
        # Gulf of Guinea; storing it would put the site on the map silently.
        return GeocodeResult(
            status=GeocodeStatus.FAILED,
            error=_short_error(f"The geocoder's answer has no coordinates ({matched!r})."),
        )
    boxes = _country_boxes(country_codes)
    if boxes is not None and not any(box.contains(latitude, longitude) for box in boxes):
        # A geocoder confidently matching part of a Japanese address to a
        # place abroad is a classic data bug; it is no answer for this site.
        return GeocodeResult(
            status=GeocodeStatus.NOT_FOUND,
            error=_short_error(
                f"The geocoder's only match ({latitude:.5f}, {longitude:.5f}, {matched!r}) "
                f"lies outside {', '.join(country_codes).upper()}."
            ),
            matched_address=matched,
        )
    return GeocodeResult(
        status=GeocodeStatus.OK, latitude=latitude, longitude=longitude, matched_address=matched
    )


def _accepts_country_codes(geocode: GeocodeFunc) -> bool:
    target = geocode.func if isinstance(geocode, RateLimiter) else geocode
    try:
        return "country_codes" in inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False


def geocode_address(address: str, *, geocoder: Geocoder | None = None) -> GeocodeResult:
    """Geocode one address without touching the database.

    Every geocoder problem (HTTP error, timeout, unreachable server, invalid
    JSON) comes back as a ``failed`` result instead of an exception, so callers
    such as imports can keep going. ``geocoder`` defaults to the one configured
    in ``settings.GEOCODER``.
    """
    geocoder = geocoder if geocoder is not None else geocoder_from_settings()
    return _geocode_with(geocoder.geocode, address)


def _site_store(*, site: Site, address: str, result: GeocodeResult, force: bool) -> bool:
    """Write ``result`` onto ``site`` unless the row changed while the geocoder was answering.

    Returns whether it was written; ``site`` is refreshed either way.

    The HTTP call happens outside any transaction (it may take seconds); the
    row is then re-read under ``select_for_update`` so that a coordinator who
    placed the site by hand, or edited its address, in the meantime does not
    get overwritten by an answer to a question nobody is asking any more.
    """
    with transaction.atomic():
        locked = Site.objects.select_for_update().get(pk=site.pk)
        if locked.geocode_status == GeocodeStatus.MANUAL and not force:
            logger.info("Site %s was placed by hand meanwhile; keeping it.", site.pk)
            stored = False
        elif locked.address != address:
            logger.info("Site %s changed address meanwhile; not storing the answer.", site.pk)
            stored = False
        else:
            _apply(locked, result)
            locked.save(update_fields=_SITE_GEOCODE_FIELDS)
            stored = True
    for field in [*_SITE_GEOCODE_FIELDS, "address"]:
        setattr(site, field, getattr(locked, field))
    return stored


def _apply(site: Site, result: GeocodeResult) -> None:
    site.geocode_status = result.status
    site.geocode_error = result.error
    if result.is_ok:
        site.latitude, site.longitude = result.latitude, result.longitude
        site.geocoded_at = timezone.now()
    # Otherwise the coordinates and geocoded_at stay as they were: they still
    # describe the last confident answer, if there ever was one.


def _site_geocode_with(*, site: Site, geocode: GeocodeFunc, force: bool) -> bool:
    """Geocode and store; returns whether the site was written."""
    if site.geocode_status == GeocodeStatus.MANUAL and not force:
        return False
    address = site.address
    result = _geocode_with(geocode, address)
    return _site_store(site=site, address=address, result=result, force=force)


def site_geocode(*, site: Site, geocoder: Geocoder | None = None, force: bool = False) -> Site:
    """Geocode ``site``'s address and store the outcome on it.

    ``ok`` stores the coordinates and ``geocoded_at``; ``not_found`` and
    ``failed`` store the status and a short error and leave the coordinates
    as they were, so a site is never placed by a doubtful answer. Geocoder
    trouble never raises. A site placed by hand (status ``manual``) is kept
    as it is unless ``force`` is true, because a coordinator's correction is
    better than any geocoder's guess.

    Raises
    ------
    django.core.exceptions.ImproperlyConfigured
        Only when ``settings.GEOCODER`` itself is unusable (and no
        ``geocoder`` is given): a deployment bug, not a property of the site.
    """
    geocoder = geocoder if geocoder is not None else geocoder_from_settings()
    _site_geocode_with(site=site, geocode=geocoder.geocode, force=force)
    return site


def sites_geocode_pending(
    *,
    limit: int | None = None,
    progress: ProgressCallback | None = None,
    retry_failed: bool = False,
) -> dict[str, int]:
    """Geocode the sites that are waiting for it and count the outcomes.

    Takes sites in ``pending`` status (and with ``retry_failed``, those whose
    last attempt was ``failed`` or ``not_found``) in id order, at most
    ``limit`` of them. Sites placed by hand or already geocoded are never
    touched. Requests are spaced by ``settings.GEOCODER["MIN_DELAY_SECONDS"]``
    (default 1 s, Nominatim's usage policy) and not retried: a failed site is
    recorded and picked up by a later run with ``retry_failed``, which beats
    stalling the whole batch on one flaky answer.

    Returns
    -------
    dict[str, int]
        Number of sites per resulting status (``ok``, ``not_found``,
        ``failed``) plus ``skipped`` for sites changed by someone else
        while the batch ran.

    Raises
    ------
    django.core.exceptions.ImproperlyConfigured
        When the geocoder settings are unusable; no site is touched then.
    """
    geocoder = geocoder_from_settings()
    min_delay_seconds = float(_config().get("MIN_DELAY_SECONDS", 1.0))
    geocode = RateLimiter(
        geocoder.geocode,
        min_delay_seconds=min_delay_seconds,
        max_retries=0,
        swallow_exceptions=False,
    )
    statuses = [GeocodeStatus.PENDING]
    if retry_failed:
        statuses += [GeocodeStatus.FAILED, GeocodeStatus.NOT_FOUND]
    queryset = Site.objects.filter(geocode_status__in=statuses).order_by("id")
    sites = list(queryset[:limit] if limit is not None else queryset)
    counts = {
        GeocodeStatus.OK.value: 0,
        GeocodeStatus.NOT_FOUND.value: 0,
        GeocodeStatus.FAILED.value: 0,
        "skipped": 0,
    }
    for done, site in enumerate(sites, start=1):
        if _site_geocode_with(site=site, geocode=geocode, force=False):
            counts[site.geocode_status] += 1
        else:
            counts["skipped"] += 1
        if progress is not None:
            progress(done, len(sites), site)
    return counts
