"""Why a job cannot be (or was not) planned, computed by checks, not guessed.

Two moments:

* :func:`screen`, **before** the solver: each job is checked alone against
  every crew-day (skills, members, dates, capacity, and whether the visit fits
  in the shift and a window with the travel from and back home). Jobs with no
  crew-day left are reported with the rule that removed the last candidates
  and never reach OR-Tools (an empty window would crash the model build, see
  ``/work/shared/NOTES.md``). The other jobs get their feasible crew-days,
  which the adapter uses as the allowed vehicles.
* :func:`explain_dropped`, **after** the solver, for jobs that were feasible
  alone but are not in the plan: find the cheapest valid insertion into the
  plan. Cheaper than leaving the job out: the search had not got to it (it was
  stopped), so the job is inserted. Dearer: the job was not worth its cost.
  None valid: the capacity of its crew-days went to other work. A job is
  never called ``not_worth`` when the clock was the reason.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from scheduler.model import CrewDay, Job, Problem
from scheduler.result import MILLI, Reason
from scheduler.travel import TravelMatrix
from scheduler.validate import validate_route

MAX_INSERTION_CHECKS = 2_000
"""Insertion attempts per dropped job before giving up on finding a valid one."""


@dataclass(frozen=True)
class Screening:
    """Outcome of :func:`screen`.

    Attributes
    ----------
    candidates
        ``job_id -> crew-day keys`` on which the job fits on its own.
    impossible
        ``job_id -> reasons`` for jobs that fit on no crew-day.
    """

    candidates: Mapping[str, tuple[tuple[str, int], ...]]
    impossible: Mapping[str, tuple[Reason, ...]]


def screen(problem: Problem, travel: TravelMatrix) -> Screening:
    """Find, for every job, the crew-days that could take it alone.

    Parameters
    ----------
    problem, travel
        The problem and its travel matrix.

    Returns
    -------
    Screening
        Candidates per schedulable job and reasons per impossible job.
    """
    days = _CrewDayArrays(problem, travel)
    candidates: dict[str, tuple[tuple[str, int], ...]] = {}
    impossible: dict[str, tuple[Reason, ...]] = {}
    for job in problem.jobs:
        keys, reasons = _screen_job(problem, travel, days, job)
        if keys:
            candidates[job.id] = keys
        else:
            impossible[job.id] = reasons
    return Screening(candidates=candidates, impossible=impossible)


class _CrewDayArrays:
    """Crew-day attributes as NumPy arrays, so each job is checked in one vector pass."""

    def __init__(self, problem: Problem, travel: TravelMatrix) -> None:
        self.crew_days: tuple[CrewDay, ...] = problem.crew_days
        crews = problem.crews_by_id()
        homes = [travel.index(crews[cd.crew_id].home) for cd in self.crew_days]
        self.home = np.asarray(homes, dtype=np.int64)
        self.day = np.asarray([cd.day for cd in self.crew_days], dtype=np.int64)
        self.shift_start = np.asarray([cd.shift_start_s for cd in self.crew_days], dtype=np.int64)
        self.shift_end = np.asarray([cd.shift_end_s for cd in self.crew_days], dtype=np.int64)
        self.busy_cap = np.asarray([problem.busy_cap_s(cd) for cd in self.crew_days], np.int64)
        self.crew_ids = [cd.crew_id for cd in self.crew_days]
        self.crews = crews


def _screen_job(
    problem: Problem, travel: TravelMatrix, days: _CrewDayArrays, job: Job
) -> tuple[tuple[tuple[str, int], ...], tuple[Reason, ...]]:
    """Filter the crew-days rule by rule; the rule that removes the last one is the reason."""
    n = len(days.crew_days)
    alive = np.ones(n, dtype=bool)
    locked_prefix: tuple[Reason, ...] = ()
    if job.fixed is not None:
        fixed_key = (job.fixed.crew_id, job.fixed.day)
        alive &= np.asarray([cd.key == fixed_key for cd in days.crew_days], dtype=bool)
        locked_prefix = (
            Reason(
                "locked",
                f"locked on crew {fixed_key[0]} day {fixed_key[1]}, where it cannot be kept",
            ),
        )
        if not alive.any():
            return (), (
                Reason(
                    "locked",
                    f"locked on crew {fixed_key[0]} day {fixed_key[1]}, "
                    "which is not a crew-day of this problem",
                ),
            )

    def fail(rule: str, message: str) -> tuple[tuple[tuple[str, int], ...], tuple[Reason, ...]]:
        return (), (*locked_prefix, Reason(rule, message))

    crews = days.crews
    has_skills = {cid: job.required_skills <= c.skills for cid, c in crews.items()}
    alive &= np.asarray([has_skills[cid] for cid in days.crew_ids], dtype=bool)
    if not alive.any():
        skills = ", ".join(sorted(job.required_skills))
        return fail("skill", f"no crew has the skill(s) {skills}")
    alive &= np.asarray([crews[cid].members >= job.members_needed for cid in days.crew_ids])
    if not alive.any():
        return fail("members", f"no crew with the skills has {job.members_needed} members")
    alive &= np.asarray([job.day_allowed(int(d)) for d in days.day], dtype=bool)
    if not alive.any():
        return fail("day", _day_message(problem, job))
    capacity = [crews[cid].capacity_units for cid in days.crew_ids]
    alive &= np.asarray([c is None or c >= job.demand_units for c in capacity], dtype=bool)
    if not alive.any():
        return fail(
            "capacity",
            f"demand of {job.demand_units} units exceeds the capacity of every qualified crew",
        )
    max_jobs = [crews[cid].max_jobs_per_day for cid in days.crew_ids]
    alive &= np.asarray([m is None or m >= 1 for m in max_jobs], dtype=bool)
    if not alive.any():
        return fail("max_jobs", "every qualified crew may do 0 jobs a day")

    site = travel.index(job.location)
    out_s = travel.duration_s[days.home, site]
    back_s = travel.duration_s[site, days.home]
    round_trip_s = out_s + job.duration_s + back_s
    alive &= days.shift_start + round_trip_s <= days.shift_end
    if not alive.any():
        return fail(
            "shift",
            f"the visit ({job.duration_s // 60} min) with the drive from and "
            "back home does not fit in any qualified crew's shift",
        )
    alive &= round_trip_s <= days.busy_cap
    if not alive.any():
        return fail(
            "max_utilization",
            "the visit with the drive from and back home exceeds "
            "every qualified crew-day's utilization cap",
        )
    windows = job.start_windows()
    if windows:
        earliest = days.shift_start + out_s
        latest = days.shift_end - back_s - job.duration_s
        reachable = np.zeros(n, dtype=bool)
        for w in windows:
            reachable |= np.maximum(earliest, w.start_s) <= np.minimum(latest, w.end_s)
        alive &= reachable
        if not alive.any():
            return fail(
                "window",
                "no access window can be reached from a qualified crew's "
                "home and left in time to be back by the end of the shift",
            )
    keys = tuple(days.crew_days[i].key for i in np.flatnonzero(alive))
    return keys, ()


def _day_message(problem: Problem, job: Job) -> str:
    """Say whether no day is allowed at all or just no qualified crew works then."""
    horizon = sorted({cd.day for cd in problem.crew_days})
    if not any(job.day_allowed(d) for d in horizon):
        parts = []
        if job.earliest_day is not None:
            parts.append(f"earliest day {job.earliest_day}")
        if job.due_is_hard and job.due_day is not None:
            parts.append(f"hard due day {job.due_day}")
        if job.unavailable_days:
            parts.append(f"unavailable days {sorted(job.unavailable_days)}")
        return "no allowed day in the horizon (" + ", ".join(parts) + ")"
    return "no qualified crew works on an allowed day"


@dataclass(frozen=True)
class Explanation:
    """Outcome of :func:`explain_dropped`.

    Attributes
    ----------
    routes
        The plan after repair: the solver's routes plus the jobs inserted.
    inserted
        Jobs the search had left out that were inserted because a valid
        position cost less than leaving them out.
    reasons
        ``job_id -> reasons`` for every job still left out.
    """

    routes: dict[tuple[str, int], list[str]]
    inserted: tuple[str, ...]
    reasons: dict[str, tuple[Reason, ...]]


def explain_dropped(
    problem: Problem,
    travel: TravelMatrix,
    routes: Mapping[tuple[str, int], Sequence[str]],
    job_ids: Sequence[str],
    candidates: Mapping[str, Sequence[tuple[str, int]]],
    *,
    search_cut: bool = False,
    deadline: float | None = None,
) -> Explanation:
    """Explain (or place) jobs the solver left out although each fits alone somewhere.

    For each dropped job (higher priority first) the cheapest valid insertion
    into the current plan is looked for. If it costs less than leaving the job
    out, the search simply had not got there (typically it was stopped by the
    time limit): the job is inserted, so the plan gets better and no job is
    blamed on its cost when it was the clock. Otherwise the job is explained.

    Parameters
    ----------
    problem, travel
        The problem and its travel matrix.
    routes
        The solver's plan: job ids in visit order per crew-day.
    job_ids
        The dropped jobs to explain.
    candidates
        Crew-days each job fits on alone (from :func:`screen`).
    search_cut
        Whether the search was stopped (time limit, cancellation, first
        plan) rather than having converged; only changes the wording.
    deadline
        ``time.monotonic()`` after which no more insertions are checked; jobs
        not checked by then get the rule ``search``.

    Returns
    -------
    Explanation
        The repaired plan and, per job still out, one or more reasons:
        ``not_worth`` when a valid insertion exists but costs more than the
        job's unassigned penalty, ``capacity_used`` when none exists,
        ``search`` when the time ran out before the job could be placed or
        checked, ``locked`` added for locked jobs.
    """
    jobs = problem.jobs_by_id()
    plan = {key: list(ids) for key, ids in routes.items()}
    costs = _InsertionCosts(problem, travel)
    inserted: list[str] = []
    explained: dict[str, tuple[Reason, ...]] = {}
    order = sorted(job_ids, key=lambda j: (-jobs[j].priority, j))
    for job_id in order:
        job = jobs[job_id]
        reasons: list[Reason] = []
        if job.fixed is not None:
            reasons.append(
                Reason(
                    "locked",
                    "locked visit conflicts with the other locked visits or the "
                    "rules of its crew-day",
                )
            )
        if deadline is not None and time.monotonic() > deadline:
            reasons.append(
                Reason(
                    "search",
                    "the search stopped before this job could be placed "
                    "(time limit reached before it was checked)",
                )
            )
            explained[job_id] = tuple(reasons)
            continue
        keys = list(candidates.get(job_id, ()))
        penalty_milli = costs.unassigned_milli(job)
        insertion = _cheapest_valid_insertion(problem, travel, costs, plan, job, keys)
        if insertion is not None and insertion.added_milli < penalty_milli and job.fixed is None:
            plan.setdefault(insertion.key, []).insert(insertion.position, job_id)
            inserted.append(job_id)
            continue
        if insertion is not None and insertion.added_milli < penalty_milli:
            when = "was stopped" if search_cut else "ended"
            reasons.append(
                Reason(
                    "search",
                    f"the search {when} before this job could be placed; it fits on crew "
                    f"{insertion.key[0]} day {insertion.key[1]}",
                )
            )
        elif insertion is not None:
            penalty = penalty_milli // 1000
            reasons.append(
                Reason(
                    "not_worth",
                    f"fits on crew {insertion.key[0]} day {insertion.key[1]}, but adding "
                    f"it costs more than leaving it unassigned ({penalty:,} yen)",
                )
            )
        else:
            planned = [jobs[j].priority for key in keys for j in plan.get(key, ())]
            if planned and min(planned) >= job.priority:
                who = "work of equal or higher priority"
            else:
                who = "other work (lower-priority jobs there are cheaper to serve)"
            reasons.append(
                Reason(
                    "capacity_used",
                    f"fits alone on {len(keys)} crew-day(s), but their time is used up by {who}",
                )
            )
        explained[job_id] = tuple(reasons)
    return Explanation(
        routes={key: ids for key, ids in plan.items() if ids},
        inserted=tuple(inserted),
        reasons=explained,
    )


@dataclass(frozen=True)
class _Insertion:
    key: tuple[str, int]
    position: int
    added_milli: int


class _InsertionCosts:
    """Objective change of inserting a job into a route, in milli-yen.

    The same terms as :func:`scheduler.result.objective_terms` (distance x the
    crew's rate, drive time, the crew-day's fixed cost when the route was
    empty, lateness, disruption), computed for one position without
    rebuilding the route.
    """

    def __init__(self, problem: Problem, travel: TravelMatrix) -> None:
        self.problem = problem
        self.travel = travel
        self.crews = problem.crews_by_id()
        self.jobs = problem.jobs_by_id()
        self.reference = problem.reference.assignment() if problem.reference else {}

    def unassigned_milli(self, job: Job) -> int:
        """What leaving the job out costs (the solver's disjunction penalty)."""
        weights = self.problem.weights
        penalty = weights.unassigned_yen * job.priority * MILLI
        if job.id in self.reference:
            penalty += weights.disruption_yen * MILLI
        return penalty

    def positions(
        self, key: tuple[str, int], route: Sequence[str], job: Job
    ) -> npt.NDArray[np.int64]:
        """Added cost of inserting ``job`` before each position ``0..len(route)``."""
        weights = self.problem.weights
        crew = self.crews[key[0]]
        home = self.travel.index(crew.home)
        stops = np.asarray(
            [home, *(self.travel.index(self.jobs[j].location) for j in route), home],
            dtype=np.int64,
        )
        site = self.travel.index(job.location)

        def arc_milli(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> Any:
            metres = self.travel.distance_m[a, b] * crew.cost_per_km_yen
            seconds = self.travel.duration_s[a, b]
            return metres + (seconds * weights.drive_yen_per_hour * MILLI + 1800) // 3600

        before, after = stops[:-1], stops[1:]
        added = arc_milli(before, np.full_like(before, site)) + arc_milli(
            np.full_like(after, site), after
        )
        added = added - arc_milli(before, after)
        fixed = 0 if route else weights.crew_day_fixed_yen * MILLI
        late = 0
        if job.due_day is not None and key[1] > job.due_day:
            late = (key[1] - job.due_day) * weights.lateness_yen_per_day * job.priority * MILLI
        moved = 0
        if job.id in self.reference and self.reference[job.id] != key:
            moved = weights.disruption_yen * MILLI
        return np.asarray(added + fixed + late + moved, dtype=np.int64)


def _cheapest_valid_insertion(
    problem: Problem,
    travel: TravelMatrix,
    costs: _InsertionCosts,
    plan: Mapping[tuple[str, int], Sequence[str]],
    job: Job,
    keys: Sequence[tuple[str, int]],
) -> _Insertion | None:
    """The cheapest position (over the job's crew-days) where the route stays valid.

    Positions are tried cheapest first, so the first valid one is the answer
    and the expensive rule check runs as rarely as possible; at most
    :data:`MAX_INSERTION_CHECKS` checks per job.
    """
    options: list[tuple[int, int, int]] = []  # (added milli-yen, key number, position)
    for number, key in enumerate(keys):
        added = costs.positions(key, plan.get(key, ()), job)
        options.extend((int(a), number, p) for p, a in enumerate(added))
    options.sort()
    for added_milli, number, position in options[:MAX_INSERTION_CHECKS]:
        crew_id, day = keys[number]
        route = list(plan.get((crew_id, day), ()))
        candidate = [*route[:position], job.id, *route[position:]]
        if not validate_route(problem, crew_id, day, candidate, travel):
            return _Insertion((crew_id, day), position, added_milli)
    return None
