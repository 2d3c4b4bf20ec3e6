"""The route read model: the drive home and the drawing every map shares."""

from __future__ import annotations

import math
from types import SimpleNamespace

from dispatch.models import Crew
from dispatch.routes import crew_day_features, legs_home
from scheduler import HaversineTravel, Location

HOME = (35.69, 139.80)


def crew(latitude: float = HOME[0], longitude: float = HOME[1]) -> Crew:
    return Crew(name="East", home_latitude=latitude, home_longitude=longitude)


def stop(latitude: float | None, longitude: float | None, sequence: int = 1) -> SimpleNamespace:
    site = SimpleNamespace(latitude=latitude, longitude=longitude)
    return SimpleNamespace(sequence=sequence, job=SimpleNamespace(site=site))


def test_the_leg_home_is_the_planners_estimate_from_the_last_stop() -> None:
    """Each leg equals the planner's matrix between that route's last stop and its home."""
    routes = [
        (crew(), stop(35.70, 139.81)),
        (crew(35.66, 139.70), stop(35.68, 139.77)),
        (crew(), stop(35.62, 139.72)),
    ]

    legs = legs_home(routes)

    for (home_of, last), leg in zip(routes, legs, strict=True):
        a = Location(last.job.site.latitude, last.job.site.longitude)
        b = Location(home_of.home_latitude, home_of.home_longitude)
        matrix = HaversineTravel().matrix([a, b])
        assert leg == (matrix.distance(a, b), math.ceil(matrix.duration(a, b) / 60))


def test_a_last_stop_without_coordinates_has_no_leg_home() -> None:
    """Unknown, not zero: the caller decides what an unknown leg counts as."""
    legs = legs_home([(crew(), stop(None, None)), (crew(), stop(35.70, 139.81))])

    assert legs[0] is None and legs[1] is not None and legs[1][0] > 0
    assert legs_home([(crew(), stop(None, None))]) == [None]
    assert legs_home([]) == []


def test_a_stop_at_the_home_base_is_no_drive() -> None:
    assert legs_home([(crew(), stop(*HOME))]) == [(0, 0)]


def test_the_drawing_runs_home_stops_home_in_longitude_latitude_order() -> None:
    features = crew_day_features(
        crew(),
        [stop(35.692, 139.795, 1), stop(35.70, 139.81, 2)],
        home_properties={"kind": "home"},
        stop_properties=lambda s: {"kind": "stop", "sequence": s.sequence},
        route_properties={"kind": "route"},
    )

    home, first, second, line = features
    assert home["geometry"] == {"type": "Point", "coordinates": [139.80, 35.69]}
    assert first["properties"] == {"kind": "stop", "sequence": 1}
    assert second["geometry"]["coordinates"] == [139.81, 35.70]
    assert line == {
        "type": "Feature",
        "geometry": {
            "type": "LineString",
            "coordinates": [[139.80, 35.69], [139.795, 35.692], [139.81, 35.70], [139.80, 35.69]],
        },
        "properties": {"kind": "route"},
    }


def test_a_stop_without_coordinates_is_left_out_and_no_stop_draws_no_line() -> None:
    def draw(*stops: SimpleNamespace) -> list[str]:
        features = crew_day_features(
            crew(),
            stops,
            home_properties={"kind": "home"},
            stop_properties=lambda s: {"kind": "stop"},
            route_properties={"kind": "route"},
        )
        return [f["properties"]["kind"] for f in features]

    assert draw(stop(None, None), stop(35.70, 139.81, 2)) == ["home", "stop", "route"]
    assert draw(stop(None, None)) == ["home"]
    assert draw() == ["home"]
