"""Each hard rule, as a respected / violated pair on a tiny named instance.

"Respected": the solver's plan keeps the rule (and the validator agrees).
"Violated": a hand-made plan that breaks the rule is reported by the validator
under the rule's stable name, and a job that can never satisfy the rule comes
back unassigned with that rule as its reason.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from scheduler import (
    FixedAssignment,
    Plan,
    Problem,
    Result,
    Rules,
    TimeWindow,
    daily_windows,
    solve,
    validate,
    validate_route,
)
from scheduler.result import build_result
from scheduler.travel import travel_for
from tests.scheduler.conftest import (
    DAY_S,
    QUICK,
    TOKYO,
    H,
    assert_valid,
    at,
    crew,
    crew_days,
    job,
    problem,
    reason_rules,
)


def rules_of(p: Problem, plan: Result | Plan) -> set[str]:
    """The set of rule names the validator reports for a plan."""
    return {v.rule for v in validate(p, plan)}


# --- skills -----------------------------------------------------------------------------


def splicing_world() -> Problem:
    """Two crews, one job needing fibre_splicing; only crew S (far away) has it."""
    return problem(
        [crew("S", home=at(5, 0), skills=frozenset({"fibre_splicing"})), crew("N")],
        crew_days(["S", "N"]),
        [job("splice", at(0, 1), required_skills=frozenset({"fibre_splicing"}))],
    )


def test_skill_respected_job_goes_to_the_crew_that_has_it() -> None:
    """A job needing fibre_splicing goes to the splicing crew even though the other is nearer."""
    p = splicing_world()
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert result.assignment() == {"splice": ("S", 0)}


def test_skill_violated_plan_is_reported_and_unskilled_world_gives_reason() -> None:
    """Planning it on crew N breaks "skill"; with no splicing crew it is unassigned for skill."""
    p = splicing_world()
    assert "skill" in rules_of(p, Plan({("N", 0): ("splice",)}))
    nobody = replace(p, crews=(crew("S", home=at(5, 0)), crew("N")))
    result = solve(nobody, QUICK)
    assert_valid(nobody, result)
    assert reason_rules(result, "splice") == ["skill"]
    assert "fibre_splicing" in result.unassigned[0].reasons[0].message


# --- members ----------------------------------------------------------------------------


def test_members_respected_two_person_job_goes_to_the_two_person_crew() -> None:
    """A job for two workers goes to the crew of two, not the nearer crew of one."""
    p = problem(
        [crew("solo"), crew("pair", home=at(4, 0), members=2)],
        crew_days(["solo", "pair"]),
        [job("riser", at(0, 1), members_needed=2)],
    )
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert result.assignment() == {"riser": ("pair", 0)}
    assert "members" in rules_of(p, Plan({("solo", 0): ("riser",)}))


def test_members_violated_no_crew_large_enough_gives_reason() -> None:
    """A three-person job with crews of at most two is unassigned with reason "members"."""
    p = problem(
        [crew("pair", members=2)], crew_days(["pair"]), [job("big", at(1, 1), members_needed=3)]
    )
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert reason_rules(result, "big") == ["members"]


# --- days -------------------------------------------------------------------------------


def test_day_respected_earliest_day_and_unavailable_days() -> None:
    """Permit from day 1, customer away on day 2: the only allowed day is day 3."""
    p = problem(
        [crew("A")],
        crew_days(["A"], days=range(4)),
        [job("permit", at(1, 0), earliest_day=1, unavailable_days=frozenset({1, 2}))],
    )
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert result.assignment() == {"permit": ("A", 3)}


def test_day_violated_plan_before_earliest_and_on_a_day_the_crew_does_not_work() -> None:
    """Day 0 is before the permit ("day"); day 5 is not a working day of crew A ("day")."""
    p = problem(
        [crew("A")], crew_days(["A"], days=range(2)), [job("permit", at(1, 0), earliest_day=1)]
    )
    assert "day" in rules_of(p, Plan({("A", 0): ("permit",)}))
    assert {v.rule for v in validate_route(p, "A", 5, ["permit"])} == {"day"}


def test_day_no_allowed_day_in_horizon_gives_reason() -> None:
    """A hard due day before the horizon's crew-days leaves no allowed day."""
    p = problem(
        [crew("A")],
        crew_days(["A"], days=[2, 3]),
        [job("late", at(1, 0), due_day=1, due_is_hard=True)],
    )
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert reason_rules(result, "late") == ["day"]
    assert result.unassigned[0].reasons[0].message == (
        "due day 1 (promised to the customer); the plan covers day 2–day 3"
    )


def test_soft_due_day_is_kept_when_possible_and_priced_when_late() -> None:
    """A soft due day 0 is met when possible; with only day 1 the job is late and priced."""
    p = problem([crew("A")], crew_days(["A"], days=[0, 1]), [job("due", at(1, 0), due_day=0)])
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert result.assignment() == {"due": ("A", 0)}
    only_later = replace(p, crew_days=crew_days(["A"], days=[1]))
    late = solve(only_later, QUICK)
    assert_valid(only_later, late)
    assert late.assignment() == {"due": ("A", 1)}
    assert late.objective_yen["lateness"] == p.weights.lateness_yen_per_day * 3


# --- access windows ---------------------------------------------------------------------


def test_window_respected_visit_starts_inside_the_access_window() -> None:
    """A building open 14:00-15:00 on day 1 is visited then, whatever else is planned."""
    p = problem(
        [crew("A")],
        crew_days(["A"], days=[0, 1]),
        [
            job("office", at(2, 0), windows=daily_windows([1], 14 * H, 15 * H)),
            job("house", at(0, 2)),
        ],
    )
    result = solve(p, QUICK)
    assert_valid(p, result)
    visit = next(v for r in result.routes for v in r.visits if v.job_id == "office")
    assert DAY_S + 14 * H <= visit.start_s <= DAY_S + 15 * H


def test_window_violated_by_order_and_unreachable_window_gives_reason() -> None:
    """Visiting the 9:00 job after a long morning job misses its window; a 6:00 window is
    unreachable for an 8:00 shift."""
    p = problem(
        [crew("A")],
        crew_days(["A"]),
        [
            job("long", at(1, 0), minutes=180),
            job("early", at(0, 1), windows=(TimeWindow(9 * H, 9 * H + 1800),)),
            job("dawn", at(1, 1), windows=(TimeWindow(6 * H, 7 * H),)),
        ],
    )
    assert "window" in rules_of(p, Plan({("A", 0): ("long", "early")}))
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert reason_rules(result, "dawn") == ["window"]
    assert set(result.assignment()) == {"long", "early"}


def test_multiple_windows_a_visit_may_use_the_second_window() -> None:
    """With windows 8:00-8:10 (too early to reach) and 13:00-14:00, the visit starts at 13:00."""
    p = problem(
        [crew("A")],
        crew_days(["A"]),
        [
            job(
                "two",
                at(8, 0),
                windows=(TimeWindow(8 * H, 8 * H + 600), TimeWindow(13 * H, 14 * H)),
            )
        ],
    )
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert result.routes[0].visits[0].start_s == 13 * H


def test_windows_that_differ_by_day_hold_on_the_day_the_visit_is_made() -> None:
    """A site open 8:00-8:30 on day 0 but 16:00-16:30 on day 1: with the crew's day 0
    morning taken by a locked visit, the job goes to day 1 at 16:00, never to day 0 at
    16:00 (the other day's opening hours), though that would save a crew-day."""
    p = problem(
        [crew("A")],
        crew_days(["A"], days=[0, 1]),
        [
            job(
                "locked",
                at(1, 0),
                fixed=FixedAssignment("A", 0, start_s=8 * H + 900, sequence=0),
            ),
            job(
                "shifting",
                at(1, 1),
                windows=(
                    TimeWindow(8 * H, 8 * H + 1800),
                    TimeWindow(DAY_S + 16 * H, DAY_S + 16 * H + 1800),
                ),
            ),
        ],
    )
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert result.assignment()["shifting"] == ("A", 1)
    visit = next(v for r in result.routes for v in r.visits if v.job_id == "shifting")
    assert DAY_S + 16 * H <= visit.start_s <= DAY_S + 16 * H + 1800


def test_the_same_window_every_day_is_one_interval_in_the_model() -> None:
    """Model time restarts each day, so "9:00-15:00 on days 0-4" is a single interval in
    the OR-Tools model (no nights cut out of it value by value), and windows that differ
    by day keep the gaps between them."""
    from scheduler.ortools_model import build_model
    from scheduler.reasons import screen

    days = range(5)
    p = problem(
        [crew("A")],
        crew_days(["A"], days=days),
        [
            job("daily", at(1, 0), windows=daily_windows(days, 9 * H, 15 * H)),
            job(
                "varying",
                at(0, 1),
                windows=(TimeWindow(9 * H, 10 * H), TimeWindow(DAY_S + 14 * H, DAY_S + 15 * H)),
            ),
        ],
    )
    travel = travel_for(p)
    m = build_model(p, travel, screen(p, travel).candidates, seed=0)
    time_dim = m.routing.GetDimensionOrDie("time")
    domains = {}
    for k, j in enumerate(m.jobs):
        cumul = time_dim.CumulVar(m.job_index(k))
        domains[j.id] = (cumul.Min(), cumul.Max(), cumul.Size())
    assert domains["daily"] == (9 * H, 15 * H, 6 * H + 1)
    assert domains["varying"] == (9 * H, 15 * H, 2 * H + 2)


# --- shift ------------------------------------------------------------------------------


def test_shift_respected_route_is_home_before_the_shift_ends() -> None:
    """Four 2-hour jobs in a 10-hour shift: whatever fits is home by 18:00, the rest waits."""
    p = problem(
        [crew("A")], crew_days(["A"]), [job(f"j{k}", at(k, 1), minutes=120) for k in range(5)]
    )
    result = solve(p, QUICK)
    assert_valid(p, result)
    for route in result.routes:
        assert route.return_s <= route.shift_end_s
        assert route.depart_s >= route.shift_start_s
    assert result.kpis.jobs_assigned == 4
    assert reason_rules(result, result.unassigned[0].job_id) == ["capacity_used"]


def test_shift_violated_overfull_day_and_too_long_job_gives_reason() -> None:
    """Five 2-hour jobs cannot fit one shift ("shift"); an 11-hour job fits no shift at all."""
    jobs = [job(f"j{k}", at(k, 1), minutes=120) for k in range(5)]
    p = problem([crew("A")], crew_days(["A"]), [*jobs, job("marathon", at(1, 1), minutes=11 * 60)])
    assert "shift" in rules_of(p, Plan({("A", 0): tuple(f"j{k}" for k in range(5))}))
    result = solve(p, QUICK)
    assert reason_rules(result, "marathon") == ["shift"]


# --- minimum gap (slack between jobs) ---------------------------------------------------


def test_min_gap_respected_between_consecutive_jobs() -> None:
    """With a 30-minute minimum gap, every visit after the first starts >= 30 min after arriving."""
    p = problem(
        [crew("A")],
        crew_days(["A"]),
        [job(f"j{k}", at(k * 0.5, 0), minutes=60) for k in range(4)],
        rules=Rules(min_gap_s=1800),
    )
    result = solve(p, QUICK)
    assert_valid(p, result)
    visits = result.routes[0].visits
    assert len(visits) == 4
    for prev, nxt in itertools.pairwise(visits):
        assert nxt.start_s - (prev.end_s + nxt.travel_s) >= 1800


def test_min_gap_per_crew_override_wins_over_the_global_rule() -> None:
    """A crew's own min gap (60 min) applies instead of the global one (0)."""
    p = problem(
        [crew("A", min_gap_s=3600)],
        crew_days(["A"]),
        [job("a", at(1, 0)), job("b", at(1.2, 0))],
    )
    result = solve(p, QUICK)
    assert_valid(p, result)
    _first, second = result.routes[0].visits
    assert second.slack_before_s >= 3600


def test_min_gap_violated_plan_packed_without_gap_is_reported() -> None:
    """A plan timed without a gap is reported as "min_gap" once the rule asks for 30 minutes."""
    jobs = [job("a", at(1, 0)), job("b", at(1.2, 0))]
    packed = problem([crew("A")], crew_days(["A"]), jobs)
    result = build_result(packed, travel_for(packed), {("A", 0): ["a", "b"]}, [])
    strict = replace(packed, rules=Rules(min_gap_s=1800))
    assert "min_gap" in rules_of(strict, result)
    assert "min_gap" not in rules_of(packed, result)


# --- max utilization --------------------------------------------------------------------


def test_max_utilization_respected_day_is_never_packed_above_the_cap() -> None:
    """At 50 % of a 10-hour shift, at most two 2-hour jobs (plus driving) go on one day."""
    p = problem(
        [crew("A")],
        crew_days(["A"], days=[0, 1]),
        [job(f"j{k}", at(0.5 * k, 0.5), minutes=120) for k in range(4)],
        rules=Rules(max_utilization=0.5),
    )
    result = solve(p, QUICK)
    assert_valid(p, result)
    for route in result.routes:
        assert route.work_s + route.drive_s <= 5 * H
        assert route.utilization <= 0.5
    assert result.kpis.jobs_assigned == 4


def test_max_utilization_violated_plan_is_reported_and_oversized_job_gives_reason() -> None:
    """Three 2-hour jobs on one day break a 50 % cap; a 6-hour job never fits under it."""
    jobs = [job(f"j{k}", at(0.5 * k, 0.5), minutes=120) for k in range(3)]
    p = problem(
        [crew("A")],
        crew_days(["A"]),
        [*jobs, job("six", at(1, 1), minutes=360)],
        rules=Rules(max_utilization=0.5),
    )
    assert "max_utilization" in rules_of(p, Plan({("A", 0): ("j0", "j1", "j2")}))
    result = solve(p, QUICK)
    assert reason_rules(result, "six") == ["max_utilization"]


# --- max jobs per day -------------------------------------------------------------------


def test_max_jobs_respected_one_job_a_day_spreads_over_days() -> None:
    """A crew allowed one job a day does two jobs on two days."""
    p = problem(
        [crew("A", max_jobs_per_day=1)],
        crew_days(["A"], days=[0, 1]),
        [job("a", at(1, 0)), job("b", at(1, 0.2))],
    )
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert sorted(day for _, day in result.assignment().values()) == [0, 1]
    assert "max_jobs" in rules_of(p, Plan({("A", 0): ("a", "b")}))


# --- capacity ---------------------------------------------------------------------------


def test_capacity_respected_and_violated() -> None:
    """Capacity 2 with three one-unit jobs: two are planned; planning all three breaks
    "capacity"; a 5-unit job exceeds every crew and is unassigned for capacity."""
    p = problem(
        [crew("A", capacity_units=2)],
        crew_days(["A"]),
        [
            *(job(f"j{k}", at(k, 0), demand_units=1) for k in range(3)),
            job("bulky", at(1, 1), demand_units=5),
        ],
    )
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert result.kpis.jobs_assigned == 2
    assert reason_rules(result, "bulky") == ["capacity"]
    assert "capacity" in rules_of(p, Plan({("A", 0): ("j0", "j1", "j2")}))


# --- locked visits ----------------------------------------------------------------------


def locked_world() -> Problem:
    """Crew A lives next to the job, crew B far away; the job is locked on B, day 1, 10:00."""
    return problem(
        [crew("A"), crew("B", home=at(8, 0))],
        crew_days(["A", "B"], days=[0, 1]),
        [
            job("locked", at(0.5, 0), fixed=FixedAssignment("B", 1, start_s=DAY_S + 10 * H)),
            job("free", at(0.6, 0)),
        ],
    )


def test_locked_visit_stays_on_its_crew_day_and_time() -> None:
    """A locked visit keeps crew, day and start although another crew is cheaper."""
    p = locked_world()
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert result.assignment()["locked"] == ("B", 1)
    route = result.route("B", 1)
    assert route is not None
    assert route.visits[[v.job_id for v in route.visits].index("locked")].start_s == DAY_S + 10 * H


def test_locked_sequence_keeps_position() -> None:
    """A visit locked at position 0 stays first even when another order would be shorter."""
    p = problem(
        [crew("A")],
        crew_days(["A"]),
        [
            job("near", at(0.5, 0)),
            job("far_first", at(5, 0), fixed=FixedAssignment("A", 0, sequence=0)),
        ],
    )
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert result.routes[0].job_ids[0] == "far_first"


def test_locked_violated_moved_visit_is_reported_and_missing_crew_day_gives_reason() -> None:
    """Moving the locked visit to crew A is a "locked" violation; a lock on a crew-day that does
    not exist leaves the job unassigned with reason "locked"."""
    p = locked_world()
    assert "locked" in rules_of(p, Plan({("A", 0): ("locked",), ("A", 1): ("free",)}))
    gone = replace(p, crew_days=crew_days(["A", "B"], days=[0]))
    result = solve(gone, QUICK)
    assert reason_rules(result, "locked") == ["locked"]
    assert not result.is_feasible()


# --- plan-wide rules --------------------------------------------------------------------


def test_each_job_at_most_once() -> None:
    """A job on two routes is a "duplicate"; an unknown job is "unknown"."""
    p = problem([crew("A"), crew("B")], crew_days(["A", "B"]), [job("a", at(1, 0))])
    assert "duplicate" in rules_of(p, Plan({("A", 0): ("a",), ("B", 0): ("a",)}))
    assert "unknown" in rules_of(p, Plan({("A", 0): ("ghost",)}))


def test_times_inconsistent_with_travel_are_reported() -> None:
    """A result whose arrival is earlier than the drive allows breaks "travel"."""
    p = problem(
        [crew("A")],
        crew_days(["A"]),
        [job("a", at(3, 0), windows=daily_windows([0], 8 * H, 17 * H))],
    )
    result = solve(p, QUICK)
    route = result.routes[0]
    visit = route.visits[0]
    teleport = replace(
        visit, arrival_s=visit.arrival_s - 600, start_s=visit.start_s - 600, end_s=visit.end_s - 600
    )
    tampered = replace(result, routes=(replace(route, visits=(teleport,)),))
    assert "travel" in rules_of(p, tampered)


def test_reported_costs_are_recomputed() -> None:
    """A result whose objective terms were edited breaks "kpi"."""
    p = problem([crew("A")], crew_days(["A"]), [job("a", at(3, 0))])
    result = solve(p, QUICK)
    tampered = replace(result, objective_yen={**result.objective_yen, "distance": 1.0})
    assert "kpi" in rules_of(p, tampered)
    assert p.crews[0].home == TOKYO
