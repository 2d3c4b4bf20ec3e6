"""Lunch breaks, customer promises, readable reasons and the time grid (issue 20).

Each rule as a respected / violated pair on a tiny named instance, like
``test_rules.py``: the solver's plan keeps the rule (and the validator agrees);
a hand-made plan that breaks it is reported under the rule's stable name; a job
that can never keep it comes back unassigned with a reason people can read.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import replace

from scheduler import (
    Break,
    CrewDay,
    MaxRuntime,
    Plan,
    Problem,
    Result,
    Rules,
    TimeWindow,
    Weights,
    build_result,
    daily_windows,
    schedule_route,
    solve,
    validate,
    validate_route,
)
from scheduler.greedy import solve_greedy
from scheduler.ortools_model import build_model
from scheduler.reasons import screen
from scheduler.reassign import reassign_routes
from scheduler.travel import on_grid, travel_for
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

DEC_3 = datetime.date(2026, 12, 3)
"""Day 0 of the labelled worlds (a Thursday)."""


def lunch_day(crew_id: str, day: int = 0, start_h: float = 8, end_h: float = 18) -> CrewDay:
    """A crew-day with the usual lunch: start between 11:30 and 13:30, 60 minutes."""
    midnight = day * DAY_S
    return CrewDay(
        crew_id,
        day,
        midnight + int(start_h * H),
        midnight + int(end_h * H),
        Break(midnight + int(11.5 * H), midnight + int(13.5 * H), 3600),
    )


def rules_of(p: Problem, plan: Result | Plan) -> set[str]:
    """The set of rule names the validator reports for a plan."""
    return {v.rule for v in validate(p, plan)}


def assert_lunch_kept(p: Problem, result: Result) -> None:
    """Every route on a crew-day with a lunch has it inside its window, clear of every visit."""
    days = p.crew_days_by_key()
    for route in result.routes:
        lunch = days[route.key].lunch
        if lunch is None:
            assert route.lunch_start_s is None
            continue
        assert route.lunch_start_s is not None, route.key
        assert lunch.earliest_start_s <= route.lunch_start_s <= lunch.latest_start_s
        assert route.lunch_end_s == route.lunch_start_s + lunch.duration_s
        for visit in route.visits:
            assert visit.end_s <= route.lunch_start_s or route.lunch_end_s <= visit.start_s


# --- lunch --------------------------------------------------------------------------------


def busy_day() -> Problem:
    """Five 90-minute jobs around Tokyo station: without a lunch they fill the day non-stop."""
    return problem(
        [crew("A")],
        [lunch_day("A")],
        [job(f"j{k}", at(k - 2, 1), minutes=90) for k in range(5)],
        rules=Rules(min_gap_s=600),
    )


def test_lunch_respected_the_plan_leaves_an_hour_inside_the_window() -> None:
    """The crew gets its hour, starting 11:30-13:30, between visits or at home."""
    p = busy_day()
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert len(result.routes[0].visits) == 5
    assert_lunch_kept(p, result)


def test_lunch_between_two_visits_adds_to_travel_and_gap() -> None:
    """With the lunch between i and j: start(j) >= end(i) + travel + min gap + lunch."""
    p = busy_day()
    travel = travel_for(p)
    schedule = schedule_route(p, travel, p.crew_days[0], ["j0", "j1", "j2", "j3", "j4"])
    assert schedule.lunch_start_s is not None
    visits = schedule.visits
    after = [k for k, v in enumerate(visits) if v.start_s >= schedule.lunch_start_s + 3600]
    assert after and after[0] > 0, "the lunch falls between two visits here"
    before, then = visits[after[0] - 1], visits[after[0]]
    assert then.start_s >= before.end_s + then.travel_s + 600 + 3600
    assert before.end_s <= schedule.lunch_start_s
    # Earliest: without the hour, the same visit could start exactly that much sooner.
    assert then.start_s == before.end_s + then.travel_s + 600 + 3600


def test_lunch_may_be_taken_at_home_before_leaving() -> None:
    """A single visit that may only start at 14:00: the crew eats at home, then drives."""
    windows = (TimeWindow(14 * H, 14 * H),)
    p = problem([crew("A")], [lunch_day("A")], [job("late", at(3, 0), windows=windows)])
    schedule = schedule_route(p, travel_for(p), p.crew_days[0], ["late"])
    assert schedule.lunch_start_s == int(11.5 * H)
    assert schedule.depart_s >= schedule.lunch_start_s + 3600
    assert schedule.visits[0].start_s == 14 * H


def test_lunch_violated_overlapping_a_visit_is_reported() -> None:
    """Moving the planned lunch onto a visit breaks "lunch"; so does a lunch outside its window."""
    p = busy_day()
    result = solve(p, QUICK)
    route = result.routes[0]
    visit = route.visits[2]
    on_visit = replace(route, lunch_start_s=visit.start_s, lunch_end_s=visit.start_s + 3600)
    assert "lunch" in rules_of(p, replace(result, routes=(on_visit,)))
    too_late = replace(route, lunch_start_s=15 * H, lunch_end_s=16 * H)
    assert "lunch" in rules_of(p, replace(result, routes=(too_late,)))


def test_lunch_violated_when_the_visits_leave_no_room() -> None:
    """Visits locked to 11:00-13:00 and 13:00-15:00 leave no hour starting 11:30-13:30."""
    jobs = [
        job("a", TOKYO, minutes=120, windows=(TimeWindow(11 * H, 11 * H),)),
        job("b", TOKYO, minutes=120, windows=(TimeWindow(13 * H, 13 * H),)),
    ]
    p = problem([crew("A")], [lunch_day("A")], jobs)
    assert {v.rule for v in validate_route(p, "A", 0, ["a", "b"])} == {"lunch"}
    without = replace(p, crew_days=crew_days(["A"]))
    assert validate_route(without, "A", 0, ["a", "b"]) == []
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert len(result.unassigned) == 1  # one of the two, never both


def test_lunch_job_that_never_leaves_room_is_screened_with_the_lunch_reason() -> None:
    """An 8-hour job that must start by 9:00 always covers 11:30-13:30: rule "lunch"."""
    long_job = job("long", at(1, 0), minutes=480, windows=(TimeWindow(8 * H, 9 * H),))
    p = problem([crew("A")], [lunch_day("A")], [long_job])
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert reason_rules(result, "long") == ["lunch"]
    assert "lunch break (11:30–13:30 start, 60 min)" in result.unassigned[0].reasons[0].message
    without = replace(p, crew_days=crew_days(["A"]))
    assert solve(without, QUICK).assignment() == {"long": ("A", 0)}


def test_greedy_baseline_keeps_the_lunch() -> None:
    """The greedy plan leaves room for every lunch (checked by the validator)."""
    p = busy_day()
    result = solve_greedy(p)
    assert_valid(p, result)
    assert_lunch_kept(p, result)
    assert len(result.routes[0].visits) >= 4


def test_route_matching_never_moves_a_route_onto_a_lunch_it_breaks() -> None:
    """Crew B lives next to the work but takes lunch; A's non-stop 11:00-15:00 route stays A's."""
    jobs = [
        job("a", at(5, 0), minutes=120, windows=(TimeWindow(11 * H, 11 * H),)),
        job("b", at(5, 0), minutes=120, windows=(TimeWindow(13 * H, 13 * H),)),
    ]
    p = problem(
        [crew("A"), crew("B", home=at(5, 0.2))],
        [*crew_days(["A"]), lunch_day("B")],
        jobs,
    )
    travel = travel_for(p)
    everywhere = {j.id: (("A", 0), ("B", 0)) for j in jobs}
    assert reassign_routes(p, travel, everywhere, {("A", 0): ["a", "b"]}) == {("A", 0): ["a", "b"]}
    # Without B's lunch the same route does move to B, which lives next to it.
    no_lunch = replace(p, crew_days=crew_days(["A", "B"]))
    assert reassign_routes(no_lunch, travel, everywhere, {("A", 0): ["a", "b"]}) == {
        ("B", 0): ["a", "b"]
    }


def test_utilization_cap_excludes_the_lunch() -> None:
    """Cap = floor(max_utilization x (shift - lunch)): 0.5 x (10 h - 1 h) = 4 h 30 min."""
    p = problem([crew("A")], [lunch_day("A")], [], rules=Rules(max_utilization=0.5))
    assert p.busy_cap_s(p.crew_days[0]) == int(4.5 * H)
    fits_without_lunch = job("j", TOKYO, minutes=290)  # 4 h 50 min <= 5 h, > 4 h 30
    with_job = replace(p, jobs=(fits_without_lunch,))
    assert "max_utilization" in rules_of(with_job, Plan({("A", 0): ("j",)}))
    assert reason_rules(solve(with_job, QUICK), "j") == ["max_utilization"]
    without = replace(with_job, crew_days=crew_days(["A"]))
    assert rules_of(without, Plan({("A", 0): ("j",)})) == set()


def test_ortools_breaks_agree_with_the_timing_on_random_routes() -> None:
    """OR-Tools accepts a route with a lunch exactly when the validator finds nothing wrong."""
    rng = random.Random(7)
    agreed = 0
    for _ in range(25):
        jobs = []
        for k in range(5):
            opens = rng.choice([8, 9, 10, 11, 12, 13, 14]) * H + rng.choice([0, 1800])
            wide = rng.choice([0, 1800, 3 * H, 8 * H])
            windows = () if rng.random() < 0.3 else (TimeWindow(opens, opens + wide),)
            minutes = rng.choice([30, 60, 90, 120])
            jobs.append(
                job(f"j{k}", at(rng.uniform(-8, 8), rng.uniform(-8, 8)), minutes, windows=windows)
            )
        earliest = rng.choice([11 * H, int(11.5 * H), 12 * H])
        lunch = Break(earliest, earliest + rng.choice([0, 1800, 2 * H]), rng.choice([30, 60]) * 60)
        day = CrewDay("A", 0, 8 * H, rng.choice([15, 18]) * H, lunch)
        p = problem([crew("A")], [day], jobs, rules=Rules(min_gap_s=rng.choice([0, 900])))
        travel = travel_for(p)
        m = build_model(p, travel, {j.id: (("A", 0),) for j in jobs}, 0)
        m.routing.CloseModel()
        position = {j.id: k for k, j in enumerate(m.jobs)}
        for _ in range(8):
            ids = rng.sample([j.id for j in jobs], rng.randint(1, 4))
            route = [[m.job_index(position[j]) for j in ids]]
            ortools_ok = m.routing.ReadAssignmentFromRoutes(route, True) is not None
            ours_ok = validate_route(p, "A", 0, ids, travel) == []
            assert ortools_ok == ours_ok, (ids, day, [(j.id, j.windows) for j in jobs])
            agreed += 1
    assert agreed == 200


def test_problems_without_lunches_get_no_break_constraints() -> None:
    """The new rules cost nothing when unused: no break, no promise dimension."""
    p = busy_day()
    plain = replace(p, crew_days=crew_days(["A"]))
    candidates = screen(plain, travel_for(plain)).candidates
    m = build_model(plain, travel_for(plain), candidates, 0)
    assert not m.routing.GetDimensionOrDie("time").HasBreakConstraints()
    assert set(m.routing.GetAllDimensionNames()) == {"time"}
    with_lunch = build_model(p, travel_for(p), screen(p, travel_for(p)).candidates, 0)
    assert with_lunch.routing.GetDimensionOrDie("time").HasBreakConstraints()


def test_break_window_must_lie_in_the_shift() -> None:
    """A lunch that would end after the shift is refused when the crew-day is built."""
    try:
        CrewDay("A", 0, 8 * H, 12 * H, Break(11 * H, 12 * H, 3600))
    except ValueError as error:
        assert "lunch window" in str(error)
    else:
        raise AssertionError("expected ValueError")


# --- customer promises ------------------------------------------------------------------


def promise_world(**promise: object) -> Problem:
    """One crew working days 0-2, one job near home that is cheapest on day 0."""
    return problem(
        [crew("A")],
        crew_days(["A"], days=[0, 1, 2]),
        [job("p", at(1, 1), 60, **promise)],
        first_date=DEC_3,
    )


def test_hard_promised_day_respected() -> None:
    """Promised (hard) for 12/05: planned on day 2, never earlier."""
    p = promise_world(preferred_days=frozenset({2}), promise_is_hard=True)
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert result.assignment() == {"p": ("A", 2)}


def test_hard_promised_day_violated_is_reported_with_the_date() -> None:
    """Planning it on 12/03 breaks "day", and the message names the promise."""
    p = promise_world(preferred_days=frozenset({2}), promise_is_hard=True)
    [violation] = validate(p, Plan({("A", 0): ("p",)}))
    assert violation.rule == "day"
    assert violation.message == "12/03 is not an allowed day: it was promised for 12/05"


def test_hard_promised_slot_respected() -> None:
    """Promised 13:00-14:00 (hard) on a job open all day: it starts inside the slot."""
    slot = daily_windows([0, 1, 2], 13 * H, 14 * H)
    p = promise_world(
        windows=daily_windows([0, 1, 2], 8 * H, 17 * H),
        preferred_windows=slot,
        promise_is_hard=True,
    )
    result = solve(p, QUICK)
    assert_valid(p, result)
    start_s = result.routes[0].visits[0].start_s
    assert 13 * H <= start_s % DAY_S <= 14 * H


def test_hard_promised_slot_outside_access_windows_is_screened_naming_the_promise() -> None:
    """Promised 12/03 09:00-12:00 but the site opens at 13:00: unassigned, rule "window"."""
    p = promise_world(
        windows=daily_windows([0], 13 * H, 17 * H),
        preferred_windows=(TimeWindow(9 * H, 12 * H),),
        promise_is_hard=True,
    )
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert reason_rules(result, "p") == ["window"]
    assert result.unassigned[0].reasons[0].message.startswith("promised 12/03 09:00–12:00: ")
    late_start = replace(result, routes=())
    assert validate(p, late_start) == []


def test_soft_promised_day_kept_when_it_costs_little() -> None:
    """Soft preference for 12/05: the job goes there; the promise is counted as kept."""
    p = promise_world(preferred_days=frozenset({2}))
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert result.assignment() == {"p": ("A", 2)}
    assert result.objective_yen["preference"] == 0
    assert (result.kpis.promises_kept, result.kpis.promises_broken) == (1, 0)


def test_soft_promised_day_broken_is_priced() -> None:
    """Only 12/03 is worked: the job is planned anyway, for preferred_day_yen x priority."""
    p = replace(promise_world(preferred_days=frozenset({2})), crew_days=crew_days(["A"]))
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert result.assignment() == {"p": ("A", 0)}
    assert result.objective_yen["preference"] == p.weights.preferred_day_yen * 3
    assert (result.kpis.promises_kept, result.kpis.promises_broken) == (0, 1)
    assert result.extra.solver_objective_yen == result.cost()


def test_soft_promised_slot_kept_and_broken() -> None:
    """Slot 13:00-14:00 (soft): kept when the site is open then; otherwise priced per hour."""
    slot = (TimeWindow(13 * H, 14 * H),)
    open_all_day = replace(
        promise_world(preferred_windows=slot), crew_days=crew_days(["A"], start_h=8, end_h=18)
    )
    result = solve(open_all_day, QUICK)
    assert_valid(open_all_day, result)
    assert 13 * H <= result.routes[0].visits[0].start_s <= 14 * H
    assert result.objective_yen["preference"] == 0

    only_9 = replace(
        open_all_day,
        jobs=(replace(open_all_day.jobs[0], windows=(TimeWindow(9 * H, 9 * H),)),),
    )
    broken = solve(only_9, QUICK)
    assert_valid(only_9, broken)
    # 4 hours early x 3,600 yen an hour x priority 3.
    assert broken.objective_yen["preference"] == 4 * 3_600 * 3
    assert broken.kpis.promises_broken == 1
    # The slot is priced by the result, not by the solver (see scheduler/README.md).
    assert broken.extra.solver_objective_yen == round(broken.cost() - 4 * 3_600 * 3, 3)


def test_soft_promised_slot_makes_a_visit_wait_when_the_route_allows() -> None:
    """Two jobs, one promised 14:00-15:00 (soft): the route waits for it, the other is not late."""
    slot = (TimeWindow(14 * H, 15 * H),)
    p = problem(
        [crew("A")],
        crew_days(["A"]),
        [job("early", at(1, 0)), job("slot", at(2, 0), preferred_windows=slot)],
    )
    schedule = schedule_route(p, travel_for(p), p.crew_days[0], ["early", "slot"])
    assert schedule.visits[0].start_s < 10 * H
    assert schedule.visits[1].start_s == 14 * H
    late = schedule_route(p, travel_for(p), p.crew_days[0], ["slot", "early"])
    assert late.visits[0].start_s == 14 * H  # waiting first is still feasible
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert result.objective_yen["preference"] == 0


def test_without_promises_no_preference_cost_is_modelled() -> None:
    """No preferred days or slots: no preference dimension and a zero preference term."""
    p = promise_world()
    m = build_model(p, travel_for(p), screen(p, travel_for(p)).candidates, 0)
    assert "preferred_day" not in m.routing.GetAllDimensionNames()
    assert solve(p, QUICK).objective_yen["preference"] == 0


# --- reasons people read ----------------------------------------------------------------


def test_day_labels_use_the_first_date_or_day_numbers() -> None:
    """12/03 + d as month/day (also before day 0), "day d" without a first date."""
    p = promise_world()
    assert p.day_label(0) == "12/03"
    assert p.day_label(4) == "12/07"
    assert p.day_label(-3) == "11/30"
    assert p.days_label(0, 4) == "12/03–12/07"
    assert p.when_label(4 * DAY_S + 9 * H + 5 * 60) == "12/07 09:05"
    assert replace(p, first_date=None).day_label(3) == "day 3"


def test_no_qualified_crew_on_an_allowed_day_names_the_dates() -> None:
    """Due 12/07 (hard); the fibre crew only works 12/08-12/09: the reason says so."""
    p = problem(
        [crew("F", skills=frozenset({"fibre"})), crew("B")],
        crew_days(["F"], days=[5, 6]) + crew_days(["B"], days=range(5)),
        [
            job(
                "f",
                at(1, 0),
                required_skills=frozenset({"fibre"}),
                earliest_day=0,
                due_day=4,
                due_is_hard=True,
            )
        ],
        first_date=DEC_3,
    )
    result = solve(p, QUICK)
    assert_valid(p, result)
    assert reason_rules(result, "f") == ["day"]
    assert result.unassigned[0].reasons[0].message == (
        "can start 12/03 at the earliest; due 12/07 (promised to the customer); "
        "no qualified crew works 12/03–12/07"
    )


def test_unavailable_day_message_names_the_day() -> None:
    """Planning on a day the customer refused: "12/04 is not an allowed day: ..."."""
    p = promise_world(unavailable_days=frozenset({1}))
    [violation] = validate(p, Plan({("A", 1): ("p",)}))
    assert violation.message == "12/04 is not an allowed day: the customer is unavailable"
    [no_day] = validate(p, Plan({("A", 7): ("p",)}))
    assert no_day.message == "crew A does not work on 12/10"


def test_window_and_shift_messages_use_clock_times() -> None:
    """Validator messages show HH:MM, never raw seconds."""
    p = promise_world(windows=(TimeWindow(9 * H, 10 * H),))
    result = solve(p, QUICK)
    route = result.routes[0]
    moved = replace(route.visits[0], start_s=11 * H, end_s=12 * H, arrival_s=11 * H)
    bad = replace(result, routes=(replace(route, visits=(moved,)),))
    messages = [v.message for v in validate(p, bad) if v.rule == "window"]
    assert messages == ["starts 12/03 11:00, outside its access windows (12/03 09:00–10:00)"]


# --- time grid ----------------------------------------------------------------------------


def grid_world() -> Problem:
    """Three jobs with awkward distances on a 5-minute grid; everything else on the grid."""
    return problem(
        [crew("A")],
        [lunch_day("A")],
        [job(f"g{k}", at(1.37 * k + 0.4, 0.91 * k), minutes=45) for k in range(3)],
        rules=Rules(min_gap_s=600),
        time_grid_s=300,
    )


def test_grid_respected_every_start_lands_on_five_minutes() -> None:
    """Travel is rounded up to the grid, so solver, timing and validator agree on grid times."""
    p = grid_world()
    travel = travel_for(p)
    assert (travel.duration_s % 300 == 0).all()
    assert on_grid(travel, 300) is travel
    result = solve(p, QUICK)
    assert_valid(p, result)
    starts = [v.start_s for r in result.routes for v in r.visits]
    assert len(starts) == 3 and all(s % 300 == 0 for s in starts)
    assert_lunch_kept(p, result)


def test_grid_violated_off_grid_start_is_reported() -> None:
    """A window opening at 9:07 makes the earliest start 9:07: rule "grid"."""
    p = grid_world()
    odd = replace(p.jobs[0], windows=(TimeWindow(9 * H + 7 * 60, 9 * H + 7 * 60),))
    p = replace(p, jobs=(odd, *p.jobs[1:]))
    violations = validate_route(p, "A", 0, ["g0"])
    assert [v.rule for v in violations] == ["grid"]
    assert "off the 300-second time grid" in violations[0].message


# --- one week with everything -----------------------------------------------------------


def test_week_with_lunches_and_promises_is_valid() -> None:
    """Five days, three crews, lunch on some crew-days, soft and hard promises: no violation."""
    rng = random.Random(20)
    crews = [crew("A", home=at(-3, 0)), crew("B", home=at(3, 2)), crew("C", home=at(0, -4))]
    days = []
    for d in range(5):
        for c in crews:
            if (d + ord(c.id)) % 3:
                days.append(lunch_day(c.id, d))
            else:
                days.extend(crew_days([c.id], days=[d]))
    jobs = []
    for k in range(30):
        promise: dict[str, object] = {}
        promised_day = rng.randrange(5)
        if k % 3 == 0:
            promise = {"preferred_days": frozenset({promised_day})}
        elif k % 3 == 1:
            promise = {
                "preferred_windows": (
                    TimeWindow(promised_day * DAY_S + 9 * H, promised_day * DAY_S + 12 * H),
                ),
                "preferred_days": frozenset({promised_day}),
                "promise_is_hard": k % 2 == 0,
            }
        jobs.append(
            job(
                f"w{k}",
                at(rng.uniform(-8, 8), rng.uniform(-8, 8)),
                minutes=rng.choice([45, 60, 90]),
                windows=daily_windows(range(5), 9 * H, 16 * H),
                priority=rng.randint(1, 5),
                **promise,
            )
        )
    p = problem(crews, days, jobs, rules=Rules(min_gap_s=900), first_date=DEC_3)
    result = solve(p, MaxRuntime(4))
    assert_valid(p, result)
    assert_lunch_kept(p, result)
    lunches = [r for r in result.routes if p.crew_days_by_key()[r.key].lunch is not None]
    assert lunches, "some routes run on crew-days with a lunch"
    for j in jobs:
        if j.promise_is_hard and j.id in result.assignment():
            route = next(r for r in result.routes if j.id in r.job_ids)
            assert route.day in j.preferred_days
            start_s = next(v.start_s for v in route.visits if v.job_id == j.id)
            assert any(w.contains(start_s) for w in j.preferred_windows)
    kpis = result.kpis
    soft = [j for j in jobs if j.has_soft_promise and j.id in result.assignment()]
    assert kpis.promises_kept + kpis.promises_broken == len(soft)
    assert result.extra.solver_objective_yen is not None
    assert isinstance(build_result(p, travel_for(p), {}, []), Result)
    assert Weights().preferred_window_milli_per_s(3) == 3_000
