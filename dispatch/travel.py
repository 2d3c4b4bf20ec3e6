"""Which road model the app drives with: straight lines (default) or an OSRM server.

Every place that needs travel times (the planner run, slot offers, manual
edits, the leg home on the board and in the partner routes API) asks here,
so they all drive the same roads: :func:`travel_provider` for matrices over a
problem's locations, :func:`legs` for single legs between pairs of points.

``TRAVEL_PROVIDER`` selects the model (see ``docs/TRAVEL.md``):

* ``straight_line``: :class:`scheduler.travel.HaversineTravel`, the great-circle
  distance x a detour factor at an average speed. Offline and instant.
* ``osrm``: :class:`scheduler.travel.OsrmTravel` against ``TRAVEL_OSRM_URL``.
  Answers are cached in this process (:class:`_ByteLru`), because a board
  reload or the second slot search of a call asks for the same legs again
  and the server is a network round trip away. A failing server raises
  :class:`scheduler.travel.OsrmError`: never a silent fallback to straight
  lines, so a plan is never half road, half guess.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.core import checks
from django.utils.translation import gettext as _

from core.errors import UNAVAILABLE, DomainError
from scheduler.model import Location
from scheduler.travel import (
    HaversineTravel,
    OsrmError,
    OsrmTravel,
    TravelMatrix,
    TravelProvider,
    haversine_m,
)

logger = logging.getLogger(__name__)

STRAIGHT_LINE = "straight_line"
OSRM = "osrm"
PROVIDERS = (STRAIGHT_LINE, OSRM)

#: The planner's straight-line model: what ``scheduler.travel_for`` uses without a provider.
PLANNER_STRAIGHT_LINE = HaversineTravel()

CACHE_BYTES = 256 * 1024 * 1024
"""Bound of the in-process matrix cache: 256 MB holds one 4,000-location matrix
(two int64 arrays of 16 M cells) or many small ones (a slot search's 50
locations take 40 kB)."""

LEG_CACHE_BYTES = 16 * 1024 * 1024
"""Bound of the leg cache: about 100,000 legs at :data:`_LEG_BYTES` each."""

_LEG_BYTES = 160
"""What one cached leg costs: its key (two locations, the configuration) and value."""

LEG_RETRY_AFTER_S = 30.0
"""After the routing service failed a leg request, legs fail at once for this long.

The legs are read by pages (the board) and the partner API: while a server
hangs, every one of them would otherwise wait ``TRAVEL_OSRM_TIMEOUT_S`` before
it can say so. The planner, slot offers and edits always ask again."""


@dataclass(frozen=True)
class TravelSettings:
    """The ``TRAVEL_*`` settings, read once per call (``override_settings`` works in tests)."""

    provider: str
    osrm_url: str
    osrm_profile: str
    osrm_timeout_s: float
    osrm_chunk: int

    @classmethod
    def current(cls) -> TravelSettings:
        return cls(
            provider=str(getattr(settings, "TRAVEL_PROVIDER", STRAIGHT_LINE)),
            osrm_url=str(getattr(settings, "TRAVEL_OSRM_URL", "")),
            osrm_profile=str(getattr(settings, "TRAVEL_OSRM_PROFILE", "driving")),
            osrm_timeout_s=float(getattr(settings, "TRAVEL_OSRM_TIMEOUT_S", 10)),
            osrm_chunk=int(getattr(settings, "TRAVEL_OSRM_CHUNK", 100)),
        )

    def osrm(self) -> OsrmTravel:
        return OsrmTravel(
            base_url=self.osrm_url,
            profile=self.osrm_profile,
            chunk_size=self.osrm_chunk,
            timeout_s=self.osrm_timeout_s,
        )


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _ByteLru(Generic[K, V]):
    """A thread-safe least-recently-used map bounded by the bytes its values take.

    Web workers serve requests on threads and the planner reads from its own,
    so every access holds the lock; the fetch itself runs outside it (two
    threads missing the same key both fetch, the later one wins: harmless).
    """

    def __init__(self, max_bytes: int, size_of: Callable[[V], int]) -> None:
        self.max_bytes = max_bytes
        self._size_of = size_of
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: K, value: V) -> None:
        size = self._size_of(value)
        if size > self.max_bytes:
            return  # larger than the whole cache: keeping it would evict everything
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._bytes -= evicted

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    @property
    def total_bytes(self) -> int:
        return self._bytes


def _matrix_bytes(matrix: TravelMatrix) -> int:
    return int(matrix.distance_m.nbytes + matrix.duration_s.nbytes) + 64 * len(matrix.locations)


_matrices: _ByteLru[tuple[TravelSettings, tuple[Location, ...]], TravelMatrix] = _ByteLru(
    CACHE_BYTES, _matrix_bytes
)
_legs: _ByteLru[tuple[TravelSettings, Location, Location], tuple[int, int]] = _ByteLru(
    LEG_CACHE_BYTES, lambda _leg: _LEG_BYTES
)


_leg_failure: dict[TravelSettings, tuple[float, str]] = {}
"""The last failed leg request per configuration: when (:data:`_clock`) and why."""

_clock = time.monotonic
"""The clock of :data:`LEG_RETRY_AFTER_S` (a test moves it instead of waiting)."""


def clear_caches() -> None:
    """Forget every cached matrix and leg, and the last failure (tests; new road data)."""
    _matrices.clear()
    _legs.clear()
    _leg_failure.clear()


@dataclass(frozen=True)
class CachedTravel:
    """A provider whose matrices are kept per exact location tuple (see :data:`CACHE_BYTES`).

    The key holds the whole configuration, so switching servers or profiles
    never serves the old roads. Cached arrays are read-only: a caller that
    wrote into one would change every later answer.
    """

    provider: TravelProvider
    config: TravelSettings

    def matrix(self, locations: Sequence[Location]) -> TravelMatrix:
        key = (self.config, tuple(locations))
        found = _matrices.get(key)
        if found is not None:
            return found
        matrix = self.provider.matrix(locations)
        matrix.distance_m.flags.writeable = False
        matrix.duration_s.flags.writeable = False
        _matrices.put(key, matrix)
        return matrix


class RoutingUnavailable(DomainError):
    """The routing service failed while a person waited: retry shortly (HTTP 503).

    The cause (which server, what failed) goes to the log; a support operator
    or a partner cannot act on it, the operator of the service can.
    """

    code = "routing_unavailable"
    status = UNAVAILABLE


@contextmanager
def routing_required() -> Iterator[None]:
    """Turn a failing routing service into :class:`RoutingUnavailable` for the caller to show.

    Around the services a person waits for (slot offers, manual edits): the
    planner run keeps the :class:`~scheduler.travel.OsrmError` itself, whose
    text (server, failure) is written on the run for the coordinator.
    """
    try:
        yield
    except OsrmError as exc:
        logger.warning("routing service failed: %s", exc)
        raise RoutingUnavailable(
            _(
                "the routing service is unavailable, so travel times cannot be computed; "
                "try again shortly"
            )
        ) from exc


def travel_provider() -> TravelProvider:
    """The configured travel model, to pass to ``scheduler.solve`` / ``travel_for``.

    Straight lines come back uncached: computing them is as fast as looking
    them up, and keeping the matrices would only cost the workers memory.
    """
    config = TravelSettings.current()
    if config.provider == OSRM:
        return CachedTravel(config.osrm(), config)
    return PLANNER_STRAIGHT_LINE


def legs(pairs: Sequence[tuple[Location, Location]]) -> list[tuple[int, int]]:
    """``(metres, seconds)`` from each pair's first location to its second.

    Straight lines: exactly what :data:`PLANNER_STRAIGHT_LINE`'s matrix holds
    between the two points (metres rounded, seconds rounded up), pair by pair
    in one vectorised call. OSRM: the pairs not in the cache in one ``/table``
    request (more only beyond ``TRAVEL_OSRM_CHUNK`` points), the distinct
    origins as sources and the distinct destinations as destinations.

    Raises
    ------
    scheduler.travel.OsrmError
        When the routing service fails, and without asking it again for
        :data:`LEG_RETRY_AFTER_S` after it failed (the message says so).
    """
    if not pairs:
        return []
    config = TravelSettings.current()
    if config.provider != OSRM:
        return _straight_legs(pairs)
    found: dict[tuple[Location, Location], tuple[int, int]] = {}
    missing: list[tuple[Location, Location]] = []
    for pair in dict.fromkeys(pairs):
        leg = _legs.get((config, *pair))
        if leg is None:
            missing.append(pair)
        else:
            found[pair] = leg
    if missing:
        sources = list(dict.fromkeys(a for a, _ in missing))
        destinations = list(dict.fromkeys(b for _, b in missing))
        row = {loc: i for i, loc in enumerate(sources)}
        column = {loc: j for j, loc in enumerate(destinations)}
        metres, seconds = _ask_table(config, sources, destinations)
        for a, b in missing:
            leg = (int(metres[row[a], column[b]]), int(seconds[row[a], column[b]]))
            _legs.put((config, a, b), leg)
            found[(a, b)] = leg
    return [found[pair] for pair in pairs]


def _ask_table(
    config: TravelSettings, sources: list[Location], destinations: list[Location]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The server's table for the legs, unless it failed less than :data:`LEG_RETRY_AFTER_S` ago."""
    failed = _leg_failure.get(config)
    if failed is not None:
        ago = _clock() - failed[0]
        if ago < LEG_RETRY_AFTER_S:
            raise OsrmError(
                f"{failed[1]} ({ago:.0f} s ago; asked again after {LEG_RETRY_AFTER_S:g} s)"
            )
    try:
        table = config.osrm().table(sources, destinations)
    except OsrmError as exc:
        _leg_failure[config] = (_clock(), str(exc))
        raise
    _leg_failure.pop(config, None)
    return table


def _straight_legs(pairs: Sequence[tuple[Location, Location]]) -> list[tuple[int, int]]:
    lat1, lon1, lat2, lon2 = np.array([(a.lat, a.lon, b.lat, b.lon) for a, b in pairs]).T
    road_m = haversine_m(lat1, lon1, lat2, lon2) * PLANNER_STRAIGHT_LINE.detour_factor
    metres = np.rint(road_m).astype(np.int64)
    seconds = np.ceil(road_m * (3.6 / PLANNER_STRAIGHT_LINE.speed_kmh)).astype(np.int64)
    return list(zip(metres.tolist(), seconds.tolist(), strict=True))


def check_travel_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``manage.py check`` (and every server start) refuses a travel setup that cannot work.

    Registered in :class:`dispatch.apps.DispatchConfig`. A wrong URL would
    otherwise surface only when the first optimization fails.
    """
    config = TravelSettings.current()
    errors: list[checks.CheckMessage] = []
    if config.provider not in PROVIDERS:
        errors.append(
            checks.Error(
                f"TRAVEL_PROVIDER is {config.provider!r}",
                hint=f"Use one of: {', '.join(PROVIDERS)}.",
                id="dispatch.E101",
            )
        )
    if config.provider != OSRM:
        return errors
    parts = urlsplit(config.osrm_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        errors.append(
            checks.Error(
                f"TRAVEL_OSRM_URL must be an http(s) URL when TRAVEL_PROVIDER=osrm, "
                f"got {config.osrm_url!r}",
                hint="E.g. http://osrm:5000 (the server's root, without /table/v1/...).",
                id="dispatch.E102",
            )
        )
    if config.osrm_chunk < 1:
        errors.append(checks.Error("TRAVEL_OSRM_CHUNK must be at least 1", id="dispatch.E103"))
    if config.osrm_timeout_s <= 0:
        errors.append(checks.Error("TRAVEL_OSRM_TIMEOUT_S must be more than 0", id="dispatch.E104"))
    return errors
