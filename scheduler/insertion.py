"""Insert one new job into a live schedule without moving anything already there.

A support operator on the phone needs dates to offer a customer *now*, and
the published schedule is a promise to crews and customers: nothing on it may
move. So this is not an optimization but a search for gaps. Given a
:class:`~scheduler.model.Problem` whose existing jobs are all fixed
(:class:`~scheduler.model.FixedAssignment` with a ``start_s``: their crew,
day and start time; their order follows from the starts), the routes that
hold them, and one new job, :func:`find_insertions` returns the places where
the new job fits: a crew-day and a position in its route (a gap between two
visits, before the first, after the last, or alone on an empty open
crew-day) such that **every hard rule still holds** for the whole route:
skills, members, the job's dates and access windows, the shift with the
drive home, the minimum gap between stops, the lunch break (inside its own
window; a caller pins a published lunch by giving it a one-instant window),
the utilization cap, the number of jobs per day and the equipment capacity.

How:

1. *Screen* (NumPy, every gap of every qualifying crew-day at once): the
   new job's earliest start in a gap (drive from the previous stop, the
   minimum gap, its start windows: :func:`scheduler.greedy._first_start`)
   must leave time for the visit, the drive and the gap before the next
   fixed start (or home before the shift ends); the day must allow one more
   job, its units and its extra work and drive under the cap. These are
   necessary conditions, so the screen never discards a feasible gap.
2. *Check* the survivors day by day, earliest first, with the scheduler's own
   rules: the route's earliest schedule (:func:`scheduler.timing.schedule_route`:
   the fixed visits keep their starts or the route misses a window) and then
   the validator (:func:`scheduler.validate.validate_route`). A route that
   already broke a rule before the insertion (a coordinator's pin) may keep
   that violation of *its* visits, never gain one, and never a route-wide one.
3. Stop once ``limit`` crew-days have a slot and the day is over: later
   days can only start later. One slot per crew-day: its earliest start.

When nothing fits, :func:`no_slot_reasons` says why with the planner's own
reasons (:func:`scheduler.greedy.unassigned_reasons`: no crew with the
skills, no allowed day, longer than every access window...) or, when the job
would fit an empty day of a qualifying crew, that the published visits leave
no gap for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from scheduler.greedy import (
    NEVER,
    _CrewDayState,
    _Eligibility,
    _first_start,
    unassigned_reasons,
)
from scheduler.model import Job, Problem
from scheduler.phrases import template
from scheduler.result import Reason
from scheduler.timing import is_feasible, schedule_route
from scheduler.travel import TravelMatrix, travel_for
from scheduler.validate import Violation, validate_route

RouteKey = tuple[str, int]

NO_GAP_IN_SCHEDULE = template(
    "fits alone on {crew_days} crew-day(s), but the published visits leave no gap for it"
)


@dataclass(frozen=True)
class Insertion:
    """One place the new job fits: its crew-day, position and planned times.

    ``job_ids`` is the route with the new job inserted at ``position``
    (0 = first visit of the day); every other visit keeps its start.
    """

    crew_id: str
    day: int
    position: int
    start_s: int
    end_s: int
    job_ids: tuple[str, ...]

    @property
    def key(self) -> RouteKey:
        return (self.crew_id, self.day)


@dataclass(frozen=True)
class InsertionSearch:
    """What :func:`find_insertions` found, and how much it had to look at."""

    insertions: tuple[Insertion, ...]
    gaps: int
    """Gaps screened (positions over every qualifying crew-day)."""
    checked: int
    """Gaps that passed the screen and were checked exactly."""


def _fixed_start(job: Job) -> int:
    if job.fixed is None or job.fixed.start_s is None:
        raise ValueError(f"job {job.id}: a route's existing visits must be fixed to a start")
    return job.fixed.start_s


def find_insertions(
    problem: Problem,
    routes: Mapping[RouteKey, Sequence[str]],
    job_id: str,
    *,
    limit: int = 3,
    travel: TravelMatrix | None = None,
) -> InsertionSearch:
    """The ``limit`` earliest insertions of ``job_id``, one per crew-day, earliest start first.

    Parameters
    ----------
    problem
        Crews, the open crew-days of the horizon, the existing jobs (each fixed
        to its crew-day and start) and the new job (not fixed).
    routes
        The existing visits of each crew-day in visit order; a crew-day
        missing here is empty.
    job_id
        The new job.
    limit
        How many crew-days to return at most.
    travel
        The travel matrix; defaults to :func:`scheduler.travel.travel_for`.
    """
    travel = travel or travel_for(problem)
    jobs = problem.jobs_by_id()
    job = jobs[job_id]
    if job.fixed is not None:
        raise ValueError(f"job {job_id} is fixed: nothing to insert")
    state = _CrewDayState.empty(problem, travel)
    candidates = _Eligibility(problem, state).candidates(job)
    location = travel.index(job.location)

    # One row per gap: (crew-day index, position) and the stops around it.
    cd_of: list[int] = []
    position_of: list[int] = []
    prev_loc: list[int] = []
    next_loc: list[int] = []
    prev_free: list[int] = []
    next_due: list[int] = []
    has_prev: list[bool] = []
    has_next: list[bool] = []
    busy_of: list[int] = []
    count_of: list[int] = []
    units_of: list[int] = []
    for index in candidates.tolist():
        crew_day = problem.crew_days[index]
        route = [jobs[j] for j in routes.get(crew_day.key, ())]
        home = int(state.home[index])
        stops = [home, *(travel.index(j.location) for j in route), home]
        busy = sum(j.duration_s for j in route)
        if route:
            busy += sum(int(travel.duration_s[a, b]) for a, b in pairwise(stops))
        units = sum(j.demand_units for j in route)
        ends = [crew_day.shift_start_s] + [_fixed_start(j) + j.duration_s for j in route]
        starts = [_fixed_start(j) for j in route] + [crew_day.shift_end_s]
        for position in range(len(route) + 1):
            cd_of.append(index)
            position_of.append(position)
            prev_loc.append(stops[position])
            next_loc.append(stops[position + 1])
            prev_free.append(ends[position])
            next_due.append(starts[position])
            has_prev.append(position > 0)
            has_next.append(position < len(route))
            busy_of.append(busy)
            count_of.append(len(route))
            units_of.append(units)
    gaps = len(cd_of)
    if not gaps:
        return InsertionSearch((), 0, 0)

    cd = np.array(cd_of, dtype=np.int64)
    before = np.array(prev_loc, dtype=np.int64)
    after = np.array(next_loc, dtype=np.int64)
    gap_s = state.gap_s[cd]
    to_new = travel.duration_s[before, location]
    from_new = travel.duration_s[location, after]
    ready = np.array(prev_free, dtype=np.int64) + to_new + np.where(has_prev, gap_s, 0)
    start = _first_start(job, ready)
    end = start + job.duration_s
    fits_gap = (start < NEVER) & (
        end + from_new + np.where(has_next, gap_s, 0) <= np.array(next_due, dtype=np.int64)
    )
    count = np.array(count_of, dtype=np.int64)
    added = to_new + from_new + job.duration_s
    added -= np.where(count > 0, travel.duration_s[before, after], 0)
    loads_ok = (
        (count + 1 <= state.max_jobs[cd])
        & (np.array(units_of, dtype=np.int64) + job.demand_units <= state.capacity_units[cd])
        & (np.array(busy_of, dtype=np.int64) + added <= state.busy_cap_s[cd])
    )
    survivors = np.flatnonzero(fits_gap & loads_ok)
    # Day by day, earliest screened start first.
    order = survivors[np.lexsort((start[survivors], state.day[cd[survivors]]))]

    found: dict[int, Insertion] = {}
    checked = 0
    current_day: int | None = None
    for row in order.tolist():
        index = cd_of[row]
        crew_day = problem.crew_days[index]
        if crew_day.day != current_day:
            if len(found) >= limit:
                break
            current_day = crew_day.day
        if index in found and found[index].start_s <= int(start[row]):
            continue  # the exact start is never earlier than the screened one
        checked += 1
        insertion = _check(
            problem, travel, routes.get(crew_day.key, ()), index, row, job_id, position_of[row]
        )
        if insertion is not None and (
            index not in found or insertion.start_s < found[index].start_s
        ):
            found[index] = insertion
    # Ties (same start) in the problem's crew-day order: deterministic whatever the ids.
    ranked = [found[index] for index in sorted(found, key=lambda i: (found[i].start_s, i))]
    return InsertionSearch(tuple(ranked[:limit]), gaps, checked)


def _check(
    problem: Problem,
    travel: TravelMatrix,
    route: Sequence[str],
    index: int,
    row: int,
    job_id: str,
    position: int,
) -> Insertion | None:
    """The insertion at ``position`` if the whole route keeps every rule, else ``None``."""
    crew_day = problem.crew_days[index]
    job_ids = (*route[:position], job_id, *route[position:])
    schedule = schedule_route(problem, travel, crew_day, job_ids)
    if not is_feasible(schedule, crew_day):
        return None
    violations = validate_route(problem, crew_day.crew_id, crew_day.day, job_ids, travel)
    if violations and not _only_old(problem, travel, route, crew_day.key, job_id, violations):
        return None
    visit = schedule.visits[position]
    return Insertion(
        crew_id=crew_day.crew_id,
        day=crew_day.day,
        position=position,
        start_s=visit.start_s,
        end_s=visit.end_s,
        job_ids=job_ids,
    )


def _only_old(
    problem: Problem,
    travel: TravelMatrix,
    route: Sequence[str],
    key: RouteKey,
    job_id: str,
    violations: Sequence[Violation],
) -> bool:
    """Whether every violation is one an existing visit already had before the insertion."""
    if any(v.job_id is None or v.job_id == job_id for v in violations):
        return False
    before = {(v.rule, v.job_id) for v in validate_route(problem, key[0], key[1], route, travel)}
    return all((v.rule, v.job_id) in before for v in violations)


def insertion_violations(
    problem: Problem,
    routes: Mapping[RouteKey, Sequence[str]],
    insertion: Insertion,
    travel: TravelMatrix | None = None,
) -> list[Violation]:
    """What the validator says of ``insertion``'s route (for tests and re-checks)."""
    travel = travel or travel_for(problem)
    return validate_route(problem, insertion.crew_id, insertion.day, insertion.job_ids, travel)


def no_slot_reasons(
    problem: Problem,
    job_id: str,
    *,
    travel: TravelMatrix | None = None,
) -> tuple[Reason, ...]:
    """Why no crew-day of ``problem`` can take ``job_id``, in the planner's words.

    The planner's reasons for a job that fits no crew-day even alone (skills,
    members, dates, access windows, shift, cap...); when it would fit alone on
    some crew-day, that the published visits leave no gap for it.
    """
    travel = travel or travel_for(problem)
    job = problem.jobs_by_id()[job_id]
    state = _CrewDayState.empty(problem, travel)
    candidates = _Eligibility(problem, state).candidates(job)
    reasons = unassigned_reasons(problem, travel, job, candidates)
    if len(reasons) == 1 and reasons[0].rule == "capacity_used":
        return (Reason.of("capacity_used", NO_GAP_IN_SCHEDULE, **reasons[0].params),)
    return reasons


__all__ = [
    "NO_GAP_IN_SCHEDULE",
    "Insertion",
    "InsertionSearch",
    "find_insertions",
    "insertion_violations",
    "no_slot_reasons",
]
