"""Each day's routes go to the crews that drive them most cheaply, whole and in order,
never to a crew-day they do not fit, and never at a higher cost."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from scheduler import FixedAssignment, Plan, Problem, Weights, validate
from scheduler.generate import generate_week
from scheduler.greedy import solve_greedy
from scheduler.reasons import screen
from scheduler.reassign import reassign_if_cheaper, reassign_routes
from scheduler.result import objective_terms
from scheduler.travel import travel_for
from tests.scheduler.conftest import at, crew, crew_days, job, problem
from tests.scheduler.test_properties import small_problems

WEST, EAST = at(-10, 0), at(10, 0)


def crossed(**job_kwargs: object) -> tuple[Problem, dict[tuple[str, int], list[str]]]:
    """Crew w lives in the west and drives the eastern jobs; crew e the other way round."""
    p = problem(
        [crew("w", WEST), crew("e", EAST)],
        crew_days(["w", "e"]),
        [
            job("east1", at(9, 1), **job_kwargs),
            job("east2", at(11, -1)),
            job("west1", at(-9, 1)),
            job("west2", at(-11, -1)),
        ],
    )
    return p, {("w", 0): ["east1", "east2"], ("e", 0): ["west1", "west2"]}


def cost(p: Problem, routes: dict[tuple[str, int], list[str]]) -> int:
    """The plan's objective in milli-yen, every job planned."""
    return sum(objective_terms(p, travel_for(p), routes, []).values())


def reassign(p: Problem, routes: dict[tuple[str, int], list[str]]) -> dict:
    travel = travel_for(p)
    return reassign_routes(p, travel, screen(p, travel).candidates, routes)


def test_crossed_routes_are_swapped_to_the_crews_living_next_to_them() -> None:
    """Two crews each driving across town to the other's area swap routes, orders kept."""
    p, routes = crossed()
    moved = reassign(p, routes)
    assert moved == {("e", 0): ["east1", "east2"], ("w", 0): ["west1", "west2"]}
    assert cost(p, moved) < cost(p, routes)
    assert validate(p, Plan({k: tuple(v) for k, v in moved.items()})) == []


def test_a_route_stays_with_the_only_crew_that_has_the_skill() -> None:
    """A route holding a job only its current crew can do does not move, however far."""
    p, routes = crossed(required_skills=frozenset({"aerial"}))
    p = problem(
        [crew("w", WEST, skills=frozenset({"aerial"})), crew("e", EAST)],
        p.crew_days,
        p.jobs,
    )
    assert reassign(p, routes) == routes


def test_a_route_that_does_not_fit_the_nearer_crews_shift_stays() -> None:
    """Crew e works 90 minutes only: the two eastern hours of work would not fit it, so
    the route stays with w although e lives next to it (with a full shift, e takes
    it: see the idle crew-day case below)."""
    p, _ = crossed()
    days = crew_days(["w"]) + crew_days(["e"], start_h=8, end_h=9.5)
    p = problem(p.crews, days, p.jobs)
    routes = {("w", 0): ["east1", "east2"]}
    assert reassign(p, routes) == routes


def test_a_route_with_a_locked_visit_stays_on_its_crew_day() -> None:
    """Locked jobs only fit their own crew-day, so their route is not handed over."""
    p, routes = crossed(fixed=FixedAssignment("w", 0))
    assert reassign(p, routes)[("w", 0)] == ["east1", "east2"]


def test_a_high_disruption_price_keeps_the_published_crews() -> None:
    """Against a reference plan, moving four jobs costs more than the kilometres saved."""
    p, routes = crossed()
    reference = Plan({k: tuple(v) for k, v in routes.items()})
    pricey = problem(
        p.crews, p.crew_days, p.jobs, weights=Weights(disruption_yen=50_000), reference=reference
    )
    assert reassign(pricey, routes) == routes
    cheap = problem(
        p.crews, p.crew_days, p.jobs, weights=Weights(disruption_yen=1), reference=reference
    )
    assert reassign(cheap, routes) != routes


def test_an_idle_crew_day_can_take_over_a_route() -> None:
    """A route can go to a crew-day that had no work; the old one becomes idle."""
    p, routes = crossed()
    routes = {("w", 0): ["east1", "east2"]}
    assert reassign(p, routes) == {("e", 0): ["east1", "east2"]}


def test_nothing_cheaper_means_no_new_plan() -> None:
    """When the routes already sit with the best crews the caller gets None."""
    p, _ = crossed()
    best = {("e", 0): ["east1", "east2"], ("w", 0): ["west1", "west2"]}
    travel = travel_for(p)
    assert reassign_if_cheaper(p, travel, screen(p, travel).candidates, best, []) is None


def test_on_a_generated_week_the_greedy_plan_gets_cheaper_and_stays_valid() -> None:
    """On 1,000 jobs most routes stay, some move, the plan validates and costs less."""
    p = generate_week(1000, seed=1)
    travel = travel_for(p)
    greedy = solve_greedy(p)
    routes = {k: list(v) for k, v in greedy.to_plan().routes.items()}
    unplaced = [u.job_id for u in greedy.unassigned]
    cheaper = reassign_if_cheaper(p, travel, screen(p, travel).candidates, routes, unplaced)
    assert cheaper is not None
    moved, milli = cheaper
    assert milli < sum(objective_terms(p, travel, routes, unplaced).values())
    assert sorted(tuple(v) for v in moved.values()) == sorted(tuple(v) for v in routes.values())
    assert validate(p, Plan({k: tuple(v) for k, v in moved.items()})) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_reassigning_a_valid_plan_keeps_it_valid_and_never_costlier(p: Problem) -> None:
    """Whatever the problem, the matched plan breaks no rule the greedy plan kept and
    costs at most as much."""
    travel = travel_for(p)
    greedy = solve_greedy(p)
    routes = {k: list(v) for k, v in greedy.to_plan().routes.items()}
    unplaced = [u.job_id for u in greedy.unassigned]
    moved = reassign_routes(p, travel, screen(p, travel).candidates, routes)
    assert validate(p, Plan({k: tuple(v) for k, v in moved.items()})) == []
    before = sum(objective_terms(p, travel, routes, unplaced).values())
    assert sum(objective_terms(p, travel, moved, unplaced).values()) <= before
