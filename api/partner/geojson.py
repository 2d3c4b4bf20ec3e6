"""A route as GeoJSON (RFC 7946), for partners who draw it on their own maps.

The drawing is :func:`dispatch.routes.crew_day_features`, the one the board's
map uses too (coordinates ``[longitude, latitude]``; a stop without
coordinates is left out but keeps its place in the sequence numbers, so the
gap is visible); this module only says what a partner reads on each feature.
"""

from __future__ import annotations

from typing import Any

from rest_framework.fields import DateTimeField

from dispatch.routes import Properties, crew_day_features

from .routes import Route, Stop

_iso = DateTimeField()  # the API's own datetime rendering: local time with its offset


def _stop_properties(stop: Stop) -> Properties:
    visit = stop.visit
    site = stop.site
    return {
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
    }


def route_feature_collection(route: Route) -> dict[str, Any]:
    """Home base and stops as Points, and the drive home -> stops -> home as a LineString."""
    crew = route.crew
    totals = route.totals
    features = crew_day_features(
        crew,
        route.stops,
        home_properties={
            "kind": "home_base",
            "crew_id": crew.pk,
            "crew": crew.name,
            "address": crew.home_base_address,
        },
        stop_properties=_stop_properties,
        route_properties={
            "kind": "route",
            "crew_id": crew.pk,
            "date": route.date.isoformat(),
            "stops": totals["stops"],
            "total_km": totals["total_km"],
            "total_drive_minutes": totals["total_drive_minutes"],
        },
    )
    return {"type": "FeatureCollection", "features": features}
