"""A visit moved by hand is re-timed on the configured roads, and refused while they fail."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from dispatch.editing import visit_move
from dispatch.models import Plan, PlanStatus, Visit
from dispatch.problem import TIME_GRID_S
from dispatch.runs import plan_request_optimization, run_optimization
from dispatch.travel import RoutingUnavailable
from scheduler.model import Location
from scheduler.travel import OsrmError
from tests.dispatch.conftest import MONDAY, World
from tests.travel.conftest import FakeOsrm, expected_leg

pytestmark = pytest.mark.django_db
FRIDAY = MONDAY + dt.timedelta(days=4)


def proposed(world: World) -> Plan:
    plan = world.plan()
    run_optimization(run_id=plan_request_optimization(plan=plan, enqueue=False).pk)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PROPOSED
    return plan


def test_a_moved_visit_drives_the_servers_roads(world: World, fake_osrm: FakeOsrm) -> None:
    plan = proposed(world)
    visit = Visit.objects.get(plan=plan, job=world.jobs[0])
    moved = visit_move(
        visit=visit, crew=world.west_crew, date=FRIDAY, expected_version=plan.version
    )
    site = world.jobs[0].site
    home = Location(world.west_crew.home_latitude, world.west_crew.home_longitude)
    metres, seconds = expected_leg(home, Location(site.latitude, site.longitude))  # type: ignore[arg-type]
    assert moved.travel_m_from_previous == metres
    assert moved.travel_minutes_from_previous == math.ceil(
        math.ceil(seconds / TIME_GRID_S) * TIME_GRID_S / 60
    )


def test_a_move_is_refused_while_the_routing_service_fails(
    world: World, fake_osrm: FakeOsrm
) -> None:
    plan = proposed(world)
    visit = Visit.objects.get(plan=plan, job=world.jobs[0])
    fake_osrm.mode = "http_500"
    with pytest.raises(RoutingUnavailable) as refused:
        visit_move(visit=visit, crew=world.west_crew, date=FRIDAY, expected_version=plan.version)
    assert refused.value.status == 503
    assert isinstance(refused.value.__cause__, OsrmError)
    assert "answered HTTP 500" in str(refused.value.__cause__)
    visit.refresh_from_db()
    assert (visit.crew_id, visit.date) != (world.west_crew.pk, FRIDAY)
