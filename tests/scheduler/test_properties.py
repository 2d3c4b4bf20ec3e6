"""Property-based checks on random small problems: every plan validates, every job is
accounted for, and screening never lets an impossible job reach the solver."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler import (
    Crew,
    CrewDay,
    Job,
    MaxRuntime,
    Problem,
    Rules,
    TimeWindow,
    solve,
)
from scheduler.reasons import screen
from scheduler.travel import travel_for
from tests.scheduler.conftest import DAY_S, H, assert_valid, at

SKILLS = ("fibre", "riser", "aerial")


@st.composite
def small_problems(draw: st.DrawFn) -> Problem:
    """1-3 crews over 1-2 days and 0-7 jobs with random skills, windows (one day, or
    different hours on each of two days), dates and limits."""
    num_days = draw(st.integers(1, 2))
    crews = []
    for k in range(draw(st.integers(1, 3))):
        crews.append(
            Crew(
                id=f"c{k}",
                home=at(draw(st.floats(-5, 5)), draw(st.floats(-5, 5))),
                skills=frozenset(draw(st.sets(st.sampled_from(SKILLS), max_size=3))),
                members=draw(st.integers(1, 3)),
                max_jobs_per_day=draw(st.none() | st.integers(0, 4)),
                capacity_units=draw(st.none() | st.integers(0, 5)),
                min_gap_s=draw(st.none() | st.sampled_from([0, 900, 1800])),
            )
        )
    crew_days = tuple(
        CrewDay(c.id, d, d * DAY_S + 8 * H, d * DAY_S + draw(st.integers(12, 19)) * H)
        for c in crews
        for d in range(num_days)
        if draw(st.booleans()) or d == 0
    )
    jobs = []
    for k in range(draw(st.integers(0, 7))):
        day = draw(st.integers(0, num_days - 1))
        window = draw(st.none() | st.tuples(st.integers(6, 18), st.integers(0, 4)))
        windows: tuple[TimeWindow, ...] = ()
        if window is not None:
            # One window on the job's day or, over two days, other hours on each day.
            other = draw(st.none() | st.tuples(st.integers(6, 18), st.integers(0, 4)))
            hours = {day: window}
            if num_days == 2 and other is not None:
                hours = {0: window, 1: other}
            windows = tuple(
                TimeWindow(d * DAY_S + open_h * H, d * DAY_S + (open_h + length) * H)
                for d, (open_h, length) in sorted(hours.items())
            )
        jobs.append(
            Job(
                id=f"j{k}",
                location=at(draw(st.floats(-8, 8)), draw(st.floats(-8, 8))),
                duration_s=draw(st.integers(15, 300)) * 60,
                required_skills=frozenset(draw(st.sets(st.sampled_from(SKILLS), max_size=2))),
                members_needed=draw(st.integers(1, 3)),
                earliest_day=draw(st.none() | st.integers(0, num_days)),
                due_day=draw(st.none() | st.integers(0, num_days - 1)),
                due_is_hard=draw(st.booleans()),
                windows=windows,
                priority=draw(st.integers(1, 5)),
                demand_units=draw(st.integers(0, 3)),
            )
        )
    rules = Rules(
        min_gap_s=draw(st.sampled_from([0, 600, 1800])),
        max_utilization=draw(st.sampled_from([0.6, 0.85, 1.0])),
    )
    return Problem(crews=tuple(crews), crew_days=crew_days, jobs=tuple(jobs), rules=rules)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_every_solver_result_validates(problem: Problem) -> None:
    """Whatever the problem, the plan breaks no hard rule and each job is routed once or
    unassigned with at least one reason."""
    result = solve(problem, MaxRuntime(0.15))
    assert_valid(problem, result)


@settings(max_examples=30, deadline=None)
@given(small_problems())
def test_screened_candidates_are_feasible_alone(problem: Problem) -> None:
    """Screening is sound: a job kept for a crew-day can be planned there on its own,
    and every screened-out job has a reason."""
    from scheduler import validate_route

    travel = travel_for(problem)
    screening = screen(problem, travel)
    for job_id, keys in screening.candidates.items():
        for crew_id, day in keys:
            assert validate_route(problem, crew_id, day, [job_id], travel) == []
    assert all(screening.impossible[j] for j in screening.impossible)
