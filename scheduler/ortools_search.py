"""Searching the OR-Tools model: parameters, callbacks, stopping, reading the plan back.

With :mod:`scheduler.ortools_model` (what the model is), the only modules that
import OR-Tools. :func:`solve_routing` takes one :class:`SearchTask` and
returns a :class:`RoutingOutcome` in domain terms (job ids per crew-day).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_ils_pb2
from ortools.util import optional_boolean_pb2

from scheduler.isolation import Improvement, Report, Stopped, run_in_child
from scheduler.model import Plan, Problem
from scheduler.ortools_model import (
    Model,
    build_model,
    mean_arc_cost_milli,
    routes_of,
    warm_start_routes,
)
from scheduler.params import (
    AnyOf,
    CancelToken,
    FirstSolution,
    Metaheuristic,
    ProgressCallback,
    SolveParams,
    is_cancelled,
)
from scheduler.result import MILLI, StopReason
from scheduler.travel import TravelMatrix

DROP_OPERATORS = (
    "use_make_inactive",
    "use_make_chain_inactive",
    "use_swap_active",
    "use_swap_active_chain",
    "use_shortest_path_swap_active",
    "use_extended_swap_active",
    "use_relocate_path_global_cheapest_insertion_insert_unperformed",
)
"""Local-search operators that unassign a planned job (``OperatorParams.drop_moves``)."""

BREAKS_NEIGHBOUR_LIMIT_MS = 2_000
"""OR-Tools' per-neighbour completion limit in models with lunches (see ``_solve_here``)."""

INSERTION_LNS_OPERATORS = (
    "use_global_cheapest_insertion_path_lns",
    "use_local_cheapest_insertion_path_lns",
    "use_global_cheapest_insertion_visit_types_lns",
    "use_local_cheapest_insertion_visit_types_lns",
)
"""Insertion-heuristic LNS operators (``OperatorParams.insertion_lns``)."""

LARGE_MODEL_JOBS = 2000
"""Above this many jobs in one model, local search only looks at nearby jobs.

OR-Tools' operators consider every node a neighbour of every other by
default, and it checks its time limit only between moves, so one
neighbourhood scan of a 3,000-job model overran a 60-s limit by 22 s.
Region models, the 200-job week and every VRPTW instance stay below the
threshold; below it the limit costs plan quality. Measurements:
``docs/BENCHMARKS.md``, "Why the solver defaults are what they are".
"""

LARGE_MODEL_NEIGHBORS = 40
"""Nearest neighbours per job the operators consider in a model above :data:`LARGE_MODEL_JOBS`.

The granular-neighbourhood size of PyVRP's defaults.
"""


@dataclass
class RoutingOutcome:
    """What the search returned, in domain terms (job ids per crew-day)."""

    found: bool
    routes: dict[tuple[str, int], list[str]]
    dropped: list[str]
    stop_reason: StopReason
    runtime_s: float
    first_solution_s: float | None
    objective_milli: int | None
    warm_start_used: bool
    solutions_seen: int = 0


def search_parameters(stop: AnyOf, params: SolveParams) -> pywrapcp.DefaultRoutingSearchParameters:
    """OR-Tools search parameters for a stopping rule and our search settings.

    Construction: ``params.start.first_solution`` (parallel cheapest
    insertion by default, robust on tight windows). Improvement: guided local
    search, the metaheuristic OR-Tools recommends for VRPs, with OR-Tools'
    default operators minus those ``params.operators`` switches off
    (``drop_moves``, ``insertion_lns``).
    """
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, params.start.first_solution.value
    )
    search.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    search.guided_local_search_lambda_coefficient = params.search.guided_local_search_lambda
    search.use_guided_local_search_penalties_in_local_search_operators = (
        params.operators.penalties_in_operators
    )
    if stop.max_runtime_s is not None:
        search.time_limit.FromMilliseconds(max(1, int(stop.max_runtime_s * 1000)))
    if stop.first_feasible:
        search.solution_limit = 1
    search.log_search = params.log_search
    switched_off = (() if params.operators.drop_moves else DROP_OPERATORS) + (
        () if params.operators.insertion_lns else INSERTION_LNS_OPERATORS
    )
    for operator in switched_off:
        setattr(search.local_search_operators, operator, optional_boolean_pb2.BOOL_FALSE)
    return search


def limit_operator_neighbors(search: pywrapcp.DefaultRoutingSearchParameters, n_jobs: int) -> None:
    """Keep each local-search step short on a model too large for full neighbourhoods.

    See :data:`LARGE_MODEL_JOBS`: OR-Tools takes ``max(ls_operator_min_neighbors,
    ls_operator_neighbors_ratio x nodes)`` neighbours per node.
    """
    if n_jobs <= LARGE_MODEL_JOBS:
        return
    search.ls_operator_min_neighbors = LARGE_MODEL_NEIGHBORS
    search.ls_operator_neighbors_ratio = LARGE_MODEL_NEIGHBORS / n_jobs


def use_iterated_local_search(
    search: pywrapcp.DefaultRoutingSearchParameters,
    params: SolveParams,
    mean_arc_cost_milli: float,
) -> None:
    """Turn ``search`` into OR-Tools' ruin-and-recreate iterated local search.

    Each iteration removes about ``params.search.ruin_visits`` visits in
    strings of nearby routes (SISR), re-inserts them one by one where the
    whole objective grows least (local cheapest *cost* insertion, the best
    recreate measured), descends to a local optimum with the operators of
    ``search`` and accepts the result as the next reference plan by
    simulated annealing; the best
    plan is kept apart. Local search inside an iteration is a plain descent:
    guided local search would never hand back control to the iterations.

    Temperatures are absolute in OR-Tools (objective units), so they are set
    here from the model's mean arc cost and ``params``' fractions: the same
    fractions then suit kilometres in yen and Solomon's distances alike;
    OR-Tools' own ``automatic_temperatures`` measured worse. Measurements:
    ``docs/BENCHMARKS.md``, "Why the solver defaults are what they are".

    Only :meth:`RoutingModel.SolveWithIteratedLocalSearch` runs it: the
    ordinary ``Solve*`` methods ignore ``use_iterated_local_search``.
    """
    search.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    search.use_iterated_local_search = True
    ils = search.iterated_local_search_parameters
    ils.perturbation_strategy = routing_ils_pb2.PerturbationStrategy.RUIN_AND_RECREATE
    ruin_recreate = ils.ruin_recreate_parameters
    del ruin_recreate.ruin_strategies[:]
    sisr = ruin_recreate.ruin_strategies.add().sisr
    sisr.max_removed_sequence_size = params.search.ruin_sequence
    sisr.avg_num_removed_visits = params.search.ruin_visits
    sisr.bypass_factor = 0.01
    ruin_recreate.ruin_composition_strategy = (
        routing_ils_pb2.RuinCompositionStrategy.RUN_ALL_SEQUENTIALLY
    )
    ruin_recreate.recreate_strategy.heuristic = (
        routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_COST_INSERTION
    )
    ruin_recreate.route_selection_neighbors_ratio = 1.0
    ruin_recreate.route_selection_min_neighbors = 10
    ruin_recreate.route_selection_max_neighbors = 100
    ils.improve_perturbed_solution = True
    annealing = ils.reference_solution_acceptance_strategy.simulated_annealing
    annealing.cooling_schedule_strategy = routing_ils_pb2.CoolingScheduleStrategy.EXPONENTIAL
    scale = max(mean_arc_cost_milli, 1.0)
    annealing.initial_temperature = params.search.annealing_start * scale
    annealing.final_temperature = params.search.annealing_end * scale
    annealing.automatic_temperatures = False
    ils.best_solution_acceptance_strategy.greedy_descent.SetInParent()


class _Monitor:
    """Tracks the best objective, reports progress, and applies soft stops.

    Only installed as a custom limit when a rule needs checking during the
    search (no-improvement span, cancellation): the check is a Python call per
    search step, so plain time limits stay native. With ``report`` (a search
    in a child process, :mod:`scheduler.isolation`) every improvement is also
    handed over with its routes.
    """

    def __init__(
        self,
        m: Model,
        stop: AnyOf,
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
        report: Report | None = None,
    ) -> None:
        self.m = m
        self.progress = progress
        self.cancel = cancel
        self.report = report
        self.no_improvement_s = stop.no_improvement_s
        self.started = time.monotonic()
        self.last_improvement = self.started
        self.best: int | None = None
        self.first_solution_s: float | None = None
        self.solutions = 0
        self.reason: StopReason | None = None

    def at_solution(self) -> None:
        self.solutions += 1
        if self.first_solution_s is None:
            self.first_solution_s = time.monotonic() - self.started
        cost = self.m.routing.CostVar()
        # Should a cost ever depend on start times (cumul costs), it is not fixed
        # when iterated local search reports a solution of a nested search, and
        # Value() aborts the process (OR-Tools CHECK failure, seen with soft
        # cumul bounds); Min() is what the search itself compares.
        objective = cost.Value() if cost.Bound() else cost.Min()
        self._consider(int(objective), lambda var: int(var.Value()))

    def offer(self, assignment: pywrapcp.Assignment) -> None:
        """Count a plan found outside the search (a warm start) as the best so far."""
        self._consider(int(assignment.ObjectiveValue()), assignment.Value)

    def _consider(self, objective: int, value: Callable[[Any], int]) -> None:
        if self.best is not None and objective >= self.best:
            return
        now = time.monotonic()
        self.best = objective
        self.last_improvement = now
        if self.progress is None and self.report is None:
            return
        routes = routes_of(self.m, value)
        assigned = sum(len(ids) for ids in routes.values())
        if self.progress is not None:
            self.progress(now - self.started, objective / MILLI, assigned)
        if self.report is not None:
            self.report(Improvement(now - self.started, objective, assigned, routes))

    def should_stop(self) -> bool:
        if is_cancelled(self.cancel):
            self.reason = StopReason.CANCELLED
            return True
        if (
            self.no_improvement_s is not None
            and self.best is not None
            and time.monotonic() - self.last_improvement > self.no_improvement_s
        ):
            self.reason = StopReason.NO_IMPROVEMENT
            return True
        return False


@dataclass(frozen=True)
class SearchTask:
    """One search: what to plan, the start plan, and how and how long to search.

    Attributes
    ----------
    problem, travel
        The problem and its travel matrix.
    candidates
        Crew-days each schedulable job fits on alone (jobs without any are left out).
    stop, params, progress, cancel
        See :func:`scheduler.solve`.
    warm_start
        The plan to start from (the caller's, the greedy plan, or ``None``).
    deadline
        ``time.monotonic()`` by which the search must end. The search gets the
        time left after building the model (instead of ``stop``'s whole
        ``MaxRuntime``), so a caller's limit bounds the wall time of the call.
        When nothing is left and the warm start is valid, the warm start is
        returned as it is.
    seed_iterated
        Whether iterated local search starts from ``warm_start`` (see
        :func:`_iterated_search`); ``False`` for the greedy plan, which is
        only a fallback: OR-Tools' construction starts that search better.
    """

    problem: Problem
    travel: TravelMatrix
    candidates: Mapping[str, Sequence[tuple[str, int]]]
    stop: AnyOf
    params: SolveParams
    progress: ProgressCallback | None = None
    warm_start: Plan | None = None
    cancel: CancelToken | None = None
    deadline: float | None = None
    seed_iterated: bool = True


def solve_routing(task: SearchTask) -> RoutingOutcome:
    """Build the OR-Tools model and search.

    Parameters
    ----------
    task
        What to plan and how to search (:class:`SearchTask`).

    Returns
    -------
    RoutingOutcome
        Job ids per crew-day, dropped job ids and how the search went.

    Notes
    -----
    Iterated local search can only be stopped by its time limit, so when a
    cancellation token or a ``NoImprovement`` rule has to be honoured it
    runs in a child process that this one stops (:mod:`scheduler.isolation`).
    """
    iterated = _runs_iterated_local_search(task.stop, task.params, task.deadline)
    if iterated and (task.cancel is not None or task.stop.no_improvement_s is not None):
        return _iterated_search_in_child(task)
    return _solve_here(task)


def _iterated_search_in_child(task: SearchTask) -> RoutingOutcome:
    """:func:`solve_routing` in a child process, stopped from here by ``cancel`` or ``stop``."""
    stop, deadline = task.stop, task.deadline
    if deadline is None and stop.max_runtime_s is not None:
        deadline = time.monotonic() + stop.max_runtime_s
    in_child = replace(task, progress=None, cancel=None, deadline=deadline)

    def search(report: Report) -> RoutingOutcome:
        return _solve_here(in_child, report)

    answer = run_in_child(
        search,
        progress=task.progress,
        cancel=task.cancel,
        no_improvement_s=stop.no_improvement_s,
        deadline=deadline,
    )
    if not isinstance(answer, Stopped):
        return answer
    jobs = [j.id for j in task.problem.jobs if task.candidates.get(j.id)]
    if answer.last is None:
        return RoutingOutcome(
            found=False,
            routes={},
            dropped=jobs,
            stop_reason=answer.reason,
            runtime_s=answer.runtime_s,
            first_solution_s=None,
            objective_milli=None,
            warm_start_used=False,
            solutions_seen=answer.improvements,
        )
    routes = {key: list(ids) for key, ids in answer.last.routes.items()}
    planned = {j for ids in routes.values() for j in ids}
    return RoutingOutcome(
        found=True,
        routes=routes,
        dropped=[j for j in jobs if j not in planned],
        stop_reason=answer.reason,
        runtime_s=answer.runtime_s,
        first_solution_s=None,
        objective_milli=answer.last.objective_milli,
        warm_start_used=task.warm_start is not None and answer.improvements == 1,
        solutions_seen=answer.improvements,
    )


def _solve_here(task: SearchTask, report: Report | None = None) -> RoutingOutcome:
    """:func:`solve_routing` in this process (``report``: hand improvements to a parent)."""
    stop, params, warm_start, deadline = task.stop, task.params, task.warm_start, task.deadline
    m = build_model(task.problem, task.travel, task.candidates, params.seed)
    search = search_parameters(stop, params)
    limit_operator_neighbors(search, len(m.jobs))
    if m.has_breaks:
        # Measured with OR-Tools 9.15: with vehicle breaks, completing one
        # neighbour (cumuls and break starts) can take longer than the default
        # 100 ms lns_time_limit, and then the whole search ended with
        # ROUTING_FAIL right after the start plan (10 of 14 searches of a
        # 200-job week with lunches on a loaded 2-core box; 0 of 14 with 2 s).
        search.lns_time_limit.FromMilliseconds(BREAKS_NEIGHBOUR_LIMIT_MS)
    iterated = _runs_iterated_local_search(stop, params, deadline)
    if iterated:
        use_iterated_local_search(search, params, mean_arc_cost_milli(m))
    monitor = _Monitor(m, stop, task.progress, task.cancel, report)
    m.routing.AddAtSolutionCallback(monitor.at_solution)
    if stop.no_improvement_s is not None or task.cancel is not None:
        m.routing.AddSearchMonitor(m.routing.solver().CustomLimit(monitor.should_stop))
    m.routing.CloseModelWithParameters(search)
    monitor.started = monitor.last_improvement = time.monotonic()
    if iterated:
        return _iterated_search(
            m, search, monitor, stop, params, warm_start, deadline, seed=task.seed_iterated
        )
    initial = None
    if warm_start is not None:
        initial = m.routing.ReadAssignmentFromRoutes(warm_start_routes(m, warm_start), True)
    warm_used = initial is not None
    if initial is None and params.start.constructions and not stop.first_feasible:
        cheapest = _cheapest_construction(m, search, params.start.constructions, deadline)
        initial = None if cheapest is None else cheapest[0]
    if deadline is not None:
        # The model build ate part of the budget: the search only gets what is left.
        left_s = deadline - time.monotonic()
        if left_s <= 0 and initial is not None:
            return _outcome(m, initial, monitor, StopReason.TIME_LIMIT, warm_used)
        search.time_limit.FromMilliseconds(max(1, int(left_s * 1000)))
    limit_s = search.time_limit.ToMilliseconds() / 1000 if search.HasField("time_limit") else None
    if initial is not None:
        solution = m.routing.SolveFromAssignmentWithParameters(initial, search)
        if solution is None:
            # Stopped before the start plan was even re-evaluated: keep the start plan
            # rather than falling back to a construction that cannot be bounded.
            return _outcome(m, initial, monitor, monitor.reason or StopReason.TIME_LIMIT, warm_used)
    else:
        solution = m.routing.SolveWithParameters(search)
    runtime_s = time.monotonic() - monitor.started
    if solution is None:
        return RoutingOutcome(
            found=False,
            routes={},
            dropped=[j.id for j in m.jobs],
            stop_reason=monitor.reason or _stop_reason(stop, runtime_s, limit_s),
            runtime_s=runtime_s,
            first_solution_s=None,
            objective_milli=None,
            warm_start_used=warm_used,
            solutions_seen=monitor.solutions,
        )
    return _outcome(
        m, solution, monitor, monitor.reason or _stop_reason(stop, runtime_s, limit_s), warm_used
    )


def _runs_iterated_local_search(stop: AnyOf, params: SolveParams, deadline: float | None) -> bool:
    """Whether this search is OR-Tools' iterated local search.

    Only with a time limit: its loop ends at the time limit and nothing
    else (a stopping monitor only cuts the current iteration short). A
    construction-only search (``FirstFeasible``) needs no metaheuristic.
    """
    return (
        params.search.metaheuristic is Metaheuristic.ITERATED_LOCAL_SEARCH
        and not stop.first_feasible
        and (stop.max_runtime_s is not None or deadline is not None)
    )


def _iterated_search(
    m: Model,
    search: pywrapcp.DefaultRoutingSearchParameters,
    monitor: _Monitor,
    stop: AnyOf,
    params: SolveParams,
    warm_start: Plan | None,
    deadline: float | None,
    *,
    seed: bool = True,
) -> RoutingOutcome:
    """Iterated local search for the time left; the warm start wins if the search ends worse.

    OR-Tools' iterated local search has no warm-start argument: it always
    builds its own first plan (``SolveFromAssignmentWithParameters`` ignores
    ``use_iterated_local_search``). A valid warm start is therefore handed
    to it as *locks* (:meth:`RoutingModel.ApplyLocksToAllVehicles`: the
    construction must reproduce those routes), and the locks are lifted at
    the first solution, so every later ruin and recreate is free
    (:class:`_LiftLocks`). The search then spends its whole time improving
    the caller's plan instead of rebuilding one: on route-group
    sub-problems of 1,000-customer instances this is what makes them pay
    (``docs/BENCHMARKS.md``, "Large instances"). Should the locked search
    find nothing (seen once in a probe, Solomon C201 with a 3-route start),
    the rest of the time goes to an unlocked search. With ``seed=False``
    (the greedy plan of :func:`scheduler.solve`) the search builds its own
    first plan as before.

    The warm start is also read back afterwards and kept when it is
    cheaper, so a caller's plan never gets worse. Without a warm start and
    with ``params.start.constructions``, every listed construction is tried
    first and the search then starts from the cheapest one (rebuilt:
    constructions are deterministic).
    """
    if deadline is None:  # one clock for both searches below
        deadline = time.monotonic() + search.time_limit.ToMilliseconds() / 1000
    initial = solution = None
    if warm_start is not None:
        locks = warm_start_routes(m, warm_start)
        initial = m.routing.ReadAssignmentFromRoutes(locks, True)
        if initial is not None:
            initial = m.routing.solver().Assignment(initial)  # a copy the search cannot change
            monitor.offer(initial)
            if seed:
                solution = _locked_iterated_search(m, search, locks, deadline)
    seeded = solution is not None
    if not seeded:
        if params.start.constructions and deadline > time.monotonic():
            cheapest = _cheapest_construction(m, search, params.start.constructions, deadline)
            if cheapest is not None:
                search.first_solution_strategy = getattr(
                    routing_enums_pb2.FirstSolutionStrategy, cheapest[1].value
                )
        search.time_limit.FromMilliseconds(max(1, int((deadline - time.monotonic()) * 1000)))
        solution = m.routing.SolveWithIteratedLocalSearch(search)
    runtime_s = time.monotonic() - monitor.started
    reason = monitor.reason or _stop_reason(
        stop, runtime_s, search.time_limit.ToMilliseconds() / 1000
    )
    if initial is not None and (
        solution is None or initial.ObjectiveValue() < solution.ObjectiveValue()
    ):
        return _outcome(m, initial, monitor, reason, True)
    if solution is None:
        return RoutingOutcome(
            found=False,
            routes={},
            dropped=[j.id for j in m.jobs],
            stop_reason=reason,
            runtime_s=runtime_s,
            first_solution_s=None,
            objective_milli=None,
            warm_start_used=False,
            solutions_seen=monitor.solutions,
        )
    return _outcome(m, solution, monitor, reason, seeded)


class _LiftLocks:
    """A solution callback that lifts the model's route locks at the first solution.

    OR-Tools restores the locks (its "preassignment") before every
    construction, the recreate step of each ruin and recreate included; left
    in place they would pin iterated local search to the locked plan.
    """

    def __init__(self, m: Model) -> None:
        self.m = m
        self.locked = True

    def __call__(self) -> None:
        if self.locked:
            self.locked = False
            self.m.routing.ApplyLocksToAllVehicles([[] for _ in self.m.vehicles], False)


def _locked_iterated_search(
    m: Model,
    search: pywrapcp.DefaultRoutingSearchParameters,
    locks: list[list[int]],
    deadline: float,
) -> pywrapcp.Assignment | None:
    """Iterated local search whose first plan is ``locks`` (see :func:`_iterated_search`).

    ``None`` when it found no plan; the locks are lifted in any case.
    """
    lift = _LiftLocks(m)
    m.routing.AddAtSolutionCallback(lift)
    if not m.routing.ApplyLocksToAllVehicles(locks, True):
        lift()
        return None
    search.time_limit.FromMilliseconds(max(1, int((deadline - time.monotonic()) * 1000)))
    solution = m.routing.SolveWithIteratedLocalSearch(search)
    lift()
    return solution


def _cheapest_construction(
    m: Model,
    search: pywrapcp.DefaultRoutingSearchParameters,
    strategies: Sequence[FirstSolution],
    deadline: float | None,
) -> tuple[pywrapcp.Assignment, FirstSolution] | None:
    """Build a first plan with each strategy (no improvement) and keep the cheapest.

    Constructions take a fraction of a second on a 100-customer instance, and
    which one leads guided local search to the best plan differs from
    instance to instance; continuing from the cheapest start keeps the whole
    remaining time for one improving search instead of splitting it between
    restarts (``docs/BENCHMARKS.md``, "Why the solver defaults are what they are").
    """
    best: tuple[pywrapcp.Assignment, FirstSolution] | None = None
    for strategy in strategies:
        once = pywrapcp.DefaultRoutingSearchParameters()
        once.CopyFrom(search)
        once.first_solution_strategy = getattr(
            routing_enums_pb2.FirstSolutionStrategy, strategy.value
        )
        once.solution_limit = 1
        once.use_iterated_local_search = False
        if deadline is not None:
            left_s = deadline - time.monotonic()
            if left_s <= 0:
                break
            once.time_limit.FromMilliseconds(max(1, int(left_s * 1000)))
        solution = m.routing.SolveWithParameters(once)
        if solution is not None and (
            best is None or solution.ObjectiveValue() < best[0].ObjectiveValue()
        ):
            best = (m.routing.solver().Assignment(solution), strategy)
    return best


def _outcome(
    m: Model,
    solution: pywrapcp.Assignment,
    monitor: _Monitor,
    stop_reason: StopReason,
    warm_used: bool,
) -> RoutingOutcome:
    """Read job ids per crew-day out of an OR-Tools assignment."""
    routes = routes_of(m, solution.Value)
    planned = {j for ids in routes.values() for j in ids}
    return RoutingOutcome(
        found=True,
        routes=routes,
        dropped=[j.id for j in m.jobs if j.id not in planned],
        stop_reason=stop_reason,
        runtime_s=time.monotonic() - monitor.started,
        first_solution_s=monitor.first_solution_s,
        objective_milli=int(solution.ObjectiveValue()) if solution.HasObjective() else None,
        warm_start_used=warm_used,
        solutions_seen=monitor.solutions,
    )


def _stop_reason(stop: AnyOf, runtime_s: float, limit_s: float | None) -> StopReason:
    """Why a search without a soft stop ended (``limit_s``: the search's own time limit)."""
    if stop.first_feasible:
        return StopReason.FIRST_FEASIBLE
    if limit_s is not None and runtime_s >= limit_s * 0.98:
        return StopReason.TIME_LIMIT
    return StopReason.SEARCH_COMPLETED
