"""The OR-Tools routing model: one small function per rule, hard rules first, then soft goals.

With :mod:`scheduler.ortools_search` (how the model is searched), the only
modules that import OR-Tools. Mapping (nothing outside these two modules sees
a routing index):

* one **vehicle per crew-day**, starting and ending at the crew's home node;
* one **node per job** that survived screening (:func:`scheduler.reasons.screen`),
  then one node per crew home;
* **time** cumul = start of service on the absolute seconds axis.

The objective is integer milli-yen, so it matches
:func:`scheduler.result.objective_terms` exactly (plus a large penalty for
dropping a locked visit, which only exists to keep the model solvable when two
locked visits collide).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt
from ortools.constraint_solver import pywrapcp
from ortools.graph.python import linear_sum_assignment

from scheduler.model import DAY_S, CrewDay, Job, Plan, Problem, TimeWindow
from scheduler.result import MILLI, drive_cost_milli
from scheduler.travel import TravelMatrix

LOCKED_DROP_PENALTY_MILLI = 10**13
"""Cost of dropping a locked visit: above any realistic plan, yet far from int64 overflow."""


@dataclass
class Model:
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

    @property
    def has_breaks(self) -> bool:
        """Whether some crew-day has a lunch (vehicle breaks, see ``_add_lunch_breaks``)."""
        return any(cd.lunch is not None for cd in self.vehicles)

    def crew(self, vehicle: int) -> str:
        return self.vehicles[vehicle].crew_id

    def offset_s(self, vehicle: int) -> int:
        """Model time 0 of this vehicle's day, in absolute seconds."""
        return self.day_offset_s[self.vehicles[vehicle].day]


# ----------------------------------------------------------------------------- hard rules


def _add_skill_and_day_rule(m: Model) -> None:
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


def _min_gap_transits(m: Model, gap_s: int) -> npt.NDArray[np.int64]:
    """Time transit of an arc: service at the origin + driving + the minimum gap.

    The gap is added only between two jobs, never on the legs from or to home.
    OR-Tools' slack variable is only an *upper* bound on waiting, so the
    minimum free time has to be part of the transit itself.
    """
    transit = m.service_s[:, None] + m.submatrix(m.travel.duration_s)
    if gap_s:
        transit = transit + gap_s * (m.is_job[:, None] & m.is_job[None, :])
    return transit


def _add_min_gap_slack(m: Model) -> pywrapcp.RoutingDimension:
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


def _add_shift(m: Model, time_dim: pywrapcp.RoutingDimension) -> None:
    """Each route leaves home at or after the shift start and is back by its end."""
    for v, cd in enumerate(m.vehicles):
        start_s, end_s = cd.shift_start_s - m.offset_s(v), cd.shift_end_s - m.offset_s(v)
        time_dim.CumulVar(m.routing.Start(v)).SetRange(start_s, end_s)
        time_dim.CumulVar(m.routing.End(v)).SetRange(start_s, end_s)


def _add_time_windows(m: Model, time_dim: pywrapcp.RoutingDimension) -> None:
    """A visit starts inside one of its windows (a locked start is a one-point window).

    Time in the model runs per day: a vehicle's clock reads seconds since its
    day's midnight (:attr:`Model.day_offset_s`), so a job that may be done
    on several days with the same daily windows (the usual case: "weekdays
    9:00-15:00") has one window in model time and a domain without holes.
    On the absolute axis its domain would be the five windows' hull minus
    four nights, which the CP solver removes value by value (measured cost:
    ``docs/BENCHMARKS.md``, "Why the solver defaults are what they are").

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
    m: Model, windows: Sequence[TimeWindow], day: int
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
    m: Model,
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


def _add_lunch_breaks(m: Model, time_dim: pywrapcp.RoutingDimension) -> None:
    """Each crew-day with a lunch takes it once, inside its window, between visits.

    OR-Tools' vehicle breaks: a fixed-duration interval in the vehicle's model
    time; with the service times as node visit transits the break cannot
    overlap on-site work, and the rest of an arc's transit (driving and the
    minimum gap) has to fit beside the break between the two visits, which is
    the rule of :mod:`scheduler.timing`. It may also fall before the start or
    after the end of the route. Only crew-days with a lunch get a break, so a
    problem without lunches builds the same model as before.
    """
    lunches = [(v, cd.lunch) for v, cd in enumerate(m.vehicles) if cd.lunch is not None]
    if not lunches:
        return
    solver = m.routing.solver()
    size = m.routing.Size() + len(m.vehicles)
    visit_transits = [0] * size
    for index in range(m.routing.Size()):
        visit_transits[index] = int(m.service_s[m.manager.IndexToNode(index)])
    for v, lunch in lunches:
        offset_s = m.offset_s(v)
        interval = solver.FixedDurationIntervalVar(
            lunch.earliest_start_s - offset_s,
            lunch.latest_start_s - offset_s,
            lunch.duration_s,
            False,
            f"lunch {v}",
        )
        time_dim.SetBreakIntervalsOfVehicle([interval], v, visit_transits)


def _add_max_utilization(m: Model) -> None:
    """Work + travel of a crew-day stay below floor(max_utilization x (shift - lunch)).

    A second dimension without the gap and without waiting, capped per vehicle.
    Skipped when no cap is tighter than the shift (minus lunch) itself: the
    route cannot be busier than that anyway.
    """
    caps = [m.problem.busy_cap_s(cd) for cd in m.vehicles]
    if all(cap >= cd.working_s for cap, cd in zip(caps, m.vehicles, strict=True)):
        return
    busy = m.service_s[:, None] + m.submatrix(m.travel.duration_s)
    callback = m.routing.RegisterTransitMatrix(busy.tolist())
    m.routing.AddDimensionWithVehicleCapacity(callback, 0, caps, True, "busy")


def _add_max_jobs_per_day(m: Model) -> pywrapcp.RoutingDimension | None:
    """Count visits per crew-day; the count cumul is also a visit's 0-based position."""
    crews = [m.problem.crew(cd.crew_id) for cd in m.vehicles]
    needs_positions = any(j.fixed is not None and j.fixed.sequence is not None for j in m.jobs)
    if not needs_positions and all(c.max_jobs_per_day is None for c in crews):
        return None
    ones = m.routing.RegisterUnaryTransitVector(m.is_job.astype(np.int64).tolist())
    limits = [len(m.jobs) if c.max_jobs_per_day is None else c.max_jobs_per_day for c in crews]
    m.routing.AddDimensionWithVehicleCapacity(ones, 0, limits, True, "jobs")
    return m.routing.GetDimensionOrDie("jobs")


def _add_capacity(m: Model) -> None:
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
    m: Model, time_dim: pywrapcp.RoutingDimension, jobs_dim: pywrapcp.RoutingDimension | None
) -> None:
    """Locked visits keep crew-day (via screening), start (as a window) and position."""
    for k, job in enumerate(m.jobs):
        if job.fixed is None or job.fixed.sequence is None or jobs_dim is None:
            continue
        jobs_dim.CumulVar(m.job_index(k)).SetValue(job.fixed.sequence)


# ----------------------------------------------------------------------------- soft goals


def _add_travel_costs(m: Model) -> None:
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


def _add_lateness(m: Model) -> None:
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


def _add_preferred_days(m: Model) -> None:
    """A soft-promised job on a non-preferred day costs ``preferred_day_yen x priority``.

    Like :func:`_add_minimal_disruption`: a unary dimension whose transit at a
    job is its priority when the vehicle's day is not one it was promised,
    priced by the span cost. One callback per distinct day (not per vehicle).
    """
    weights = m.problem.weights
    promised = [
        (k, job)
        for k, job in enumerate(m.jobs)
        if job.has_soft_promise
        and job.promised_days
        and any(day not in job.promised_days for _, day in m.allowed[job.id])
    ]
    if not promised or weights.preferred_day_yen == 0:
        return
    callback_of_day = {}
    for day in sorted({cd.day for cd in m.vehicles}):
        off = [0] * m.num_nodes
        for k, job in promised:
            if day not in job.promised_days:
                off[k] = job.priority
        callback_of_day[day] = m.routing.RegisterUnaryTransitVector(off)
    capacity = sum(job.priority for _, job in promised)
    m.routing.AddDimensionWithVehicleTransits(
        [callback_of_day[cd.day] for cd in m.vehicles], 0, capacity, True, "preferred_day"
    )
    dimension = m.routing.GetDimensionOrDie("preferred_day")
    dimension.SetSpanCostCoefficientForAllVehicles(weights.preferred_day_yen * MILLI)


def _add_unassigned_penalties(m: Model) -> None:
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


def _add_minimal_disruption(m: Model) -> None:
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


# ----------------------------------------------------------------------------- building


def build_model(
    problem: Problem,
    travel: TravelMatrix,
    candidates: Mapping[str, Sequence[tuple[str, int]]],
    seed: int,
) -> Model:
    """Create the model with every rule and goal; jobs are shuffled by ``seed``."""
    jobs = [j for j in problem.jobs if candidates.get(j.id)]
    if seed:
        random.Random(seed).shuffle(jobs)
    m = Model(
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
    _add_lunch_breaks(m, time_dim)
    _add_max_utilization(m)
    jobs_dim = _add_max_jobs_per_day(m)
    _add_capacity(m)
    _add_locked_visits(m, time_dim, jobs_dim)
    _add_travel_costs(m)
    _add_lateness(m)
    _add_unassigned_penalties(m)
    _add_minimal_disruption(m)
    _add_preferred_days(m)
    # Soft promised slots are not modelled: with OR-Tools' soft cumul bounds
    # (9.15), reading a plan back took the whole time limit for some routes,
    # the search from the greedy start never began, and iterated local search's
    # own construction overran a 6 s limit by 6 s (150-job week). The timing
    # lets visits wait for their slot instead (scheduler.timing), and the
    # result prices what is left (term "preference").
    return m


def warm_start_routes(m: Model, plan: Plan) -> list[list[int]]:
    """The plan as routing indices per vehicle (unknown jobs and crew-days skipped)."""
    position = {job.id: k for k, job in enumerate(m.jobs)}
    routes: list[list[int]] = [[] for _ in m.vehicles]
    for key, job_ids in plan.routes.items():
        v = m.vehicle_of_key.get(tuple(key))  # type: ignore[arg-type]
        if v is None:
            continue
        routes[v] = [m.job_index(position[j]) for j in job_ids if j in position]
    return routes


def routes_of(m: Model, value: Callable[[Any], int]) -> dict[tuple[str, int], list[str]]:
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


def mean_arc_cost_milli(m: Model) -> float:
    """Mean cost of an arc between two nodes of the model, over its crew-days' rates."""
    distance = m.submatrix(m.travel.distance_m).astype(np.float64)
    duration = m.submatrix(m.travel.duration_s).astype(np.float64)
    weights = m.problem.weights
    rate = float(np.mean([m.problem.crew(cd.crew_id).cost_per_km_yen for cd in m.vehicles]))
    drive_milli_per_s = weights.drive_yen_per_hour * MILLI / 3600
    return float(np.mean(distance) * rate + np.mean(duration) * drive_milli_per_s)


# ----------------------------------------------------------------------------- assignment


def min_cost_assignment(
    tails: npt.NDArray[np.int32],
    heads: npt.NDArray[np.int32],
    costs: npt.NDArray[np.int64],
    rows: int,
) -> list[int]:
    """Minimum-cost perfect matching of a bipartite graph given as arcs (OR-Tools' solver).

    Parameters
    ----------
    tails, heads, costs
        One entry per allowed arc: left node, right node, cost.
    rows
        How many left nodes to read the mate of (``0 .. rows - 1``).

    Returns
    -------
    list[int]
        The right node matched to each of the first ``rows`` left nodes.

    Raises
    ------
    RuntimeError
        When no perfect matching exists.
    """
    solver = linear_sum_assignment.SimpleLinearSumAssignment()
    solver.add_arcs_with_cost(tails, heads, costs)
    status = solver.solve()
    if status != solver.OPTIMAL:
        raise RuntimeError(f"route matching failed with status {status}")
    return [int(solver.right_mate(i)) for i in range(rows)]
