"""Large weeks are improved region by region: every crew in one region, rules kept,
the plan never worse than its start, the time limit kept."""

from __future__ import annotations

import threading

import pytest

from scheduler import MaxRuntime, OperatorParams, SolveParams, solve
from scheduler.decompose import (
    CREWS_PER_REGION,
    _waiting_places,
    crew_regions,
    round_regions,
    route_regions,
    should_decompose,
    work_centres,
)
from scheduler.generate import generate_week
from scheduler.greedy import solve_greedy
from tests.scheduler.conftest import assert_valid


def test_regions_hold_every_crew_once_and_are_small() -> None:
    """Each round's regions partition the crews into groups of at most the target size,
    and the borders move from one round to the next."""
    p = generate_week(1000, seed=1)
    rounds = [crew_regions(p, CREWS_PER_REGION, r) for r in range(2)]
    for regions in rounds:
        members = sorted(c for region in regions for c in region)
        assert members == sorted(c.id for c in p.crews)
        assert max(len(region) for region in regions) <= CREWS_PER_REGION
    first, second = ({frozenset(region) for region in regions} for regions in rounds)
    assert first != second


def test_a_crew_day_works_at_the_mean_of_its_jobs_or_at_home_when_idle() -> None:
    """The work centre of a crew-day is where its jobs are on average; an empty
    crew-day stands at its crew's home base."""
    p = generate_week(200, seed=3)
    plan = solve_greedy(p).to_plan()
    jobs = p.jobs_by_id()
    busy = next(k for k, ids in plan.routes.items() if len(ids) >= 2)
    idle = next(cd for cd in p.crew_days if not plan.routes.get(cd.key))
    centres = work_centres(p, plan.routes)
    ids = plan.routes[busy]
    assert centres[busy] == pytest.approx(
        (
            sum(jobs[j].location.lat for j in ids) / len(ids),
            sum(jobs[j].location.lon for j in ids) / len(ids),
        )
    )
    home = next(c.home for c in p.crews if c.id == idle.crew_id)
    assert centres[idle.key] == (home.lat, home.lon)
    assert set(centres) == {cd.key for cd in p.crew_days}


def test_work_regions_partition_the_crew_days_into_nearby_groups() -> None:
    """Grouping crew-days by where they work puts each crew-day in exactly one
    region of at most the target size, mixes crews of different regions by home,
    and turns the borders from one rotation to the next."""
    p = generate_week(1000, seed=1)
    routes = solve_greedy(p).to_plan().routes
    all_keys = sorted(cd.key for cd in p.crew_days)
    rounds = [route_regions(p, routes, 40, r) for r in range(2)]
    for regions in rounds:
        assert sorted(k for region in regions for k in region) == all_keys
        assert max(len(region) for region in regions) <= 40
        assert min(len(region) for region in regions) >= 20
    assert {frozenset(r) for r in rounds[0]} != {frozenset(r) for r in rounds[1]}
    crews_of = [{crew for crew, _ in region} for region in rounds[0]]
    assert any(len(crews) > 8 for crews in crews_of), "work regions gather crews from many homes"


def test_rounds_alternate_home_regions_and_work_regions() -> None:
    """Even rounds keep each crew's whole week in one region and anchor crew-days at
    home; odd rounds group crew-days by work and anchor them at their work centre."""
    p = generate_week(1000, seed=1)
    routes = solve_greedy(p).to_plan().routes
    home_regions, home_anchors = round_regions(p, routes, 0)
    work_regions, work_anchors = round_regions(p, routes, 1)
    for regions in (home_regions, work_regions):
        assert sorted(k for region in regions for k in region) == sorted(
            cd.key for cd in p.crew_days
        )
    region_of_crew: dict[str, int] = {}
    for index, region in enumerate(home_regions):
        for crew, _ in region:
            assert region_of_crew.setdefault(crew, index) == index
    homes = {c.id: (c.home.lat, c.home.lon) for c in p.crews}
    assert home_anchors == {cd.key: homes[cd.crew_id] for cd in p.crew_days}
    assert work_anchors == work_centres(p, routes)
    assert any(len({crew for crew, _ in r}) != len(r) / 5 for r in work_regions)


def test_a_left_out_job_waits_with_the_candidate_crew_day_anchored_nearest() -> None:
    """A job no region holds is offered to the region of the crew-day, among those it
    fits on, whose anchor point is closest to it; never to one it does not fit."""
    p = generate_week(200, seed=3)
    job = p.jobs[0]
    candidates = {job.id: [cd.key for cd in p.crew_days[:3]]}
    near = p.crew_days[2].key
    anchors = {cd.key: (job.location.lat + 0.5, job.location.lon + 0.5) for cd in p.crew_days}
    anchors[near] = (job.location.lat + 0.001, job.location.lon)
    anchors[p.crew_days[5].key] = (job.location.lat, job.location.lon)  # not a candidate
    assert _waiting_places(p, candidates, [job.id], anchors) == {job.id: near}


def test_small_weeks_stay_one_model() -> None:
    """Only weeks with many crew-days are cut into regions, with one worker or several
    (several workers search the regions of a round at the same time)."""
    assert not should_decompose(generate_week(200, seed=1), SolveParams())
    assert should_decompose(generate_week(1000, seed=1), SolveParams())
    assert should_decompose(generate_week(1000, seed=1), SolveParams(num_workers=2))


def test_two_workers_search_regions_in_parallel_validly_and_in_time() -> None:
    """With two workers the regions of a round are searched two at a time in child
    processes: the plan is valid, no worse than its greedy start, and ends on its limit."""
    p = generate_week(500, seed=1)
    result = solve(p, MaxRuntime(4), SolveParams(seed=1, num_workers=2))
    assert_valid(p, result)
    assert result.stop_reason == "time_limit"
    assert result.cost() <= solve_greedy(p).cost()


def test_cancelling_parallel_region_search_returns_the_plan_so_far() -> None:
    p = generate_week(500, seed=1)
    cancel = threading.Event()
    threading.Timer(1.5, cancel.set).start()
    result = solve(p, MaxRuntime(30), SolveParams(seed=1, num_workers=2), cancel=cancel)
    assert result.stop_reason == "cancelled"  # not the 30 s limit
    assert_valid(p, result)


def test_region_search_on_a_500_job_week_is_valid_and_beats_its_start() -> None:
    """A 500-job week, searched region by region for 4 s: a valid plan, no more expensive
    than the greedy plan it started from, ended by the time allowed."""
    p = generate_week(500, seed=1)
    assert should_decompose(p, SolveParams())
    result = solve(p, MaxRuntime(4), SolveParams(seed=1))
    assert_valid(p, result)
    assert result.stop_reason == "time_limit"
    greedy = solve_greedy(p)
    assert result.cost() <= greedy.cost()
    assert result.kpis.jobs_assigned >= greedy.kpis.jobs_assigned


def test_region_search_reports_progress_and_stops_when_cancelled() -> None:
    """Progress is reported from the start plan on; cancelling from the callback ends the
    region search with the best valid plan so far."""
    p = generate_week(500, seed=1)
    cancel = threading.Event()
    seen: list[tuple[float, float, int]] = []

    def progress(elapsed_s: float, best_objective_yen: float, assigned_count: int) -> None:
        seen.append((elapsed_s, best_objective_yen, assigned_count))
        cancel.set()

    result = solve(p, MaxRuntime(30), SolveParams(seed=1), progress=progress, cancel=cancel)
    assert_valid(p, result)
    assert result.stop_reason == "cancelled"
    assert seen and seen[0][2] == solve_greedy(p).kpis.jobs_assigned


def test_a_region_with_nothing_waiting_is_searched_without_drop_moves() -> None:
    """A region whose start plan holds all its jobs and has no left-out job waiting
    is searched without the moves that unassign jobs; a region with waiting jobs
    keeps the caller's settings, so a left-out job can still displace another."""
    from scheduler.decompose import _part_params

    params = SolveParams(seed=3)
    assert _part_params(params, []) == SolveParams(
        seed=3, operators=OperatorParams(drop_moves=False)
    )
    assert _part_params(params, ["j7"]) is params
