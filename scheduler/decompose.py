"""Large weeks: improve the plan region by region instead of in one OR-Tools model.

Why: one routing model of a whole week does not scale: on the generated
1,000-job week OR-Tools' local search makes about 15 moves in 8 s, so a minute
of search barely moves the greedy start, while a 200-job week makes hundreds
of moves a minute (``docs/BENCHMARKS.md``, "Why the solver defaults are what
they are"). So a large week is cut
into regions of 20-40 crew-days; each region is re-planned by the same
OR-Tools model with the jobs it currently holds, warm-started from its
current routes, so a region's plan never gets worse.

Rounds repeat with other borders (:func:`round_regions`): even rounds group
whole crews by home base, so a job can move to another day of a crew; odd
rounds group crew-days by where they currently work, so crews that drive to
the same area from different homes meet in one region and a job can move to
the crew that is nearest that day. Each kind turns its bisection axes every
other round, so a border of one round runs through the middle of a region
in the next.

What is lost against one big model: a job can only move within its region
in a round. What is kept: every hard rule (each part is the full model on a
subset of crew-days), the objective (the same terms, summed), the time limit
(each part gets a share of the time left), cancellation and progress.
Regions of a round share no crew-day and no job, so with ``num_workers`` > 1
they are searched at the same time by a part runner (:mod:`scheduler.parts`):
forked children by default, Celery workers in the app.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from scheduler.model import Location, Plan, Problem
from scheduler.ortools_search import RoutingOutcome, SearchTask
from scheduler.params import (
    AnyOf,
    FirstFeasible,
    MaxRuntime,
    SolveParams,
    is_cancelled,
)
from scheduler.parts import OneByOne, PartRunner, default_runner
from scheduler.reassign import reassign_if_cheaper
from scheduler.result import StopReason, objective_terms
from scheduler.travel import TravelMatrix

DECOMPOSE_ABOVE_CREW_DAYS = 150
"""Problems with more crew-days than this are improved region by region.

The 200-job week (75 crew-days) is searched well as one model; the 1,000-job
week (385) is not (see the module docstring).
"""

CREWS_PER_REGION = 8
"""Regions hold 4-8 crews (recursive bisection), 20-40 crew-days.

Smaller models make more moves in the same time, which matters most when
a region only gets a second or two per round; 8 crews measured best against
4 and 16 (``docs/BENCHMARKS.md``, "Why the solver defaults are what they are").
"""

REGION_SLICE_S = 0.6
"""Search time one region gets per round; the time limit sets how many rounds fit.

More, shorter rounds move the borders more often, but each region needs some
time to settle; 0.6 s measured as good as 0.3 s and better than 1.2 s
(``docs/BENCHMARKS.md``, "Why the solver defaults are what they are").
"""


Key = tuple[str, int]
"""A crew-day: ``(crew_id, day)``."""
Routes = dict[Key, list[str]]
LatLon = tuple[float, float]


def should_decompose(problem: Problem, params: SolveParams) -> bool:
    """Whether :func:`improve_by_regions` is used instead of one model."""
    return (
        params.decompose
        and len(problem.crew_days) > DECOMPOSE_ABOVE_CREW_DAYS
        and not params.start.restarts
        and len(problem.crews) > CREWS_PER_REGION
    )


def crew_regions(problem: Problem, crews_per_region: int, round_number: int) -> list[list[str]]:
    """Group crews by home base into regions of about ``crews_per_region`` crews.

    Recursive bisection at the median of the homes' coordinates, on axes
    rotated by 45 degrees more each round, so that a border of one round
    runs through the middle of a region in the next.

    Parameters
    ----------
    problem
        The problem whose crews are grouped.
    crews_per_region
        Target crews per region (regions hold between half and all of it).
    round_number
        Which rotation to use.

    Returns
    -------
    list[list[str]]
        Crew ids per region; every crew is in exactly one region.
    """
    ids = [c.id for c in problem.crews]
    lat0 = float(np.mean([c.home.lat for c in problem.crews]))
    points = [(c.home.lat, c.home.lon) for c in problem.crews]
    groups = _bisect(_plane(points, lat0), crews_per_region, round_number)
    return [[ids[i] for i in group] for group in groups]


def route_regions(
    problem: Problem, routes: Mapping[Key, Sequence[str]], size: int, round_number: int
) -> list[set[Key]]:
    """Group crew-days by where their work is, into regions of about ``size`` crew-days.

    A crew-day sits at the centre of its jobs (at its crew's home when it
    has none; :func:`work_centres`), so a region gathers the crew-days that
    work in one part of the map on any day, wherever their crews live: a job
    can move in one step to another day, or to a crew living nearer than the
    one that has it.
    """
    centres = work_centres(problem, routes)
    keys = list(centres)
    lat0 = float(np.mean([c.home.lat for c in problem.crews]))
    groups = _bisect(_plane([centres[k] for k in keys], lat0), size, round_number)
    return [{keys[i] for i in group} for group in groups]


def work_centres(problem: Problem, routes: Mapping[Key, Sequence[str]]) -> dict[Key, LatLon]:
    """Each crew-day's centre of work: the mean position of its jobs, else its crew's home."""
    jobs = problem.jobs_by_id()
    homes = {c.id: (c.home.lat, c.home.lon) for c in problem.crews}
    centres: dict[Key, LatLon] = {}
    for cd in problem.crew_days:
        ids = routes.get(cd.key)
        if ids:
            lat = sum(jobs[j].location.lat for j in ids) / len(ids)
            lon = sum(jobs[j].location.lon for j in ids) / len(ids)
            centres[cd.key] = (lat, lon)
        else:
            centres[cd.key] = homes[cd.crew_id]
    return centres


def _plane(points: Sequence[tuple[float, float]], lat0: float) -> np.ndarray:
    """(lat, lon) pairs as x/y on a plane locally true to scale around ``lat0``."""
    latlon = np.array(points, dtype=np.float64)
    return np.column_stack((latlon[:, 1] * math.cos(math.radians(lat0)), latlon[:, 0]))


def _bisect(xy: np.ndarray, size: int, round_number: int) -> list[np.ndarray]:
    """Recursive median bisection of points into groups of ``size // 2 .. size`` points.

    The axes turn by 45 degrees more each round, so that a border of one
    round runs through the middle of a group in the next.
    """
    angle = math.radians(45 * round_number)
    axes = np.array(
        [[math.cos(angle), math.sin(angle)], [-math.sin(angle), math.cos(angle)]],
        dtype=np.float64,
    )
    projected = xy @ axes.T
    groups: list[np.ndarray] = []

    def split(members: np.ndarray, axis: int) -> None:
        if len(members) <= size:
            groups.append(members)
            return
        order = members[np.argsort(projected[members, axis], kind="stable")]
        half = len(order) // 2
        split(order[:half], 1 - axis)
        split(order[half:], 1 - axis)

    split(np.arange(len(xy)), round_number % 2)
    return groups


def improve_by_regions(whole: SearchTask, runner: PartRunner | None = None) -> RoutingOutcome:
    """Re-plan region after region, round after round, from a valid start plan.

    Parameters
    ----------
    whole
        The whole problem's search. ``whole.warm_start`` must be a valid plan
        (the greedy plan or the caller's warm start); jobs it does not place
        join the region of their nearest qualified crew. ``NoImprovement``
        applies per region, and without a ``MaxRuntime`` rounds go on until
        one improves nothing; ``whole.deadline`` is when the last region must
        be done.

    Returns
    -------
    RoutingOutcome
        The final plan in the same form as one model's outcome.
    """
    problem, travel, candidates = whole.problem, whole.travel, whole.candidates
    stop, params, progress, cancel = whole.stop, whole.params, whole.progress, whole.cancel
    deadline = whole.deadline
    assert whole.warm_start is not None, "region search needs a start plan"
    start = whole.warm_start
    started = time.monotonic()
    keys = {cd.key for cd in problem.crew_days}
    routes: Routes = {}
    for key, job_ids in start.routes.items():
        kept = [j for j in job_ids if j in candidates]
        if tuple(key) in keys and kept:
            routes[(key[0], key[1])] = kept
    placed = {j for ids in routes.values() for j in ids}
    unplaced = [j for j in candidates if j not in placed]
    best_milli = _objective_milli(problem, travel, routes, unplaced)
    if progress is not None:
        progress(time.monotonic() - started, best_milli / 1000, len(placed))
    stop_reason = StopReason.FIRST_FEASIBLE if stop.first_feasible else StopReason.SEARCH_COMPLETED
    solutions = 0
    round_number = 0
    planned_rounds = 1
    runner = runner or default_runner(params.num_workers)
    workers = max(1, runner.log.workers)
    while True:
        if not stop.first_feasible and (
            cheaper := reassign_if_cheaper(
                problem, travel, candidates, routes, unplaced, deadline=deadline
            )
        ):
            routes, best_milli = cheaper  # whole routes to crews of other regions
        regions, anchors = round_regions(problem, routes, round_number)
        batches = [regions[k : k + workers] for k in range(0, len(regions), workers)]
        if round_number == 0 and deadline is not None:
            fit = (deadline - time.monotonic()) / (len(batches) * REGION_SLICE_S)
            planned_rounds = max(1, round(fit))
        waiting_in = _waiting_places(problem, candidates, unplaced, anchors)
        round_start_milli = best_milli
        for position, batch in enumerate(batches):
            if is_cancelled(cancel):
                stop_reason = StopReason.CANCELLED
                break
            part_deadline = _part_deadline(
                deadline, len(batches) - position, len(batches), planned_rounds - 1 - round_number
            )
            if part_deadline is not None and part_deadline - time.monotonic() <= 0.05:
                stop_reason = StopReason.TIME_LIMIT
                break
            tasks = [
                task
                for region in batch
                if (
                    task := _region_task(
                        problem, travel, candidates, routes, unplaced, waiting_in, region
                    )
                )
                is not None
            ]
            outcomes = _solve_regions(whole, tasks, part_deadline, runner)
            for task, outcome in zip(tasks, outcomes, strict=True):
                if outcome is None:
                    stop_reason = StopReason.CANCELLED
                    continue
                solutions += outcome.solutions_seen
                if outcome.stop_reason == StopReason.CANCELLED:
                    stop_reason = StopReason.CANCELLED
                if not outcome.found:
                    continue
                after_milli = _objective_milli(task.part, travel, outcome.routes, outcome.dropped)
                if after_milli > task.before_milli:
                    continue  # warm start rejected and the construction did worse: keep ours
                for key in task.routes:
                    routes.pop(key, None)
                routes.update({k: list(v) for k, v in outcome.routes.items()})
                placed = {j for ids in routes.values() for j in ids}
                unplaced = [j for j in candidates if j not in placed]
                best_milli = _objective_milli(problem, travel, routes, unplaced)
                if progress is not None and after_milli < task.before_milli:
                    progress(time.monotonic() - started, best_milli / 1000, len(placed))
            if stop_reason == StopReason.CANCELLED:
                break
        else:
            round_number += 1
            if stop.first_feasible:
                break
            if deadline is None and best_milli >= round_start_milli:
                stop_reason = (
                    StopReason.NO_IMPROVEMENT
                    if stop.no_improvement_s
                    else StopReason.SEARCH_COMPLETED
                )
                break
            continue
        break
    return RoutingOutcome(
        found=True,
        routes=routes,
        dropped=unplaced,
        stop_reason=stop_reason,
        runtime_s=time.monotonic() - started,
        first_solution_s=0.0,
        objective_milli=best_milli,
        warm_start_used=True,
        solutions_seen=solutions,
    )


def round_regions(
    problem: Problem, routes: Mapping[Key, Sequence[str]], round_number: int
) -> tuple[list[set[Key]], dict[Key, LatLon]]:
    """A round's regions (sets of crew-days) and where each crew-day stands for this round.

    Even rounds group crews by home base (:func:`crew_regions`), odd rounds
    group crew-days by where they work (:func:`route_regions`); each kind
    turns its axes every other round. Home regions keep a crew's week
    together, so jobs move between its days; work regions bring together the
    crews that drive to the same area from different homes. Alternating
    measured better than either kind alone on the 3,000-job week
    (``docs/BENCHMARKS.md``, "Why the solver defaults are what they are").

    The second value maps each crew-day to the point a left-out job is
    compared with to choose the region it waits in: its crew's home in a
    home round, its centre of work in a work round.
    """
    if round_number % 2 == 0:
        homes = {c.id: (c.home.lat, c.home.lon) for c in problem.crews}
        crews = crew_regions(problem, CREWS_PER_REGION, round_number // 2)
        regions = [{cd.key for cd in problem.crew_days if cd.crew_id in set(ids)} for ids in crews]
        return regions, {cd.key: homes[cd.crew_id] for cd in problem.crew_days}
    days_per_crew = max(1, round(len(problem.crew_days) / max(1, len(problem.crews))))
    size = CREWS_PER_REGION * days_per_crew
    return route_regions(problem, routes, size, round_number // 2), work_centres(problem, routes)


@dataclass(frozen=True)
class _RegionTask:
    """One region's part of a round: its problem, the plan it starts from, what that costs."""

    part: Problem
    candidates: dict[str, tuple[tuple[str, int], ...]]
    routes: Routes
    waiting: list[str]
    before_milli: int


def _region_task(
    problem: Problem,
    travel: TravelMatrix,
    candidates: Mapping[str, Sequence[tuple[str, int]]],
    routes: Routes,
    unplaced: Sequence[str],
    waiting_in: Mapping[str, Key],
    region: set[Key],
) -> _RegionTask | None:
    """A region's crew-days, their jobs and the jobs waiting in it (None if it has no job)."""
    waiting = [j for j in unplaced if waiting_in.get(j) in region]
    part = _region_problem(problem, region, routes, waiting)
    if not part.jobs:
        return None
    part_candidates = {
        j.id: tuple(k for k in candidates[j.id] if (k[0], k[1]) in region) for j in part.jobs
    }
    part_routes = {k: ids for k, ids in routes.items() if k in region}
    before_milli = _objective_milli(
        part, travel, part_routes, [j for j in waiting if part_candidates[j]]
    )
    return _RegionTask(
        part=part,
        candidates={j: c for j, c in part_candidates.items() if c},
        routes=part_routes,
        waiting=waiting,
        before_milli=before_milli,
    )


def _solve_regions(
    whole: SearchTask, tasks: Sequence[_RegionTask], deadline: float | None, runner: PartRunner
) -> list[RoutingOutcome | None]:
    """Search the regions of a batch with the runner: here, in children, or on other workers.

    The regions of a round share no crew and no job, so they can be searched
    at the same time; each part carries only its region's problem and sends
    back only its routes. ``None`` marks a region not searched (``cancel``,
    or a part no worker finished in time): it keeps its routes.
    """
    here = isinstance(runner, OneByOne)
    parts = [
        SearchTask(
            problem=task.part,
            travel=whole.travel,
            candidates=task.candidates,
            stop=_part_stop(whole.stop, deadline),
            params=replace(_part_params(whole.params, task.waiting), num_workers=1),
            warm_start=Plan({k: tuple(v) for k, v in task.routes.items()}),
            cancel=whole.cancel if here else None,
            deadline=deadline,
            seed_iterated=whole.seed_iterated,
        )
        for task in tasks
    ]
    return runner.run(parts, cancel=whole.cancel)


def _part_deadline(
    deadline: float | None, parts_left: int, parts_per_round: int, rounds_after: int
) -> float | None:
    """An equal share of the time left between this round's parts and the rounds after."""
    if deadline is None:
        return None
    shares = parts_left + max(0, rounds_after) * parts_per_round
    now = time.monotonic()
    return now + (deadline - now) / shares


def _part_params(params: SolveParams, waiting: Sequence[str]) -> SolveParams:
    """Search settings of one region: no drop moves when nothing waits to be placed.

    A region's start plan places every job it holds; with no left-out job
    waiting, a move that unassigns a job only pays if the job costs more
    than its unassigned penalty, which the explanation step already
    reports, so those operators are pure overhead there
    (``OperatorParams.drop_moves``).
    """
    return (
        params
        if waiting
        else replace(params, operators=replace(params.operators, drop_moves=False))
    )


def _part_stop(stop: AnyOf, part_deadline: float | None) -> AnyOf:
    """The caller's criteria for one region, with the region's share as time limit."""
    others = tuple(c for c in stop.criteria if not isinstance(c, MaxRuntime))
    if part_deadline is None:
        return AnyOf(others) if others else AnyOf((FirstFeasible(),))
    return AnyOf((MaxRuntime(max(0.001, part_deadline - time.monotonic())), *others))


def _region_problem(
    problem: Problem, region: set[tuple[str, int]], routes: Routes, waiting: Sequence[str]
) -> Problem:
    """The problem restricted to a region's crew-days, their jobs and the waiting jobs."""
    mine = {j for k, ids in routes.items() if k in region for j in ids} | set(waiting)
    crew_ids = {crew_id for crew_id, _ in region}
    return replace(
        problem,
        crews=tuple(c for c in problem.crews if c.id in crew_ids),
        crew_days=tuple(cd for cd in problem.crew_days if cd.key in region),
        jobs=tuple(j for j in problem.jobs if j.id in mine),
    )


def _waiting_places(
    problem: Problem,
    candidates: Mapping[str, Sequence[Key]],
    job_ids: Sequence[str],
    anchors: Mapping[Key, LatLon],
) -> dict[str, Key]:
    """For each left-out job, the candidate crew-day whose anchor point is nearest to it.

    The job waits this round in the region holding that crew-day.
    """
    jobs = problem.jobs_by_id()
    lat0 = math.cos(math.radians(float(np.mean([c.home.lat for c in problem.crews]))))
    places: dict[str, Key] = {}
    for job_id in job_ids:
        here = jobs[job_id].location

        def squared(key: Key, here: Location = here) -> tuple[float, Key]:
            lat, lon = anchors[key]
            return ((lat - here.lat) ** 2 + ((lon - here.lon) * lat0) ** 2, key)

        places[job_id] = min(((k[0], k[1]) for k in candidates[job_id]), key=squared)
    return places


def _objective_milli(
    problem: Problem,
    travel: TravelMatrix,
    routes: Mapping[tuple[str, int], Sequence[str]],
    unplaced: Sequence[str],
) -> int:
    """The plan's objective in milli-yen, recomputed (the solver's own terms)."""
    return sum(objective_terms(problem, travel, routes, unplaced).values())
