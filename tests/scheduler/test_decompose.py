"""Large weeks are improved region by region: every crew in one region, rules kept,
the plan never worse than its start, the time limit kept."""

from __future__ import annotations

import threading
import time

from scheduler import MaxRuntime, SolveParams, solve
from scheduler.decompose import CREWS_PER_REGION, crew_regions, should_decompose
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


def test_small_weeks_stay_one_model() -> None:
    """Only weeks with many crew-days are cut into regions."""
    assert not should_decompose(generate_week(200, seed=1), SolveParams())
    assert should_decompose(generate_week(1000, seed=1), SolveParams())
    assert not should_decompose(generate_week(1000, seed=1), SolveParams(num_workers=2))


def test_region_search_on_a_500_job_week_is_valid_and_beats_its_start() -> None:
    """A 500-job week, searched region by region for 4 s: a valid plan, no more expensive
    than the greedy plan it started from, returned in about the time allowed."""
    p = generate_week(500, seed=1)
    assert should_decompose(p, SolveParams())
    started = time.monotonic()
    result = solve(p, MaxRuntime(4), SolveParams(seed=1))
    assert time.monotonic() - started < 12
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
    assert _part_params(params, []) == SolveParams(seed=3, drop_moves=False)
    assert _part_params(params, ["j7"]) is params
