"""Distance and duration matrices between locations.

Two providers build a :class:`TravelMatrix` from a list of locations:

* :class:`HaversineTravel` (default, offline): great-circle distance computed
  with vectorised NumPy, times a road-detour factor, driven at an average
  speed. Good enough to batch nearby jobs; 5,000 locations take well under a
  second on one core (see ``scheduler/README.md``).
* :class:`OsrmTravel`: asks an OSRM-compatible ``/table`` endpoint for real
  road distances and durations, in chunks so large inputs stay below the
  server's table-size limit. Uses only the standard library.

A :class:`TravelMatrix` can also be built directly from arrays (benchmarks with
Euclidean distances, matrices cached by the product).
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from scheduler.model import Location

if TYPE_CHECKING:
    from scheduler.model import Problem

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG), the usual choice for haversine distances."""


@dataclass(frozen=True, eq=False)
class TravelMatrix:
    """Integer distance (metres) and duration (seconds) between all locations.

    ``distance_m[i, j]`` and ``duration_s[i, j]`` are from ``locations[i]`` to
    ``locations[j]``; matrices may be asymmetric (one-way streets).
    """

    locations: tuple[Location, ...]
    distance_m: npt.NDArray[np.int64]
    duration_s: npt.NDArray[np.int64]
    _index: dict[Location, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.locations)
        for name in ("distance_m", "duration_s"):
            array = np.asarray(getattr(self, name), dtype=np.int64)
            if array.shape != (n, n):
                raise ValueError(f"{name} must be {n}x{n}, got {array.shape}")
            if array.min(initial=0) < 0:
                raise ValueError(f"{name} must be non-negative")
            object.__setattr__(self, name, array)
        index: dict[Location, int] = {}
        for i, loc in enumerate(self.locations):
            index.setdefault(loc, i)
        object.__setattr__(self, "_index", index)

    def index(self, location: Location) -> int:
        """Row/column of ``location`` (``KeyError`` if it is not in the matrix)."""
        return self._index[location]

    def covers(self, locations: Sequence[Location]) -> bool:
        """Whether every location has a row in this matrix."""
        return all(loc in self._index for loc in locations)

    def distance(self, a: Location, b: Location) -> int:
        """Metres from ``a`` to ``b``."""
        return int(self.distance_m[self._index[a], self._index[b]])

    def duration(self, a: Location, b: Location) -> int:
        """Seconds from ``a`` to ``b``."""
        return int(self.duration_s[self._index[a], self._index[b]])


class TravelProvider(Protocol):
    """Anything that turns locations into a :class:`TravelMatrix`."""

    def matrix(self, locations: Sequence[Location]) -> TravelMatrix:
        """Build the matrix for ``locations`` (in that order)."""
        ...


def haversine_m(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Great-circle distance in metres between points given in degrees (broadcasting).

    Parameters
    ----------
    lat1, lon1, lat2, lon2
        Coordinates in degrees; any shapes that broadcast together.

    Returns
    -------
    numpy.ndarray
        Distances in metres on a sphere of radius :data:`EARTH_RADIUS_M`. On the
        ellipsoid (geodesic) the true distance differs by at most ~0.5 %.
    """
    phi1, lam1, phi2, lam2 = (
        np.radians(np.asarray(x, dtype=np.float64)) for x in (lat1, lon1, lat2, lon2)
    )
    a = (
        np.sin((phi2 - phi1) / 2) ** 2
        + np.cos(phi1) * np.cos(phi2) * np.sin((lam2 - lam1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@dataclass(frozen=True)
class HaversineTravel:
    """Road estimate from straight lines: haversine x detour factor at an average speed.

    Attributes
    ----------
    detour_factor
        Ratio of road distance to straight-line distance (about 1.3 in cities).
    speed_kmh
        Average driving speed including traffic lights and parking search.
    """

    detour_factor: float = 1.3
    speed_kmh: float = 25.0

    def __post_init__(self) -> None:
        if self.detour_factor < 1:
            raise ValueError("detour_factor must be >= 1")
        if self.speed_kmh <= 0:
            raise ValueError("speed_kmh must be > 0")

    def matrix(self, locations: Sequence[Location]) -> TravelMatrix:
        """Build the matrix with vectorised NumPy (O(n^2) memory, no Python loop).

        Points become unit vectors; one matrix product gives all cosines of the
        central angles and ``2 R asin(sqrt((1 - cos) / 2))`` the great-circle
        distances (the haversine formula in chord form). This is several times
        faster than evaluating the trigonometric haversine on every pair and
        stays accurate to well below a metre at city scale.
        """
        n = len(locations)
        lat = np.radians(np.fromiter((loc.lat for loc in locations), dtype=np.float64, count=n))
        lon = np.radians(np.fromiter((loc.lon for loc in locations), dtype=np.float64, count=n))
        unit = np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))
        half_chord_sq = unit @ unit.T
        np.subtract(1.0, half_chord_sq, out=half_chord_sq)
        np.multiply(half_chord_sq, 0.5, out=half_chord_sq)
        np.clip(half_chord_sq, 0.0, 1.0, out=half_chord_sq)
        np.sqrt(half_chord_sq, out=half_chord_sq)
        road_m = np.arcsin(half_chord_sq, out=half_chord_sq)
        np.multiply(road_m, 2 * EARTH_RADIUS_M * self.detour_factor, out=road_m)
        np.fill_diagonal(road_m, 0.0)
        distance_m = np.rint(road_m).astype(np.int64)
        np.multiply(road_m, 3.6 / self.speed_kmh, out=road_m)
        duration_s = np.ceil(road_m).astype(np.int64)
        return TravelMatrix(
            locations=tuple(locations), distance_m=distance_m, duration_s=duration_s
        )


@dataclass(frozen=True)
class OsrmTravel:
    """Road distances and durations from an OSRM-compatible ``/table`` service.

    Requests ``{base_url}/table/v1/{profile}/{lon,lat;...}?sources=..&destinations=..
    &annotations=distance,duration`` in blocks of at most ``chunk_size`` sources
    and destinations, so any number of locations works within the server's
    ``max-table-size``.

    Every way the service can fail (refused connection, timeout, HTTP error,
    an answer that is not OSRM's JSON, a code other than ``Ok``, a missing
    route) raises :class:`OsrmError` naming the server and what went wrong:
    a caller that asked for road times must never get straight lines instead
    without knowing it.

    Attributes
    ----------
    base_url
        E.g. ``http://localhost:5000``.
    profile
        OSRM profile name in the URL.
    chunk_size
        Maximum sources (and destinations) per request.
    timeout_s
        Socket timeout per request.
    """

    base_url: str
    profile: str = "driving"
    chunk_size: int = 100
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if self.chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")

    @property
    def host(self) -> str:
        """The server's ``host[:port]``, as error messages name it."""
        return urllib.parse.urlsplit(self.base_url).netloc or self.base_url

    def matrix(self, locations: Sequence[Location]) -> TravelMatrix:
        """Fetch all blocks and assemble the full matrix.

        Raises
        ------
        OsrmError
            When the server cannot be reached or answered with an error, with
            something that is not an OSRM table, or with a missing route
            (unreachable location).
        """
        n = len(locations)
        distance = np.zeros((n, n), dtype=np.float64)
        duration = np.zeros((n, n), dtype=np.float64)
        blocks = [range(i, min(i + self.chunk_size, n)) for i in range(0, n, self.chunk_size)]
        for sources in blocks:
            for destinations in blocks:
                d, t = self._fetch_block(locations, sources, destinations)
                distance[sources.start : sources.stop, destinations.start : destinations.stop] = d
                duration[sources.start : sources.stop, destinations.start : destinations.stop] = t
        return TravelMatrix(
            locations=tuple(locations),
            distance_m=np.rint(distance).astype(np.int64),
            duration_s=np.ceil(duration).astype(np.int64),
        )

    def table(
        self, sources: Sequence[Location], destinations: Sequence[Location]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Metres and seconds from each source to each destination (not a square matrix).

        For legs between two different sets of points (each route's last stop
        to its crew's home) without asking for the whole square over both:
        one request when both lists fit in ``chunk_size``, blocks otherwise.
        Rounded as :meth:`matrix` rounds (metres to nearest, seconds up).

        Raises
        ------
        OsrmError
            As :meth:`matrix`.
        """
        points = [*sources, *destinations]
        n_from, n_to = len(sources), len(destinations)
        distance = np.zeros((n_from, n_to), dtype=np.float64)
        duration = np.zeros((n_from, n_to), dtype=np.float64)
        step = self.chunk_size
        for i in range(0, n_from, step):
            rows = range(i, min(i + step, n_from))
            for j in range(0, n_to, step):
                columns = range(j, min(j + step, n_to))
                d, t = self._fetch_block(
                    points, rows, range(n_from + columns.start, n_from + columns.stop)
                )
                distance[rows.start : rows.stop, columns.start : columns.stop] = d
                duration[rows.start : rows.stop, columns.start : columns.stop] = t
        return np.rint(distance).astype(np.int64), np.ceil(duration).astype(np.int64)

    def _fetch_block(
        self, locations: Sequence[Location], sources: range, destinations: range
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """One ``/table`` call for a block; coordinates are sent once each."""
        wanted = sorted(set(sources) | set(destinations))
        position = {loc_index: k for k, loc_index in enumerate(wanted)}
        coords = ";".join(f"{locations[i].lon:.6f},{locations[i].lat:.6f}" for i in wanted)
        query = (
            f"sources={';'.join(str(position[i]) for i in sources)}"
            f"&destinations={';'.join(str(position[i]) for i in destinations)}"
            "&annotations=distance,duration"
        )
        url = f"{self.base_url.rstrip('/')}/table/v1/{self.profile}/{coords}?{query}"
        payload = self._get_json(url)
        if payload.get("code") != "Ok":
            detail = f"{payload.get('code')} {payload.get('message', '')}".strip()
            raise OsrmError(f"{self._failed} answered {detail}")
        shape = (len(sources), len(destinations))
        distances = self._as_block(payload.get("distances"), "distances", shape)
        durations = self._as_block(payload.get("durations"), "durations", shape)
        return distances, durations

    @property
    def _failed(self) -> str:
        return f"the routing service at {self.host} failed: its /table request"

    def _get_json(self, url: str) -> dict[str, object]:
        """GET ``url`` and parse OSRM's JSON; every failure on the way is an :class:`OsrmError`.

        OSRM answers errors (``NoTable``, ``InvalidQuery``...) with HTTP 400
        and its JSON body, so a 4xx body that parses is read for its code.
        """
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            body = _read_quietly(exc)
            payload = _parse(body)
            if payload is not None and payload.get("code") not in (None, "Ok"):
                return payload
            raise OsrmError(f"{self._failed} answered HTTP {exc.code} {exc.reason}") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise OsrmError(self._timed_out()) from exc
            raise OsrmError(f"{self._failed} could not connect: {exc.reason}") from exc
        except TimeoutError as exc:
            raise OsrmError(self._timed_out()) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise OsrmError(f"{self._failed} broke off: {exc!r}") from exc
        payload = _parse(body)
        if payload is None:
            raise OsrmError(f"{self._failed} answered with something that is not OSRM's JSON")
        return payload

    def _timed_out(self) -> str:
        return f"{self._failed} got no answer within {self.timeout_s:g} s"

    def _as_block(self, rows: object, name: str, shape: tuple[int, int]) -> npt.NDArray[np.float64]:
        """Convert a JSON table to floats; ``null`` (no route) is an error, not a zero."""
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise OsrmError(f"{self._failed} answered without {name}")
        if any(value is None for row in rows for value in row):
            raise OsrmError(
                f"{self._failed} found no road between some locations ({name} has null)"
            )
        try:
            block = np.asarray(rows, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise OsrmError(f"{self._failed} answered {name} that are not numbers") from exc
        if block.shape != shape or not np.isfinite(block).all() or (block < 0).any():
            raise OsrmError(
                f"{self._failed} answered {name} of shape {block.shape}, expected {shape}"
                " of non-negative numbers"
            )
        return block


class OsrmError(RuntimeError):
    """The routing engine could not produce a complete table; the message says why.

    Every message starts with "the routing service at HOST failed", so a
    failed planner run, a log line or an operator reading either knows which
    server to look at.
    """


def _read_quietly(response: urllib.error.HTTPError) -> bytes:
    try:
        return response.read()
    except (OSError, http.client.HTTPException):
        return b""


def _parse(body: bytes) -> dict[str, object] | None:
    """OSRM's JSON object, or None if ``body`` is not one."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return payload if isinstance(payload, dict) else None


def travel_for(problem: Problem, provider: TravelProvider | None = None) -> TravelMatrix:
    """The travel matrix a problem is solved and validated with.

    Parameters
    ----------
    problem
        The planning problem; when it carries a matrix covering all its
        locations, that matrix is used as is.
    provider
        How to build a matrix otherwise (default :class:`HaversineTravel`).

    Returns
    -------
    TravelMatrix
        A matrix containing every crew home and job location. With
        ``problem.time_grid_s > 1`` its durations are rounded **up** to the
        grid: this is the single place where the grid enters planning, so the
        solver, the greedy baseline, the timing and the validator all drive
        the same rounded legs, and with grid-aligned inputs every start they
        compute lands on the grid (the plan keeps the times it shows).
    """
    locations = problem.locations()
    if problem.travel is not None:
        if not problem.travel.covers(locations):
            raise ValueError("the problem's travel matrix does not cover all its locations")
        return on_grid(problem.travel, problem.time_grid_s)
    return on_grid((provider or HaversineTravel()).matrix(locations), problem.time_grid_s)


def on_grid(travel: TravelMatrix, grid_s: int) -> TravelMatrix:
    """``travel`` with every duration rounded up to a multiple of ``grid_s``.

    Idempotent (a matrix already on the grid comes back as is, the same
    object), so a problem that carries the rounded matrix is not rounded again.
    """
    if grid_s <= 1:
        return travel
    duration = travel.duration_s
    rounded = -(-duration // grid_s) * grid_s
    if np.array_equal(rounded, duration):
        return travel
    return TravelMatrix(
        locations=travel.locations, distance_m=travel.distance_m, duration_s=rounded
    )


def straight_line_km(a: Location, b: Location) -> float:
    """Haversine kilometres between two locations (for display and sanity checks)."""
    return float(haversine_m(a.lat, a.lon, b.lat, b.lon)) / 1000.0


__all__ = [
    "EARTH_RADIUS_M",
    "HaversineTravel",
    "OsrmError",
    "OsrmTravel",
    "TravelMatrix",
    "TravelProvider",
    "haversine_m",
    "on_grid",
    "straight_line_km",
    "travel_for",
]
