"""The time budget and honest reporting: a ``MaxRuntime`` bounds the whole call, and a
job the search had no time for is never blamed on its cost."""

from __future__ import annotations

import importlib
import time
from typing import Any

import pytest

from scheduler import FirstFeasible, MaxRuntime, Plan, Problem, SolveParams, TimeWindow, solve
from scheduler.generate import generate_week
from scheduler.greedy import solve_greedy
from scheduler.ortools_search import SearchTask
from scheduler.params import Metaheuristic, SearchParams, StartParams
from scheduler.reasons import explain_dropped, screen
from scheduler.travel import travel_for
from tests.scheduler.conftest import H, assert_valid, at, crew, crew_days, job, problem

# The module, not the function ``scheduler.solve`` that shadows it on the package.
solve_module = importlib.import_module("scheduler.solve")

KNOWN_RULES = {
    "skill",
    "members",
    "day",
    "shift",
    "window",
    "max_utilization",
    "capacity",
    "max_jobs",
    "locked",
    "capacity_used",
    "not_worth",
    "search",
}


def morning_job_behind_an_afternoon_job() -> Problem:
    """One crew-day; ``afternoon`` is due today (so the greedy plans it first, at 14:00),
    ``morning`` may only start 08:30-09:00 and is due tomorrow. Appending ``morning`` after
    14:00 is impossible, so the greedy leaves it out, yet both fit: morning first."""
    return problem(
        [crew("A")],
        crew_days(["A"]),
        [
            job("afternoon", at(1, 0), due_day=0, windows=(TimeWindow(14 * H, 16 * H),)),
            job("morning", at(0, 1), due_day=1, windows=(TimeWindow(8 * H + 1800, 9 * H),)),
        ],
    )


def test_greedy_leaves_the_morning_job_out() -> None:
    """The fixture does what it says: the greedy start misses ``morning``."""
    greedy = solve_greedy(morning_job_behind_an_afternoon_job())
    assert [u.job_id for u in greedy.unassigned] == ["morning"]


def test_search_with_time_places_what_the_greedy_start_missed() -> None:
    """Started from the greedy plan, guided local search plans both jobs, morning first."""
    p = morning_job_behind_an_afternoon_job()
    params = SolveParams(
        seed=1, search=SearchParams(metaheuristic=Metaheuristic.GUIDED_LOCAL_SEARCH)
    )
    result = solve(p, MaxRuntime(1), params)
    assert_valid(p, result)
    assert result.extra.start == "greedy"
    assert result.routes[0].job_ids == ("morning", "afternoon")


def test_the_default_search_plans_what_the_greedy_start_missed_from_its_own_construction() -> None:
    """With a second for two jobs, the default (``AUTO``) runs iterated local search,
    which builds its own first plan: both jobs planned, morning first, and the
    greedy plan was not the one kept."""
    p = morning_job_behind_an_afternoon_job()
    result = solve(p, MaxRuntime(1), SolveParams(seed=1))
    assert_valid(p, result)
    assert result.extra.start == "construction"
    assert result.routes[0].job_ids == ("morning", "afternoon")


def test_job_left_out_for_lack_of_time_is_placed_by_the_repair() -> None:
    """With a limit shorter than the model build, the search returns the greedy start
    that missed ``morning``; the repair after the search still checks it, finds that it
    fits before ``afternoon`` and places it: the clock never costs a job that fits."""
    p = morning_job_behind_an_afternoon_job()
    result = solve(p, MaxRuntime(0.001), SolveParams(seed=1))
    assert result.status == "plan_found"
    assert result.unassigned == ()
    assert result.routes[0].job_ids == ("morning", "afternoon")


def test_explanation_inserts_a_dropped_job_that_is_cheaper_in_than_out() -> None:
    """A job the solver dropped that fits for less than its penalty is put into the plan
    (the search was cut before it got there), not explained away."""
    p = morning_job_behind_an_afternoon_job()
    travel = travel_for(p)
    candidates = screen(p, travel).candidates
    explanation = explain_dropped(
        p, travel, {("A", 0): ["afternoon"]}, ["morning"], candidates, search_cut=True
    )
    assert explanation.inserted == ("morning",)
    assert explanation.routes == {("A", 0): ["morning", "afternoon"]}
    assert explanation.reasons == {}


def test_a_search_stopped_before_its_first_plan_still_returns_every_job_that_fits() -> None:
    """Without the greedy start and with almost no time, OR-Tools may stop before its
    first plan; the repair then builds the plan from nothing. Either way both jobs are
    planned and none is blamed on the clock."""
    p = morning_job_behind_an_afternoon_job()
    result = solve(p, MaxRuntime(0.001), SolveParams(start=StartParams(greedy_start=False)))
    assert result.status == "plan_found"
    assert_valid(p, result)
    assert result.assignment() == {"morning": ("A", 0), "afternoon": ("A", 0)}


def test_a_short_limit_bounds_the_whole_call_on_a_300_job_week(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 3 s limit on a generated 300-job week budgets the whole call: the search is
    handed a deadline inside the 3 s counted from the call's start (what the matrix,
    screening and greedy start took comes out of it, and time is kept back to explain
    unplaced jobs). The plan is valid, at least as complete as the greedy start, and
    its statuses honest. Checked on the deadline the search receives, not on the
    clock, so a loaded machine cannot fail it."""
    p = generate_week(300, seed=1)
    clock_readings: list[float] = []
    real_monotonic = time.monotonic

    def monotonic() -> float:
        clock_readings.append(real_monotonic())
        return clock_readings[-1]

    deadlines: list[float] = []
    real_search, real_regions = solve_module._search, solve_module.improve_by_regions

    def search(task: SearchTask) -> Any:
        assert task.deadline is not None
        deadlines.append(task.deadline)
        return real_search(task)

    def regions(task: SearchTask) -> Any:
        assert task.deadline is not None
        deadlines.append(task.deadline)
        return real_regions(task)

    monkeypatch.setattr(solve_module, "_search", search)
    monkeypatch.setattr(solve_module, "improve_by_regions", regions)
    monkeypatch.setattr(solve_module.time, "monotonic", monotonic)
    result = solve(p, MaxRuntime(3), SolveParams(seed=1))
    monkeypatch.undo()
    call_started = clock_readings[0]
    (deadline,) = deadlines
    assert call_started < deadline < call_started + 3
    assert_valid(p, result)
    assert result.stop_reason == "time_limit"
    assert result.kpis.jobs_assigned >= solve_greedy(p).kpis.jobs_assigned
    assert {r.rule for u in result.unassigned for r in u.reasons} <= KNOWN_RULES


def test_first_feasible_on_a_300_job_week_is_the_verified_greedy_start() -> None:
    """``FirstFeasible`` returns at once with a valid plan: the greedy start, checked by
    OR-Tools, plus any left-out job that fits for less than its penalty."""
    p = generate_week(300, seed=1)
    result = solve(p, FirstFeasible(), SolveParams(seed=1))
    assert_valid(p, result)
    assert result.stop_reason == "first_feasible"
    assert result.kpis.jobs_assigned >= solve_greedy(p).kpis.jobs_assigned


def test_warm_start_is_used_instead_of_the_greedy_start() -> None:
    """A caller's warm start takes the greedy start's place and is reported as used."""
    p = morning_job_behind_an_afternoon_job()
    result = solve(p, MaxRuntime(0.5), warm_start=Plan({("A", 0): ("morning", "afternoon")}))
    assert_valid(p, result)
    assert result.extra.warm_start_used is True
    assert result.extra.start == "warm_start"
