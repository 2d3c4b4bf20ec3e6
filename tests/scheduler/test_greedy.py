"""Specification of the greedy baseline planner (scheduler/greedy.py).

The greedy plan must keep every hard rule the solver keeps, so each test
also runs the independent validator on its result.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.generate import generate_week
from scheduler.greedy import solve_greedy
from scheduler.model import (
    DAY_S,
    Crew,
    CrewDay,
    FixedAssignment,
    Job,
    Location,
    Problem,
    Rules,
    TimeWindow,
)
from scheduler.result import Result
from scheduler.validate import validate

HOUR = 3600
SHINJUKU = Location(35.6940, 139.7030)
SHINJUKU_NEXT_DOOR = Location(35.6945, 139.7035)
KOTO = Location(35.6730, 139.8170)
SETAGAYA = Location(35.6460, 139.6530)


def crew(crew_id: str, home: Location = SHINJUKU, **overrides: object) -> Crew:
    """A one-person indoor crew unless told otherwise."""
    fields: dict[str, object] = {"skills": frozenset({"indoor"}), "members": 1}
    fields.update(overrides)
    return Crew(id=crew_id, home=home, **fields)  # type: ignore[arg-type]


def day_shift(crew_id: str, day: int = 0, start_h: int = 8, end_h: int = 18) -> CrewDay:
    return CrewDay(crew_id, day, day * DAY_S + start_h * HOUR, day * DAY_S + end_h * HOUR)


def job(job_id: str, location: Location = SHINJUKU_NEXT_DOOR, **overrides: object) -> Job:
    """A one-hour indoor job for one person unless told otherwise."""
    fields: dict[str, object] = {"duration_s": HOUR, "required_skills": frozenset({"indoor"})}
    fields.update(overrides)
    return Job(id=job_id, location=location, **fields)  # type: ignore[arg-type]


def plan(problem: Problem) -> Result:
    """Plan greedily and insist the plan keeps every hard rule."""
    result = solve_greedy(problem)
    assert validate(problem, result) == []
    return result


def reasons_of(result: Result, job_id: str) -> list[str]:
    return [r.rule for u in result.unassigned if u.job_id == job_id for r in u.reasons]


def test_a_job_no_crew_has_the_skills_for_is_unassigned_with_the_skill_reason() -> None:
    problem = Problem(
        crews=(crew("A"),),
        crew_days=(day_shift("A"),),
        jobs=(job("splice", required_skills=frozenset({"fibre_splicing"})), job("easy")),
    )
    result = plan(problem)
    assert reasons_of(result, "splice") == ["skill"]
    assert result.assignment() == {"easy": ("A", 0)}


def test_a_job_needing_more_members_than_any_crew_is_unassigned_for_members() -> None:
    problem = Problem(
        crews=(crew("A", members=2),),
        crew_days=(day_shift("A"),),
        jobs=(job("big", members_needed=3),),
    )
    assert reasons_of(plan(problem), "big") == ["members"]


def test_a_job_whose_allowed_days_no_crew_works_is_unassigned_for_day() -> None:
    problem = Problem(
        crews=(crew("A"),),
        crew_days=(day_shift("A", day=0),),
        jobs=(job("later", earliest_day=2),),
    )
    assert reasons_of(plan(problem), "later") == ["day"]


def test_a_job_longer_than_any_shift_is_unassigned_for_shift() -> None:
    problem = Problem(
        crews=(crew("A"),),
        crew_days=(day_shift("A"),),
        jobs=(job("marathon", duration_s=11 * HOUR),),
    )
    assert "shift" in reasons_of(plan(problem), "marathon")


def test_a_window_closed_before_any_crew_can_arrive_is_unassigned_for_window() -> None:
    problem = Problem(
        crews=(crew("A"),),
        crew_days=(day_shift("A", start_h=9),),
        jobs=(job("dawn", windows=(TimeWindow(6 * HOUR, 7 * HOUR),)),),
    )
    assert reasons_of(plan(problem), "dawn") == ["window"]


def test_earliest_due_date_goes_first_when_only_one_fits() -> None:
    """Two 5-hour jobs, one crew-day that can hold one: the one due first gets it."""
    problem = Problem(
        crews=(crew("A"),),
        crew_days=(day_shift("A"),),
        jobs=(
            job("due_friday", duration_s=5 * HOUR, due_day=4),
            job("due_today", duration_s=5 * HOUR, due_day=0),
        ),
        rules=Rules(max_utilization=0.6),
    )
    result = plan(problem)
    assert result.assignment() == {"due_today": ("A", 0)}
    assert reasons_of(result, "due_friday") == ["capacity_used"]


def test_each_job_goes_to_the_crew_day_where_it_adds_the_fewest_kilometres() -> None:
    problem = Problem(
        crews=(crew("west", home=SETAGAYA), crew("east", home=KOTO)),
        crew_days=(day_shift("west"), day_shift("east")),
        jobs=(
            job("near_koto", location=Location(35.675, 139.815)),
            job("near_setagaya", location=Location(35.647, 139.655)),
        ),
    )
    assert plan(problem).assignment() == {
        "near_koto": ("east", 0),
        "near_setagaya": ("west", 0),
    }


def test_a_job_is_planned_on_time_rather_than_late_even_if_late_is_shorter() -> None:
    """Day 1 is on a crew living next door, but the job is due on day 0."""
    problem = Problem(
        crews=(crew("far", home=KOTO), crew("near", home=SHINJUKU)),
        crew_days=(day_shift("far", day=0), day_shift("near", day=1)),
        jobs=(job("today", due_day=0),),
    )
    assert plan(problem).assignment() == {"today": ("far", 0)}


def test_consecutive_jobs_keep_the_minimum_gap_on_top_of_travel() -> None:
    problem = Problem(
        crews=(crew("A"),),
        crew_days=(day_shift("A"),),
        jobs=(job("first", due_day=0), job("second", due_day=1)),
        rules=Rules(min_gap_s=20 * 60),
    )
    route = plan(problem).routes[0]
    first, second = route.visits
    assert (first.job_id, second.job_id) == ("first", "second")
    assert second.start_s - first.end_s >= second.travel_s + 20 * 60


def test_a_crew_day_is_never_filled_beyond_its_utilization_cap() -> None:
    """Cap 50 % of 10 h = 5 h of work and drive: four 1-hour jobs fit, the fifth not."""
    problem = Problem(
        crews=(crew("A"),),
        crew_days=(day_shift("A"),),
        jobs=tuple(job(f"j{i}") for i in range(5)),
        rules=Rules(max_utilization=0.5),
    )
    result = plan(problem)
    assert result.kpis.jobs_assigned == 4
    assert result.routes[0].utilization <= 0.5
    assert [u.job_id for u in result.unassigned] == ["j4"]


def test_a_personal_minimum_gap_and_the_daily_job_limit_are_respected() -> None:
    problem = Problem(
        crews=(crew("A", min_gap_s=45 * 60, max_jobs_per_day=2),),
        crew_days=(day_shift("A"),),
        jobs=tuple(job(f"j{i}") for i in range(3)),
    )
    result = plan(problem)
    first, second = result.routes[0].visits
    assert second.start_s - first.end_s >= 45 * 60
    assert result.kpis.jobs_assigned == 2


def test_equipment_carried_per_crew_day_limits_the_jobs() -> None:
    problem = Problem(
        crews=(crew("A", capacity_units=2),),
        crew_days=(day_shift("A"),),
        jobs=tuple(job(f"onu{i}", demand_units=1) for i in range(3)),
    )
    assert plan(problem).kpis.jobs_assigned == 2


def test_a_locked_visit_stays_on_its_crew_day_even_when_another_is_nearer() -> None:
    problem = Problem(
        crews=(crew("near", home=SHINJUKU), crew("far", home=KOTO)),
        crew_days=(day_shift("near"), day_shift("far")),
        jobs=(job("locked", fixed=FixedAssignment("far", 0, sequence=0)), job("free")),
    )
    result = plan(problem)
    assert result.assignment()["locked"] == ("far", 0)
    assert result.route("far", 0).job_ids[0] == "locked"  # type: ignore[union-attr]
    assert "free" in result.assignment()


def test_greedy_plans_a_generated_200_job_week_within_the_rules() -> None:
    problem = generate_week(200, seed=11)
    result = plan(problem)
    assert result.kpis.jobs_assigned + result.kpis.jobs_unassigned == 200
    assert result.kpis.jobs_assigned >= 0.85 * 200
    assert result.extra.planner == "greedy"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n_jobs=st.integers(min_value=1, max_value=40), seed=st.integers(0, 10_000))
def test_greedy_plans_of_random_small_weeks_always_pass_the_validator(
    n_jobs: int, seed: int
) -> None:
    problem = generate_week(n_jobs, seed=seed, n_days=3)
    result = plan(problem)
    assert result.kpis.jobs_assigned + result.kpis.jobs_unassigned == n_jobs
    assert all(u.reasons for u in result.unassigned)
