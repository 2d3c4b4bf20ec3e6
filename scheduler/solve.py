"""``solve(problem, stop) -> Result``: screening, OR-Tools search, explanation.

The pipeline:

1. build (or take) the travel matrix;
2. :func:`scheduler.reasons.screen` removes jobs that fit on no crew-day and
   records why;
3. the OR-Tools adapter searches (optionally several independent workers);
4. jobs the search dropped are explained by insertion checks;
5. :func:`scheduler.result.build_result` turns the job order per crew-day into
   times, KPIs and costs.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

from scheduler.model import Plan, Problem
from scheduler.ortools_adapter import RoutingOutcome, solve_routing
from scheduler.params import (
    AnyOf,
    CancelToken,
    FirstSolution,
    MaxRuntime,
    ProgressCallback,
    SolveParams,
    StopCriterion,
    as_any_of,
)
from scheduler.reasons import explain_dropped, screen
from scheduler.result import Reason, Result, Unassigned, build_result
from scheduler.travel import TravelMatrix, TravelProvider, travel_for

WORKER_STRATEGIES = (
    FirstSolution.PARALLEL_CHEAPEST_INSERTION,
    FirstSolution.LOCAL_CHEAPEST_INSERTION,
    FirstSolution.SAVINGS,
    FirstSolution.SEQUENTIAL_CHEAPEST_INSERTION,
)
"""Construction heuristics of extra workers (the first worker uses ``params``)."""

DEFAULT_STOP = MaxRuntime(10)
"""Ten seconds: enough for a few hundred jobs to settle, short enough for a click in the UI."""


def solve(
    problem: Problem,
    stop: StopCriterion = DEFAULT_STOP,
    params: SolveParams | None = None,
    *,
    progress: ProgressCallback | None = None,
    warm_start: Plan | None = None,
    cancel: CancelToken | None = None,
    travel_provider: TravelProvider | None = None,
) -> Result:
    """Plan the jobs of a problem onto its crew-days.

    Parameters
    ----------
    problem
        Crews, crew-days, jobs, rules and prices.
    stop
        When to stop searching, e.g. ``MaxRuntime(30) | NoImprovement(5)``.
    params
        Search settings (seed, workers, construction heuristic).
    progress
        Called with ``(elapsed_s, best_objective_yen, assigned_count)`` whenever
        the best plan improves (first worker only).
    warm_start
        A plan to start from (e.g. the published one). Ignored if it breaks a
        rule of the current problem; jobs it does not mention start unassigned.
    cancel
        A ``threading.Event`` (or ``() -> bool``); when set, the search stops
        and the best plan so far is returned.
    travel_provider
        How to build the travel matrix when the problem carries none
        (default: haversine estimate).

    Returns
    -------
    Result
        Routes with times, unassigned jobs with reasons, KPIs and costs.

    Examples
    --------
    >>> result = solve(problem, MaxRuntime(5), SolveParams(seed=1))  # doctest: +SKIP
    >>> print(result.summary())  # doctest: +SKIP
    """
    params = params or SolveParams()
    stop_rule = as_any_of(stop)
    travel = travel_for(problem, travel_provider)
    screening = screen(problem, travel)
    unassigned = [Unassigned(j, reasons) for j, reasons in screening.impossible.items()]
    if not screening.candidates:
        return build_result(problem, travel, {}, unassigned, stop_reason="screened_out")
    outcome = _search(
        problem, travel, screening.candidates, stop_rule, params, progress, warm_start, cancel
    )
    extra = {
        "solver_objective_yen": (
            None if outcome.objective_milli is None else outcome.objective_milli / 1000
        ),
        "warm_start_used": outcome.warm_start_used,
        "solutions_seen": outcome.solutions_seen,
    }
    if not outcome.found:
        lost = Reason("search", "the search stopped before it found any plan")
        unassigned += [Unassigned(j, (lost,)) for j in outcome.dropped]
        return build_result(
            problem,
            travel,
            {},
            unassigned,
            status="no_plan_found",
            stop_reason=outcome.stop_reason,
            runtime_s=outcome.runtime_s,
            extra=extra,
        )
    explained = explain_dropped(
        problem, travel, outcome.routes, outcome.dropped, screening.candidates
    )
    unassigned += [Unassigned(j, explained[j]) for j in outcome.dropped]
    return build_result(
        problem,
        travel,
        outcome.routes,
        unassigned,
        stop_reason=outcome.stop_reason,
        runtime_s=outcome.runtime_s,
        first_solution_s=outcome.first_solution_s,
        extra=extra,
    )


def _search(
    problem: Problem,
    travel: TravelMatrix,
    candidates: Mapping[str, Sequence[tuple[str, int]]],
    stop: AnyOf,
    params: SolveParams,
    progress: ProgressCallback | None,
    warm_start: Plan | None,
    cancel: CancelToken | None,
) -> RoutingOutcome:
    """Run one search here, plus ``num_workers - 1`` independent ones in child processes.

    Workers differ by seed (job order) and construction heuristic; the plan with
    the lowest solver objective wins. Progress and cancellation act on the
    worker in this process; when it is cancelled the others are terminated.
    """
    if params.num_workers == 1 and params.restarts and stop.max_runtime_s is not None:
        return _search_with_restarts(
            problem, travel, candidates, stop, params, progress, warm_start, cancel
        )
    if params.num_workers == 1:
        return solve_routing(
            problem,
            travel,
            candidates,
            stop=stop,
            params=params,
            progress=progress,
            warm_start=warm_start,
            cancel=cancel,
        )
    helpers = [
        SolveParams(
            seed=params.seed + i,
            num_workers=1,
            first_solution=WORKER_STRATEGIES[i % len(WORKER_STRATEGIES)],
            guided_local_search_lambda=params.guided_local_search_lambda,
        )
        for i in range(1, params.num_workers)
    ]
    context = multiprocessing.get_context("fork")
    with context.Pool(len(helpers)) as pool:
        pending = [
            pool.apply_async(
                solve_routing,
                (problem, travel, candidates),
                {"stop": stop, "params": p, "warm_start": warm_start},
            )
            for p in helpers
        ]
        mine = solve_routing(
            problem,
            travel,
            candidates,
            stop=stop,
            params=params,
            progress=progress,
            warm_start=warm_start,
            cancel=cancel,
        )
        if mine.stop_reason == "cancelled":
            pool.terminate()
            return mine
        deadline = time.monotonic() + (stop.max_runtime_s or 0) + 30
        outcomes = [mine]
        for job in pending:
            outcomes.append(job.get(timeout=max(1.0, deadline - time.monotonic())))
    found = [o for o in outcomes if o.found and o.objective_milli is not None]
    if not found:
        return mine
    best = min(found, key=lambda o: o.objective_milli or 0)
    best.runtime_s = max(o.runtime_s for o in outcomes)
    return best


def _search_with_restarts(
    problem: Problem,
    travel: TravelMatrix,
    candidates: Mapping[str, Sequence[tuple[str, int]]],
    stop: AnyOf,
    params: SolveParams,
    progress: ProgressCallback | None,
    warm_start: Plan | None,
    cancel: CancelToken | None,
) -> RoutingOutcome:
    """Sequential restarts from each construction in ``params.restarts``; best plan wins.

    The ``MaxRuntime`` is split evenly; other criteria apply to each restart.
    Progress is only reported when the overall best improves.
    """
    assert stop.max_runtime_s is not None
    share = MaxRuntime(stop.max_runtime_s / len(params.restarts))
    per_run = AnyOf((share, *(c for c in stop.criteria if not isinstance(c, MaxRuntime))))
    started = time.monotonic()
    best: RoutingOutcome | None = None
    best_reported: list[float] = []

    def report(elapsed_s: float, objective_yen: float, assigned: int) -> None:
        if progress is not None and (not best_reported or objective_yen < best_reported[-1]):
            best_reported.append(objective_yen)
            progress(time.monotonic() - started, objective_yen, assigned)

    for strategy in params.restarts:
        run_params = replace(params, first_solution=strategy, restarts=())
        outcome = solve_routing(
            problem,
            travel,
            candidates,
            stop=per_run,
            params=run_params,
            progress=report,
            warm_start=warm_start,
            cancel=cancel,
        )
        if outcome.found and (
            best is None or (outcome.objective_milli or 0) < (best.objective_milli or 0)
        ):
            best = outcome
        if outcome.stop_reason == "cancelled":
            break
    assert best is not None or outcome is not None
    final = best or outcome
    final.runtime_s = time.monotonic() - started
    return final
