"""A crew-day's route as the readers see it: the drive home, and the route on a map.

The board's figures, the proposal comparison, the partner routes API and both
maps (the board's and the partners' GeoJSON) read a route through these two
functions, so they cannot disagree about how far the drive home is or what
the drawing holds:

* :func:`legs_home`: metres and minutes from each route's last stop back to
  its crew's home base, with the planner's own travel model;
* :func:`crew_day_features`: the home base, the stops and the line home ->
  stops -> home as GeoJSON features (RFC 7946), with the properties each
  caller puts on them.

Coordinates in GeoJSON are ``[longitude, latitude]``: the order RFC 7946
requires and the one people most often get backwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

import numpy as np

from scheduler.travel import HaversineTravel, haversine_m

from .models import Crew

#: What ``scheduler.travel_for`` uses when a problem brings no matrix of its own,
#: so the leg home is estimated as the planner estimates every other leg.
PLANNER_TRAVEL = HaversineTravel()

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

    Each leg is what :data:`PLANNER_TRAVEL`'s matrix holds between the two
    points (road metres rounded, seconds rounded up, then whole minutes up),
    computed pair by pair in one vectorised call: a matrix over all the points
    grows with their square, and a board of 500 crew-days would wait for it.
    """
    known = [False] * len(routes)
    coordinates: list[tuple[float, float, float, float]] = []
    for k, (crew, last) in enumerate(routes):
        place = _place(last)
        if place is not None:
            known[k] = True
            coordinates.append((*place, crew.home_latitude, crew.home_longitude))
    if not coordinates:
        return [None] * len(routes)
    lat1, lon1, lat2, lon2 = np.array(coordinates).T
    road_m = haversine_m(lat1, lon1, lat2, lon2) * PLANNER_TRAVEL.detour_factor
    metres = np.rint(road_m).astype(np.int64)
    seconds = np.ceil(road_m * (3.6 / PLANNER_TRAVEL.speed_kmh)).astype(np.int64)
    minutes = -(-seconds // 60)
    legs = iter(zip(metres.tolist(), minutes.tolist(), strict=True))
    return [next(legs) if has_leg else None for has_leg in known]


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
