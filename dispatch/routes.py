"""A crew-day's route as the readers see it: the drive home, and the route on a map.

The board's figures, the proposal comparison, the partner routes API and both
maps (the board's and the partners' GeoJSON) read a route through these two
functions, so they cannot disagree about how far the drive home is or what
the drawing holds:

* :func:`legs_home`: metres and minutes from each route's last stop back to
  its crew's home base, with the planner's own travel model
  (:mod:`dispatch.travel`: straight lines or the OSRM server);
* :func:`crew_day_features`: the home base, the stops and the line home ->
  stops -> home as GeoJSON features (RFC 7946), with the properties each
  caller puts on them.

Coordinates in GeoJSON are ``[longitude, latitude]``: the order RFC 7946
requires and the one people most often get backwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from scheduler.model import Location

from .models import Crew
from .travel import legs

Feature = dict[str, Any]
Properties = dict[str, Any]


class _Place(Protocol):
    @property
    def latitude(self) -> float | None: ...
    @property
    def longitude(self) -> float | None: ...


class _Work(Protocol):
    @property
    def site(self) -> _Place: ...


class AtSite(Protocol):
    """A stop of a route as read here: a :class:`Visit`, the board's row, the API's stop."""

    @property
    def job(self) -> _Work: ...


StopT = TypeVar("StopT", bound=AtSite)


def _place(stop: AtSite) -> tuple[float, float] | None:
    """The stop's (latitude, longitude), or None while its site has no coordinates."""
    site = stop.job.site
    if site.latitude is None or site.longitude is None:
        return None
    return site.latitude, site.longitude


def legs_home(routes: Sequence[tuple[Crew, AtSite]]) -> list[tuple[int, int] | None]:
    """``(metres, minutes)`` from each route's last stop to its crew's home base.

    Parameters
    ----------
    routes
        ``(crew, last stop)`` per route.

    Returns
    -------
    list
        One leg per route, in order; ``None`` where the last stop's site has
        no coordinates (never planned so by the solver, but possible after a
        manual edit of the site).

    Each leg comes from :func:`dispatch.travel.legs`, the model the planner
    drives every other leg with (``TRAVEL_PROVIDER``): with straight lines
    what the planner's matrix holds between the two points (road metres
    rounded, seconds rounded up), pair by pair in one vectorised call; with
    OSRM one ``/table`` request for the legs not cached yet. Minutes are the
    seconds rounded up.

    Raises
    ------
    scheduler.travel.OsrmError
        When the routing service fails: each reader decides what to show
        (the board leaves the leg out, the partner API answers 503).
    """
    known = [False] * len(routes)
    pairs: list[tuple[Location, Location]] = []
    for k, (crew, last) in enumerate(routes):
        place = _place(last)
        if place is not None:
            known[k] = True
            home = Location(crew.home_latitude, crew.home_longitude)
            pairs.append((Location(*place), home))
    if not pairs:
        return [None] * len(routes)
    found = iter((metres, -(-seconds // 60)) for metres, seconds in legs(pairs))
    return [next(found) if has_leg else None for has_leg in known]


def point_feature(longitude: float, latitude: float, properties: Properties) -> Feature:
    """One GeoJSON Point feature."""
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [longitude, latitude]},
        "properties": properties,
    }


def crew_day_features(
    crew: Crew,
    stops: Iterable[StopT],
    *,
    home_properties: Properties,
    stop_properties: Callable[[StopT], Properties],
    route_properties: Properties,
) -> list[Feature]:
    """The home base and the stops as Points, the drive home -> stops -> home as a LineString.

    Parameters
    ----------
    crew
        Whose home base starts and ends the line.
    stops
        The day's stops in their planned order.
    home_properties, stop_properties, route_properties
        The properties of the home base, of each stop (a function of the
        stop) and of the line: each caller says what its map needs.

    Returns
    -------
    list
        The home base first, then the stops, then the line. A stop whose site
        has no coordinates yet cannot be drawn and is left out of both (its
        neighbours' sequence numbers show the gap); the line is there only
        when it passes at least one stop.
    """
    base = [crew.home_longitude, crew.home_latitude]
    features = [point_feature(crew.home_longitude, crew.home_latitude, home_properties)]
    line = [base]
    for stop in stops:
        place = _place(stop)
        if place is None:
            continue
        latitude, longitude = place
        features.append(point_feature(longitude, latitude, stop_properties(stop)))
        line.append([longitude, latitude])
    if len(line) > 1:
        line.append(base)
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": line},
                "properties": route_properties,
            }
        )
    return features
