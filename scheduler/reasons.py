"""Why a job cannot be (or was not) planned, computed by checks, not guessed.

Two moments:

* :func:`screen`, **before** the solver: each job is checked alone against
  every crew-day (skills, members, dates and hard promises, capacity, and
  whether the visit fits in the shift and a window with the travel from and
  back home, leaving room for the crew-day's lunch). Jobs with no
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

Messages are for people: days carry calendar labels
(:meth:`~scheduler.model.Problem.day_label`) and times ``HH:MM``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scheduler.greedy import _CrewDayState, _evaluate_append
from scheduler.model import NEVER_S, CrewDay, Job, Problem, TimeWindow, clock_label
from scheduler.phrases import Clauses, Listing, Text, template, text
from scheduler.repair import GapTable
from scheduler.result import MILLI, Reason
from scheduler.travel import TravelMatrix
from scheduler.validate import promised_days_ref

LOCKED_CANNOT_BE_KEPT = template("locked on crew {crew} {day}, where it cannot be kept")
LOCKED_ON_DAY_OFF = template("locked on crew {crew} {day}, which that crew does not work")
NO_CREW_WITH_SKILLS = template("no crew has the skill(s) {skills}")
NO_CREW_WITH_MEMBERS = template("no crew with the skills has {members} members")
DEMAND_OVER_CAPACITY = template(
    "demand of {units} units exceeds the capacity of every qualified crew"
)
NO_JOBS_A_DAY = template("every qualified crew may do 0 jobs a day")
VISIT_OVER_SHIFT = template(
    "the visit ({minutes} min) with the drive from and back home does not fit in any "
    "qualified crew's shift"
)
VISIT_OVER_CAP = template(
    "the visit with the drive from and back home exceeds every qualified crew-day's utilization cap"
)
PROMISE_OUTSIDE_ACCESS = template(
    "promised {promise}: the customer's access windows ({windows}) do not overlap the promise"
)
PROMISE_UNREACHABLE = template(
    "promised {promise}: no start can be reached from a qualified crew's home and left in "
    "time to be back by the end of the shift"
)
WINDOWS_UNREACHABLE = template(
    "no access window ({windows}) can be reached from a qualified crew's home and left in "
    "time to be back by the end of the shift"
)
NO_ROOM_FOR_LUNCH = template(
    "the visit ({minutes} min) with the drive from and back home leaves no room for the "
    "lunch break ({earliest}–{latest} start, {lunch_minutes} min) of any qualified crew-day"
)
AND_MORE = template("{shown} and {more} more")
CAN_START_AT_THE_EARLIEST = template("can start {day} at the earliest")
DUE_PROMISED = template("due {day} (promised to the customer)")
PROMISED_FOR = template("promised for {days}")
CUSTOMER_UNAVAILABLE_ON = template("the customer is unavailable {days}")
NO_CREW_DAYS = template("the plan has no crew-days")
PLAN_COVERS = template("the plan covers {days}")
NO_QUALIFIED_CREW_WORKS = template("no qualified crew works {days}")
DATES_AND_VERDICT = template("{conditions}; {verdict}")
LOCKED_IN_CONFLICT = template(
    "locked visit conflicts with the other locked visits or the rules of its crew-day"
)
SEARCH_STOPPED_FITS = template(
    "the search was stopped before this job could be placed; it fits on crew {crew} {day}"
)
SEARCH_ENDED_FITS = template(
    "the search ended before this job could be placed; it fits on crew {crew} {day}"
)
NOT_WORTH_IT = template(
    "fits on crew {crew} {day}, but adding it costs more than leaving it unassigned "
    "({penalty:,} yen)"
)
USED_BY_HIGHER_PRIORITY = template(
    "fits alone on {crew_days} crew-day(s), but their time is used up by work of equal or "
    "higher priority"
)
USED_BY_OTHER_WORK = template(
    "fits alone on {crew_days} crew-day(s), but their time is used up by other work "
    "(lower-priority jobs there are cheaper to serve)"
)

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
        self.keys = [cd.key for cd in self.crew_days]
        self.crews = crews
        position = {crew_id: i for i, crew_id in enumerate(crews)}
        self.crew_of = np.asarray([position[cid] for cid in self.crew_ids], dtype=np.int64)
        many = np.iinfo(np.int64).max
        crew_list = list(crews.values())
        self.members = np.asarray([c.members for c in crew_list], dtype=np.int64)[self.crew_of]
        self.capacity = np.asarray(
            [many if c.capacity_units is None else c.capacity_units for c in crew_list],
            dtype=np.int64,
        )[self.crew_of]
        self.max_jobs = np.asarray(
            [many if c.max_jobs_per_day is None else c.max_jobs_per_day for c in crew_list],
            dtype=np.int64,
        )[self.crew_of]
        self.unique_days = sorted(set(self.day.tolist()))
        self._skill_masks: dict[frozenset[str], npt.NDArray[np.bool_]] = {}
        self.has_lunch = np.asarray([cd.lunch is not None for cd in self.crew_days], dtype=bool)
        # Empty routes, to check a job alone against the lunches the way the greedy appends.
        self.empty = _CrewDayState.empty(problem, travel) if self.has_lunch.any() else None

    def with_skills(self, skills: frozenset[str]) -> npt.NDArray[np.bool_]:
        """Crew-days whose crew has every skill of ``skills`` (one pass per skill set)."""
        mask = self._skill_masks.get(skills)
        if mask is None:
            by_crew = np.asarray([skills <= c.skills for c in self.crews.values()], dtype=bool)
            mask = self._skill_masks[skills] = by_crew[self.crew_of]
        return mask

    def on_days(self, job: Job) -> npt.NDArray[np.bool_]:
        """Crew-days on a day the job allows (the rule is asked once per day, not per crew-day)."""
        allowed = [d for d in self.unique_days if job.day_allowed(d)]
        return np.isin(self.day, np.asarray(allowed, dtype=np.int64))


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
        where = {"crew": fixed_key[0], "day": problem.day_ref(fixed_key[1])}
        locked_prefix = (Reason.of("locked", LOCKED_CANNOT_BE_KEPT, **where),)
        if not alive.any():
            return (), (Reason.of("locked", LOCKED_ON_DAY_OFF, **where),)

    def fail(
        rule: str, why: str | Text, **params: object
    ) -> tuple[tuple[tuple[str, int], ...], tuple[Reason, ...]]:
        if isinstance(why, Text):
            return (), (*locked_prefix, Reason.of(rule, why.template, **why.params))
        return (), (*locked_prefix, Reason.of(rule, why, **params))

    alive &= days.with_skills(job.required_skills)
    if not alive.any():
        return fail("skill", NO_CREW_WITH_SKILLS, skills=Listing(sorted(job.required_skills)))
    alive &= days.members >= job.members_needed
    if not alive.any():
        return fail("members", NO_CREW_WITH_MEMBERS, members=job.members_needed)
    alive &= days.on_days(job)
    if not alive.any():
        return fail("day", _day_text(problem, job))
    alive &= days.capacity >= job.demand_units
    if not alive.any():
        return fail("capacity", DEMAND_OVER_CAPACITY, units=job.demand_units)
    alive &= days.max_jobs >= 1
    if not alive.any():
        return fail("max_jobs", NO_JOBS_A_DAY)

    site = travel.index(job.location)
    out_s = travel.duration_s[days.home, site]
    back_s = travel.duration_s[site, days.home]
    round_trip_s = out_s + job.duration_s + back_s
    alive &= days.shift_start + round_trip_s <= days.shift_end
    if not alive.any():
        return fail("shift", VISIT_OVER_SHIFT, minutes=job.duration_s // 60)
    alive &= round_trip_s <= days.busy_cap
    if not alive.any():
        return fail("max_utilization", VISIT_OVER_CAP)
    windows = job.start_windows()
    promised = job.promise_is_hard and bool(job.preferred_windows)
    if promised and windows and windows[0].start_s == NEVER_S:
        return fail(
            "window",
            PROMISE_OUTSIDE_ACCESS,
            promise=problem.windows_ref(job.preferred_windows),
            windows=_short_windows(problem, job.windows),
        )
    if windows:
        earliest = days.shift_start + out_s
        latest = days.shift_end - back_s - job.duration_s
        reachable = np.zeros(n, dtype=bool)
        for w in windows:
            reachable |= np.maximum(earliest, w.start_s) <= np.minimum(latest, w.end_s)
        alive &= reachable
        if not alive.any():
            if promised:
                return fail(
                    "window",
                    PROMISE_UNREACHABLE,
                    promise=_short_windows(problem, job.preferred_windows),
                )
            return fail("window", WINDOWS_UNREACHABLE, windows=_short_windows(problem, windows))
    if days.empty is not None and (alive & days.has_lunch).any():
        rows = np.flatnonzero(alive & days.has_lunch)
        alone = _evaluate_append(job, site, rows.astype(np.int64), days.empty, travel)
        alive[rows[~alone.feasible]] = False
        if not alive.any():
            lunch = days.crew_days[int(rows[0])].lunch
            assert lunch is not None
            return fail(
                "lunch",
                NO_ROOM_FOR_LUNCH,
                minutes=job.duration_s // 60,
                earliest=clock_label(lunch.earliest_start_s),
                latest=clock_label(lunch.latest_start_s),
                lunch_minutes=lunch.duration_s // 60,
            )
    keys = tuple(days.keys[i] for i in np.flatnonzero(alive).tolist())
    return keys, ()


def _short_windows(
    problem: Problem, windows: tuple[TimeWindow, ...], most: int = 3
) -> Listing | Text:
    """At most ``most`` windows for a message, then how many more."""
    shown = problem.windows_ref(windows[:most])
    return shown if len(windows) <= most else text(AND_MORE, shown=shown, more=len(windows) - most)


def _day_text(problem: Problem, job: Job) -> Text:
    """Why no crew-day is on an allowed day, with calendar labels.

    E.g. ``"due 12/07 (promised to the customer); no qualified crew works
    12/03–12/07"`` or ``"due 11/29 (promised to the customer); the plan covers
    12/03–12/07"``.
    """
    horizon = sorted({cd.day for cd in problem.crew_days})
    parts = []
    if job.earliest_day is not None:
        parts.append(text(CAN_START_AT_THE_EARLIEST, day=problem.day_ref(job.earliest_day)))
    if job.due_is_hard and job.due_day is not None:
        parts.append(text(DUE_PROMISED, day=problem.day_ref(job.due_day)))
    if job.promise_is_hard and job.promised_days:
        parts.append(text(PROMISED_FOR, days=promised_days_ref(problem, job)))
    if job.unavailable_days:
        unavailable = Listing(problem.day_ref(d) for d in sorted(job.unavailable_days))
        parts.append(text(CUSTOMER_UNAVAILABLE_ON, days=unavailable))
    allowed = [d for d in horizon if job.day_allowed(d)]
    if not allowed:
        if not horizon:
            verdict = text(NO_CREW_DAYS)
        else:
            verdict = text(PLAN_COVERS, days=problem.days_ref(horizon[0], horizon[-1]))
    else:
        verdict = text(NO_QUALIFIED_CREW_WORKS, days=_days_list(problem, allowed))
    if not parts:
        return verdict
    return text(DATES_AND_VERDICT, conditions=Clauses(parts), verdict=verdict)


def _days_list(problem: Problem, days: list[int]) -> Listing:
    """Days for a message: runs of consecutive days as ranges (``"12/03–12/05, 12/08"``)."""
    runs: list[tuple[int, int]] = []
    for d in days:
        if runs and d == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return Listing(problem.days_ref(first, last) for first, last in runs)


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
) -> Explanation:
    """Place or explain every job the solver left out although each fits alone somewhere.

    For each dropped job (higher priority first) the cheapest valid insertion
    into the current plan is looked for (:class:`scheduler.repair.GapTable`:
    every gap screened at once, the survivors checked exactly, cheapest
    first). If it costs less than leaving the job out, the search simply had
    not got there (typically it was stopped by the time limit): the job is
    inserted, so the plan gets better and no job is blamed on its cost when it
    was the clock. Otherwise the job is explained.

    Every job is checked, however late this runs: a job that fits is never
    left out because the clock ran out (about 1 ms per left-out job at 3,000
    jobs; :func:`scheduler.solve.solve` keeps the time for it back from the
    search).

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

    Returns
    -------
    Explanation
        The repaired plan and, per job still out, one or more reasons:
        ``not_worth`` when a valid insertion exists but costs more than the
        job's unassigned penalty, ``capacity_used`` when none exists,
        ``search`` for a locked job that fits elsewhere than its lock,
        ``locked`` added for locked jobs.
    """
    jobs = problem.jobs_by_id()
    plan = {key: list(ids) for key, ids in routes.items()}
    gaps = GapTable(problem, travel, plan)
    reference = problem.reference.assignment() if problem.reference else {}
    weights = problem.weights
    inserted: list[str] = []
    explained: dict[str, tuple[Reason, ...]] = {}
    order = sorted(job_ids, key=lambda j: (-jobs[j].priority, j))
    for job_id in order:
        job = jobs[job_id]
        reasons: list[Reason] = []
        if job.fixed is not None:
            reasons.append(Reason.of("locked", LOCKED_IN_CONFLICT))
        keys = list(candidates.get(job_id, ()))
        penalty_milli = weights.unassigned_yen * job.priority * MILLI
        if job.id in reference:
            penalty_milli += weights.disruption_yen * MILLI
        insertion = gaps.cheapest_valid(job, keys, max_checks=MAX_INSERTION_CHECKS)
        if insertion is not None and insertion.added_milli < penalty_milli and job.fixed is None:
            gaps.insert(insertion, job_id)
            inserted.append(job_id)
            continue
        if insertion is not None and insertion.added_milli < penalty_milli:
            reasons.append(
                Reason.of(
                    "search",
                    SEARCH_STOPPED_FITS if search_cut else SEARCH_ENDED_FITS,
                    crew=insertion.key[0],
                    day=problem.day_ref(insertion.key[1]),
                )
            )
        elif insertion is not None:
            penalty = penalty_milli // 1000
            reasons.append(
                Reason.of(
                    "not_worth",
                    NOT_WORTH_IT,
                    crew=insertion.key[0],
                    day=problem.day_ref(insertion.key[1]),
                    penalty=penalty,
                )
            )
        else:
            planned = [jobs[j].priority for key in keys for j in plan.get(key, ())]
            higher = bool(planned) and min(planned) >= job.priority
            reasons.append(
                Reason.of(
                    "capacity_used",
                    USED_BY_HIGHER_PRIORITY if higher else USED_BY_OTHER_WORK,
                    crew_days=len(keys),
                )
            )
        explained[job_id] = tuple(reasons)
    return Explanation(
        routes={key: ids for key, ids in plan.items() if ids},
        inserted=tuple(inserted),
        reasons=explained,
    )
