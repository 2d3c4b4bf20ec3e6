"""No job that fits is left out: the repair after the search checks every left-out job.

Issue 24: under time pressure the explanation of left-out jobs started after the
deadline and labelled them all ``search``, although some fitted. These tests stop
the search with stopping rules (first plan, cancellation), never with the wall
clock, and then check each job still out by trying every position of every
crew-day with the validator, independently of the repair's own screen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from scheduler import FirstFeasible, MaxRuntime, Problem, Result, SolveParams, solve
from scheduler.generate import generate_week
from scheduler.greedy import solve_greedy
from scheduler.reasons import explain_dropped, screen
from scheduler.repair import GapTable
from scheduler.timing import is_feasible, schedule_route
from scheduler.travel import TravelMatrix, travel_for
from scheduler.validate import validate_route
from tests.scheduler.conftest import assert_valid

Key = tuple[str, int]


def fitting_positions(
    problem: Problem,
    travel: TravelMatrix,
    routes: Mapping[Key, Sequence[str]],
    job_id: str,
    keys: Sequence[Key],
) -> list[tuple[Key, int]]:
    """Every (crew-day, position) where inserting the job keeps every rule: brute force."""
    crew_days = problem.crew_days_by_key()
    found = []
    for key in keys:
        route = list(routes.get(key, ()))
        for position in range(len(route) + 1):
            candidate = [*route[:position], job_id, *route[position:]]
            timing = schedule_route(problem, travel, crew_days[key], candidate)
            if is_feasible(timing, crew_days[key]) and not validate_route(
                problem, key[0], key[1], candidate, travel
            ):
                found.append((key, position))
    return found


def jobs_left_out_that_fit(problem: Problem, result: Result) -> list[str]:
    travel = travel_for(problem)
    candidates = screen(problem, travel).candidates
    routes = {(r.crew_id, r.day): list(r.job_ids) for r in result.routes}
    return [
        u.job_id
        for u in result.unassigned
        if u.job_id in candidates
        and fitting_positions(problem, travel, routes, u.job_id, candidates[u.job_id])
        and not any(r.rule == "not_worth" for r in u.reasons)
    ]


def full_week() -> Problem:
    """120 jobs at 95 % load: the greedy start leaves jobs out, some of which fit."""
    return generate_week(120, seed=1, target_load=0.95)


def test_a_search_stopped_at_its_first_plan_leaves_out_no_job_that_fits() -> None:
    """``FirstFeasible`` stops the search at the greedy start; the repair places the
    left-out jobs that fit, and every job still out fits nowhere in the final plan."""
    p = full_week()
    greedy = solve_greedy(p)
    result = solve(p, FirstFeasible(), SolveParams(seed=1))
    assert_valid(p, result)
    assert result.stop_reason == "first_feasible"
    assert result.extra.repaired_jobs > 0
    assert result.kpis.jobs_assigned == greedy.kpis.jobs_assigned + result.extra.repaired_jobs
    assert jobs_left_out_that_fit(p, result) == []
    assert not any(r.rule == "search" for u in result.unassigned for r in u.reasons)


def test_a_cancelled_search_still_gets_every_fitting_job_placed() -> None:
    """Cancelled at once (the coordinator pressed Cancel): the plan so far is the greedy
    start, and the repair still runs on it, so no job that fits is left out."""
    p = full_week()
    result = solve(p, MaxRuntime(30), SolveParams(seed=1), cancel=lambda: True)
    assert_valid(p, result)
    assert result.stop_reason == "cancelled"
    assert result.kpis.jobs_assigned >= solve_greedy(p).kpis.jobs_assigned
    assert jobs_left_out_that_fit(p, result) == []
    assert not any(r.rule == "search" for u in result.unassigned for r in u.reasons)


def test_explanation_checks_every_job_and_leaves_none_to_the_clock() -> None:
    """Given the greedy plan, the explanation inserts every left-out job that fits and
    explains the rest by capacity or cost, never by the clock."""
    p = full_week()
    travel = travel_for(p)
    candidates = screen(p, travel).candidates
    greedy = solve_greedy(p)
    routes = {k: list(v) for k, v in greedy.to_plan().routes.items()}
    dropped = [u.job_id for u in greedy.unassigned if u.job_id in candidates]
    explanation = explain_dropped(p, travel, routes, dropped, candidates, search_cut=True)
    assert explanation.inserted
    assert {r.rule for reasons in explanation.reasons.values() for r in reasons} <= {
        "capacity_used",
        "not_worth",
    }
    for job_id in explanation.reasons:
        assert not fitting_positions(p, travel, explanation.routes, job_id, candidates[job_id])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_screen_never_discards_a_gap_where_the_job_fits(seed: int) -> None:
    """Each planned job is taken out of a full plan and offered back: every position where
    the brute force finds it fits (its own old place included) passed the screen."""
    p = generate_week(60, seed=seed, target_load=0.95)
    travel = travel_for(p)
    candidates = screen(p, travel).candidates
    plan = {k: list(v) for k, v in solve_greedy(p).to_plan().routes.items()}
    jobs = p.jobs_by_id()
    checked = 0
    for key, route in list(plan.items()):
        for job_id in route:
            without = {k: [j for j in ids if j != job_id] for k, ids in plan.items()}
            gaps = GapTable(p, travel, without)
            screened = {
                (i.key, i.position) for i in gaps.screened(jobs[job_id], candidates[job_id])
            }
            fits = fitting_positions(p, travel, without, job_id, candidates[job_id])
            assert (key, route.index(job_id)) in fits
            assert set(fits) <= screened, job_id
            checked += len(fits)
    assert checked > 0
