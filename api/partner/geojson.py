"""A route as GeoJSON (RFC 7946), for partners who draw it on their own maps.

Coordinates are ``[longitude, latitude]``: the order RFC 7946 requires and
the one people most often get backwards. A stop whose site has no
coordinates yet is left out of the geometry (it cannot be drawn) but keeps
its place in the sequence numbers, so the gap is visible.
"""

from __future__ import annotations

from typing import Any

from rest_framework.fields import DateTimeField

from .routes import Route

_iso = DateTimeField()  # the API's own datetime rendering: local time with its offset


def _point(longitude: float, latitude: float, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [longitude, latitude]},
        "properties": properties,
    }


def route_feature_collection(route: Route) -> dict[str, Any]:
    """Home base and stops as Points, and the drive home -> stops -> home as a LineString."""
    crew = route.crew
    home = [crew.home_longitude, crew.home_latitude]
    features = [
        _point(
            crew.home_longitude,
            crew.home_latitude,
            {
                "kind": "home_base",
                "crew_id": crew.pk,
                "crew": crew.name,
                "address": crew.home_base_address,
            },
        )
    ]
    line = [home]
    for stop in route.stops:
        site = stop.site
        if site.latitude is None or site.longitude is None:
            continue
        visit = stop.visit
        features.append(
            _point(
                site.longitude,
                site.latitude,
                {
                    "kind": "stop",
                    "sequence": visit.sequence,
                    "visit_id": visit.pk,
                    "job_id": visit.job_id,
                    "reference": stop.job.reference,
                    "job_kind": stop.job.kind,
                    "site": site.name,
                    "address": site.address,
                    "planned_arrival": _iso.to_representation(stop.planned_arrival),
                    "planned_start": _iso.to_representation(visit.planned_start),
                    "planned_end": _iso.to_representation(visit.planned_end),
                    "travel_minutes_from_previous": visit.travel_minutes_from_previous,
                    "travel_km_from_previous": stop.travel_km_from_previous,
                },
            )
        )
        line.append([site.longitude, site.latitude])
    totals = route.totals
    if len(line) > 1:
        line.append(home)
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": line},
                "properties": {
                    "kind": "route",
                    "crew_id": crew.pk,
                    "date": route.date.isoformat(),
                    "stops": totals["stops"],
                    "total_km": totals["total_km"],
                    "total_drive_minutes": totals["total_drive_minutes"],
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
