"""Specification of the ISP week generator (scheduler/generate.py)."""

from __future__ import annotations

from scheduler.generate import (
    LAT_RANGE,
    LON_RANGE,
    SKILLS,
    crews_needed,
    generate_week,
)
from scheduler.model import DAY_S


def test_the_same_seed_gives_the_same_week() -> None:
    first = generate_week(60, seed=7)
    second = generate_week(60, seed=7)
    assert first.jobs == second.jobs
    assert first.crews == second.crews
    assert first.crew_days == second.crew_days
    assert first.rules == second.rules


def test_another_seed_gives_another_week() -> None:
    assert generate_week(60, seed=7).jobs != generate_week(60, seed=8).jobs


def test_it_makes_the_requested_number_of_jobs_and_a_crew_day_per_crew_and_day() -> None:
    problem = generate_week(120, seed=1, n_days=5)
    assert len(problem.jobs) == 120
    assert len(problem.crew_days) == 5 * len(problem.crews)
    assert {cd.day for cd in problem.crew_days} == set(range(5))


def test_crews_grow_in_proportion_to_the_jobs() -> None:
    small = len(generate_week(200, seed=3).crews)
    large = len(generate_week(1000, seed=3).crews)
    assert 4 * small <= large <= 6 * small


def test_the_fleet_is_sized_so_jobs_fill_about_the_target_load() -> None:
    """Work (with the assumed drive per job) over usable crew time is at most the target."""
    problem = generate_week(400, seed=5, target_load=0.8)
    n = len(problem.crews)
    assert crews_needed(problem.jobs, 5, 0.8, problem.rules.max_utilization) == n
    assert crews_needed(problem.jobs, 5, 0.8 * n / (n - 1), problem.rules.max_utilization) < n


def test_sites_and_homes_lie_in_the_tokyo_wards_box() -> None:
    problem = generate_week(300, seed=2)
    points = [job.location for job in problem.jobs] + [crew.home for crew in problem.crews]
    for point in points:
        assert LAT_RANGE[0] <= point.lat <= LAT_RANGE[1]
        assert LON_RANGE[0] <= point.lon <= LON_RANGE[1]


def test_sites_are_clustered_not_uniform() -> None:
    """Many jobs share a ~1 km cell with another job, unlike a uniform scatter."""
    problem = generate_week(300, seed=2)
    cells = [(round(j.location.lat / 0.01), round(j.location.lon / 0.012)) for j in problem.jobs]
    # 25 x 29 cells of ~1.1 km cover the box: uniform sites would use most of them.
    assert len(set(cells)) < 0.5 * 25 * 29


def test_jobs_take_one_to_four_hours_and_need_known_skills() -> None:
    problem = generate_week(300, seed=4)
    for job in problem.jobs:
        assert 60 * 60 <= job.duration_s <= 240 * 60
        assert job.required_skills
        assert job.required_skills <= set(SKILLS)
        assert 1 <= job.members_needed <= 3
        assert 1 <= job.priority <= 5


def test_crews_have_one_to_three_members_and_shifts_of_nine_to_ten_hours() -> None:
    problem = generate_week(300, seed=4)
    assert {crew.members for crew in problem.crews} <= {1, 2, 3}
    for crew_day in problem.crew_days:
        assert crew_day.day * DAY_S + 8 * 3600 <= crew_day.shift_start_s
        assert crew_day.shift_end_s <= crew_day.day * DAY_S + 18 * 3600
        assert 9 * 3600 <= crew_day.shift_s <= 10 * 3600


def test_dates_are_consistent_and_every_job_has_an_allowed_day() -> None:
    problem = generate_week(300, seed=6, n_days=5)
    for job in problem.jobs:
        assert job.earliest_day is not None and job.due_day is not None
        assert 0 <= job.earliest_day <= job.due_day <= 4
        assert any(job.day_allowed(day) for day in range(5))


def test_access_windows_lie_inside_the_allowed_days_business_hours() -> None:
    problem = generate_week(300, seed=6)
    windowed = [job for job in problem.jobs if job.windows]
    assert windowed, "some jobs must have access windows"
    for job in windowed:
        for window in job.windows:
            day = window.start_s // DAY_S
            assert job.day_allowed(day)
            assert window.start_s - day * DAY_S >= 8 * 3600
            assert window.end_s - day * DAY_S <= 16 * 3600


def test_every_job_has_a_crew_with_the_skills_and_members_it_needs() -> None:
    problem = generate_week(300, seed=8)
    for job in problem.jobs:
        assert any(
            job.required_skills <= crew.skills and crew.members >= job.members_needed
            for crew in problem.crews
        ), job.id
