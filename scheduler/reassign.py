"""Give each day's routes to the crews that can drive them most cheaply.

Why: a route built for one crew may be driven more cheaply by another crew
working the same day, one that lives nearer to it. Local search can only get
there job by job, through a long chain of moves that each look worse on
their own, and region search only sees the crews of one region. For one day,
though, "which crew drives which route" is an assignment problem: routes on
one side, that day's crew-days on the other, the cost of a pair is what the
route costs on that crew-day (kilometres at that crew's rate, drive time,
disruption against the reference plan). A minimum-cost perfect matching
solves it exactly, in milliseconds for a hundred crews.

The visit order of a route is kept; whether the route still fits the new
crew-day (shift, windows, gaps, utilization, jobs per day, capacity) is
checked with the validator's own route check, and a pair that fails is
excluded and the matching solved again. Jobs that must stay where they are
(locked) only fit their own crew-day (screening's candidates), so their
routes stay with their crew.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from itertools import pairwise

import numpy as np

from scheduler.model import CrewDay, Problem, Weights
from scheduler.ortools_model import min_cost_assignment
from scheduler.result import MILLI, drive_cost_milli, objective_terms, route_terms
from scheduler.travel import TravelMatrix
from scheduler.validate import validate_route

Key = tuple[str, int]

MAX_MATCHINGS_PER_DAY = 30
"""How often one day's matching may be re-solved after excluding pairs that do not fit.

Each round removes every chosen pair that fails the route check, so a few
rounds are usually enough; the bound only guarantees termination. If it is
reached, the day keeps its routes.
"""


def reassign_routes(
    problem: Problem,
    travel: TravelMatrix,
    candidates: Mapping[str, Sequence[Key]],
    routes: Mapping[Key, Sequence[str]],
    *,
    deadline: float | None = None,
) -> dict[Key, list[str]]:
    """Reassign each day's routes to that day's crew-days at minimum total cost.

    Parameters
    ----------
    problem, travel
        The problem and its travel matrix.
    candidates
        Crew-days each job fits on alone (screening); a route may only move
        to a crew-day that is a candidate of all its jobs.
    routes
        Job ids in visit order per crew-day.
    deadline
        ``time.monotonic()`` after which no further day is matched: the days
        left keep their routes as they are, so the result is still valid and
        never costlier, only less improved.

    Returns
    -------
    dict[Key, list[str]]
        The same routes, each on the crew-day of the same day that drives it
        most cheaply overall; never costlier than ``routes`` (the current
        assignment is always one of the matchings).
    """
    by_day: dict[int, list[CrewDay]] = defaultdict(list)
    for cd in problem.crew_days:
        by_day[cd.day].append(cd)
    result: dict[Key, list[str]] = {}
    for crew_days in by_day.values():
        if deadline is not None and time.monotonic() > deadline:
            result.update({cd.key: list(routes[cd.key]) for cd in crew_days if cd.key in routes})
            continue
        result.update(_reassign_day(problem, travel, candidates, routes, crew_days))
    return result


def reassign_if_cheaper(
    problem: Problem,
    travel: TravelMatrix,
    candidates: Mapping[str, Sequence[Key]],
    routes: Mapping[Key, Sequence[str]],
    unplaced: Sequence[str],
    *,
    deadline: float | None = None,
) -> tuple[dict[Key, list[str]], int] | None:
    """:func:`reassign_routes` and the new objective in milli-yen, or None if it saves nothing.

    The objective is recomputed from scratch (:func:`scheduler.result.objective_terms`),
    so the caller never takes a plan that is not strictly cheaper.
    """
    before = sum(objective_terms(problem, travel, routes, unplaced).values())
    moved = reassign_routes(problem, travel, candidates, routes, deadline=deadline)
    after = sum(objective_terms(problem, travel, moved, unplaced).values())
    return (moved, after) if after < before else None


def _reassign_day(
    problem: Problem,
    travel: TravelMatrix,
    candidates: Mapping[str, Sequence[Key]],
    routes: Mapping[Key, Sequence[str]],
    crew_days: Sequence[CrewDay],
) -> dict[Key, list[str]]:
    """One day's matching; every crew-day of ``crew_days`` gets one route (maybe empty)."""
    keys = [cd.key for cd in crew_days]
    current = {k: list(routes.get(k, ())) for k in keys}
    busy = [k for k in keys if current[k]]
    if not busy or len(keys) <= 1:
        return {k: ids for k, ids in current.items() if ids}
    matching = _Matching(_pair_costs(problem, travel, candidates, current, busy, keys), busy, keys)
    fits: dict[tuple[Key, Key], bool] = {(k, k): True for k in busy}
    for _ in range(MAX_MATCHINGS_PER_DAY):
        mates = matching.solve()
        unchecked = [(r, k) for r, k in mates.items() if (r, k) not in fits]
        if not unchecked:
            moved = {k: current[r] for r, k in mates.items()}
            return {k: ids for k, ids in moved.items() if ids}
        for route_key, key in unchecked:
            ok = not validate_route(problem, key[0], key[1], current[route_key], travel)
            fits[(route_key, key)] = ok
            if not ok:
                matching.exclude(route_key, key)
    return {k: ids for k, ids in current.items() if ids}


def _pair_costs(
    problem: Problem,
    travel: TravelMatrix,
    candidates: Mapping[str, Sequence[Key]],
    current: Mapping[Key, list[str]],
    busy: Sequence[Key],
    keys: Sequence[Key],
) -> dict[tuple[Key, Key], int]:
    """Milli-yen of each busy route on each crew-day all its jobs fit on.

    The same terms as :func:`scheduler.result.route_terms` plus disruption,
    computed for all crew-days of a route at once: only the legs from and
    back to home and the rate per km depend on the crew-day.
    """
    crews = problem.crews_by_id()
    jobs = problem.jobs_by_id()
    weights = problem.weights
    position = {k: i for i, k in enumerate(keys)}
    homes = np.array([travel.index(crews[k[0]].home) for k in keys], dtype=np.int64)
    rate = np.array([crews[k[0]].cost_per_km_yen for k in keys], dtype=np.int64)
    reference = problem.reference.assignment() if problem.reference is not None else {}
    cost: dict[tuple[Key, Key], int] = {}
    for route_key in busy:
        job_ids = current[route_key]
        fits = set(keys)
        for job_id in job_ids:
            fits.intersection_update(candidates.get(job_id, ()))
        fits.add(route_key)
        targets = sorted(fits, key=position.__getitem__)
        cols = np.array([position[k] for k in targets], dtype=np.int64)
        stops = [travel.index(jobs[j].location) for j in job_ids]
        inner = route_terms(problem, travel, crews[route_key[0]], route_key[1], job_ids)
        own_home = travel.index(crews[route_key[0]].home)
        inner_m = _legs_m(travel, stops) if len(stops) > 1 else 0
        inner_drive = inner["drive_time"] - _drive(travel, own_home, stops, weights)
        out_m = travel.distance_m[homes[cols], stops[0]].astype(np.int64)
        back_m = travel.distance_m[stops[-1], homes[cols]].astype(np.int64)
        out_s = travel.duration_s[homes[cols], stops[0]].astype(np.int64)
        back_s = travel.duration_s[stops[-1], homes[cols]].astype(np.int64)
        per_hour = weights.drive_yen_per_hour * MILLI
        drive = inner_drive + (out_s * per_hour + 1800) // 3600 + (back_s * per_hour + 1800) // 3600
        total = (inner_m + out_m + back_m) * rate[cols] + drive
        # The promise term is taken from the route's own crew-day: a day promise
        # is the same on every crew-day of the day; a slot cost may shift with
        # the start times, which the caller's full recomputation catches.
        total += inner["fixed"] + inner["lateness"] + inner["preference"]
        referenced = [tuple(reference[j]) for j in job_ids if j in reference]
        for key, milli in zip(targets, total.tolist(), strict=True):
            moved = sum(1 for ref in referenced if ref != key)
            cost[(route_key, key)] = int(milli) + moved * weights.disruption_yen * MILLI
    return cost


def _legs_m(travel: TravelMatrix, stops: Sequence[int]) -> int:
    """Metres between consecutive stops."""
    return sum(int(travel.distance_m[a, b]) for a, b in pairwise(stops))


def _drive(travel: TravelMatrix, home: int, stops: Sequence[int], weights: Weights) -> int:
    """Drive-time milli-yen of the legs from and back to ``home``."""
    return drive_cost_milli(
        int(travel.duration_s[home, stops[0]]), weights.drive_yen_per_hour
    ) + drive_cost_milli(int(travel.duration_s[stops[-1], home]), weights.drive_yen_per_hour)


class _Matching:
    """Minimum-cost assignment of a day's busy routes to distinct crew-days.

    The empty crew-days are the other rows of the square problem: they go
    anywhere for free, so the matching is perfect whenever the current
    assignment is allowed, which it always is.
    """

    def __init__(
        self, cost: Mapping[tuple[Key, Key], int], busy: Sequence[Key], keys: Sequence[Key]
    ) -> None:
        index = {k: i for i, k in enumerate(keys)}
        busy_set = set(busy)
        self.left = list(busy) + [k for k in keys if k not in busy_set]
        self.keys = list(keys)
        self.busy_count = len(busy)
        row = {k: i for i, k in enumerate(self.left)}
        idle_rows = len(self.left) - len(busy)
        self.tails = np.asarray(
            [row[r] for r, _ in cost] + [i for i in range(len(busy), len(self.left)) for _ in keys],
            dtype=np.int32,
        )
        self.heads = np.asarray(
            [index[k] for _, k in cost] + list(range(len(keys))) * idle_rows, dtype=np.int32
        )
        self.costs = np.asarray(list(cost.values()) + [0] * (len(keys) * idle_rows), np.int64)
        self.arc = {pair: i for i, pair in enumerate(cost)}
        self.allowed = np.ones(len(self.costs), dtype=bool)

    def exclude(self, route_key: Key, key: Key) -> None:
        """Never give this route to this crew-day (its own crew-day is never excluded)."""
        self.allowed[self.arc[(route_key, key)]] = False

    def solve(self) -> dict[Key, Key]:
        """Busy route's crew-day -> the crew-day it goes to."""
        keep = self.allowed
        mates = min_cost_assignment(
            self.tails[keep], self.heads[keep], self.costs[keep], self.busy_count
        )
        return {self.left[i]: self.keys[mate] for i, mate in enumerate(mates)}
