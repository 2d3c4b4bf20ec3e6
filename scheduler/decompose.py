"""Large weeks: improve the plan region by region instead of in one OR-Tools model.

Why: one routing model of a whole week does not scale. Measured on the
generated 1,000-job week (385 crew-days, ~1,400 nodes), OR-Tools' local search
spends about 0.5 s per accepted move whatever the neighbourhood (all
operators, light operators, 20 neighbours per node, restricted vehicle
domains): about 15 moves in 8 s, so a minute of search barely moves the
greedy start. A 200-job week (75 crew-days) makes hundreds of moves a minute
and drives about 30 % fewer km than the greedy plan. So a large week is cut
into regions of about :data:`CREWS_PER_REGION` crews (by home base); each region
is re-planned by the same OR-Tools model with the jobs it currently holds,
warm-started from its current routes, so a region's plan never gets worse.
Rounds repeat with the regions' borders moved (the bisection axes are
rotated), so jobs can change region through a crew near the old border.

What is lost against one big model: a job can only move to a crew of its
region in a round. What is kept: every hard rule (each part is the full
model on a subset of crew-days), the objective (the same terms, summed), the
time limit (each part gets a share of the time left), cancellation and
progress.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from scheduler.model import Plan, Problem
from scheduler.ortools_adapter import RoutingOutcome, solve_routing
from scheduler.params import (
    AnyOf,
    CancelToken,
    FirstFeasible,
    MaxRuntime,
    ProgressCallback,
    SolveParams,
    is_cancelled,
)
from scheduler.result import objective_terms
from scheduler.travel import TravelMatrix

DECOMPOSE_ABOVE_CREW_DAYS = 150
"""Problems with more crew-days than this are improved region by region.

The 200-job week (75 crew-days) is searched well as one model; the 1,000-job
week (385) is not (see the module docstring).
"""

CREWS_PER_REGION = 8
"""Regions hold 4-8 crews (recursive bisection), 20-40 crew-days.

Smaller models make more moves in the same time, which matters most when
a region only gets a second or two per round. Measured (one run each, seed
1, 60 s, core 1 of a shared machine at load 3-4): 3,000 jobs, 16 crews per
region 1.1 % fewer km/job than greedy, 8 crews 18.2 %, 4 crews 15.9 %;
1,000 jobs, 16 crews 24.7 % fewer km/job with 4 jobs left out (cost
3.45 M yen), 8 crews 21.9 % with none left out (1.92 M yen). The earlier
value, 16 (the crew count of the 200-job week), gave 28.7 % and 15.0 % at
load 1.0-1.2 (docs/BENCHMARKS.md, previous round).
"""

REGION_SLICE_S = 1.2
"""Search time one region gets per round; the time limit sets how many rounds fit.

More, shorter rounds move the borders more often, but each region needs some
time to settle. Measured with 16 crews per region on the generated 1,000-job
week at 60 s (8 regions, ~55 s of search, one run each; the greedy start
drives 4.60 km/job and leaves 11 jobs out): 2 rounds (3.4 s per region and
round) 3.62 km/job, 1 job left out; 3 rounds 3.53, 3 out; 4 rounds 3.33, all
planned; 6 rounds (1.15 s) 3.34, all planned; 8 rounds 3.16, 1 out; 12
rounds (0.6 s) 3.35, 5 out. Single runs vary by about a job left out either
way, so this picks the middle of the range that planned everything.
"""

Routes = dict[tuple[str, int], list[str]]


def should_decompose(problem: Problem, params: SolveParams) -> bool:
    """Whether :func:`improve_by_regions` is used instead of one model."""
    return (
        params.decompose
        and len(problem.crew_days) > DECOMPOSE_ABOVE_CREW_DAYS
        and params.num_workers == 1
        and not params.restarts
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
    angle = math.radians(45 * round_number)
    axes = np.array(
        [[math.cos(angle), math.sin(angle)], [-math.sin(angle), math.cos(angle)]],
        dtype=np.float64,
    )
    ids = [c.id for c in problem.crews]
    lat0 = float(np.mean([c.home.lat for c in problem.crews]))
    xy = np.array(
        [[c.home.lon * math.cos(math.radians(lat0)), c.home.lat] for c in problem.crews],
        dtype=np.float64,
    )
    projected = xy @ axes.T
    regions: list[list[str]] = []

    def split(members: np.ndarray, axis: int) -> None:
        if len(members) <= crews_per_region:
            regions.append([ids[i] for i in members])
            return
        order = members[np.argsort(projected[members, axis], kind="stable")]
        half = len(order) // 2
        split(order[:half], 1 - axis)
        split(order[half:], 1 - axis)

    split(np.arange(len(ids)), round_number % 2)
    return regions


def improve_by_regions(
    problem: Problem,
    travel: TravelMatrix,
    candidates: Mapping[str, Sequence[tuple[str, int]]],
    start: Plan,
    *,
    stop: AnyOf,
    params: SolveParams,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    deadline: float | None = None,
) -> RoutingOutcome:
    """Re-plan region after region, round after round, from a valid start plan.

    Parameters
    ----------
    problem, travel
        The problem and its travel matrix.
    candidates
        Crew-days each schedulable job fits on alone (from screening).
    start
        A valid plan (the greedy plan or the caller's warm start); jobs it
        does not place join the region of their nearest qualified crew.
    stop, params, progress, cancel
        As for :func:`scheduler.solve`; ``NoImprovement`` applies per region,
        and without a ``MaxRuntime`` rounds go on until one improves nothing.
    deadline
        ``time.monotonic()`` by which the last region must be done.

    Returns
    -------
    RoutingOutcome
        The final plan in the same form as one model's outcome.
    """
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
    stop_reason = "first_feasible" if stop.first_feasible else "search_completed"
    solutions = 0
    round_number = 0
    planned_rounds = 1
    while True:
        regions = crew_regions(problem, CREWS_PER_REGION, round_number)
        if round_number == 0 and deadline is not None:
            fit = (deadline - time.monotonic()) / (len(regions) * REGION_SLICE_S)
            planned_rounds = max(1, round(fit))
        home_crew = _nearest_candidate_crew(problem, travel, candidates, unplaced)
        round_start_milli = best_milli
        for position, crew_ids in enumerate(regions):
            if is_cancelled(cancel):
                stop_reason = "cancelled"
                break
            part_deadline = _part_deadline(
                deadline, len(regions) - position, len(regions), planned_rounds - 1 - round_number
            )
            if part_deadline is not None and part_deadline - time.monotonic() <= 0.05:
                stop_reason = "time_limit"
                break
            region = set(crew_ids)
            waiting = [j for j in unplaced if home_crew.get(j) in region]
            part = _region_problem(problem, region, routes, waiting)
            if not part.jobs:
                continue
            part_candidates = {
                j.id: tuple(k for k in candidates[j.id] if k[0] in region) for j in part.jobs
            }
            part_routes = {k: ids for k, ids in routes.items() if k[0] in region}
            before_milli = _objective_milli(
                part, travel, part_routes, [j for j in waiting if part_candidates[j]]
            )
            part_stop = _part_stop(stop, part_deadline)
            outcome = solve_routing(
                part,
                travel,
                {j: c for j, c in part_candidates.items() if c},
                stop=part_stop,
                params=_part_params(params, waiting),
                warm_start=Plan({k: tuple(v) for k, v in part_routes.items()}),
                cancel=cancel,
                deadline=part_deadline,
            )
            solutions += outcome.solutions_seen
            if outcome.stop_reason == "cancelled":
                stop_reason = "cancelled"
            if not outcome.found:
                continue
            after_milli = _objective_milli(part, travel, outcome.routes, outcome.dropped)
            if after_milli > before_milli:
                continue  # warm start rejected and the construction did worse: keep ours
            for key in part_routes:
                routes.pop(key, None)
            routes.update({k: list(v) for k, v in outcome.routes.items()})
            placed = {j for ids in routes.values() for j in ids}
            unplaced = [j for j in candidates if j not in placed]
            best_milli = _objective_milli(problem, travel, routes, unplaced)
            if progress is not None and after_milli < before_milli:
                progress(time.monotonic() - started, best_milli / 1000, len(placed))
        else:
            round_number += 1
            if stop.first_feasible:
                break
            if deadline is None and best_milli >= round_start_milli:
                stop_reason = "no_improvement" if stop.no_improvement_s else "search_completed"
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
    (``SolveParams.drop_moves``).
    """
    return params if waiting else replace(params, drop_moves=False)


def _part_stop(stop: AnyOf, part_deadline: float | None) -> AnyOf:
    """The caller's criteria for one region, with the region's share as time limit."""
    others = tuple(c for c in stop.criteria if not isinstance(c, MaxRuntime))
    if part_deadline is None:
        return AnyOf(others) if others else AnyOf((FirstFeasible(),))
    return AnyOf((MaxRuntime(max(0.001, part_deadline - time.monotonic())), *others))


def _region_problem(
    problem: Problem, region: set[str], routes: Routes, waiting: Sequence[str]
) -> Problem:
    """The problem restricted to a region's crews, their jobs and the waiting jobs."""
    mine = {j for k, ids in routes.items() if k[0] in region for j in ids} | set(waiting)
    return replace(
        problem,
        crews=tuple(c for c in problem.crews if c.id in region),
        crew_days=tuple(cd for cd in problem.crew_days if cd.crew_id in region),
        jobs=tuple(j for j in problem.jobs if j.id in mine),
    )


def _nearest_candidate_crew(
    problem: Problem,
    travel: TravelMatrix,
    candidates: Mapping[str, Sequence[tuple[str, int]]],
    job_ids: Sequence[str],
) -> dict[str, str]:
    """For each unplaced job, the qualified crew whose home is nearest to it."""
    crews = problem.crews_by_id()
    jobs = problem.jobs_by_id()
    nearest: dict[str, str] = {}
    for job_id in job_ids:
        site = travel.index(jobs[job_id].location)
        crew_ids = {c for c, _ in candidates[job_id]}
        nearest[job_id] = min(
            crew_ids, key=lambda c: (int(travel.distance_m[travel.index(crews[c].home), site]), c)
        )
    return nearest


def _objective_milli(
    problem: Problem,
    travel: TravelMatrix,
    routes: Mapping[tuple[str, int], Sequence[str]],
    unplaced: Sequence[str],
) -> int:
    """The plan's objective in milli-yen, recomputed (the solver's own terms)."""
    return sum(objective_terms(problem, travel, routes, unplaced).values())
