"""What comes out of the solver: routes with times, unassigned jobs with reasons, KPIs.

A :class:`Result` is plain data (frozen dataclasses, JSON-serialisable through
:meth:`Result.to_dict`). It is built from the order of jobs per crew-day alone
(:func:`build_result`): times come from :func:`scheduler.timing.schedule_route`
and costs from :func:`objective_terms`, so the solver, the greedy baseline and
the validator all agree on every number.

Money in the objective breakdown is in yen (floats, exact to 1/1000 yen).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from itertools import pairwise
from typing import Any

from scheduler.model import Crew, Job, Plan, Problem, Weights
from scheduler.phrases import fill
from scheduler.timing import Visit, preference_seconds, schedule_route
from scheduler.travel import TravelMatrix

MILLI = 1000
"""The solver's objective is integer milli-yen; reports divide by this."""

OBJECTIVE_TERMS = (
    "distance",
    "drive_time",
    "fixed",
    "lateness",
    "unassigned",
    "disruption",
    "preference",
)
"""Names of the objective terms, in the order they are reported."""


class Status(StrEnum):
    """Whether a plan came out (a ``str``: compares and serialises as its value)."""

    PLAN_FOUND = "plan_found"
    """The plan has routes, or nothing could or should be planned."""
    NO_PLAN_FOUND = "no_plan_found"
    """The search stopped before it placed any job that could be placed."""


class StopReason(StrEnum):
    """Why the search ended (a ``str``: compares and serialises as its value)."""

    TIME_LIMIT = "time_limit"
    NO_IMPROVEMENT = "no_improvement"
    FIRST_FEASIBLE = "first_feasible"
    CANCELLED = "cancelled"
    SEARCH_COMPLETED = "search_completed"
    SCREENED_OUT = "screened_out"
    """Nothing to plan: screening left no job that fits any crew-day."""


@dataclass(frozen=True)
class SolveInfo:
    """How a plan was found, beyond status and times (:attr:`Result.extra`).

    A field is ``None`` when the planner that made the result does not set it
    (the greedy baseline sets only ``planner``; a search that found no plan
    sets no ``repaired_jobs``).

    Attributes
    ----------
    planner
        ``"greedy"`` for :func:`scheduler.greedy.solve_greedy`; ``None`` for
        :func:`scheduler.solve`.
    solver_objective_yen
        The solver's own objective of its best plan, before the explanation
        step re-inserted jobs.
    warm_start_used
        Whether the caller's warm start was the plan the search started from.
    start
        What the search started from: ``"warm_start"``, ``"greedy"`` or
        ``"construction"`` (OR-Tools' own first plan).
    solutions_seen
        Plans the search reported (improvements).
    metaheuristic
        The metaheuristic that ran (``Metaheuristic.AUTO`` resolved).
    repaired_jobs
        Jobs the explanation step could still insert after the search.
    wall_s
        Wall time of the whole call.
    parallel
        How the search used more than one worker, if it was asked to
        (:meth:`scheduler.parts.PartsLog.as_dict`): the runner, how many
        parts ran where and how many at once, and notes on whatever did not
        run in parallel and why.
    """

    planner: str | None = None
    solver_objective_yen: float | None = None
    warm_start_used: bool | None = None
    start: str | None = None
    solutions_seen: int | None = None
    metaheuristic: str | None = None
    repaired_jobs: int | None = None
    wall_s: float | None = None
    parallel: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Reason:
    """Why a job is not in the plan: a stable ``rule`` code and a human sentence.

    Rule codes: ``skill``, ``members``, ``day``, ``shift``, ``window``,
    ``max_utilization``, ``capacity``, ``max_jobs``, ``locked``, ``lunch``
    (the visit leaves no room for the lunch of any crew-day it fits on),
    ``capacity_used`` (feasible alone, but the crew-days that could take it
    are full), ``not_worth`` (fits, but costs more than its unassigned penalty),
    ``search`` (the search stopped, by its time limit or cancellation, before
    it placed the job, or before it found any plan; never used for a job that
    was checked and found not worth its cost).
    """

    rule: str
    message: str
    """The English sentence, for logs: ``template.format(**params)``."""
    params: Mapping[str, object] = field(default_factory=dict, hash=False)
    """What fills the template: raw values (codes, ints, ``"HH:MM"``, :mod:`scheduler.phrases`)."""
    template: str = ""
    """Its template (one of :data:`scheduler.phrases.TEMPLATES`); empty for a free text."""

    @classmethod
    def of(cls, rule: str, template: str, **params: object) -> Reason:
        """A reason whose message is ``template`` filled with ``params``."""
        return cls(rule, fill(template, params), params, template)


@dataclass(frozen=True)
class Unassigned:
    """A job left out of the plan, with at least one reason."""

    job_id: str
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Route:
    """One crew-day's route with its totals.

    Attributes
    ----------
    depart_s, return_s
        When the crew leaves and is back home.
    distance_m, drive_s
        Travel of the whole route, home legs included.
    work_s
        Time on site.
    wait_s
        Planned free time between stops (sum of ``slack_before_s``).
    slack_s
        Free time in the shift: shift length minus work minus driving.
    utilization
        ``(work_s + drive_s) / shift length``.
    lunch_start_s, lunch_end_s
        The planned lunch break (``None`` when the crew-day has none, or when
        none fits: the validator then reports the rule ``lunch``).
    """

    crew_id: str
    day: int
    shift_start_s: int
    shift_end_s: int
    depart_s: int
    return_s: int
    visits: tuple[Visit, ...]
    return_travel_m: int
    return_travel_s: int
    distance_m: int
    drive_s: int
    work_s: int
    wait_s: int
    slack_s: int
    utilization: float
    lunch_start_s: int | None = None
    lunch_end_s: int | None = None

    @property
    def key(self) -> tuple[str, int]:
        """``(crew_id, day)``."""
        return (self.crew_id, self.day)

    @property
    def job_ids(self) -> tuple[str, ...]:
        """Jobs in visit order."""
        return tuple(v.job_id for v in self.visits)


@dataclass(frozen=True)
class Kpis:
    """Plan-level figures the coordinator and the benchmarks look at."""

    total_km: float
    drive_hours: float
    work_hours: float
    jobs_assigned: int
    jobs_unassigned: int
    crew_days_used: int
    mean_utilization: float
    mean_slack_s: float
    km_per_job: float
    promises_kept: int = 0
    """Planned jobs with a soft promise (day or slot) that is kept (costs nothing)."""
    promises_broken: int = 0
    """Planned jobs with a soft promise planned on another day or outside the slot."""


@dataclass(frozen=True)
class Result:
    """A plan and how it was found.

    Attributes
    ----------
    routes
        Non-empty crew-day routes, sorted by ``(day, crew_id)``.
    unassigned
        Jobs not planned, each with its reasons.
    kpis
        Plan-level figures.
    objective_yen
        Cost by term (see :data:`OBJECTIVE_TERMS`); :meth:`cost` is their sum.
    status
        :class:`Status`: ``"plan_found"`` when the plan has routes, or when
        nothing could or should be planned; ``"no_plan_found"`` when the
        search stopped before it placed any job that could be placed.
    stop_reason
        :class:`StopReason`: ``time_limit``, ``no_improvement``,
        ``first_feasible``, ``cancelled``, ``search_completed`` or
        ``screened_out`` (nothing to plan).
    runtime_s
        Wall time of the search phase (model building included from the
        second region on, see :mod:`scheduler.decompose`); the whole call's
        wall time is ``extra.wall_s``.
    first_solution_s
        Seconds until the first plan was found, when known.
    extra
        How the plan was found (:class:`SolveInfo`).
    """

    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    kpis: Kpis
    objective_yen: Mapping[str, float]
    status: Status = Status.PLAN_FOUND
    stop_reason: StopReason = StopReason.SEARCH_COMPLETED
    runtime_s: float = 0.0
    first_solution_s: float | None = None
    extra: SolveInfo = field(default_factory=SolveInfo)

    def cost(self) -> float:
        """Total objective in yen."""
        return float(sum(self.objective_yen.values()))

    def is_feasible(self) -> bool:
        """Whether a plan was found that keeps every locked visit.

        Unassigned jobs do not make a plan infeasible (they are priced); a
        dropped locked visit does, because the plan then moved something the
        coordinator froze.
        """
        if self.status != Status.PLAN_FOUND:
            return False
        return not any(r.rule == "locked" for u in self.unassigned for r in u.reasons)

    def route(self, crew_id: str, day: int) -> Route | None:
        """The route of a crew-day, or ``None`` when it has no visits."""
        for route in self.routes:
            if route.key == (crew_id, day):
                return route
        return None

    def assignment(self) -> dict[str, tuple[str, int]]:
        """``job_id -> (crew_id, day)`` for every planned job."""
        return {v.job_id: r.key for r in self.routes for v in r.visits}

    def to_plan(self) -> Plan:
        """The order of jobs per crew-day, e.g. to warm-start or as a reference."""
        return Plan(routes={r.key: r.job_ids for r in self.routes})

    def summary(self) -> str:
        """A short human-readable report (used by the CLI and logs)."""
        k = self.kpis
        lines = [
            f"status: {self.status} ({self.stop_reason}) after {self.runtime_s:.2f} s",
            f"cost: {self.cost():,.0f} yen "
            + ", ".join(f"{name} {value:,.0f}" for name, value in self.objective_yen.items()),
            f"jobs: {k.jobs_assigned} assigned, {k.jobs_unassigned} unassigned "
            f"on {k.crew_days_used} crew-days",
            f"travel: {k.total_km:.1f} km, {k.drive_hours:.1f} h driving; "
            f"work {k.work_hours:.1f} h",
            f"mean utilization {k.mean_utilization:.0%}, mean slack "
            f"{k.mean_slack_s / 60:.0f} min per crew-day",
        ]
        for u in self.unassigned:
            lines.append(f"unassigned {u.job_id}: " + "; ".join(r.message for r in u.reasons))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (tuples become lists, day keys stay fields)."""
        data = asdict(self)
        data["cost_yen"] = self.cost()
        data["objective_yen"] = dict(self.objective_yen)
        return data


def drive_cost_milli(duration_s: int, yen_per_hour: int) -> int:
    """Milli-yen of driving ``duration_s`` seconds, rounded half up per leg.

    The OR-Tools adapter applies exactly this rounding to each arc, so the
    solver's objective and :func:`objective_terms` agree to the milli-yen.
    """
    return (duration_s * yen_per_hour * MILLI + 1800) // 3600


def objective_terms(
    problem: Problem,
    travel: TravelMatrix,
    routes: Mapping[tuple[str, int], Sequence[str]],
    unassigned_ids: Sequence[str],
) -> dict[str, int]:
    """The objective by term, in integer milli-yen, recomputed from scratch.

    Parameters
    ----------
    problem, travel
        What is being planned and the travel matrix used for it.
    routes
        Job ids in visit order per ``(crew_id, day)``.
    unassigned_ids
        Jobs not planned.

    Returns
    -------
    dict[str, int]
        One entry per name in :data:`OBJECTIVE_TERMS`.
    """
    jobs = problem.jobs_by_id()
    crews = problem.crews_by_id()
    terms = dict.fromkeys(OBJECTIVE_TERMS, 0)
    for (crew_id, day), job_ids in routes.items():
        for name, milli in route_terms(problem, travel, crews[crew_id], day, job_ids).items():
            terms[name] += milli
    for job_id in unassigned_ids:
        terms["unassigned"] += problem.weights.unassigned_yen * jobs[job_id].priority * MILLI
    if problem.reference is not None:
        planned = {j: key for key, ids in routes.items() for j in ids}
        for job_id, key in problem.reference.assignment().items():
            if job_id in jobs and planned.get(job_id) != key:
                terms["disruption"] += problem.weights.disruption_yen * MILLI
    return terms


def route_terms(
    problem: Problem, travel: TravelMatrix, crew: Crew, day: int, job_ids: Sequence[str]
) -> dict[str, int]:
    """What one route costs, in milli-yen: travel, drive time, the fixed cost, lateness, promises.

    The terms of :func:`objective_terms` that depend on one crew-day alone
    (not ``unassigned`` nor ``disruption``); an empty route costs nothing.
    """
    terms = {"distance": 0, "drive_time": 0, "fixed": 0, "lateness": 0, "preference": 0}
    if not job_ids:
        return terms
    weights = problem.weights
    jobs = problem.jobs_by_id()
    stops = [travel.index(crew.home)]
    stops += [travel.index(jobs[j].location) for j in job_ids]
    stops.append(stops[0])
    for a, b in pairwise(stops):
        terms["distance"] += int(travel.distance_m[a, b]) * crew.cost_per_km_yen
        terms["drive_time"] += drive_cost_milli(
            int(travel.duration_s[a, b]), weights.drive_yen_per_hour
        )
    terms["fixed"] = weights.crew_day_fixed_yen * MILLI
    for job_id in job_ids:
        job = jobs[job_id]
        if job.due_day is not None and day > job.due_day:
            late_days = day - job.due_day
            terms["lateness"] += late_days * weights.lateness_yen_per_day * job.priority * MILLI
    if any(jobs[j].has_soft_promise for j in job_ids):
        schedule = schedule_route(
            problem, travel, problem.crew_days_by_key()[(crew.id, day)], job_ids
        )
        for visit in schedule.visits:
            terms["preference"] += sum(
                preference_milli(weights, jobs[visit.job_id], day, visit.start_s)
            )
    return terms


def preference_milli(weights: Weights, job: Job, day: int, start_s: int) -> tuple[int, int]:
    """What breaking a soft promise costs, in milli-yen: ``(day part, slot part)``.

    The day part is ``preferred_day_yen x priority`` when the job has preferred
    days and ``day`` is not one. The slot part prices each second the start's
    time of day (``start_s - day * DAY_S``) lies outside the promised slot
    (:meth:`~scheduler.model.Job.preferred_slot_s`), at
    :meth:`~scheduler.model.Weights.preferred_window_milli_per_s`. Hard
    promises and jobs without one cost nothing. The solver prices the day part
    exactly (a per-day unary dimension); the slot part is left to the timing
    (a visit waits for its slot when it can) and priced here only, so
    ``Result.extra.solver_objective_yen`` leaves it out.
    """
    if not job.has_soft_promise:
        return (0, 0)
    day_milli = 0
    if job.promised_days and day not in job.promised_days:
        day_milli = weights.preferred_day_yen * job.priority * MILLI
    outside_s = preference_seconds(job, day, start_s)
    return (day_milli, outside_s * weights.preferred_window_milli_per_s(job.priority))


def build_route(
    problem: Problem, travel: TravelMatrix, crew_id: str, day: int, job_ids: Sequence[str]
) -> Route:
    """Schedule one crew-day's jobs (earliest times) and total it up."""
    crew_day = problem.crew_days_by_key()[(crew_id, day)]
    schedule = schedule_route(problem, travel, crew_day, job_ids)
    jobs = problem.jobs_by_id()
    distance_m = sum(v.travel_m for v in schedule.visits) + schedule.return_travel_m
    drive_s = sum(v.travel_s for v in schedule.visits) + schedule.return_travel_s
    work_s = sum(jobs[j].duration_s for j in job_ids)
    shift_s = crew_day.shift_s
    return Route(
        crew_id=crew_id,
        day=day,
        shift_start_s=crew_day.shift_start_s,
        shift_end_s=crew_day.shift_end_s,
        depart_s=schedule.depart_s,
        return_s=schedule.return_s,
        visits=schedule.visits,
        return_travel_m=schedule.return_travel_m,
        return_travel_s=schedule.return_travel_s,
        distance_m=distance_m,
        drive_s=drive_s,
        work_s=work_s,
        wait_s=sum(v.slack_before_s for v in schedule.visits),
        slack_s=shift_s - work_s - drive_s,
        utilization=(work_s + drive_s) / shift_s if shift_s > 0 else 0.0,
        lunch_start_s=schedule.lunch_start_s,
        lunch_end_s=schedule.lunch_end_s,
    )


def compute_kpis(
    routes: Sequence[Route], jobs_unassigned: int, problem: Problem | None = None
) -> Kpis:
    """Plan-level figures from the routes (promises are counted when ``problem`` is given)."""
    used = [r for r in routes if r.visits]
    kept = broken = 0
    if problem is not None:
        jobs = problem.jobs_by_id()
        for route in used:
            for visit in route.visits:
                job = jobs[visit.job_id]
                if not job.has_soft_promise:
                    continue
                if sum(preference_milli(problem.weights, job, route.day, visit.start_s)):
                    broken += 1
                else:
                    kept += 1
    jobs_assigned = sum(len(r.visits) for r in used)
    total_km = sum(r.distance_m for r in used) / 1000.0
    return Kpis(
        total_km=total_km,
        drive_hours=sum(r.drive_s for r in used) / 3600.0,
        work_hours=sum(r.work_s for r in used) / 3600.0,
        jobs_assigned=jobs_assigned,
        jobs_unassigned=jobs_unassigned,
        crew_days_used=len(used),
        mean_utilization=sum(r.utilization for r in used) / len(used) if used else 0.0,
        mean_slack_s=sum(r.slack_s for r in used) / len(used) if used else 0.0,
        km_per_job=total_km / jobs_assigned if jobs_assigned else 0.0,
        promises_kept=kept,
        promises_broken=broken,
    )


def build_result(
    problem: Problem,
    travel: TravelMatrix,
    routes: Mapping[tuple[str, int], Sequence[str]],
    unassigned: Sequence[Unassigned],
    *,
    status: Status = Status.PLAN_FOUND,
    stop_reason: StopReason = StopReason.SEARCH_COMPLETED,
    runtime_s: float = 0.0,
    first_solution_s: float | None = None,
    extra: SolveInfo | None = None,
) -> Result:
    """Assemble a :class:`Result` from the order of jobs per crew-day.

    Parameters
    ----------
    problem, travel
        What was planned, and with which travel matrix.
    routes
        Job ids in visit order per ``(crew_id, day)``; empty routes are dropped.
    unassigned
        Jobs left out, with reasons.
    status, stop_reason, runtime_s, first_solution_s, extra
        How the plan was found (see :class:`Result`).

    Returns
    -------
    Result
        Routes with earliest-start times, KPIs and the objective breakdown.
    """
    built = sorted(
        (build_route(problem, travel, c, d, ids) for (c, d), ids in routes.items() if ids),
        key=lambda r: (r.day, r.crew_id),
    )
    terms = objective_terms(problem, travel, routes, [u.job_id for u in unassigned])
    return Result(
        routes=tuple(built),
        unassigned=tuple(sorted(unassigned, key=lambda u: u.job_id)),
        kpis=compute_kpis(built, len(unassigned), problem),
        objective_yen={name: value / MILLI for name, value in terms.items()},
        status=status,
        stop_reason=stop_reason,
        runtime_s=runtime_s,
        first_solution_s=first_solution_s,
        extra=extra or SolveInfo(),
    )
