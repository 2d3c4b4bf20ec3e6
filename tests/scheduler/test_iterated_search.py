"""Iterated local search: valid plans, never worse than the start, and it stops when told.

OR-Tools' iterated local search only ends at its time limit, so cancelling
and ``NoImprovement`` go through a child process (``scheduler.isolation``);
these tests pin that down from the outside, through ``solve``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from scheduler import Job, MaxRuntime, NoImprovement, Plan, Problem, SolveParams, solve
from scheduler.generate import generate_week
from scheduler.greedy import solve_greedy
from scheduler.ortools_model import Model, build_model, mean_arc_cost_milli, warm_start_routes
from scheduler.ortools_search import (
    _locked_iterated_search,
    search_parameters,
    use_iterated_local_search,
)
from scheduler.params import Metaheuristic, SearchParams, as_any_of
from scheduler.reasons import screen
from scheduler.travel import travel_for
from tests.scheduler.conftest import assert_valid, at, crew, crew_days, job, problem

ILS = SolveParams(seed=1, search=SearchParams(metaheuristic=Metaheuristic.ITERATED_LOCAL_SEARCH))


def test_iterated_search_plans_a_generated_week_validly_and_beats_the_greedy_plan() -> None:
    p = generate_week(60, seed=3)
    greedy = solve_greedy(p)
    result = solve(p, MaxRuntime(2), ILS)
    assert_valid(p, result)
    assert result.stop_reason == "time_limit"
    assert result.cost() < greedy.cost()


def test_iterated_search_batches_two_clusters_on_two_crews() -> None:
    north = [job(f"n{k}", at(0.3 * k, 6)) for k in range(4)]
    south = [job(f"s{k}", at(0.3 * k, -6)) for k in range(4)]
    p = problem(
        [crew("A", max_jobs_per_day=4), crew("B", max_jobs_per_day=4)],
        crew_days(["A", "B"]),
        [*north, *south],
    )
    result = solve(p, MaxRuntime(0.5), ILS)
    assert_valid(p, result)
    assert {frozenset(j[0] for j in r.job_ids) for r in result.routes} == {
        frozenset("n"),
        frozenset("s"),
    }


def test_a_warm_start_better_than_the_search_is_kept() -> None:
    """With no time to improve, the (optimal) warm start comes back unchanged."""
    p = problem([crew("A")], crew_days(["A"]), [job("x", at(1, 0)), job("y", at(2, 0))])
    warm = Plan({("A", 0): ("x", "y")})
    result = solve(p, MaxRuntime(0.05), ILS, warm_start=warm)
    assert_valid(p, result)
    assert result.to_plan().routes == {("A", 0): ("x", "y")}


def searchable_model(p: Problem) -> tuple[Model, Any]:
    """The OR-Tools model of ``p`` closed for iterated local search, as ``solve`` builds it."""
    travel = travel_for(p)
    m = build_model(p, travel, screen(p, travel).candidates, 1)
    search = search_parameters(as_any_of(MaxRuntime(1)), ILS)
    use_iterated_local_search(search, ILS, mean_arc_cost_milli(m))
    m.routing.CloseModelWithParameters(search)
    return m, search


def test_iterated_search_starts_from_the_callers_plan_then_moves_freely() -> None:
    """OR-Tools' iterated local search takes no start plan; locks make its first
    plan the caller's, and lifting them at once lets ruin and recreate change it."""
    p = generate_week(40, seed=4)
    m, search = searchable_model(p)
    start = warm_start_routes(m, solve_greedy(p).to_plan())
    start_cost = m.routing.ReadAssignmentFromRoutes(start, True).ObjectiveValue()
    seen: list[int] = []
    m.routing.AddAtSolutionCallback(lambda: seen.append(m.routing.CostVar().Min()))
    found = _locked_iterated_search(m, search, start, time.monotonic() + 1.0)
    assert found is not None
    assert seen[0] == start_cost  # the first plan is the caller's
    assert found.ObjectiveValue() < start_cost  # and the locks did not pin the search to it


def test_a_callers_plan_given_to_iterated_search_is_improved_and_reported_as_the_start() -> None:
    p = generate_week(40, seed=4)
    greedy = solve_greedy(p)
    result = solve(p, MaxRuntime(1), ILS, warm_start=greedy.to_plan())
    assert_valid(p, result)
    assert result.extra.start == "warm_start"
    assert result.cost() < greedy.cost()


def test_cancelling_an_iterated_search_returns_a_valid_plan() -> None:
    p = generate_week(60, seed=3)
    cancel = threading.Event()
    threading.Timer(1.0, cancel.set).start()
    result = solve(p, MaxRuntime(30), ILS, cancel=cancel)
    assert result.stop_reason == "cancelled"  # not the 30 s limit
    assert result.status == "plan_found"
    assert_valid(p, result)


def test_no_improvement_ends_an_iterated_search_long_before_its_time_limit() -> None:
    p = problem([crew("A")], crew_days(["A"]), [job("x", at(1, 0)), job("y", at(2, 0))])
    result = solve(p, MaxRuntime(30) | NoImprovement(0.5), ILS)
    assert result.stop_reason == "no_improvement"  # not the 30 s limit
    assert_valid(p, result)
    assert result.kpis.jobs_assigned == 2


@pytest.mark.parametrize("cancellable", [False, True], ids=["in process", "in a child"])
def test_progress_reports_ever_better_objectives(cancellable: bool) -> None:
    p = generate_week(40, seed=4)
    seen: list[tuple[float, float, int]] = []
    result = solve(
        p,
        MaxRuntime(1.5),
        ILS,
        progress=lambda elapsed, cost, assigned: seen.append((elapsed, cost, assigned)),
        cancel=threading.Event() if cancellable else None,
    )
    assert_valid(p, result)
    assert seen, "no progress reported"
    costs = [cost for _, cost, _ in seen]
    assert costs == sorted(costs, reverse=True)
    assert len(set(costs)) == len(costs)


def test_the_metaheuristic_can_be_named_in_plain_text() -> None:
    assert SearchParams(metaheuristic="ITERATED_LOCAL_SEARCH").metaheuristic is (  # type: ignore[arg-type]
        Metaheuristic.ITERATED_LOCAL_SEARCH
    )
    with pytest.raises(ValueError):
        SearchParams(metaheuristic="TABU")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [{"ruin_visits": 0}, {"ruin_sequence": 0}, {"annealing_end": 0.0}, {"annealing_end": 1.0}],
)
def test_iterated_search_settings_are_checked(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        SearchParams(**bad)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- AUTO


def small_week() -> tuple[Problem, list[Job]]:
    """Ten jobs, one crew-day each for two crews: searched as one model."""
    jobs = [job(f"j{k}", at(0.4 * k, 0.2 * (k % 3))) for k in range(10)]
    return problem([crew("A"), crew("B")], crew_days(["A", "B"]), jobs), jobs


def test_by_default_a_one_model_week_with_time_to_spare_runs_iterated_local_search() -> None:
    """``AUTO`` with 1 s for 10 jobs (0.1 s per job, above ``ITERATED_SECONDS_PER_JOB``)
    and no plan of the caller's: iterated local search, and the plan is valid."""
    p, _ = small_week()
    result = solve(p, MaxRuntime(1), SolveParams(seed=1))
    assert_valid(p, result)
    assert result.extra.metaheuristic == "ITERATED_LOCAL_SEARCH"
    assert result.kpis.jobs_assigned == 10


def test_by_default_a_short_limit_runs_guided_local_search() -> None:
    """Below ``ITERATED_SECONDS_PER_JOB`` per job the iterations would be too few."""
    from scheduler.solve import ITERATED_SECONDS_PER_JOB

    p, jobs = small_week()
    limit = 0.9 * ITERATED_SECONDS_PER_JOB * len(jobs)
    result = solve(p, MaxRuntime(limit), SolveParams(seed=1))
    assert_valid(p, result)
    assert result.extra.metaheuristic == "GUIDED_LOCAL_SEARCH"


def test_by_default_a_callers_warm_start_is_continued_by_guided_local_search() -> None:
    """A caller's plan (a published week being revised) is continued by guided local
    search, the search measured on revised weeks."""
    p, jobs = small_week()
    warm = Plan({("A", 0): tuple(j.id for j in jobs[:5]), ("B", 0): tuple(j.id for j in jobs[5:])})
    result = solve(p, MaxRuntime(1), SolveParams(seed=1), warm_start=warm)
    assert_valid(p, result)
    assert result.extra.metaheuristic == "GUIDED_LOCAL_SEARCH"
    assert result.extra.start == "warm_start"


def test_by_default_a_week_searched_by_regions_runs_guided_local_search() -> None:
    """Regions get slices of a fraction of a second each: too short for iterations."""
    from scheduler.decompose import should_decompose
    from scheduler.params import as_any_of
    from scheduler.solve import _with_metaheuristic_chosen

    p = generate_week(450, seed=1)
    params = SolveParams(seed=1)
    assert should_decompose(p, params)
    stop = as_any_of(MaxRuntime(600))
    regions = _with_metaheuristic_chosen(params, stop, None, 450, Plan({}), p)
    assert regions.search.metaheuristic is Metaheuristic.GUIDED_LOCAL_SEARCH
    one_model = _with_metaheuristic_chosen(
        SolveParams(seed=1, decompose=False), stop, None, 450, Plan({}), p
    )
    assert one_model.search.metaheuristic is Metaheuristic.ITERATED_LOCAL_SEARCH


def test_an_explicit_metaheuristic_is_never_overridden() -> None:
    p, jobs = small_week()
    guided = SolveParams(
        seed=1, search=SearchParams(metaheuristic=Metaheuristic.GUIDED_LOCAL_SEARCH)
    )
    assert solve(p, MaxRuntime(1), guided).extra.metaheuristic == "GUIDED_LOCAL_SEARCH"
    limit = 0.5 * 0.04 * len(jobs)
    assert solve(p, MaxRuntime(limit), ILS).extra.metaheuristic == "ITERATED_LOCAL_SEARCH"
