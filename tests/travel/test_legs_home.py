"""The drive home on the board and in the partner routes API comes from the configured roads."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Role, User
from dispatch import travel
from dispatch.figures import return_legs
from dispatch.models import Visit
from dispatch.routes import legs_home
from dispatch.runs import plan_request_optimization, run_optimization
from scheduler.model import Location
from scheduler.travel import OsrmError
from tests.api.conftest import MONDAY, Cast
from tests.dispatch.conftest import World
from tests.factories import make_user
from tests.travel.conftest import FakeOsrm, expected_leg

pytestmark = pytest.mark.django_db

ROUTES = "/api/v1/routes/"


def home_and_stop(cast: Cast) -> tuple[Location, Location]:
    site = cast.job_a.site
    home = Location(cast.crew_a.home_latitude, cast.crew_a.home_longitude)
    return home, Location(site.latitude, site.longitude)  # type: ignore[arg-type]


def test_the_partner_route_drives_home_on_the_servers_roads(
    cast: Cast, client_for: Callable[[User | None], APIClient], fake_osrm: FakeOsrm
) -> None:
    response = client_for(cast.partner_a).get(ROUTES, {"date": MONDAY.isoformat()})
    assert response.status_code == 200, response.content
    totals = response.json()["routes"][0]["totals"]
    home, stop = home_and_stop(cast)
    metres, seconds = expected_leg(stop, home)
    assert totals["return_home_km"] == round(metres / 1000, 1)
    assert totals["return_home_minutes"] == math.ceil(seconds / 60)
    (request,) = fake_osrm.requests
    assert [request["points"][i] for i in request["sources"]] == [stop]
    assert [request["points"][i] for i in request["dest"]] == [home]


@pytest.mark.parametrize("mode", ["http_500", "slow", "null_cells"])
@pytest.mark.parametrize("path", [ROUTES, "/api/v1/routes/geojson/"])
def test_the_partner_routes_answer_503_while_the_routing_service_fails(
    cast: Cast,
    client_for: Callable[[User | None], APIClient],
    fake_osrm: FakeOsrm,
    caplog: pytest.LogCaptureFixture,
    mode: str,
    path: str,
) -> None:
    fake_osrm.mode = mode
    with caplog.at_level(logging.WARNING, logger="api.partner.routes"):
        response = client_for(cast.partner_a).get(
            path, {"date": MONDAY.isoformat(), "crew": cast.crew_a.pk}
        )
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["status"] == 503 and error["code"] == "routing_unavailable"
    assert "routing service is unavailable" in error["message"]
    assert fake_osrm.host not in error["message"]  # the cause is for the log, not the partner
    assert f"the routing service at {fake_osrm.host} failed" in caplog.text


def test_the_503_speaks_japanese(
    cast: Cast, client_for: Callable[[User | None], APIClient], fake_osrm: FakeOsrm
) -> None:
    fake_osrm.mode = "http_500"
    response = client_for(cast.partner_a).get(
        ROUTES, {"date": MONDAY.isoformat()}, HTTP_ACCEPT_LANGUAGE="ja"
    )
    assert response.status_code == 503
    assert "経路検索サービス" in response.json()["error"]["message"]


def test_legs_home_raise_while_the_routing_service_fails(cast: Cast, fake_osrm: FakeOsrm) -> None:
    fake_osrm.mode = "no_table"
    with pytest.raises(OsrmError, match="NoTable"):
        legs_home([(cast.crew_a, cast.visit_a)])


def test_the_board_figures_use_the_servers_leg_home(cast: Cast, fake_osrm: FakeOsrm) -> None:
    home, stop = home_and_stop(cast)
    metres, seconds = expected_leg(stop, home)
    assert return_legs([(cast.crew_a, cast.visit_a)]) == [(metres, math.ceil(seconds / 60))]


def test_the_board_opens_without_the_leg_home_while_the_routing_service_fails(
    world: World, fake_osrm: FakeOsrm, caplog: pytest.LogCaptureFixture
) -> None:
    plan = world.plan()
    run_optimization(run_id=plan_request_optimization(plan=plan, enqueue=False).pk)
    assert Visit.objects.filter(plan=plan).exists()
    fake_osrm.mode = "http_500"
    travel.clear_caches()
    client = Client()
    client.force_login(make_user(Role.COORDINATOR))
    with caplog.at_level(logging.WARNING, logger="dispatch.figures"):
        response = client.get(f"/plans/{plan.pk}/")
    assert response.status_code == 200
    assert "figures without the leg home" in caplog.text
    assert "answered HTTP 500" in caplog.text
    visits = list(Visit.objects.filter(plan=plan).select_related("crew", "job__site"))
    assert return_legs([(v.crew, v) for v in visits]) == [(0, 0)] * len(visits)
