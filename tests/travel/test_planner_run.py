"""The planner run drives the configured roads, and a failing server fails the run clearly."""

from __future__ import annotations

import math

import pytest

from dispatch.models import OptimizationRun, Plan, PlanStatus, RunStatus, Visit
from dispatch.problem import TIME_GRID_S
from dispatch.runs import plan_request_optimization, run_optimization
from dispatch.travel import PLANNER_STRAIGHT_LINE
from scheduler.model import Location
from tests.dispatch.conftest import World
from tests.travel.conftest import FakeOsrm, expected_leg

pytestmark = pytest.mark.django_db


def optimize(plan: Plan) -> OptimizationRun:
    run = plan_request_optimization(plan=plan, enqueue=False)
    return run_optimization(run_id=run.pk)


def legs_driven(plan: Plan) -> list[tuple[Visit, Location, Location]]:
    """Each visit with where its crew came from and where the visit is."""
    found = []
    visits = Visit.objects.filter(plan=plan).select_related("crew", "job__site")
    previous: dict[tuple[int, object], Location] = {}
    for visit in visits.order_by("crew_id", "date", "sequence"):
        home = Location(visit.crew.home_latitude, visit.crew.home_longitude)
        here = Location(visit.job.site.latitude, visit.job.site.longitude)  # type: ignore[arg-type]
        found.append((visit, previous.get((visit.crew_id, visit.date), home), here))
        previous[(visit.crew_id, visit.date)] = here
    return found


def minutes_on_grid(seconds: int) -> int:
    """What a visit stores for a leg: seconds up to the planner's time grid, then minutes up."""
    return math.ceil(math.ceil(seconds / TIME_GRID_S) * TIME_GRID_S / 60)


def test_a_run_plans_with_the_servers_road_times(world: World, fake_osrm: FakeOsrm) -> None:
    plan = world.plan()
    run = optimize(plan)
    assert run.status == RunStatus.SUCCEEDED, run.error
    legs = legs_driven(plan)
    assert len(legs) == len(world.jobs)
    for visit, origin, here in legs:
        metres, seconds = expected_leg(origin, here)
        assert visit.travel_m_from_previous == metres
        assert visit.travel_minutes_from_previous == minutes_on_grid(seconds)
    assert fake_osrm.requests, "the run never asked the server"
    # Not what straight lines would have given: the numbers came from the server.
    straight = [PLANNER_STRAIGHT_LINE.matrix([o, h]).distance(o, h) for _, o, h in legs]
    assert [v.travel_m_from_previous for v, _, _ in legs] != straight


@pytest.mark.parametrize(
    ("mode", "why"),
    [("http_500", "answered HTTP 500"), ("slow", "got no answer within"), ("no_table", "NoTable")],
)
def test_a_failing_routing_service_fails_the_run_saying_so(
    world: World, fake_osrm: FakeOsrm, mode: str, why: str
) -> None:
    fake_osrm.mode = mode
    plan = world.plan()
    run = optimize(plan)
    assert run.status == RunStatus.FAILED
    assert f"the routing service at {fake_osrm.host} failed" in run.error
    assert why in run.error
    plan.refresh_from_db()
    assert plan.status == PlanStatus.FAILED
    assert not Visit.objects.filter(plan=plan).exists()


def test_the_default_straight_lines_are_unchanged(world: World, osrm_server: FakeOsrm) -> None:
    plan = world.plan()
    assert optimize(plan).status == RunStatus.SUCCEEDED
    for visit, origin, here in legs_driven(plan):
        matrix = PLANNER_STRAIGHT_LINE.matrix([origin, here])
        assert visit.travel_m_from_previous == matrix.distance(origin, here)
        assert visit.travel_minutes_from_previous == minutes_on_grid(matrix.duration(origin, here))
    assert osrm_server.requests == []
