"""The OR-Tools routing model: the only module that imports OR-Tools.

Mapping (nothing outside this module sees a routing index):

* one **vehicle per crew-day**, starting and ending at the crew's home node;
* one **node per job** that survived screening (:func:`scheduler.reasons.screen`),
  then one node per crew home;
* **time** cumul = start of service on the absolute seconds axis.

Each rule is one small function below, hard rules first, then soft goals. The
objective is integer milli-yen, so it matches
:func:`scheduler.result.objective_terms` exactly (plus a large penalty for
dropping a locked visit, which only exists to keep the model solvable when two
locked visits collide).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt
from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_ils_pb2
from ortools.util import optional_boolean_pb2

from scheduler.isolation import Improvement, Report, Stopped, run_in_child
from scheduler.model import DAY_S, CrewDay, Job, Plan, Problem, TimeWindow
from scheduler.params import (
    AnyOf,
    CancelToken,
    FirstSolution,
    Metaheuristic,
    ProgressCallback,
    SolveParams,
    is_cancelled,
)
from scheduler.result import MILLI, drive_cost_milli
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
"""Local-search operators that unassign a planned job (``SolveParams.drop_moves``)."""

INSERTION_LNS_OPERATORS = (
    "use_global_cheapest_insertion_path_lns",
    "use_local_cheapest_insertion_path_lns",
    "use_global_cheapest_insertion_visit_types_lns",
    "use_local_cheapest_insertion_visit_types_lns",
)
"""Insertion-heuristic LNS operators (``SolveParams.insertion_lns``)."""

LARGE_MODEL_JOBS = 2000
"""Above this many jobs in one model, local search only looks at nearby jobs.

OR-Tools' operators consider every node a neighbour of every other by
default, so one neighbourhood scan of a 3,000-job, 1,155-crew-day model runs
for tens of seconds, and OR-Tools checks its time limit only between moves:
measured on the generated 3,000-job week with ``decompose=False`` and a 60 s
limit, the call returned after 81.8 s (the search ran 69 s instead of 45);
with :data:`LARGE_MODEL_NEIGHBORS` it returned after 57.8 s. Neither search
improved its start plan, which is why such weeks are searched region by
region by default (:mod:`scheduler.decompose`); region models, the 200-job
week and every VRPTW instance (at most 1,000 customers) stay below the
threshold. Below it, the limit is not worth it: on the 200-job week, 40
neighbours left 15 jobs out for 55 of 60 s (511,138 yen at the end against
438,535 yen with every neighbour).
"""

LARGE_MODEL_NEIGHBORS = 40
"""Nearest neighbours per job the operators consider in a model above :data:`LARGE_MODEL_JOBS`.

The granular-neighbourhood size of PyVRP's defaults.
"""

LOCKED_DROP_PENALTY_MILLI = 10**13
"""Cost of dropping a locked visit: above any realistic plan, yet far from int64 overflow."""


@dataclass
class RoutingOutcome:
    """What the search returned, in domain terms (job ids per crew-day)."""

    found: bool
    routes: dict[tuple[str, int], list[str]]
    dropped: list[str]
    stop_reason: str
    runtime_s: float
    first_solution_s: float | None
    objective_milli: int | None
    warm_start_used: bool
    solutions_seen: int = 0


@dataclass
class _Model:
    """An OR-Tools model under construction and the lookup tables around it."""

    problem: Problem
    travel: TravelMatrix
    jobs: list[Job]
    vehicles: list[CrewDay]
    allowed: dict[str, tuple[tuple[str, int], ...]]
    manager: pywrapcp.RoutingIndexManager = field(init=False)
    routing: pywrapcp.RoutingModel = field(init=False)
    node_location: npt.NDArray[np.int64] = field(init=False)
    service_s: npt.NDArray[np.int64] = field(init=False)
    is_job: npt.NDArray[np.bool_] = field(init=False)
    vehicle_of_key: dict[tuple[str, int], int] = field(init=False)
    day_offset_s: dict[int, int] = field(init=False)
    """Where each day's time axis starts (see :func:`_add_time_windows`)."""
    day_span_s: dict[int, tuple[int, int]] = field(init=False)
    """Earliest shift start and latest shift end of each day's vehicles."""

    def __post_init__(self) -> None:
        crews = self.problem.crews_by_id()
        # One node per distinct home location: crews sharing a depot share its node.
        home_of_crew = {
            cd.crew_id: self.travel.index(crews[cd.crew_id].home) for cd in self.vehicles
        }
        home_locations = sorted(set(home_of_crew.values()))
        home_node = {loc: len(self.jobs) + k for k, loc in enumerate(home_locations)}
        locations = [self.travel.index(j.location) for j in self.jobs] + home_locations
        self.node_location = np.asarray(locations, dtype=np.int64)
        self.service_s = np.asarray(
            [j.duration_s for j in self.jobs] + [0] * len(home_locations), dtype=np.int64
        )
        self.is_job = np.arange(len(locations)) < len(self.jobs)
        starts = [home_node[home_of_crew[cd.crew_id]] for cd in self.vehicles]
        self.manager = pywrapcp.RoutingIndexManager(
            len(locations), len(self.vehicles), starts, starts
        )
        self.routing = pywrapcp.RoutingModel(self.manager)
        self.vehicle_of_key = {cd.key: v for v, cd in enumerate(self.vehicles)}
        self.day_offset_s, self.day_span_s = {}, {}
        for cd in self.vehicles:
            midnight = self.day_offset_s.get(cd.day, cd.day * DAY_S)
            self.day_offset_s[cd.day] = min(midnight, cd.shift_start_s)
            first_s, last_s = self.day_span_s.get(cd.day, (cd.shift_start_s, cd.shift_end_s))
            self.day_span_s[cd.day] = (min(first_s, cd.shift_start_s), max(last_s, cd.shift_end_s))

    @property
    def num_nodes(self) -> int:
        return len(self.node_location)

    def job_index(self, k: int) -> int:
        """Routing index of the k-th job."""
        return int(self.manager.NodeToIndex(k))

    def submatrix(self, matrix: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """A location matrix restricted to (and ordered by) the model's nodes."""
        return matrix[np.ix_(self.node_location, self.node_location)]

    def crew(self, vehicle: int) -> str:
        return self.vehicles[vehicle].crew_id

    def offset_s(self, vehicle: int) -> int:
        """Model time 0 of this vehicle's day, in absolute seconds."""
        return self.day_offset_s[self.vehicles[vehicle].day]


# ----------------------------------------------------------------------------- hard rules


def _add_skill_and_day_rule(m: _Model) -> None:
    """Skills, members, allowed days, capacity alone: restrict each job's vehicles.

    Screening already computed the crew-days each job fits on alone; here they
    become the vehicle domain. ``-1`` keeps the job droppable (NOTES.md:
    ``SetAllowedVehiclesForIndex`` is broken in this binding).
    """
    num_vehicles = len(m.vehicles)
    for k, job in enumerate(m.jobs):
        allowed = sorted(m.vehicle_of_key[key] for key in m.allowed[job.id])
        if len(allowed) < num_vehicles:
            m.routing.VehicleVar(m.job_index(k)).SetValues([-1, *allowed])


def _min_gap_transits(m: _Model, gap_s: int) -> npt.NDArray[np.int64]:
    """Time transit of an arc: service at the origin + driving + the minimum gap.

    The gap is added only between two jobs, never on the legs from or to home.
    OR-Tools' slack variable is only an *upper* bound on waiting, so the
    minimum free time has to be part of the transit itself.
    """
    transit = m.service_s[:, None] + m.submatrix(m.travel.duration_s)
    if gap_s:
        transit = transit + gap_s * (m.is_job[:, None] & m.is_job[None, :])
    return transit


def _add_min_gap_slack(m: _Model) -> pywrapcp.RoutingDimension:
    """The time dimension, with one transit matrix per distinct minimum gap."""
    gaps = [m.problem.min_gap_s(m.problem.crew(cd.crew_id)) for cd in m.vehicles]
    callback_of_gap = {
        gap: m.routing.RegisterTransitMatrix(_min_gap_transits(m, gap).tolist())
        for gap in sorted(set(gaps))
    }
    horizon_s = max(cd.shift_end_s - m.offset_s(v) for v, cd in enumerate(m.vehicles))
    m.routing.AddDimensionWithVehicleTransits(
        [callback_of_gap[g] for g in gaps], horizon_s, horizon_s, False, "time"
    )
    return m.routing.GetDimensionOrDie("time")


def _add_shift(m: _Model, time_dim: pywrapcp.RoutingDimension) -> None:
    """Each route leaves home at or after the shift start and is back by its end."""
    for v, cd in enumerate(m.vehicles):
        start_s, end_s = cd.shift_start_s - m.offset_s(v), cd.shift_end_s - m.offset_s(v)
        time_dim.CumulVar(m.routing.Start(v)).SetRange(start_s, end_s)
        time_dim.CumulVar(m.routing.End(v)).SetRange(start_s, end_s)


def _add_time_windows(m: _Model, time_dim: pywrapcp.RoutingDimension) -> None:
    """A visit starts inside one of its windows (a locked start is a one-point window).

    Time in the model runs per day: a vehicle's clock reads seconds since its
    day's midnight (:attr:`_Model.day_offset_s`), so a job that may be done
    on several days with the same daily windows (the usual case: "weekdays
    9:00-15:00") has one window in model time and a domain without holes.
    On the absolute axis its domain would be the five windows' hull minus
    four nights, and the CP solver removes an interval from a domain value
    by value: that cost ~22 % of the search time of a region of the
    1,000-job week (6.3 s of 28.9 s in ``IntVar.RemoveInterval``, cProfile).

    A job whose daily windows differ between its allowed days gets the union
    of them as domain, plus, per day, constraints that keep its start inside
    that day's windows when a vehicle of that day takes it
    (:func:`_tie_windows_to_days`).
    """
    for k, job in enumerate(m.jobs):
        windows = job.start_windows()
        if not windows:
            continue
        per_day = {
            day: _windows_of_day(m, windows, day) for day in {key[1] for key in m.allowed[job.id]}
        }
        union = _merged([w for ws in per_day.values() for w in ws])
        if not union:
            continue  # screening keeps no such job; nothing to tie it to
        cumul = time_dim.CumulVar(m.job_index(k))
        cumul.SetRange(union[0][0], union[-1][1])
        for (_, end_s), (next_start_s, _) in pairwise(union):
            cumul.RemoveInterval(end_s + 1, next_start_s - 1)
        if len(set(per_day.values())) > 1:
            _tie_windows_to_days(m, k, union, per_day)


def _windows_of_day(
    m: _Model, windows: Sequence[TimeWindow], day: int
) -> tuple[tuple[int, int], ...]:
    """The windows that meet the day's shifts, in that day's model time."""
    first_s, last_s = m.day_span_s[day]
    offset_s = m.day_offset_s[day]
    return tuple(
        (w.start_s - offset_s, w.end_s - offset_s)
        for w in windows
        if w.start_s <= last_s and w.end_s >= first_s
    )


def _merged(intervals: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, overlapping or touching intervals joined."""
    merged: list[tuple[int, int]] = []
    for start_s, end_s in sorted(intervals):
        if merged and start_s <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end_s))
        else:
            merged.append((start_s, end_s))
    return merged


def _tie_windows_to_days(
    m: _Model,
    k: int,
    union: Sequence[tuple[int, int]],
    per_day: Mapping[int, Sequence[tuple[int, int]]],
) -> None:
    """On a vehicle of day d, the start avoids every part of the union outside d's windows.

    Plain CP constraints (``IsMemberVar`` on the vehicle, ``IsBetweenVar`` on
    the start): the local-search filters do not see them, so moves that break
    them are rejected later, by propagation. Only jobs whose windows differ
    from day to day pay that.
    """
    solver = m.routing.solver()
    index = m.job_index(k)
    cumul = m.routing.GetDimensionOrDie("time").CumulVar(index)
    job_id = m.jobs[k].id
    for day, windows in per_day.items():
        vehicles = [m.vehicle_of_key[key] for key in m.allowed[job_id] if key[1] == day]
        on_day = solver.IsMemberVar(m.routing.VehicleVar(index), vehicles)
        low_s, high_s = union[0][0], union[-1][1]
        for start_s, end_s in _merged(list(windows)):
            if start_s > low_s:
                solver.Add(solver.IsBetweenVar(cumul, low_s, start_s - 1) + on_day <= 1)
            low_s = max(low_s, end_s + 1)
        if low_s <= high_s:
            solver.Add(solver.IsBetweenVar(cumul, low_s, high_s) + on_day <= 1)


def _add_max_utilization(m: _Model) -> None:
    """Work + travel of a crew-day stay below floor(max_utilization x shift).

    A second dimension without the gap and without waiting, capped per vehicle.
    Skipped when no cap is tighter than the shift itself.
    """
    caps = [m.problem.busy_cap_s(cd) for cd in m.vehicles]
    if all(cap >= cd.shift_s for cap, cd in zip(caps, m.vehicles, strict=True)):
        return
    busy = m.service_s[:, None] + m.submatrix(m.travel.duration_s)
    callback = m.routing.RegisterTransitMatrix(busy.tolist())
    m.routing.AddDimensionWithVehicleCapacity(callback, 0, caps, True, "busy")


def _add_max_jobs_per_day(m: _Model) -> pywrapcp.RoutingDimension | None:
    """Count visits per crew-day; the count cumul is also a visit's 0-based position."""
    crews = [m.problem.crew(cd.crew_id) for cd in m.vehicles]
    needs_positions = any(j.fixed is not None and j.fixed.sequence is not None for j in m.jobs)
    if not needs_positions and all(c.max_jobs_per_day is None for c in crews):
        return None
    ones = m.routing.RegisterUnaryTransitVector(m.is_job.astype(np.int64).tolist())
    limits = [len(m.jobs) if c.max_jobs_per_day is None else c.max_jobs_per_day for c in crews]
    m.routing.AddDimensionWithVehicleCapacity(ones, 0, limits, True, "jobs")
    return m.routing.GetDimensionOrDie("jobs")


def _add_capacity(m: _Model) -> None:
    """Equipment units per crew-day (and vehicle capacity in the VRPTW benchmark)."""
    crews = [m.problem.crew(cd.crew_id) for cd in m.vehicles]
    if all(c.capacity_units is None for c in crews) or not any(j.demand_units for j in m.jobs):
        return
    demand = [j.demand_units for j in m.jobs] + [0] * (m.num_nodes - len(m.jobs))
    callback = m.routing.RegisterUnaryTransitVector(demand)
    total = sum(demand)
    caps = [total if c.capacity_units is None else c.capacity_units for c in crews]
    m.routing.AddDimensionWithVehicleCapacity(callback, 0, caps, True, "capacity")


def _add_locked_visits(
    m: _Model, time_dim: pywrapcp.RoutingDimension, jobs_dim: pywrapcp.RoutingDimension | None
) -> None:
    """Locked visits keep crew-day (via screening), start (as a window) and position."""
    for k, job in enumerate(m.jobs):
        if job.fixed is None or job.fixed.sequence is None or jobs_dim is None:
            continue
        jobs_dim.CumulVar(m.job_index(k)).SetValue(job.fixed.sequence)


# ----------------------------------------------------------------------------- soft goals


def _add_travel_costs(m: _Model) -> None:
    """Kilometres x the crew's cost per km + drive time, and a fixed cost per used crew-day.

    One arc-cost matrix per distinct cost-per-km; per-arc rounding follows
    :func:`scheduler.result.drive_cost_milli` so costs recompute exactly.
    """
    weights = m.problem.weights
    duration = m.submatrix(m.travel.duration_s)
    drive_milli = (duration * weights.drive_yen_per_hour * MILLI + 1800) // 3600
    assert drive_cost_milli(3600, weights.drive_yen_per_hour) == weights.drive_yen_per_hour * MILLI
    distance = m.submatrix(m.travel.distance_m)
    per_km = [m.problem.crew(cd.crew_id).cost_per_km_yen for cd in m.vehicles]
    callback_of_rate = {
        rate: m.routing.RegisterTransitMatrix((distance * rate + drive_milli).tolist())
        for rate in sorted(set(per_km))
    }
    for v, rate in enumerate(per_km):
        m.routing.SetArcCostEvaluatorOfVehicle(callback_of_rate[rate], v)
        m.routing.SetFixedCostOfVehicle(weights.crew_day_fixed_yen * MILLI, v)


def _add_lateness(m: _Model) -> None:
    """Days past a soft due date cost ``lateness_yen_per_day x priority`` each.

    A "day" dimension with zero transit and no slack carries the vehicle's day
    index to every visit; a soft upper bound at the due day prices each day late.
    """
    late_jobs = [
        (k, job)
        for k, job in enumerate(m.jobs)
        if job.due_day is not None
        and not job.due_is_hard
        and any(day > job.due_day for _, day in m.allowed[job.id])
    ]
    if not late_jobs or m.problem.weights.lateness_yen_per_day == 0:
        return
    zero = m.routing.RegisterUnaryTransitVector([0] * m.num_nodes)
    max_day = max(cd.day for cd in m.vehicles)
    m.routing.AddDimension(zero, 0, max(max_day, 0), False, "day")
    day_dim = m.routing.GetDimensionOrDie("day")
    for v, cd in enumerate(m.vehicles):
        day_dim.CumulVar(m.routing.Start(v)).SetValue(cd.day)
    rate = m.problem.weights.lateness_yen_per_day * MILLI
    for k, job in late_jobs:
        assert job.due_day is not None
        day_dim.SetCumulVarSoftUpperBound(m.job_index(k), job.due_day, rate * job.priority)


def _add_unassigned_penalties(m: _Model) -> None:
    """Dropping a job costs ``unassigned_yen x priority`` (plus disruption if it was planned).

    Locked visits get a prohibitive penalty rather than being mandatory: the
    model stays solvable when locks collide, and the collision is reported.
    """
    weights = m.problem.weights
    referenced = m.problem.reference.assignment() if m.problem.reference else {}
    for k, job in enumerate(m.jobs):
        if job.fixed is not None:
            penalty = LOCKED_DROP_PENALTY_MILLI
        else:
            penalty = weights.unassigned_yen * job.priority * MILLI
            if job.id in referenced:
                penalty += weights.disruption_yen * MILLI
        m.routing.AddDisjunction([m.job_index(k)], penalty)


def _add_minimal_disruption(m: _Model) -> None:
    """Moving a job away from its crew-day in the reference plan costs ``disruption_yen``.

    A per-vehicle unary dimension counts, on each route, the jobs whose
    reference crew-day is another one; its span cost prices them. This keeps
    the cost on the assignment (crew, day) only, so re-ordering a day's visits
    to save kilometres is free, and it needs no per-vehicle arc matrices.
    """
    if m.problem.reference is None or m.problem.weights.disruption_yen == 0:
        return
    referenced = m.problem.reference.assignment()
    if not any(j.id in referenced for j in m.jobs):
        return
    callbacks = []
    for cd in m.vehicles:
        moved = [int(j.id in referenced and referenced[j.id] != cd.key) for j in m.jobs]
        moved += [0] * (m.num_nodes - len(m.jobs))
        callbacks.append(m.routing.RegisterUnaryTransitVector(moved))
    m.routing.AddDimensionWithVehicleTransits(callbacks, 0, len(m.jobs), True, "disruption")
    disruption = m.routing.GetDimensionOrDie("disruption")
    disruption.SetSpanCostCoefficientForAllVehicles(m.problem.weights.disruption_yen * MILLI)


# ----------------------------------------------------------------------------- search


def search_parameters(stop: AnyOf, params: SolveParams) -> pywrapcp.DefaultRoutingSearchParameters:
    """OR-Tools search parameters for a stopping rule and our search settings.

    Construction: ``params.first_solution`` (parallel cheapest insertion by
    default, robust on tight windows). Improvement: guided local search, the
    metaheuristic OR-Tools recommends for VRPs, with OR-Tools' default
    operators minus those ``params.drop_moves`` / ``params.insertion_lns``
    switch off.
    """
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, params.first_solution.value
    )
    search.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    search.guided_local_search_lambda_coefficient = params.guided_local_search_lambda
    search.use_guided_local_search_penalties_in_local_search_operators = (
        params.penalties_in_operators
    )
    if stop.max_runtime_s is not None:
        search.time_limit.FromMilliseconds(max(1, int(stop.max_runtime_s * 1000)))
    if stop.first_feasible:
        search.solution_limit = 1
    search.log_search = params.log_search
    switched_off = (() if params.drop_moves else DROP_OPERATORS) + (
        () if params.insertion_lns else INSERTION_LNS_OPERATORS
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

    Each iteration removes about ``params.ruin_visits`` visits in strings of
    nearby routes (SISR), re-inserts them one by one where the whole
    objective grows least (local cheapest *cost* insertion: 0.90 % mean gap
    on Solomon at 10 s, against 1.04 % for arc-cost insertion and 1.34 % for
    parallel cheapest insertion),
    descends to a local optimum with the operators of ``search`` and accepts
    the result as the next reference plan by simulated annealing; the best
    plan is kept apart. Local search inside an iteration is a plain descent:
    guided local search would never hand back control to the iterations.

    Temperatures are absolute in OR-Tools (objective units), so they are set
    here from the model's mean arc cost and ``params``' fractions: the same
    fractions then suit kilometres in yen and Solomon's distances alike.
    OR-Tools' own ``automatic_temperatures`` (0.1 and 0.001 of a sampled mean
    arc) measured worse on Solomon (1.25 % mean gap at 10 s against 1.04 %
    for 0.3 and 0.003).

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
    sisr.max_removed_sequence_size = params.ruin_sequence
    sisr.avg_num_removed_visits = params.ruin_visits
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
    annealing.initial_temperature = params.annealing_start * scale
    annealing.final_temperature = params.annealing_end * scale
    annealing.automatic_temperatures = False
    ils.best_solution_acceptance_strategy.greedy_descent.SetInParent()


def mean_arc_cost_milli(m: _Model) -> float:
    """Mean cost of an arc between two nodes of the model, over its crew-days' rates."""
    distance = m.submatrix(m.travel.distance_m).astype(np.float64)
    duration = m.submatrix(m.travel.duration_s).astype(np.float64)
    weights = m.problem.weights
    rate = float(np.mean([m.problem.crew(cd.crew_id).cost_per_km_yen for cd in m.vehicles]))
    drive_milli_per_s = weights.drive_yen_per_hour * MILLI / 3600
    return float(np.mean(distance) * rate + np.mean(duration) * drive_milli_per_s)


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
        m: _Model,
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
        self.reason: str | None = None

    def at_solution(self) -> None:
        self.solutions += 1
        if self.first_solution_s is None:
            self.first_solution_s = time.monotonic() - self.started
        self._consider(int(self.m.routing.CostVar().Value()), lambda var: int(var.Value()))

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
        routes = _routes_of(self.m, value)
        assigned = sum(len(ids) for ids in routes.values())
        if self.progress is not None:
            self.progress(now - self.started, objective / MILLI, assigned)
        if self.report is not None:
            self.report(Improvement(now - self.started, objective, assigned, routes))

    def should_stop(self) -> bool:
        if is_cancelled(self.cancel):
            self.reason = "cancelled"
            return True
        if (
            self.no_improvement_s is not None
            and self.best is not None
            and time.monotonic() - self.last_improvement > self.no_improvement_s
        ):
            self.reason = "no_improvement"
            return True
        return False


def _build(
    problem: Problem,
    travel: TravelMatrix,
    candidates: Mapping[str, Sequence[tuple[str, int]]],
    seed: int,
) -> _Model:
    """Create the model with every rule and goal; jobs are shuffled by ``seed``."""
    jobs = [j for j in problem.jobs if candidates.get(j.id)]
    if seed:
        random.Random(seed).shuffle(jobs)
    m = _Model(
        problem=problem,
        travel=travel,
        jobs=jobs,
        vehicles=list(problem.crew_days),
        allowed={j.id: tuple(candidates[j.id]) for j in jobs},
    )
    _add_skill_and_day_rule(m)
    time_dim = _add_min_gap_slack(m)
    _add_shift(m, time_dim)
    _add_time_windows(m, time_dim)
    _add_max_utilization(m)
    jobs_dim = _add_max_jobs_per_day(m)
    _add_capacity(m)
    _add_locked_visits(m, time_dim, jobs_dim)
    _add_travel_costs(m)
    _add_lateness(m)
    _add_unassigned_penalties(m)
    _add_minimal_disruption(m)
    return m


def _warm_start_routes(m: _Model, plan: Plan) -> list[list[int]]:
    """The plan as routing indices per vehicle (unknown jobs and crew-days skipped)."""
    position = {job.id: k for k, job in enumerate(m.jobs)}
    routes: list[list[int]] = [[] for _ in m.vehicles]
    for key, job_ids in plan.routes.items():
        v = m.vehicle_of_key.get(tuple(key))  # type: ignore[arg-type]
        if v is None:
            continue
        routes[v] = [m.job_index(position[j]) for j in job_ids if j in position]
    return routes


def solve_routing(
    problem: Problem,
    travel: TravelMatrix,
    candidates: Mapping[str, Sequence[tuple[str, int]]],
    *,
    stop: AnyOf,
    params: SolveParams,
    progress: ProgressCallback | None = None,
    warm_start: Plan | None = None,
    cancel: CancelToken | None = None,
    deadline: float | None = None,
) -> RoutingOutcome:
    """Build the OR-Tools model and search.

    Parameters
    ----------
    problem, travel
        The problem and its travel matrix.
    candidates
        Crew-days each schedulable job fits on alone (jobs without any are left out).
    stop, params, progress, warm_start, cancel
        See :func:`scheduler.solve`.
    deadline
        ``time.monotonic()`` by which the search must end. The search gets the
        time left after building the model (instead of ``stop``'s whole
        ``MaxRuntime``), so a caller's limit bounds the wall time of the call.
        When nothing is left and the warm start is valid, the warm start is
        returned as it is.

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
    iterated = _runs_iterated_local_search(stop, params, deadline)
    if iterated and (cancel is not None or stop.no_improvement_s is not None):
        return _iterated_search_in_child(
            problem, travel, candidates, stop, params, progress, warm_start, cancel, deadline
        )
    return _solve_here(
        problem, travel, candidates, stop, params, progress, warm_start, cancel, deadline
    )


def _iterated_search_in_child(
    problem: Problem,
    travel: TravelMatrix,
    candidates: Mapping[str, Sequence[tuple[str, int]]],
    stop: AnyOf,
    params: SolveParams,
    progress: ProgressCallback | None,
    warm_start: Plan | None,
    cancel: CancelToken | None,
    deadline: float | None,
) -> RoutingOutcome:
    """:func:`solve_routing` in a child process, stopped from here by ``cancel`` or ``stop``."""
    if deadline is None and stop.max_runtime_s is not None:
        deadline = time.monotonic() + stop.max_runtime_s

    def search(report: Report) -> RoutingOutcome:
        return _solve_here(
            problem, travel, candidates, stop, params, None, warm_start, None, deadline, report
        )

    answer = run_in_child(
        search,
        progress=progress,
        cancel=cancel,
        no_improvement_s=stop.no_improvement_s,
        deadline=deadline,
    )
    if not isinstance(answer, Stopped):
        return answer
    jobs = [j.id for j in problem.jobs if candidates.get(j.id)]
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
        warm_start_used=warm_start is not None and answer.improvements == 1,
        solutions_seen=answer.improvements,
    )


def _solve_here(
    problem: Problem,
    travel: TravelMatrix,
    candidates: Mapping[str, Sequence[tuple[str, int]]],
    stop: AnyOf,
    params: SolveParams,
    progress: ProgressCallback | None,
    warm_start: Plan | None,
    cancel: CancelToken | None,
    deadline: float | None,
    report: Report | None = None,
) -> RoutingOutcome:
    """:func:`solve_routing` in this process (``report``: hand improvements to a parent)."""
    m = _build(problem, travel, candidates, params.seed)
    search = search_parameters(stop, params)
    limit_operator_neighbors(search, len(m.jobs))
    iterated = _runs_iterated_local_search(stop, params, deadline)
    if iterated:
        use_iterated_local_search(search, params, mean_arc_cost_milli(m))
    monitor = _Monitor(m, stop, progress, cancel, report)
    m.routing.AddAtSolutionCallback(monitor.at_solution)
    if stop.no_improvement_s is not None or cancel is not None:
        m.routing.AddSearchMonitor(m.routing.solver().CustomLimit(monitor.should_stop))
    m.routing.CloseModelWithParameters(search)
    monitor.started = monitor.last_improvement = time.monotonic()
    if iterated:
        return _iterated_search(m, search, monitor, stop, params, warm_start, deadline)
    initial = None
    if warm_start is not None:
        initial = m.routing.ReadAssignmentFromRoutes(_warm_start_routes(m, warm_start), True)
    warm_used = initial is not None
    if initial is None and params.constructions and not stop.first_feasible:
        cheapest = _cheapest_construction(m, search, params.constructions, deadline)
        initial = None if cheapest is None else cheapest[0]
    if deadline is not None:
        # The model build ate part of the budget: the search only gets what is left.
        left_s = deadline - time.monotonic()
        if left_s <= 0 and initial is not None:
            return _outcome(m, initial, monitor, "time_limit", warm_used)
        search.time_limit.FromMilliseconds(max(1, int(left_s * 1000)))
    limit_s = search.time_limit.ToMilliseconds() / 1000 if search.HasField("time_limit") else None
    if initial is not None:
        solution = m.routing.SolveFromAssignmentWithParameters(initial, search)
        if solution is None:
            # Stopped before the start plan was even re-evaluated: keep the start plan
            # rather than falling back to a construction that cannot be bounded.
            return _outcome(m, initial, monitor, monitor.reason or "time_limit", warm_used)
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
        params.metaheuristic is Metaheuristic.ITERATED_LOCAL_SEARCH
        and not stop.first_feasible
        and (stop.max_runtime_s is not None or deadline is not None)
    )


def _iterated_search(
    m: _Model,
    search: pywrapcp.DefaultRoutingSearchParameters,
    monitor: _Monitor,
    stop: AnyOf,
    params: SolveParams,
    warm_start: Plan | None,
    deadline: float | None,
) -> RoutingOutcome:
    """Iterated local search for the time left; the warm start wins if the search ends worse.

    OR-Tools' iterated local search always builds its own first plan, so a
    warm start cannot seed it; it is read back afterwards and kept when it
    is cheaper, so a caller's plan never gets worse. With
    ``params.constructions`` every listed construction is tried first and
    the search then starts from the cheapest one (rebuilt: constructions are
    deterministic).
    """
    if params.constructions:
        cheapest = _cheapest_construction(m, search, params.constructions, deadline)
        if cheapest is not None:
            search.first_solution_strategy = getattr(
                routing_enums_pb2.FirstSolutionStrategy, cheapest[1].value
            )
    initial = None
    if warm_start is not None:
        initial = m.routing.ReadAssignmentFromRoutes(_warm_start_routes(m, warm_start), True)
        if initial is not None:
            initial = m.routing.solver().Assignment(initial)  # a copy the search cannot change
            monitor.offer(initial)
    if deadline is not None:
        search.time_limit.FromMilliseconds(max(1, int((deadline - time.monotonic()) * 1000)))
    limit_s = search.time_limit.ToMilliseconds() / 1000
    solution = m.routing.SolveWithIteratedLocalSearch(search)
    runtime_s = time.monotonic() - monitor.started
    reason = monitor.reason or _stop_reason(stop, runtime_s, limit_s)
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
    return _outcome(m, solution, monitor, reason, False)


def _cheapest_construction(
    m: _Model,
    search: pywrapcp.DefaultRoutingSearchParameters,
    strategies: Sequence[FirstSolution],
    deadline: float | None,
) -> tuple[pywrapcp.Assignment, FirstSolution] | None:
    """Build a first plan with each strategy (no improvement) and keep the cheapest.

    Constructions take a fraction of a second on a 100-customer instance, and
    which one leads guided local search to the best plan differs from
    instance to instance; continuing from the cheapest start keeps the whole
    remaining time for one improving search instead of splitting it between
    restarts (measured on Solomon, see ``scheduler/vrptw.py``).
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


def _routes_of(m: _Model, value: Callable[[Any], int]) -> dict[tuple[str, int], list[str]]:
    """Job ids per used crew-day, reading each ``NextVar`` through ``value``."""
    routes: dict[tuple[str, int], list[str]] = {}
    for v, cd in enumerate(m.vehicles):
        index = value(m.routing.NextVar(m.routing.Start(v)))
        ids = []
        while not m.routing.IsEnd(index):
            ids.append(m.jobs[m.manager.IndexToNode(index)].id)
            index = value(m.routing.NextVar(index))
        if ids:
            routes[cd.key] = ids
    return routes


def _outcome(
    m: _Model,
    solution: pywrapcp.Assignment,
    monitor: _Monitor,
    stop_reason: str,
    warm_used: bool,
) -> RoutingOutcome:
    """Read job ids per crew-day out of an OR-Tools assignment."""
    routes = _routes_of(m, solution.Value)
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


def _stop_reason(stop: AnyOf, runtime_s: float, limit_s: float | None) -> str:
    """Why a search without a soft stop ended (``limit_s``: the search's own time limit)."""
    if stop.first_feasible:
        return "first_feasible"
    if limit_s is not None and runtime_s >= limit_s * 0.98:
        return "time_limit"
    return "search_completed"
