"""The solver as a whole: batching, priorities, warm start, disruption, stopping, progress."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from scheduler import (
    FirstFeasible,
    MaxRuntime,
    NoImprovement,
    OperatorParams,
    Plan,
    Problem,
    SolveParams,
    StartParams,
    Weights,
    solve,
)
from scheduler.ortools_search import SearchTask
from tests.scheduler.conftest import (
    QUICK,
    TOKYO,
    assert_valid,
    at,
    crew,
    crew_days,
    job,
    problem,
    reason_rules,
)


def two_clusters_world() -> Problem:
    """Two crews at one depot; four jobs 6 km north, four 6 km south; four jobs a day each."""
    north = [job(f"n{k}", at(0.3 * k, 6)) for k in range(4)]
    south = [job(f"s{k}", at(0.3 * k, -6)) for k in range(4)]
    return problem(
        [crew("A", max_jobs_per_day=4), crew("B", max_jobs_per_day=4)],
        crew_days(["A", "B"]),
        [*north, *south],
    )


def test_batching_each_crew_takes_one_cluster() -> None:
    """Nearby jobs are batched on the same crew-day: one crew goes north, the other south."""
    p = two_clusters_world()
    result = solve(p, MaxRuntime(0.5))
    assert_valid(p, result)
    clusters = {frozenset(j[0] for j in route.job_ids) for route in result.routes}
    assert clusters == {frozenset("n"), frozenset("s")}


def test_high_priority_work_wins_when_capacity_runs_out() -> None:
    """One crew-day fits one of two 5-hour jobs: the priority-5 job is planned, the
    priority-1 job is unassigned because its capacity went to higher-priority work."""
    p = problem(
        [crew("A")],
        crew_days(["A"]),
        [
            job("low", at(0.5, 0), minutes=300, priority=1),
            job("high", at(0, 0.5), minutes=300, priority=5),
        ],
    )
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert set(result.assignment()) == {"high"}
    assert reason_rules(result, "low") == ["capacity_used"]
    assert "higher priority" in result.unassigned[0].reasons[0].message


def test_job_not_worth_its_cost_is_explained() -> None:
    """When leaving a far job unassigned is cheaper than driving there, the reason says so."""
    p = problem(
        [crew("A")],
        crew_days(["A"]),
        [job("far", at(40, 0))],
        weights=Weights(unassigned_yen=1),
    )
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert reason_rules(result, "far") == ["not_worth"]


def test_solver_objective_matches_the_recomputed_cost() -> None:
    """OR-Tools' integer objective equals the independently recomputed cost of the plan."""
    p = two_clusters_world()
    result = solve(p, QUICK)
    assert result.extra.solver_objective_yen == result.cost()


def line_world() -> Problem:
    """One crew, three jobs on the corners of a 2 km square with home: the best route goes
    round the square (either way)."""
    corners = [at(2, 0), at(2, 2), at(0, 2)]
    return problem([crew("A")], crew_days(["A"]), [job(f"j{k}", c) for k, c in enumerate(corners)])


def test_warm_start_keeps_a_plan_when_nothing_better_exists() -> None:
    """Starting from the optimal plan, the solver returns that plan (or its mirror, same cost)."""
    p = line_world()
    best = Plan({("A", 0): ("j0", "j1", "j2")})
    result = solve(p, QUICK, warm_start=best)
    assert_valid(p, result)
    assert result.extra.warm_start_used is True
    assert result.routes[0].job_ids in {("j0", "j1", "j2"), ("j2", "j1", "j0")}


def test_warm_start_breaking_a_rule_is_ignored() -> None:
    """A warm start that no longer fits (crew-day unknown, rules changed) is not forced."""
    p = line_world()
    result = solve(p, QUICK, warm_start=Plan({("B", 3): ("j0",), ("A", 0): ("j2", "j0", "j1")}))
    assert_valid(p, result)
    assert result.kpis.jobs_assigned == 3


def test_minimal_disruption_keeps_reference_assignments_when_costs_are_equal() -> None:
    """Two identical crews at one depot: each job stays on the crew of the published plan."""
    jobs = [job("a", at(1, 0)), job("b", at(-1, 0))]
    reference = Plan({("B", 0): ("a",), ("A", 0): ("b",)})
    p = problem([crew("A"), crew("B")], crew_days(["A", "B"]), jobs, reference=reference)
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert result.assignment() == {"a": ("B", 0), "b": ("A", 0)}
    assert result.objective_yen["disruption"] == 0


def test_disruption_is_priced_when_moving_pays_off() -> None:
    """A job published on a far crew moves to the near one when that saves more than the
    disruption penalty, and the move is priced."""
    p = problem(
        [crew("near"), crew("far", home=at(30, 0))],
        crew_days(["near", "far"]),
        [job("a", at(0.5, 0))],
        weights=Weights(disruption_yen=100),
        reference=Plan({("far", 0): ("a",)}),
    )
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert result.assignment() == {"a": ("near", 0)}
    assert result.objective_yen["disruption"] == 100


def test_first_feasible_is_reproducible_for_a_seed() -> None:
    """Construction only, same seed: the same plan every time; the stop reason says why."""
    p = two_clusters_world()
    runs = [solve(p, FirstFeasible(), SolveParams(seed=3)) for _ in range(2)]
    assert runs[0].to_plan() == runs[1].to_plan()
    assert runs[0].stop_reason == "first_feasible"
    assert_valid(p, runs[0])


def test_no_improvement_stops_before_the_time_limit() -> None:
    """A tiny problem stops for lack of improvement long before a generous time limit."""
    p = line_world()
    result = solve(p, MaxRuntime(30) | NoImprovement(0.2))
    assert_valid(p, result)
    assert result.stop_reason == "no_improvement"


def test_progress_reports_improvements_and_cancel_stops_the_search() -> None:
    """Progress gets (elapsed, objective, assigned) with falling objectives; setting the
    cancel event from the callback ends the search with the best plan so far."""
    p = two_clusters_world()
    cancel = threading.Event()
    seen: list[tuple[float, float, int]] = []

    def progress(elapsed_s: float, best_objective_yen: float, assigned_count: int) -> None:
        seen.append((elapsed_s, best_objective_yen, assigned_count))
        cancel.set()

    result = solve(p, MaxRuntime(30), progress=progress, cancel=cancel)
    assert_valid(p, result)
    assert result.stop_reason == "cancelled"
    assert seen and seen[0][2] == 8
    objectives = [o for _, o, _ in seen]
    assert objectives == sorted(objectives, reverse=True)


def test_parallel_workers_return_a_valid_plan() -> None:
    """Two independent workers (another seed and construction) still give one valid plan."""
    p = two_clusters_world()
    result = solve(p, MaxRuntime(0.3), SolveParams(num_workers=2))
    assert_valid(p, result)
    assert result.kpis.jobs_assigned == 8


def test_result_is_json_serialisable_and_summarised() -> None:
    """``to_dict`` survives json.dumps; ``summary`` names the key figures."""
    p = problem([crew("A")], crew_days(["A"]), [job("a", at(1, 0)), job("x", TOKYO, minutes=900)])
    result = solve(p, QUICK)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["kpis"]["jobs_assigned"] == 1
    assert data["unassigned"][0]["reasons"][0]["rule"] == "shift"
    assert "unassigned x" in result.summary()
    assert result.cost() == sum(result.objective_yen.values())


def test_problem_with_nothing_schedulable_returns_empty_plan() -> None:
    """When screening rules out every job, no search runs and each job has its reason."""
    p = problem(
        [crew("A")], crew_days(["A"]), [job("x", at(1, 0), required_skills=frozenset({"z"}))]
    )
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert result.stop_reason == "screened_out"


def test_restarts_portfolio_returns_the_best_valid_plan() -> None:
    """Restarting from several constructions within one time limit gives a valid plan."""
    from scheduler import FirstSolution

    p = two_clusters_world()
    params = SolveParams(
        start=StartParams(
            restarts=(FirstSolution.SAVINGS, FirstSolution.PARALLEL_CHEAPEST_INSERTION)
        )
    )
    result = solve(p, MaxRuntime(0.4), params)
    assert_valid(p, result)
    assert result.kpis.jobs_assigned == 8


def test_restarts_on_stall_hand_over_and_keep_the_limit() -> None:
    """With ``restart_on_stall_s`` a restart hands over once it stops improving and the
    last one runs to the limit: a valid plan, stopped by the time limit."""
    from scheduler import FirstSolution

    p = two_clusters_world()
    params = SolveParams(
        start=StartParams(
            restarts=(FirstSolution.SAVINGS, FirstSolution.PARALLEL_CHEAPEST_INSERTION),
            restart_on_stall_s=0.1,
        )
    )
    result = solve(p, MaxRuntime(0.6), params)
    assert_valid(p, result)
    assert result.kpis.jobs_assigned == 8
    assert result.stop_reason == "time_limit"


def test_cheapest_of_several_constructions_is_improved() -> None:
    """``constructions`` builds a plan with each heuristic and improves the cheapest one."""
    from scheduler import FirstSolution

    p = two_clusters_world()
    params = SolveParams(
        start=StartParams(
            greedy_start=False,
            constructions=(FirstSolution.SAVINGS, FirstSolution.PARALLEL_CHEAPEST_INSERTION),
        )
    )
    result = solve(p, QUICK, params)
    assert_valid(p, result)
    assert result.extra.start == "construction"
    assert result.kpis.jobs_assigned == 8


def test_search_without_drop_moves_or_insertion_lns_switches_exactly_those_operators_off() -> None:
    """``OperatorParams(drop_moves=False, insertion_lns=False)`` turns off the operators that
    unassign jobs and the insertion LNS operators; everything else keeps OR-Tools'
    defaults, and inserting a left-out job (``make_active``) stays available."""
    from ortools.util import optional_boolean_pb2

    from scheduler.ortools_search import (
        DROP_OPERATORS,
        INSERTION_LNS_OPERATORS,
        search_parameters,
    )
    from scheduler.params import as_any_of

    stop = as_any_of(QUICK)
    default = search_parameters(stop, SolveParams()).local_search_operators
    lean = search_parameters(
        stop, SolveParams(operators=OperatorParams(drop_moves=False, insertion_lns=False))
    ).local_search_operators
    off = set(DROP_OPERATORS) | set(INSERTION_LNS_OPERATORS)
    for field in default.DESCRIPTOR.fields:
        if field.name in off:
            assert getattr(lean, field.name) == optional_boolean_pb2.BOOL_FALSE, field.name
        else:
            assert getattr(lean, field.name) == getattr(default, field.name), field.name
    assert lean.use_make_active == optional_boolean_pb2.BOOL_TRUE
    assert default.use_make_inactive == optional_boolean_pb2.BOOL_TRUE


def test_only_models_above_the_large_model_threshold_limit_operator_neighbours() -> None:
    """Full neighbourhoods up to ``LARGE_MODEL_JOBS`` jobs; above it, each job's
    operators look at ``LARGE_MODEL_NEIGHBORS`` neighbours, so one local-search
    step stays short enough for the time limit to be checked."""
    from scheduler.ortools_search import (
        LARGE_MODEL_JOBS,
        LARGE_MODEL_NEIGHBORS,
        limit_operator_neighbors,
        search_parameters,
    )
    from scheduler.params import as_any_of

    stop = as_any_of(QUICK)
    small = search_parameters(stop, SolveParams())
    untouched = (small.ls_operator_neighbors_ratio, small.ls_operator_min_neighbors)
    limit_operator_neighbors(small, LARGE_MODEL_JOBS)
    assert (small.ls_operator_neighbors_ratio, small.ls_operator_min_neighbors) == untouched
    assert small.ls_operator_neighbors_ratio == 1.0

    large = search_parameters(stop, SolveParams())
    limit_operator_neighbors(large, 3 * LARGE_MODEL_JOBS)
    assert large.ls_operator_min_neighbors == LARGE_MODEL_NEIGHBORS
    assert large.ls_operator_neighbors_ratio * 3 * LARGE_MODEL_JOBS == pytest.approx(
        LARGE_MODEL_NEIGHBORS
    )


def test_a_model_with_limited_neighbours_still_plans_every_job_validly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The neighbour limit is a speed setting, not a rule: with the threshold
    lowered so that it applies to a tiny world (two neighbours per job), every
    job is still planned and every hard rule holds."""
    import scheduler.ortools_search as search_module

    monkeypatch.setattr(search_module, "LARGE_MODEL_JOBS", 3)
    monkeypatch.setattr(search_module, "LARGE_MODEL_NEIGHBORS", 2)
    applied: list[int] = []
    original = search_module.limit_operator_neighbors

    def recording(search: Any, n_jobs: int) -> None:
        original(search, n_jobs)
        applied.append(search.ls_operator_min_neighbors)

    monkeypatch.setattr(search_module, "limit_operator_neighbors", recording)
    p = two_clusters_world()
    result = solve(p, QUICK, SolveParams(start=StartParams(greedy_start=False)))
    assert applied and set(applied) == {2}
    assert_valid(p, result)
    assert result.kpis.jobs_assigned == 8


def test_search_without_drop_moves_still_plans_every_job_validly() -> None:
    """The lean operator set is a speed setting, not a rule: from a construction
    (no greedy start) every job is still planned and every hard rule holds."""
    p = two_clusters_world()
    params = SolveParams(
        start=StartParams(greedy_start=False),
        operators=OperatorParams(drop_moves=False, insertion_lns=False),
    )
    result = solve(p, QUICK, params)
    assert_valid(p, result)
    assert result.kpis.jobs_assigned == 8


def test_restarts_of_one_construction_search_from_different_job_orders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Listing a construction twice in ``restarts`` is a multi-start: restart k runs
    with seed ``seed + k`` (a different job order), not a replay of the first search;
    the time is shared and the plan is valid."""
    import importlib

    from scheduler import FirstSolution

    solve_module = importlib.import_module("scheduler.solve")  # the package exports the function

    seen: list[tuple[int, str]] = []
    real = solve_module.solve_routing

    def recording(task: SearchTask) -> Any:
        seen.append((task.params.seed, task.params.start.first_solution))
        return real(task)

    monkeypatch.setattr(solve_module, "solve_routing", recording)
    p = two_clusters_world()
    strategy = FirstSolution.PARALLEL_CHEAPEST_INSERTION
    params = SolveParams(
        seed=5, start=StartParams(greedy_start=False, restarts=(strategy, strategy, strategy))
    )
    result = solve(p, MaxRuntime(0.6), params)
    assert_valid(p, result)
    assert result.kpis.jobs_assigned == 8
    assert seen == [(5, strategy), (6, strategy), (7, strategy)]
