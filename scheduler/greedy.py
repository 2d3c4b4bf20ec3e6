"""A simple greedy planner: the baseline that shows what optimization is worth.

It does what a careful dispatcher with a spreadsheet would do: take the jobs
by earliest due date (higher priority first among equal dates), and put each
one at the **end** of the crew-day route where it adds the fewest kilometres,
among the crew-days where it is on time if any, and only where every hard
rule still holds (skills, members, allowed days, access windows, shift with
the drive home, minimum gap, maximum utilization, jobs per day, equipment).
Nothing is ever moved once placed, so locked visits placed first stay put.

It returns the same :class:`~scheduler.result.Result` as the solver, built by
:func:`~scheduler.result.build_result` from the order of jobs alone, so the
independent validator checks it exactly like an optimized plan, and the
benchmark compares like with like at equal slack rules.

The evaluation of "append job J to every candidate crew-day" is vectorised
with NumPy over crew-days; a 3,000-job week is planned in about a second.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scheduler.model import Job, Problem
from scheduler.phrases import Listing, template
from scheduler.result import Reason, Result, SolveInfo, StopReason, Unassigned, build_result
from scheduler.travel import TravelMatrix, TravelProvider, travel_for

IntArray = npt.NDArray[np.int64]

# Stands for "no limit" in the integer state arrays (max jobs, equipment).
UNLIMITED = np.iinfo(np.int64).max // 4
# Marks "no allowed start" in the vectorised earliest-start computation.
NEVER = np.iinfo(np.int64).max // 4


@dataclass
class _CrewDayState:
    """Where every crew-day's route currently ends, as parallel arrays over crew-days.

    ``clock_s`` is when the last visit ends (the shift start for an empty
    route) and ``busy_s`` the work and travel so far, the drive home excluded.
    ``lunch_taken`` says whether the crew-day's lunch is already placed
    before the last visit (always true without a lunch); while it is not, every
    append keeps room for it after the new visit.
    """

    keys: list[tuple[str, int]]
    day: IntArray
    home: IntArray
    shift_start_s: IntArray
    shift_end_s: IntArray
    busy_cap_s: IntArray
    gap_s: IntArray
    max_jobs: IntArray
    capacity_units: IntArray
    last: IntArray
    clock_s: IntArray
    busy_s: IntArray
    count: IntArray
    units: IntArray
    lunch_earliest_s: IntArray
    lunch_latest_s: IntArray
    lunch_s: IntArray
    lunch_taken: npt.NDArray[np.bool_]

    @classmethod
    def empty(cls, problem: Problem, travel: TravelMatrix) -> _CrewDayState:
        crews = problem.crews_by_id()
        crew_days = problem.crew_days

        def column(values: list[int]) -> IntArray:
            return np.array(values, dtype=np.int64)

        home = column([travel.index(crews[cd.crew_id].home) for cd in crew_days])
        shift_start = column([cd.shift_start_s for cd in crew_days])
        return cls(
            keys=[cd.key for cd in crew_days],
            day=column([cd.day for cd in crew_days]),
            home=home,
            shift_start_s=shift_start,
            shift_end_s=column([cd.shift_end_s for cd in crew_days]),
            busy_cap_s=column([problem.busy_cap_s(cd) for cd in crew_days]),
            gap_s=column([problem.min_gap_s(crews[cd.crew_id]) for cd in crew_days]),
            max_jobs=column(
                [
                    UNLIMITED if (m := crews[cd.crew_id].max_jobs_per_day) is None else m
                    for cd in crew_days
                ]
            ),
            capacity_units=column(
                [
                    UNLIMITED if (u := crews[cd.crew_id].capacity_units) is None else u
                    for cd in crew_days
                ]
            ),
            last=home.copy(),
            clock_s=shift_start.copy(),
            busy_s=np.zeros(len(crew_days), dtype=np.int64),
            count=np.zeros(len(crew_days), dtype=np.int64),
            units=np.zeros(len(crew_days), dtype=np.int64),
            lunch_earliest_s=column(
                [cd.lunch.earliest_start_s if cd.lunch else 0 for cd in crew_days]
            ),
            lunch_latest_s=column([cd.lunch.latest_start_s if cd.lunch else 0 for cd in crew_days]),
            lunch_s=column([cd.lunch_s for cd in crew_days]),
            lunch_taken=np.array([cd.lunch is None for cd in crew_days], dtype=bool),
        )


@dataclass
class _Appending:
    """What appending one job to each candidate crew-day would give, rule by rule."""

    candidates: IntArray
    start_s: IntArray
    end_s: IntArray
    leg_s: IntArray
    added_m: IntArray
    window_ok: npt.NDArray[np.bool_]
    shift_ok: npt.NDArray[np.bool_]
    utilization_ok: npt.NDArray[np.bool_]
    max_jobs_ok: npt.NDArray[np.bool_]
    capacity_ok: npt.NDArray[np.bool_]
    lunch_before: npt.NDArray[np.bool_]
    """Whether the lunch is taken on the leg to this visit (else later, or already taken)."""
    lunch_ok: npt.NDArray[np.bool_]

    @property
    def feasible(self) -> npt.NDArray[np.bool_]:
        return (self.window_ok & self.shift_ok & self.utilization_ok & self.max_jobs_ok) & (
            self.capacity_ok & self.lunch_ok
        )


def _first_start(job: Job, ready_s: IntArray) -> IntArray:
    """The earliest allowed start at or after ``ready_s`` (:data:`NEVER` if every window closed)."""
    windows = job.start_windows()
    if not windows:
        return ready_s
    start_s = np.full(len(ready_s), NEVER, dtype=np.int64)
    # Later windows first, so the earliest window still open wins.
    for window in reversed(windows):
        open_now = ready_s <= window.end_s
        start_s = np.where(open_now, np.maximum(ready_s, window.start_s), start_s)
    return start_s


def _evaluate_append(
    job: Job, location: int, candidates: IntArray, state: _CrewDayState, travel: TravelMatrix
) -> _Appending:
    """Check appending ``job`` at the end of each candidate route, exactly like the timing.

    Mirrors :func:`scheduler.timing.schedule_route`: the first visit starts on
    arrival from home, later ones after the travel plus the crew's minimum gap,
    each at the earliest allowed start of the job's windows.

    A crew-day whose lunch is not taken yet keeps it for later when it still
    fits after the new visit (on the leg home or at home after the return),
    and otherwise takes it on the leg to the new visit (the timing's rule: the
    drive, the gap and the lunch all fit between the two visits). This only
    errs on the safe side: the final times come from the exact timing.
    """
    last = state.last[candidates]
    leg_s = travel.duration_s[last, location]
    leg_m = travel.distance_m[last, location]
    home = state.home[candidates]
    back_s = travel.duration_s[location, home]
    back_m = travel.distance_m[location, home]
    previous_back_m = travel.distance_m[last, home]
    count = state.count[candidates]
    clock_s = state.clock_s[candidates]
    ready_s = clock_s + leg_s + np.where(count > 0, state.gap_s[candidates], 0)
    shift_end_s = state.shift_end_s[candidates]

    # Lunch later (or none): the visit starts as without a lunch.
    start_s = _first_start(job, ready_s)
    end_s = start_s + job.duration_s
    if state.lunch_taken.all():
        # No lunch left to place anywhere (the usual problem): nothing more to check.
        always = np.ones(len(candidates), dtype=bool)
        window_ok = start_s < NEVER
        return _Appending(
            candidates=candidates,
            start_s=start_s,
            end_s=end_s,
            leg_s=leg_s,
            added_m=leg_m + back_m - previous_back_m,
            window_ok=window_ok,
            shift_ok=window_ok & (end_s + back_s <= shift_end_s),
            utilization_ok=state.busy_s[candidates] + leg_s + job.duration_s + back_s
            <= state.busy_cap_s[candidates],
            max_jobs_ok=count + 1 <= state.max_jobs[candidates],
            capacity_ok=state.units[candidates] + job.demand_units
            <= state.capacity_units[candidates],
            lunch_before=~always,
            lunch_ok=always,
        )
    taken = state.lunch_taken[candidates]
    earliest = state.lunch_earliest_s[candidates]
    latest = state.lunch_latest_s[candidates]
    lunch_s = state.lunch_s[candidates]
    at_home_after = np.maximum(earliest, end_s + back_s) <= latest
    on_leg_home = np.maximum(earliest, end_s) <= latest
    home_s = np.where(
        taken | at_home_after,
        end_s + back_s,
        np.maximum(end_s + back_s + lunch_s, np.maximum(earliest, end_s) + lunch_s),
    )
    later_ok = (start_s < NEVER) & (taken | at_home_after | on_leg_home) & (home_s <= shift_end_s)

    # Lunch now, on the leg to this visit.
    lowest = np.maximum(earliest, clock_s)
    now_ready = np.maximum(ready_s + lunch_s, lowest + lunch_s)
    now_start = _first_start(job, now_ready)
    now_end = now_start + job.duration_s
    now_ok = ~taken & (lowest <= latest) & (now_start < NEVER) & (now_end + back_s <= shift_end_s)

    lunch_before = ~later_ok & now_ok
    start_s = np.where(lunch_before, now_start, start_s)
    end_s = np.where(lunch_before, now_end, end_s)
    window_ok = start_s < NEVER
    busy_after = state.busy_s[candidates] + leg_s + job.duration_s + back_s
    return _Appending(
        candidates=candidates,
        start_s=start_s,
        end_s=end_s,
        leg_s=leg_s,
        added_m=leg_m + back_m - previous_back_m,
        window_ok=window_ok,
        shift_ok=window_ok & (end_s + back_s <= shift_end_s),
        utilization_ok=busy_after <= state.busy_cap_s[candidates],
        max_jobs_ok=count + 1 <= state.max_jobs[candidates],
        capacity_ok=state.units[candidates] + job.demand_units <= state.capacity_units[candidates],
        lunch_before=lunch_before,
        lunch_ok=later_ok | now_ok,
    )


class _Eligibility:
    """Which crew-days may take a job by skills, members and date rules alone.

    Crews are grouped by what jobs ask of them (skills, members), and days by
    the job's date rules, so a 3,000-job week is screened with a few array
    operations per job instead of a Python loop over every crew-day.
    """

    def __init__(self, problem: Problem, state: _CrewDayState) -> None:
        crew_position = {crew.id: i for i, crew in enumerate(problem.crews)}
        self._crews = problem.crews
        self._crew_of = np.array([crew_position[c] for c, _ in state.keys], dtype=np.int64)
        self._day_of = state.day
        self._days = sorted({day for _, day in state.keys})
        self._crew_masks: dict[tuple[frozenset[str], int], npt.NDArray[np.bool_]] = {}

    def candidates(self, job: Job) -> IntArray:
        """Crew-day indexes with the skills, the members and a day the job allows."""
        need = (job.required_skills, job.members_needed)
        crew_mask = self._crew_masks.get(need)
        if crew_mask is None:
            crew_mask = np.array(
                [
                    job.required_skills <= crew.skills and crew.members >= job.members_needed
                    for crew in self._crews
                ],
                dtype=bool,
            )
            self._crew_masks[need] = crew_mask
        allowed_days = np.array([d for d in self._days if job.day_allowed(d)], dtype=np.int64)
        mask = crew_mask[self._crew_of] & np.isin(self._day_of, allowed_days)
        return np.flatnonzero(mask).astype(np.int64)


def _locked_candidates(state: _CrewDayState, job: Job) -> IntArray:
    """The one crew-day a locked job must stay on (empty if it does not exist)."""
    assert job.fixed is not None
    key = (job.fixed.crew_id, job.fixed.day)
    return np.array([i for i, k in enumerate(state.keys) if k == key], dtype=np.int64)


SKILLS_NOWHERE = template("no crew has all the skills {skills}")
SKILLS_MISSING = template("no crew has all the skills {skills} ({missing} is missing everywhere)")
MEMBERS_TOO_FEW = template(
    "needs {members} members; the largest crew with the skills has {largest}"
)
LOCKED_NOT_AT_END = template(
    "locked on crew {crew} {day}, but it does not fit there at the end of the route"
)
NO_ALLOWED_DAY = template("no crew with the skills and members works on an allowed day")
FULL_BEFORE_ITS_TURN = template(
    "fits alone on {crew_days} crew-day(s), but they were already full when its turn came"
)
NO_WINDOW_FROM_HOME = template("no access window can be reached from a home base")
EXCEEDS_EVERY_SHIFT = template("the visit and the drive from and back home exceed every shift")
EXCEEDS_EVERY_CAP = template("work and drive alone exceed every crew-day's cap")
NO_JOBS_ALLOWED = template("every qualifying crew-day allows no jobs")
TOO_MANY_UNITS = template("needs {units} units, more than any crew carries")
NO_ROOM_FOR_LUNCH = template("the visit leaves no room for the crews' lunch breaks on its days")
NO_CREW_DAY_FOR_ALL = template("no single crew-day satisfies all rules at once")


def unassigned_reasons(
    problem: Problem, travel: TravelMatrix, job: Job, candidates: IntArray
) -> tuple[Reason, ...]:
    """Why ``job`` could not be appended anywhere, established by checks.

    Parameters
    ----------
    problem, travel
        The problem and its travel matrix.
    job
        The job left out.
    candidates
        Crew-day indexes (in ``problem.crew_days`` order) that have the skills,
        the members and an allowed day.

    Returns
    -------
    tuple[Reason, ...]
        ``skill``/``members``/``day`` when no crew-day qualifies at all; else the
        rules that fail for the job **alone** on every qualifying crew-day
        (``window``, ``shift``, ``max_utilization``, ``max_jobs``, ``capacity``);
        else ``capacity_used``: it would fit alone, but the plan filled those
        crew-days first.
    """
    crews = problem.crews
    with_skills = [c for c in crews if job.required_skills <= c.skills]
    if not with_skills:
        skills = Listing(sorted(job.required_skills))
        missing = Listing(sorted(job.required_skills - set().union(*(c.skills for c in crews))))
        if missing:
            return (Reason.of("skill", SKILLS_MISSING, skills=skills, missing=missing),)
        return (Reason.of("skill", SKILLS_NOWHERE, skills=skills),)
    if not any(c.members >= job.members_needed for c in with_skills):
        largest = max(c.members for c in with_skills)
        return (Reason.of("members", MEMBERS_TOO_FEW, members=job.members_needed, largest=largest),)
    if job.fixed is not None:
        return (
            Reason.of(
                "locked",
                LOCKED_NOT_AT_END,
                crew=job.fixed.crew_id,
                day=problem.day_ref(job.fixed.day),
            ),
        )
    if len(candidates) == 0:
        return (Reason.of("day", NO_ALLOWED_DAY),)

    alone = _evaluate_append(
        job,
        travel.index(job.location),
        candidates,
        _CrewDayState.empty(problem, travel),
        travel,
    )
    if alone.feasible.any():
        return (
            Reason.of("capacity_used", FULL_BEFORE_ITS_TURN, crew_days=int(alone.feasible.sum())),
        )
    reasons = []
    if not alone.window_ok.any():
        reasons.append(Reason.of("window", NO_WINDOW_FROM_HOME))
    elif not alone.shift_ok.any():
        reasons.append(Reason.of("shift", EXCEEDS_EVERY_SHIFT))
    if not alone.utilization_ok.any():
        reasons.append(Reason.of("max_utilization", EXCEEDS_EVERY_CAP))
    if not alone.max_jobs_ok.any():
        reasons.append(Reason.of("max_jobs", NO_JOBS_ALLOWED))
    if not alone.capacity_ok.any():
        reasons.append(Reason.of("capacity", TOO_MANY_UNITS, units=job.demand_units))
    if not reasons and not alone.lunch_ok.any():
        reasons.append(Reason.of("lunch", NO_ROOM_FOR_LUNCH))
    if not reasons:
        # Each rule holds somewhere, but never all on the same crew-day.
        reasons.append(Reason.of("shift", NO_CREW_DAY_FOR_ALL))
    return tuple(reasons)


def _edd_order(job: Job) -> tuple[int, int, int, str]:
    """Earliest due date first; then higher priority, earlier start, id (determinism)."""
    due = job.due_day if job.due_day is not None else np.iinfo(np.int32).max
    return (int(due), -job.priority, job.earliest_day or 0, job.id)


def _locked_order(job: Job) -> tuple[str, int, int, int]:
    """Locked jobs route by route, in locked sequence, then locked start."""
    assert job.fixed is not None
    big = np.iinfo(np.int32).max
    sequence = job.fixed.sequence if job.fixed.sequence is not None else big
    start = job.fixed.start_s if job.fixed.start_s is not None else big
    return (job.fixed.crew_id, job.fixed.day, int(sequence), int(start))


def solve_greedy(problem: Problem, travel_provider: TravelProvider | None = None) -> Result:
    """Plan ``problem`` greedily (earliest due date first, cheapest end-of-route position).

    Parameters
    ----------
    problem
        The planning problem; its rules (minimum gap, maximum utilization, jobs
        per day, equipment) are the same hard rules the solver keeps.
    travel_provider
        How to build the travel matrix when the problem carries none (default:
        :class:`~scheduler.travel.HaversineTravel`).

    Returns
    -------
    Result
        Routes, unassigned jobs with reasons and KPIs, with ``stop_reason``
        ``"search_completed"`` and ``extra.planner == "greedy"``.
    """
    started = time.perf_counter()
    travel = travel_for(problem, travel_provider)
    state = _CrewDayState.empty(problem, travel)
    routes: dict[tuple[str, int], list[str]] = {key: [] for key in state.keys}
    unassigned: list[Unassigned] = []
    eligibility = _Eligibility(problem, state)

    locked = sorted((j for j in problem.jobs if j.fixed is not None), key=_locked_order)
    free = sorted((j for j in problem.jobs if j.fixed is None), key=_edd_order)
    for job in locked + free:
        location = travel.index(job.location)
        if job.fixed is not None:
            candidates = _locked_candidates(state, job)
        else:
            candidates = eligibility.candidates(job)
        appending = _evaluate_append(job, location, candidates, state, travel)
        feasible = appending.feasible
        if job.fixed is not None and job.fixed.sequence is not None and len(candidates):
            feasible = feasible & (state.count[candidates] == job.fixed.sequence)
        if not feasible.any():
            unassigned.append(
                Unassigned(job.id, unassigned_reasons(problem, travel, job, candidates))
            )
            continue

        chosen = np.flatnonzero(feasible)
        days = state.day[appending.candidates[chosen]]
        late_days = np.maximum(days - job.due_day, 0) if job.due_day is not None else 0 * days
        off_promise = 0 * days
        if job.has_soft_promise and job.promised_days:
            off_promise = (~np.isin(days, list(job.promised_days))).astype(np.int64)
        # lexsort sorts by the last key first: on time, on a promised day,
        # fewest added metres, earliest day.
        best = chosen[np.lexsort((days, appending.added_m[chosen], off_promise, late_days))[0]]
        crew_day = int(appending.candidates[best])
        routes[state.keys[crew_day]].append(job.id)
        state.last[crew_day] = location
        state.clock_s[crew_day] = appending.end_s[best]
        state.busy_s[crew_day] += appending.leg_s[best] + job.duration_s
        state.count[crew_day] += 1
        state.units[crew_day] += job.demand_units
        state.lunch_taken[crew_day] |= bool(appending.lunch_before[best])

    runtime_s = time.perf_counter() - started
    return build_result(
        problem,
        travel,
        routes,
        unassigned,
        stop_reason=StopReason.SEARCH_COMPLETED,
        runtime_s=runtime_s,
        first_solution_s=runtime_s,
        extra=SolveInfo(planner="greedy"),
    )
