"""Inserting one job into a live schedule: every hard rule holds, nothing published moves.

Each offered insertion is checked by the scheduler's validator
(``validate_route``) and against the fixed starts of the visits already
there.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from scheduler import Break, CrewDay, FixedAssignment, Rules, TimeWindow, validate_route
from scheduler.greedy import solve_greedy
from scheduler.insertion import NO_GAP_IN_SCHEDULE, find_insertions, no_slot_reasons
from scheduler.model import Job, Problem
from scheduler.timing import schedule_route
from scheduler.travel import travel_for

from .conftest import DAY_S, H, at, crew, crew_days, job, problem

NEW = "new"


def fixed(
    job_id: str, where: tuple[str, int], start_h: float, minutes: int = 60, **kw: object
) -> Job:
    """An existing visit, fixed to its crew-day and start."""
    crew_id, day = where
    start_s = day * DAY_S + int(start_h * H)
    return job(
        job_id,
        kw.pop("location", at(1, 0)),  # type: ignore[arg-type]
        minutes,
        fixed=FixedAssignment(crew_id, day, start_s=start_s),
        **kw,
    )


def _start(j: Job) -> int:
    assert j.fixed is not None and j.fixed.start_s is not None
    return j.fixed.start_s


def routes_of(p: Problem) -> dict[tuple[str, int], tuple[str, ...]]:
    """The existing routes: fixed jobs per crew-day in order of their starts."""
    routes: dict[tuple[str, int], list[Job]] = {}
    for j in p.jobs:
        if j.fixed is not None:
            routes.setdefault((j.fixed.crew_id, j.fixed.day), []).append(j)
    return {key: tuple(j.id for j in sorted(js, key=_start)) for key, js in routes.items()}


def assert_offers_keep_rules(p: Problem, offers) -> None:
    """Every offered route passes the validator and keeps every existing start."""
    travel = travel_for(p)
    jobs = p.jobs_by_id()
    for offer in offers:
        violations = validate_route(p, offer.crew_id, offer.day, offer.job_ids, travel)
        assert violations == [], [v.message for v in violations]
        crew_day = p.crew_days_by_key()[offer.key]
        schedule = schedule_route(p, travel, crew_day, offer.job_ids)
        for visit in schedule.visits:
            existing = jobs[visit.job_id].fixed
            if existing is not None:
                assert visit.start_s == existing.start_s  # nothing published moves
            else:
                assert visit.start_s == offer.start_s


def offers(p: Problem, limit: int = 3):
    found = find_insertions(p, routes_of(p), NEW, limit=limit).insertions
    assert_offers_keep_rules(p, found)
    return found


def test_empty_days_offer_the_earliest_three_crew_days() -> None:
    p = problem(
        [crew("a"), crew("b"), crew("c"), crew("d")],
        crew_days(["a", "b", "c", "d"], days=[0, 1]),
        [job(NEW, at(2, 0))],
    )
    found = offers(p)
    assert len(found) == 3
    assert {o.day for o in found} == {0}
    assert len({o.key for o in found}) == 3
    assert all(o.start_s == found[0].start_s for o in found)


def test_a_gap_between_two_published_visits_is_used_without_moving_them() -> None:
    p = problem(
        [crew("a")],
        crew_days(["a"], days=[0]),
        [
            fixed("v1", ("a", 0), 9),
            fixed("v2", ("a", 0), 14),
            job(NEW, at(1.5, 0)),
        ],
        rules=Rules(min_gap_s=900),
    )
    (offer,) = offers(p)
    assert offer.position == 1
    assert offer.job_ids == ("v1", NEW, "v2")
    assert 10 * H < offer.start_s < 13 * H


def test_the_slot_before_the_first_visit_when_it_fits() -> None:
    p = problem(
        [crew("a")],
        crew_days(["a"], days=[0]),
        [fixed("v1", ("a", 0), 13), job(NEW, at(1, 1))],
    )
    (offer,) = offers(p)
    assert offer.position == 0
    assert offer.start_s < 10 * H


def test_only_crews_with_the_skills_and_members() -> None:
    p = problem(
        [
            crew("plain"),
            crew("fiber", skills=frozenset({"fiber"}), members=1),
            crew("fiber2", skills=frozenset({"fiber"}), members=2),
        ],
        crew_days(["plain", "fiber", "fiber2"], days=[0]),
        [job(NEW, at(1, 0), required_skills=frozenset({"fiber"}), members_needed=2)],
    )
    assert [o.crew_id for o in offers(p)] == ["fiber2"]


def test_access_windows_bound_the_start() -> None:
    window = TimeWindow(14 * H, 15 * H)
    p = problem([crew("a")], crew_days(["a"], days=[0]), [job(NEW, at(1, 0), windows=(window,))])
    (offer,) = offers(p)
    assert 14 * H <= offer.start_s <= 15 * H


def test_the_drive_home_must_fit_the_shift() -> None:
    # 40 km away: about 2 h of driving each way; a 4 h job cannot fit a 9-17 shift
    # with the drive home, an 18:00 shift end can.
    far = at(40, 0)
    days = (
        CrewDay("short", 0, 9 * H, 15 * H),
        CrewDay("long", 0, 9 * H, 19 * H),
    )
    p = problem([crew("short"), crew("long")], days, [job(NEW, far, 240)])
    assert [o.crew_id for o in offers(p)] == ["long"]


def test_the_minimum_gap_between_stops_is_kept() -> None:
    # v1 ends 10:00 and v2 starts 11:15 at the same place: a 60-min job fits
    # without a gap, not with 15 minutes before and after it.
    here = at(1, 0)
    visits = [
        fixed("v1", ("a", 0), 9, location=here),
        fixed("v2", ("a", 0), 11.25, location=here),
    ]
    tight = problem(
        [crew("a")],
        (CrewDay("a", 0, 8 * H, 13 * H),),
        [*visits, job(NEW, here)],
        rules=Rules(min_gap_s=15 * 60),
    )
    assert offers(tight) == ()
    loose = replace(tight, rules=Rules(min_gap_s=0))
    (offer,) = offers(loose)
    assert offer.start_s == 10 * H


def test_the_lunch_break_keeps_its_window() -> None:
    # Lunch must start exactly at 12:00 for an hour; visits until 11:00 and from 14:00.
    lunch = Break(12 * H, 12 * H, H)
    days = (CrewDay("a", 0, 8 * H, 18 * H, lunch=lunch),)
    here = at(0.5, 0)
    p = problem(
        [crew("a")],
        days,
        [
            fixed("v1", ("a", 0), 9, minutes=120, location=here),
            fixed("v2", ("a", 0), 14, location=here),
            job(NEW, here, 90),
        ],
    )
    found = offers(p)
    # 90 minutes fit neither 11:00-12:00 nor 13:00-14:00: never between v1 and v2.
    (offer,) = found
    assert offer.position == 2 and offer.start_s >= 15 * H
    no_lunch = problem([crew("a")], (CrewDay("a", 0, 8 * H, 18 * H),), p.jobs)
    (offer,) = find_insertions(no_lunch, routes_of(no_lunch), NEW).insertions
    assert offer.position == 1


def test_the_utilization_cap_holds() -> None:
    here = at(0, 0)
    p = problem(
        [crew("a"), crew("b")],
        crew_days(["a", "b"], days=[0], start_h=8, end_h=18),
        [
            fixed("v1", ("a", 0), 9, minutes=240, location=here),
            job(NEW, here, 120),
        ],
        rules=Rules(max_utilization=0.5),
    )
    # a: 4 h + 2 h > 5 h cap; b is empty.
    assert [o.crew_id for o in offers(p)] == ["b"]


def test_max_jobs_per_day_holds() -> None:
    p = problem(
        [crew("a", max_jobs_per_day=2)],
        crew_days(["a"], days=[0, 1]),
        [fixed("v1", ("a", 0), 9), fixed("v2", ("a", 0), 11), job(NEW, at(1, 0))],
    )
    assert [o.day for o in offers(p)] == [1]


def test_days_the_job_does_not_allow_are_skipped() -> None:
    p = problem(
        [crew("a")],
        crew_days(["a"], days=[0, 1, 2]),
        [job(NEW, at(1, 0), earliest_day=1, unavailable_days=frozenset({1}))],
    )
    assert [o.day for o in offers(p)] == [2]


def test_a_missing_crew_day_closed_or_absent_is_never_offered() -> None:
    # The product leaves closed days and absences out of the problem's crew-days.
    p = problem([crew("a")], crew_days(["a"], days=[0, 2]), [job(NEW, at(1, 0))])
    assert [o.day for o in offers(p, limit=5)] == [0, 2]


def test_one_slot_per_crew_day_the_earliest() -> None:
    p = problem(
        [crew("a")],
        crew_days(["a"], days=[0]),
        [fixed("v1", ("a", 0), 12), job(NEW, at(1, 0))],
    )
    (offer,) = offers(p)
    assert offer.position == 0


def test_no_crew_with_the_skills_says_so() -> None:
    p = problem(
        [crew("a")],
        crew_days(["a"], days=[0]),
        [job(NEW, at(1, 0), required_skills=frozenset({"splicing"}))],
    )
    assert offers(p) == ()
    assert [r.rule for r in no_slot_reasons(p, NEW)] == ["skill"]


def test_a_full_schedule_says_the_published_visits_leave_no_gap() -> None:
    here = at(1, 0)
    p = problem(
        [crew("a", max_jobs_per_day=1)],
        crew_days(["a"], days=[0]),
        [fixed("v1", ("a", 0), 9, location=here), job(NEW, here)],
    )
    assert offers(p) == ()
    (reason,) = no_slot_reasons(p, NEW)
    assert reason.template == NO_GAP_IN_SCHEDULE
    assert reason.params["crew_days"] == 1


@pytest.mark.parametrize("seed", range(6))
def test_random_live_weeks_every_offer_validates(seed: int) -> None:
    """Plan a random week greedily, fix it, then insert random jobs: all offers validate."""
    rng = random.Random(seed)
    crews = [
        crew(
            f"c{i}",
            at(rng.uniform(-5, 5), rng.uniform(-5, 5)),
            skills=frozenset(rng.sample(["fiber", "pole", "fault"], 2)),
            members=rng.choice([1, 2]),
            max_jobs_per_day=rng.choice([3, 5, None]),
        )
        for i in range(5)
    ]
    lunch_days = tuple(
        CrewDay(
            c.id,
            d,
            d * DAY_S + 8 * H,
            d * DAY_S + 18 * H,
            Break(d * DAY_S + 11 * H, d * DAY_S + 13 * H, H),
        )
        for d in range(3)
        for c in crews
    )
    jobs = [
        job(
            f"j{k}",
            at(rng.uniform(-8, 8), rng.uniform(-8, 8)),
            rng.choice([30, 60, 90, 120]),
            required_skills=frozenset(rng.sample(["fiber", "pole", "fault"], 1)),
            windows=tuple(TimeWindow(d * DAY_S + 9 * H, d * DAY_S + 15 * H) for d in range(3))
            if rng.random() < 0.3
            else (),
        )
        for k in range(40)
    ]
    rules = Rules(min_gap_s=900, max_utilization=0.85)
    base = problem(crews, lunch_days, jobs, rules=rules, time_grid_s=300)
    result = solve_greedy(base)
    placed = {
        v.job_id: FixedAssignment(r.crew_id, r.day, start_s=v.start_s)
        for r in result.routes
        for v in r.visits
    }
    existing = [replace(j, fixed=placed[j.id]) for j in jobs if j.id in placed]
    for trial in range(5):
        new = job(
            NEW,
            at(rng.uniform(-8, 8), rng.uniform(-8, 8)),
            rng.choice([30, 60, 120]),
            required_skills=frozenset(rng.sample(["fiber", "pole", "fault"], 1)),
            members_needed=rng.choice([1, 1, 2]),
        )
        p = problem(crews, lunch_days, [*existing, new], rules=rules, time_grid_s=300)
        found = offers(p)
        starts = [o.start_s for o in found]
        assert starts == sorted(starts)
        assert len({o.key for o in found}) == len(found)
        if not found:
            assert no_slot_reasons(p, NEW), trial
