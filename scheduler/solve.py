"""``solve(problem, stop) -> Result``: screening, OR-Tools search, explanation.

The pipeline:

1. build (or take) the travel matrix;
2. :func:`scheduler.reasons.screen` removes jobs that fit on no crew-day and
   records why;
3. the search starts from the caller's warm start or the greedy plan; the
   OR-Tools adapter improves it, as one model or, for large weeks, region by
   region (:mod:`scheduler.decompose`), optionally with several workers;
4. jobs the search dropped are explained by insertion checks;
5. :func:`scheduler.result.build_result` turns the job order per crew-day into
   times, KPIs and costs.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from scheduler.decompose import DECOMPOSE_ABOVE_CREW_DAYS, improve_by_regions, should_decompose
from scheduler.greedy import solve_greedy
from scheduler.isolation import can_start_children
from scheduler.model import Plan, Problem
from scheduler.ortools_search import RoutingOutcome, SearchTask, solve_routing
from scheduler.params import (
    AnyOf,
    CancelToken,
    FirstSolution,
    MaxRuntime,
    Metaheuristic,
    NoImprovement,
    ProgressCallback,
    SolveParams,
    StopCriterion,
    as_any_of,
    is_cancelled,
)
from scheduler.parts import PartRunner, default_runner
from scheduler.phrases import template
from scheduler.reasons import explain_dropped, screen
from scheduler.reassign import reassign_if_cheaper
from scheduler.result import (
    Reason,
    Result,
    SolveInfo,
    Status,
    StopReason,
    Unassigned,
    build_result,
)
from scheduler.travel import TravelMatrix, TravelProvider, travel_for
from scheduler.validate import validate_route

WORKER_STRATEGIES = (
    FirstSolution.PARALLEL_CHEAPEST_INSERTION,
    FirstSolution.LOCAL_CHEAPEST_INSERTION,
    FirstSolution.SAVINGS,
    FirstSolution.SEQUENTIAL_CHEAPEST_INSERTION,
)
"""Construction heuristics of extra workers (the first worker uses ``params``)."""

DEFAULT_STOP = MaxRuntime(10)
"""Ten seconds: enough for a few hundred jobs to settle, short enough for a click in the UI."""


ITERATED_SECONDS_PER_JOB = 0.04
"""``Metaheuristic.AUTO`` runs iterated local search from this much time per job up.

Iterated local search needs hundreds of ruin-recreate-descend iterations to
pay off, each costing time in proportion to the week; below this budget
guided local search makes more of the time. The VRPTW CLI uses the same
budget per customer (``scheduler.vrptw.ITERATED_SECONDS_PER_CUSTOMER``),
where the crossover was measured on 200-1,000 customers. A 200-job week
needs an 8-s limit.
"""

NO_PLAN_FOUND = template("the search stopped before it found any plan")

SEARCH_CUT = frozenset({StopReason.TIME_LIMIT, StopReason.CANCELLED, StopReason.FIRST_FEASIBLE})
"""Stop reasons that end the search before it has looked at every job it could place."""


def solve(
    problem: Problem,
    stop: StopCriterion = DEFAULT_STOP,
    params: SolveParams | None = None,
    *,
    progress: ProgressCallback | None = None,
    warm_start: Plan | None = None,
    cancel: CancelToken | None = None,
    travel_provider: TravelProvider | None = None,
    part_runner: PartRunner | None = None,
) -> Result:
    """Plan the jobs of a problem onto its crew-days.

    Parameters
    ----------
    problem
        Crews, crew-days, jobs, rules and prices.
    stop
        When to stop searching, e.g. ``MaxRuntime(30) | NoImprovement(5)``.
        A ``MaxRuntime`` bounds the wall time of the whole call: travel matrix,
        screening, the greedy start, the model build, the search and the
        explanation of unplaced jobs all come out of it.
    params
        Search settings (seed, workers, construction heuristic, greedy start).
    progress
        Called with ``(elapsed_s, best_objective_yen, assigned_count)`` whenever
        the best plan improves (first worker only).
    warm_start
        A plan to start from (e.g. the published one). Ignored if it breaks a
        rule of the current problem; jobs it does not mention start unassigned.
        Without one (and with ``params.start.greedy_start``), the search starts from
        the greedy plan of :func:`scheduler.greedy.solve_greedy`.
    cancel
        A ``threading.Event`` (or ``() -> bool``); when set, the search stops
        and the best plan so far (at least the start plan) is returned,
        repaired like any other.
    travel_provider
        How to build the travel matrix when the problem carries none
        (default: haversine estimate).
    part_runner
        Who searches the regions of a large week (:mod:`scheduler.parts`;
        default: ``params.num_workers`` forked children, or this process
        alone where it may not fork). How they ran is recorded in
        ``Result.extra.parallel``.

    Returns
    -------
    Result
        Routes with times, unassigned jobs with reasons, KPIs and costs.
        ``status`` is ``"plan_found"`` when the plan has routes or nothing was
        worth planning, ``"no_plan_found"`` when nothing could be placed.
        Every job the search left out is checked against the final plan
        and placed when it fits (:func:`scheduler.reasons.explain_dropped`),
        however late the search ended; the rule ``"search"`` only remains
        for a locked job that fits elsewhere than its lock, and for every job
        when ``cancel`` stopped the call before any plan existed.

    Examples
    --------
    >>> result = solve(problem, MaxRuntime(5), SolveParams(seed=1))  # doctest: +SKIP
    >>> print(result.summary())  # doctest: +SKIP
    """
    started = time.monotonic()
    params = params or SolveParams()
    stop_rule = as_any_of(stop)
    deadline = None if stop_rule.max_runtime_s is None else started + stop_rule.max_runtime_s
    travel = travel_for(problem, travel_provider)
    if problem.travel is not travel:
        # Build (or round to the time grid) the matrix once, not per planner.
        problem = replace(problem, travel=travel)
    screening = screen(problem, travel)
    unassigned = [Unassigned(j, reasons) for j, reasons in screening.impossible.items()]
    if not screening.candidates:
        return build_result(problem, travel, {}, unassigned, stop_reason=StopReason.SCREENED_OUT)
    finish_deadline = search_deadline = None
    if deadline is not None:
        assert stop_rule.max_runtime_s is not None
        n_candidates = len(screening.candidates)
        finish_deadline = deadline - _finish_reserve_s(stop_rule.max_runtime_s, n_candidates)
        search_deadline = finish_deadline - _reassign_reserve_s(
            stop_rule.max_runtime_s, n_candidates
        )
    start_plan, start = warm_start, "warm_start"
    if start_plan is None and params.start.greedy_start and not params.start.restarts:
        start_plan, start = _greedy_start(
            problem, travel, screening.candidates, stop_rule, search_deadline
        )
    params = _with_metaheuristic_chosen(
        params,
        stop_rule,
        warm_start,
        len(screening.candidates),
        start_plan,
        problem,
        stoppable_from_outside=cancel is not None or stop_rule.no_improvement_s is not None,
    )
    task = SearchTask(
        problem=problem,
        travel=travel,
        candidates=screening.candidates,
        stop=stop_rule,
        params=params,
        progress=progress,
        warm_start=start_plan,
        cancel=cancel,
        deadline=search_deadline,
        seed_iterated=start == "warm_start",
    )
    parallel: dict[str, Any] | None = None
    if start_plan is not None and should_decompose(problem, params):
        runner = part_runner or default_runner(params.num_workers)
        outcome = improve_by_regions(task, runner)
        parallel = runner.log.as_dict()
    else:
        task, parallel = _one_model_workers(task, part_runner)
        outcome = _search(task)
    if outcome.found and not stop_rule.first_feasible:
        outcome = _with_routes_reassigned(
            problem, travel, screening.candidates, outcome, finish_deadline
        )
    info = SolveInfo(
        solver_objective_yen=(
            None if outcome.objective_milli is None else outcome.objective_milli / 1000
        ),
        warm_start_used=outcome.warm_start_used and start == "warm_start",
        start=start if outcome.warm_start_used else "construction",
        solutions_seen=outcome.solutions_seen,
        metaheuristic=params.search.metaheuristic.value,
        parallel=parallel,
    )
    if not outcome.found and is_cancelled(cancel) and start_plan is None:
        # Asked to stop now with no plan at all: the jobs were never looked at.
        lost = Reason.of("search", NO_PLAN_FOUND)
        unassigned += [Unassigned(j, (lost,)) for j in outcome.dropped]
        return build_result(
            problem,
            travel,
            {},
            unassigned,
            status=Status.NO_PLAN_FOUND,
            stop_reason=outcome.stop_reason,
            runtime_s=outcome.runtime_s,
            extra=replace(info, wall_s=time.monotonic() - started),
        )
    if not outcome.found:
        # Stopped before its first plan: the start plan is the best so far (with no
        # start plan the repair builds one from nothing), and every job is still
        # checked and placed where it fits.
        kept = _start_routes(problem, travel, start_plan, screening.candidates)
        placed = {j for ids in kept.values() for j in ids}
        outcome = replace(
            outcome,
            routes=kept,
            dropped=[j for j in screening.candidates if j not in placed],
        )
    explanation = explain_dropped(
        problem,
        travel,
        outcome.routes,
        outcome.dropped,
        screening.candidates,
        search_cut=outcome.stop_reason in SEARCH_CUT,
    )
    unassigned += [Unassigned(j, reasons) for j, reasons in explanation.reasons.items()]
    nothing_placed = not any(explanation.routes.values()) and any(
        r.rule == "search" for u in unassigned for r in u.reasons
    )
    info = replace(info, repaired_jobs=len(explanation.inserted), wall_s=time.monotonic() - started)
    return build_result(
        problem,
        travel,
        explanation.routes,
        unassigned,
        status=Status.NO_PLAN_FOUND if nothing_placed else Status.PLAN_FOUND,
        stop_reason=outcome.stop_reason,
        runtime_s=outcome.runtime_s,
        first_solution_s=outcome.first_solution_s,
        extra=info,
    )


def _one_model_workers(
    task: SearchTask, part_runner: PartRunner | None
) -> tuple[SearchTask, dict[str, Any] | None]:
    """One model with ``num_workers`` > 1: independent searches in forked children, or one.

    Returns the task as it will run and the record of its workers. A week
    searched as one model cannot be split into parts, so a part runner
    (other Celery workers) does not apply to it. A caller that gives a part
    runner also says it manages parallelism itself, and this process is not
    forked: a process that has used Celery's control channel (a worker, a
    readiness check) hangs its forked children, whose inherited broker
    connections Celery's after-fork cleanup tries to close (measured:
    ``benchmarks/worker_scaling.py --forked``). Where this process may not
    fork at all (a prefork task), the search runs alone too. Both are
    written in the record.
    """
    workers = task.params.num_workers
    if workers <= 1:
        return task, None
    if part_runner is None and can_start_children():
        return task, {"runner": "processes", "workers": workers, "parts": workers, "notes": []}
    notes = []
    if not can_start_children():
        notes.append(
            f"{workers} workers asked for, but this process may not start child processes "
            "(a task of Celery's prefork pool): one search ran here"
        )
    if part_runner is not None:
        notes.append(
            "a week searched as one model cannot be split into parts for other workers "
            f"(weeks of more than {DECOMPOSE_ABOVE_CREW_DAYS} crew-days are searched "
            "region by region): one search ran here"
        )
    alone = replace(task, params=replace(task.params, num_workers=1))
    return alone, {"runner": "here", "workers": 1, "parts": 1, "notes": notes}


def _with_metaheuristic_chosen(
    params: SolveParams,
    stop: AnyOf,
    warm_start: Plan | None,
    n_jobs: int,
    start_plan: Plan | None,
    problem: Problem,
    *,
    stoppable_from_outside: bool = False,
) -> SolveParams:
    """Resolve ``Metaheuristic.AUTO`` for this call (see :class:`Metaheuristic`).

    Iterated local search only where it was measured to win: one model (not
    regions, not restarts), a time limit of at least
    :data:`ITERATED_SECONDS_PER_JOB` per job, and no plan of the caller's to
    continue from. Until December 2026 iterated local search could not start
    from a plan; it can now (``SearchTask.seed_iterated``), but a revised
    week has only been measured with guided local search, so that choice
    stays. Our own greedy start is only a fallback: OR-Tools builds its own
    first plan, and the greedy plan is kept if the search ends worse. A
    search that must honour a cancel
    token or a no-improvement rule runs in a child process
    (:mod:`scheduler.isolation`); where no child can be started (a Celery
    prefork worker) guided local search, which stops in-process, is used.
    """
    if params.search.metaheuristic is not Metaheuristic.AUTO:
        return params
    regions = start_plan is not None and should_decompose(problem, params)
    budget_s = stop.max_runtime_s
    iterated = (
        (not stoppable_from_outside or can_start_children())
        and warm_start is None
        and not regions
        and not params.start.restarts
        and not stop.first_feasible
        and budget_s is not None
        and budget_s >= ITERATED_SECONDS_PER_JOB * n_jobs
    )
    chosen = Metaheuristic.ITERATED_LOCAL_SEARCH if iterated else Metaheuristic.GUIDED_LOCAL_SEARCH
    return replace(params, search=replace(params.search, metaheuristic=chosen))


def _greedy_start(
    problem: Problem,
    travel: TravelMatrix,
    candidates: Mapping[str, Sequence[tuple[str, int]]],
    stop: AnyOf,
    deadline: float | None,
) -> tuple[Plan, str]:
    """The greedy plan, its routes given to the nearest crews when the search has time.

    The greedy baseline fills crew-days in due-date order, so a route often
    goes to a crew living far from it; matching each day's routes to crews
    (:mod:`scheduler.reassign`) starts the search closer to a good plan.
    """
    greedy = solve_greedy(problem)
    plan = greedy.to_plan()
    if stop.first_feasible:
        return plan, "greedy"
    unplaced = [u.job_id for u in greedy.unassigned if u.job_id in candidates]
    cheaper = reassign_if_cheaper(
        problem, travel, candidates, plan.routes, unplaced, deadline=deadline
    )
    if cheaper is None:
        return plan, "greedy"
    return Plan({k: tuple(ids) for k, ids in cheaper[0].items()}), "greedy"


def _with_routes_reassigned(
    problem: Problem,
    travel: TravelMatrix,
    candidates: Mapping[str, Sequence[tuple[str, int]]],
    outcome: RoutingOutcome,
    deadline: float | None,
) -> RoutingOutcome:
    """The search's plan with each day's routes matched to crews, if that is cheaper.

    Local search rarely moves a whole route to another crew (it takes a
    chain of moves that each cost more), so the last step tries it directly.
    """
    cheaper = reassign_if_cheaper(
        problem, travel, candidates, outcome.routes, outcome.dropped, deadline=deadline
    )
    if cheaper is None:
        return outcome
    routes, milli = cheaper
    return replace(outcome, routes=routes, objective_milli=milli)


def _finish_reserve_s(max_runtime_s: float, n_jobs: int) -> float:
    """Time kept back from the search for explaining unplaced jobs and building the result.

    Both are linear in the number of jobs (about 1 ms per job measured at
    3,000 jobs, most of it when many jobs are left out); never more than 15 %
    of the limit, so short limits still leave most of the time to the search.
    """
    return min(0.15 * max_runtime_s, 0.2 + 0.0006 * n_jobs)


def _reassign_reserve_s(max_runtime_s: float, n_jobs: int) -> float:
    """Time kept back between the search and the repair for matching routes to crews.

    The matching is per day and stops at its deadline (days not reached keep
    their routes), so this only decides how much of it usually runs:
    0.5 s at 3,000 jobs measured on a free core, never more than 5 % of the limit.
    """
    return min(0.05 * max_runtime_s, 0.05 + 0.0002 * n_jobs)


def _start_routes(
    problem: Problem,
    travel: TravelMatrix,
    start_plan: Plan | None,
    candidates: Mapping[str, Sequence[tuple[str, int]]],
) -> dict[tuple[str, int], list[str]]:
    """The start plan's valid routes, limited to jobs still in play: the repair's starting point.

    A caller's warm start may break a rule of the current problem (a crew
    lost a skill since); such a route is left out and its jobs are placed
    by the repair like any other left-out job.
    """
    if start_plan is None:
        return {}
    routes: dict[tuple[str, int], list[str]] = {}
    for key, job_ids in start_plan.routes.items():
        kept = [j for j in job_ids if j in candidates and tuple(key) in candidates[j]]
        if kept and not validate_route(problem, key[0], key[1], kept, travel):
            routes[(key[0], key[1])] = kept
    return routes


def _search(task: SearchTask) -> RoutingOutcome:
    """Run one search here, plus ``num_workers - 1`` independent ones in child processes.

    Workers differ by seed (job order) and construction heuristic; the plan with
    the lowest solver objective wins. Progress and cancellation act on the
    worker in this process; when it is cancelled the others are terminated.
    """
    params, stop, deadline = task.params, task.stop, task.deadline
    if params.num_workers == 1 and params.start.restarts and stop.max_runtime_s is not None:
        return _search_with_restarts(task)
    if params.num_workers == 1:
        return solve_routing(task)
    helpers = [
        replace(
            task,
            params=replace(
                params,
                seed=params.seed + i,
                num_workers=1,
                start=replace(
                    params.start, first_solution=WORKER_STRATEGIES[i % len(WORKER_STRATEGIES)]
                ),
            ),
            progress=None,
            cancel=None,
        )
        for i in range(1, params.num_workers)
    ]
    context = multiprocessing.get_context("fork")
    with context.Pool(len(helpers)) as pool:
        pending = [pool.apply_async(solve_routing, (helper,)) for helper in helpers]
        mine = solve_routing(task)
        if mine.stop_reason == StopReason.CANCELLED:
            pool.terminate()
            return mine
        # The helpers share the deadline; the grace only covers process overhead.
        wait_until = (deadline or time.monotonic() + (stop.max_runtime_s or 0)) + 5
        outcomes = [mine]
        for job in pending:
            try:
                outcomes.append(job.get(timeout=max(0.1, wait_until - time.monotonic())))
            except multiprocessing.TimeoutError:
                pool.terminate()
                break
    found = [o for o in outcomes if o.found and o.objective_milli is not None]
    if not found:
        return mine
    best = min(found, key=lambda o: o.objective_milli or 0)
    best.runtime_s = max(o.runtime_s for o in outcomes)
    return best


def _search_with_restarts(task: SearchTask) -> RoutingOutcome:
    """Sequential restarts from each construction in ``params.start.restarts``; best plan wins.

    Restart ``k`` (0-based) presents the jobs in the order of seed
    ``params.seed + k``, so a construction listed twice starts a second,
    different search (a multi-start) instead of repeating the first.

    Without ``params.start.restart_on_stall_s`` the time left is split evenly between
    the restarts still to run (time a restart does not use goes to the next
    ones). With it, each restart but the last may use all the time left and
    only hands over when its best plan has not improved for that long, so a
    search that is still improving is not cut for the sake of an even split.
    Other criteria apply to each restart. Progress is only reported when the
    overall best improves.
    """
    params, stop, progress = task.params, task.stop, task.progress
    assert stop.max_runtime_s is not None
    started = time.monotonic()
    deadline = task.deadline if task.deadline is not None else started + stop.max_runtime_s
    others = tuple(c for c in stop.criteria if not isinstance(c, MaxRuntime))
    best: RoutingOutcome | None = None
    best_reported: list[float] = []

    def report(elapsed_s: float, objective_yen: float, assigned: int) -> None:
        if progress is not None and (not best_reported or objective_yen < best_reported[-1]):
            best_reported.append(objective_yen)
            progress(time.monotonic() - started, objective_yen, assigned)

    for position, strategy in enumerate(params.start.restarts):
        left_s = max(0.001, deadline - time.monotonic())
        last = position == len(params.start.restarts) - 1
        if params.start.restart_on_stall_s is not None:
            run_deadline = deadline
            stall = () if last else (NoImprovement(params.start.restart_on_stall_s),)
            per_run = AnyOf((MaxRuntime(left_s), *others, *stall))
        else:
            run_deadline = time.monotonic() + left_s / (len(params.start.restarts) - position)
            per_run = AnyOf((MaxRuntime(left_s), *others))
        # A repeated construction with the same job order would replay the same search.
        run_params = replace(
            params,
            start=replace(params.start, first_solution=strategy, restarts=()),
            seed=params.seed + position,
        )
        outcome = solve_routing(
            replace(task, stop=per_run, params=run_params, progress=report, deadline=run_deadline)
        )
        if outcome.found and (
            best is None or (outcome.objective_milli or 0) < (best.objective_milli or 0)
        ):
            best = outcome
        if outcome.stop_reason == StopReason.CANCELLED or deadline - time.monotonic() <= 0.01:
            break
    assert best is not None or outcome is not None
    final = best or outcome
    final.runtime_s = time.monotonic() - started
    # Why the search as a whole ended is why the last restart ended, whichever won.
    final.stop_reason = outcome.stop_reason
    return final
