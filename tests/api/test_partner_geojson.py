"""GET /api/v1/routes/geojson/: one crew's day as a GeoJSON FeatureCollection (RFC 7946)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from dispatch.models import Visit
from dispatch.states import JobStatus
from tests.api.conftest import JST, MONDAY, Cast
from tests.factories import go_live_if_published, make_job, make_site

URL = "/api/v1/routes/geojson/"
Client = Callable[[User | None], APIClient]


def geojson(client: APIClient, crew_id: int) -> Any:
    response = client.get(URL, {"date": MONDAY.isoformat(), "crew": crew_id})
    assert response.status_code == 200, response.content
    return response.json()


def second_stop(cast: Cast, sequence: int = 2, **site_fields: Any) -> Visit:
    start = dt.datetime.combine(MONDAY, dt.time(11 + sequence), tzinfo=JST)
    return go_live_if_published(
        Visit.objects.create(
            plan=cast.plan,
            job=make_job(status=JobStatus.SCHEDULED, site=make_site(**site_fields)),
            crew=cast.crew_a,
            date=MONDAY,
            sequence=sequence,
            planned_start=start,
            planned_end=start + dt.timedelta(hours=2),
            travel_minutes_from_previous=25,
            travel_m_from_previous=7000,
        )
    )


def test_it_works(cast: Cast, client_for: Client) -> None:
    response = client_for(cast.partner_a).get(URL, {"date": "2026-11-30", "crew": cast.crew_a.pk})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert response.json()["type"] == "FeatureCollection"


def test_home_stops_and_the_drive_between_them(cast: Cast, client_for: Client) -> None:
    second_stop(cast, latitude=35.70, longitude=139.81)

    home, first, second, line = geojson(client_for(cast.partner_a), cast.crew_a.pk)["features"]

    assert home["geometry"] == {"type": "Point", "coordinates": [139.80, 35.69]}  # lon, lat
    assert home["properties"]["kind"] == "home_base"
    assert first["geometry"]["coordinates"] == [139.795, 35.692]
    assert first["properties"] == {
        "kind": "stop",
        "sequence": 1,
        "visit_id": cast.visit_a.pk,
        "job_id": cast.job_a.pk,
        "reference": cast.job_a.reference,
        "job_kind": "new_line",
        "site": "A現場ビル",
        "address": cast.job_a.site.address,
        "planned_arrival": "2026-11-30T09:00:00+09:00",
        "planned_start": "2026-11-30T09:00:00+09:00",
        "planned_end": "2026-11-30T11:00:00+09:00",
        "travel_minutes_from_previous": 20,
        "travel_km_from_previous": 6.5,
    }
    assert second["properties"]["sequence"] == 2
    assert second["properties"]["planned_arrival"] == "2026-11-30T11:25:00+09:00"
    assert line["geometry"] == {
        "type": "LineString",
        "coordinates": [[139.80, 35.69], [139.795, 35.692], [139.81, 35.70], [139.80, 35.69]],
    }
    assert line["properties"]["stops"] == 2


def test_a_stop_without_coordinates_is_left_out_of_the_drawing(
    cast: Cast, client_for: Client
) -> None:
    second_stop(cast, latitude=None, longitude=None, geocode_status="pending")

    features = geojson(client_for(cast.partner_a), cast.crew_a.pk)["features"]

    assert [f["properties"]["kind"] for f in features] == ["home_base", "stop", "route"]
    assert len(features[-1]["geometry"]["coordinates"]) == 3  # home, stop 1, home


def test_a_free_day_is_just_the_home_base(cast: Cast, client_for: Client) -> None:
    response = client_for(cast.partner_a).get(URL, {"date": "2026-12-01", "crew": cast.crew_a.pk})

    (home,) = response.json()["features"]
    assert home["properties"]["kind"] == "home_base"


def test_partner_a_never_sees_partner_bs_route(cast: Cast, client_for: Client) -> None:
    response = client_for(cast.partner_a).get(URL, {"date": "2026-11-30", "crew": cast.crew_b.pk})

    assert response.status_code == 404


def test_a_coordinator_may_draw_any_crews_route(cast: Cast, client_for: Client) -> None:
    features = geojson(client_for(cast.coordinator), cast.crew_b.pk)["features"]

    assert features[1]["properties"]["reference"] == cast.job_b.reference


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"crew": "1"}, "date"),
        ({"date": "2026-02-30", "crew": "1"}, "date"),
        ({"date": "2026-11-30"}, "crew"),
        ({"date": "2026-11-30", "crew": "x"}, "crew"),
    ],
)
def test_bad_query_answers_400_naming_the_field(
    cast: Cast, client_for: Client, params: dict[str, str], field: str
) -> None:
    response = client_for(cast.partner_a).get(URL, params)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_support_is_forbidden(cast: Cast, client_for: Client) -> None:
    response = client_for(cast.support).get(URL, {"date": "2026-11-30", "crew": cast.crew_a.pk})

    assert response.status_code == 403


def test_anonymous_is_unauthorized(cast: Cast, client_for: Client) -> None:
    response = client_for(None).get(URL, {"date": "2026-11-30", "crew": cast.crew_a.pk})

    assert response.status_code == 401


def test_plain_json_clients_get_the_same_body(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    params = {"date": "2026-11-30", "crew": cast.crew_a.pk}

    response = client.get(URL, params, HTTP_ACCEPT="application/json")

    assert response["Content-Type"] == "application/json"
    assert response.json() == client.get(URL, params).json()


def test_the_query_count_does_not_grow_with_the_stops(
    cast: Cast, client_for: Client, django_assert_max_num_queries: Any
) -> None:
    for sequence in range(2, 8):
        second_stop(cast, sequence, latitude=35.70, longitude=139.81)

    # the routes' change counters, visits (joined), surveys; no construction records for new lines
    with django_assert_max_num_queries(3):
        features = geojson(client_for(cast.partner_a), cast.crew_a.pk)["features"]
    assert len(features) == 1 + 7 + 1
