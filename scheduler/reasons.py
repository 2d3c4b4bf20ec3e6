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
  alone but are not in the plan: try to insert the job at every position of
  every candidate route; if one insertion is valid the job was not worth its
  cost, otherwise the capacity of its crew-days went to other work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from scheduler.model import CrewDay, Job, Problem
from scheduler.result import Reason
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


def explain_dropped(
    problem: Problem,
    travel: TravelMatrix,
    routes: Mapping[tuple[str, int], Sequence[str]],
    job_ids: Sequence[str],
    candidates: Mapping[str, Sequence[tuple[str, int]]],
) -> dict[str, tuple[Reason, ...]]:
    """Explain jobs the solver left out although each fits alone somewhere.

    Parameters
    ----------
    problem, travel
        The problem and its travel matrix.
    routes
        The final plan: job ids in visit order per crew-day.
    job_ids
        The dropped jobs to explain.
    candidates
        Crew-days each job fits on alone (from :func:`screen`).

    Returns
    -------
    dict[str, tuple[Reason, ...]]
        One or more reasons per job: ``not_worth`` when a valid insertion
        exists, ``capacity_used`` otherwise, ``locked`` added for locked jobs.
    """
    jobs = problem.jobs_by_id()
    explained: dict[str, tuple[Reason, ...]] = {}
    for job_id in job_ids:
        job = jobs[job_id]
        keys = list(candidates.get(job_id, ()))
        insertion = _find_valid_insertion(problem, travel, routes, job_id, keys)
        reasons: list[Reason] = []
        if job.fixed is not None:
            reasons.append(
                Reason(
                    "locked",
                    "locked visit conflicts with the other locked visits or the "
                    "rules of its crew-day",
                )
            )
        if insertion is not None:
            penalty = problem.weights.unassigned_yen * job.priority
            reasons.append(
                Reason(
                    "not_worth",
                    f"fits on crew {insertion[0]} day {insertion[1]}, but adding "
                    f"it costs more than leaving it unassigned ({penalty:,} yen)",
                )
            )
        else:
            planned = [jobs[j].priority for key in keys for j in routes.get(key, ())]
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
    return explained


def _find_valid_insertion(
    problem: Problem,
    travel: TravelMatrix,
    routes: Mapping[tuple[str, int], Sequence[str]],
    job_id: str,
    keys: Sequence[tuple[str, int]],
) -> tuple[str, int] | None:
    """A crew-day where inserting the job somewhere keeps the route valid, if any."""
    checks = 0
    for crew_id, day in keys:
        route = list(routes.get((crew_id, day), ()))
        for position in range(len(route) + 1):
            checks += 1
            if checks > MAX_INSERTION_CHECKS:
                return None
            candidate = [*route[:position], job_id, *route[position:]]
            if not validate_route(problem, crew_id, day, candidate, travel):
                return (crew_id, day)
    return None
