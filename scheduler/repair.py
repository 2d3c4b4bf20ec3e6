"""Where a left-out job can still go: every gap of a plan screened at once, then checked.

Why: after the search, each job it left out is tried in every position of
every crew-day it fits on alone (:func:`scheduler.reasons.explain_dropped`).
Checking a position exactly (the route's timing with its lunch, then the
validator) costs a fraction of a millisecond; a 3,000-job week offers a
dropped job ~1,000 crew-days and ~5,000 positions, and when the plan is full
almost none of them fit. Checking them one by one took 45 ms per job
(measured: 227 left-out jobs of a 3,000-job week, 10.2 s, longer than the
time the planner keeps back for it), so under time pressure the jobs at the
end of the list were never looked at and some that fitted stayed out.

So :class:`GapTable` keeps, for every gap of every route (before the first
visit, between two, after the last, or an empty crew-day), what decides
whether a job can go there without the lunch: when the crew is free at the
gap's start in the earliest schedule, the latest start the next visit may
take so that the rest of the route still makes its windows and gets home by
the shift's end, and the day's load (jobs, units, work and drive). One NumPy
pass over the table screens a job against all its gaps. Each test is a
necessary condition (dropping the lunch and the promised-slot waits only
makes a route earlier), so the screen never discards a gap where the job
fits; only the survivors, cheapest first, get the exact check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from scheduler.greedy import NEVER, _CrewDayState, _first_start
from scheduler.model import DAY_S, Job, Problem, TimeWindow
from scheduler.result import MILLI, preference_milli
from scheduler.timing import earliest_start, is_feasible, schedule_route
from scheduler.travel import TravelMatrix
from scheduler.validate import validate_route

Key = tuple[str, int]
IntArray = npt.NDArray[np.int64]

_COLUMNS = (
    "crew_day",
    "position",
    "before",
    "after",
    "free_s",
    "latest_s",
    "has_before",
    "has_after",
    "busy_s",
    "count",
    "units",
)


@dataclass(frozen=True)
class Insertion:
    """A valid place for a job: crew-day, position in its route, and what it adds to the cost."""

    key: Key
    position: int
    added_milli: int


class GapTable:
    """The gaps of a plan as parallel arrays, kept current while jobs are inserted.

    ``plan`` is modified in place by :meth:`insert`.
    """

    def __init__(self, problem: Problem, travel: TravelMatrix, plan: dict[Key, list[str]]) -> None:
        self.problem = problem
        self.travel = travel
        self.plan = plan
        self.jobs = problem.jobs_by_id()
        self.state = _CrewDayState.empty(problem, travel)
        self.number = {key: i for i, key in enumerate(self.state.keys)}
        crews = problem.crews_by_id()
        self.rate = np.array(
            [crews[crew_id].cost_per_km_yen for crew_id, _ in self.state.keys], dtype=np.int64
        )
        self.reference = problem.reference.assignment() if problem.reference else {}
        self._routes: list[dict[str, IntArray]] = [
            self._route_rows(i) for i in range(len(self.state.keys))
        ]
        self._table: dict[str, IntArray] | None = None

    def insert(self, insertion: Insertion, job_id: str) -> None:
        """Put ``job_id`` at the insertion's place and refresh that route's gaps."""
        self.plan.setdefault(insertion.key, []).insert(insertion.position, job_id)
        number = self.number[insertion.key]
        self._routes[number] = self._route_rows(number)
        self._table = None

    def cheapest_valid(self, job: Job, keys: Iterable[Key], *, max_checks: int) -> Insertion | None:
        """The cheapest place among ``keys`` where ``job`` keeps every rule of its route.

        Gaps that pass the screen are checked exactly, cheapest first, at most
        ``max_checks`` of them; the first valid one is the answer (``None``
        if none is).
        """
        for insertion in self.screened(job, keys)[:max_checks]:
            if self._valid(job, insertion.key, insertion.position):
                return insertion
        return None

    def screened(self, job: Job, keys: Iterable[Key]) -> list[Insertion]:
        """Every gap of ``keys`` that passes the screen, cheapest first.

        The screen's tests are necessary conditions: a gap where the job fits
        is always in this list (a gap in it may still fail the exact check).
        """
        numbers = np.array([self.number[k] for k in keys if k in self.number], dtype=np.int64)
        if not len(numbers):
            return []
        table = self._all_rows()
        rows = np.flatnonzero(np.isin(table["crew_day"], numbers))
        gaps = {name: column[rows] for name, column in table.items()}
        survivors = self._screen(job, gaps)
        if not len(survivors):
            return []
        added = self._added_milli(job, {name: column[survivors] for name, column in gaps.items()})
        crew_day = gaps["crew_day"][survivors]
        position = gaps["position"][survivors]
        order = np.lexsort((position, crew_day, added))
        return [
            Insertion(self.state.keys[int(crew_day[r])], int(position[r]), int(added[r]))
            for r in order.tolist()
        ]

    def _screen(self, job: Job, gaps: Mapping[str, IntArray]) -> IntArray:
        """Rows (of ``gaps``) where the job can start in a window and the route still closes."""
        state, travel = self.state, self.travel
        site = travel.index(job.location)
        crew_day = gaps["crew_day"]
        to_site = travel.duration_s[gaps["before"], site]
        from_site = travel.duration_s[site, gaps["after"]]
        gap_s = state.gap_s[crew_day]
        ready = gaps["free_s"] + to_site + np.where(gaps["has_before"] == 1, gap_s, 0)
        start = _first_start(job, ready)
        end = start + job.duration_s
        closes = end + from_site + np.where(gaps["has_after"] == 1, gap_s, 0) <= gaps["latest_s"]
        added_s = to_site + from_site + job.duration_s
        added_s -= np.where(gaps["count"] > 0, travel.duration_s[gaps["before"], gaps["after"]], 0)
        loads = (
            (gaps["count"] + 1 <= state.max_jobs[crew_day])
            & (gaps["units"] + job.demand_units <= state.capacity_units[crew_day])
            & (gaps["busy_s"] + added_s <= state.busy_cap_s[crew_day])
        )
        return np.flatnonzero((start < NEVER) & closes & loads)

    def _added_milli(self, job: Job, gaps: Mapping[str, IntArray]) -> IntArray:
        """The objective's change, in milli-yen, of the job at each gap.

        The same terms as :func:`scheduler.result.objective_terms`: distance
        at the crew's rate, drive time, the crew-day's fixed cost when the
        route was empty, lateness, disruption of a published assignment and a
        broken day promise. The slot part of a promise depends on the exact
        times and is left to the final recomputation (the unassigned penalty
        dominates it).
        """
        weights = self.problem.weights
        travel = self.travel
        site = travel.index(job.location)
        crew_day = gaps["crew_day"]
        rate = self.rate[crew_day]

        def arc(a: IntArray, b: IntArray) -> IntArray:
            metres = travel.distance_m[a, b] * rate
            seconds = travel.duration_s[a, b]
            return metres + (seconds * weights.drive_yen_per_hour * MILLI + 1800) // 3600

        before, after = gaps["before"], gaps["after"]
        site_column = np.full_like(before, site)
        added = arc(before, site_column) + arc(site_column, after) - arc(before, after)
        added += np.where(gaps["count"] == 0, weights.crew_day_fixed_yen * MILLI, 0)
        day = self.state.day[crew_day]
        if job.due_day is not None:
            late_days = np.maximum(0, day - job.due_day)
            added += late_days * weights.lateness_yen_per_day * job.priority * MILLI
        if job.id in self.reference:
            home_key = self.reference[job.id]
            moved = np.array(
                [self.state.keys[int(n)] != home_key for n in crew_day.tolist()], dtype=bool
            )
            added += np.where(moved, weights.disruption_yen * MILLI, 0)
        slot = job.preferred_slot_s()
        slot_start = 0 if slot is None else slot[0]
        off_day = {
            int(d): preference_milli(weights, job, int(d), int(d) * DAY_S + slot_start)[0]
            for d in np.unique(day).tolist()
        }
        added += np.array([off_day[int(d)] for d in day.tolist()], dtype=np.int64)
        return np.asarray(added, dtype=np.int64)

    def _valid(self, job: Job, key: Key, position: int) -> bool:
        """The exact check: the route's timing with its lunch, then every rule of the validator."""
        route = self.plan.get(key, [])
        candidate = [*route[:position], job.id, *route[position:]]
        crew_day = self.problem.crew_days[self.number[key]]
        schedule = schedule_route(self.problem, self.travel, crew_day, candidate)
        if not is_feasible(schedule, crew_day):
            return False
        return not validate_route(self.problem, key[0], key[1], candidate, self.travel)

    def _all_rows(self) -> dict[str, IntArray]:
        if self._table is None:
            self._table = {
                name: np.concatenate([rows[name] for rows in self._routes]) for name in _COLUMNS
            }
        return self._table

    def _route_rows(self, number: int) -> dict[str, IntArray]:
        """One row per gap of crew-day ``number``'s route (one row for an empty day)."""
        state, travel = self.state, self.travel
        crew_day = self.problem.crew_days[number]
        route = [self.jobs[j] for j in self.plan.get(crew_day.key, ())]
        home = int(state.home[number])
        stops = [home, *(travel.index(j.location) for j in route), home]
        gap_s = int(state.gap_s[number])
        legs = [int(travel.duration_s[a, b]) for a, b in pairwise(stops)]
        free = [crew_day.shift_start_s]  # when the crew is free to leave each stop, earliest
        for k, job in enumerate(route):
            start = earliest_start(job.start_windows(), free[-1] + legs[k] + (gap_s if k else 0))
            free.append(NEVER if start is None else start + job.duration_s)
        latest = [crew_day.shift_end_s]  # the latest start of each next stop (home: shift end)
        for k in range(len(route) - 1, -1, -1):
            job = route[k]
            must_end = latest[0] - legs[k + 1] - (gap_s if k + 1 < len(route) else 0)
            start = _latest(job.start_windows(), must_end - job.duration_s)
            latest.insert(0, -NEVER if start is None else start)
        busy = 0
        if route:
            busy = sum(j.duration_s for j in route) + sum(legs)
        n = len(route) + 1
        return {
            "crew_day": np.full(n, number, dtype=np.int64),
            "position": np.arange(n, dtype=np.int64),
            "before": np.array(stops[:-1], dtype=np.int64),
            "after": np.array(stops[1:], dtype=np.int64),
            "free_s": np.array(free, dtype=np.int64),
            "latest_s": np.array(latest, dtype=np.int64),
            "has_before": (np.arange(n) > 0).astype(np.int64),
            "has_after": (np.arange(n) < n - 1).astype(np.int64),
            "busy_s": np.full(n, busy, dtype=np.int64),
            "count": np.full(n, len(route), dtype=np.int64),
            "units": np.full(n, sum(j.demand_units for j in route), dtype=np.int64),
        }


def _latest(windows: Sequence[TimeWindow], by_s: int) -> int | None:
    """The last allowed start at or before ``by_s`` (``None`` when no window has opened)."""
    if not windows:
        return by_s
    for window in reversed(windows):
        if window.start_s <= by_s:
            return min(by_s, window.end_s)
    return None
