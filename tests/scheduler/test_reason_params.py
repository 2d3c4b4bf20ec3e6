"""Reasons and violations keep their English sentence and say what filled it.

Each message is a module-level template with named fields; ``params`` carry the
raw values (codes, counts, crew ids, days with their dates, ``HH:MM`` times),
so the web layer can write the same sentence in another language. The English
``message`` is always ``template.format(**params)``.
"""

from __future__ import annotations

import datetime as dt
import json

from scheduler import Plan, Reason, Rules, greedy, reasons, solve, validate
from scheduler.phrases import TEMPLATES, Day, Listing, text, to_json
from scheduler.reasons import screen
from scheduler.travel import travel_for
from scheduler.validate import CREW_LACKS_SKILLS, DAY_NOT_ALLOWED
from tests.scheduler.conftest import TOKYO, at, crew, crew_days, job, problem

FIRST_DATE = dt.date(2026, 11, 30)


def test_a_screened_reason_is_its_template_filled_with_raw_params() -> None:
    p = problem(
        [crew("A", members=2), crew("B", members=2)],
        crew_days(["A", "B"]),
        [job("big", at(1, 1), members_needed=3)],
        first_date=FIRST_DATE,
    )
    (reason,) = screen(p, travel_for(p)).impossible["big"]
    assert reason.rule == "members"
    assert reason.template == reasons.NO_CREW_WITH_MEMBERS
    assert reason.params == {"members": 3}
    assert reason.message == "no crew with the skills has 3 members"
    assert reason.message == reason.template.format(**reason.params)


def test_skill_codes_stay_codes_in_params_and_join_in_the_message() -> None:
    p = problem(
        [crew("A")],
        crew_days(["A"]),
        [job("splice", at(1, 1), required_skills=frozenset({"onu_setup", "fibre_splicing"}))],
        first_date=FIRST_DATE,
    )
    result = solve(p)
    (reason,) = result.unassigned[0].reasons
    assert reason.params["skills"] == ("fibre_splicing", "onu_setup")
    assert reason.message == "no crew has the skill(s) fibre_splicing, onu_setup"
    assert to_json(reason.params) == {"skills": ["fibre_splicing", "onu_setup"]}


def test_days_carry_their_index_and_date_and_read_as_month_day_in_english() -> None:
    day = Day(3, "2026-12-03")
    assert format(day) == "12/03"
    assert to_json({"day": day}) == {"day": {"day": 3, "date": "2026-12-03"}}
    assert format(Day(3)) == "day 3"  # a problem without dates


def test_a_violation_names_the_crew_by_id_and_lists_the_missing_skills() -> None:
    p = problem(
        [crew("N")],
        crew_days(["N"]),
        [job("splice", at(1, 1), required_skills=frozenset({"fibre_splicing"}))],
        first_date=FIRST_DATE,
    )
    (violation,) = [v for v in validate(p, Plan({("N", 0): ("splice",)})) if v.rule == "skill"]
    assert violation.template == CREW_LACKS_SKILLS
    assert violation.params == {"crew": "N", "skills": ("fibre_splicing",)}
    assert violation.message == "crew N lacks skill(s) fibre_splicing"
    assert violation.message == violation.template.format(**violation.params)


def test_a_day_refusal_nests_its_clauses_as_params() -> None:
    p = problem(
        [crew("A")],
        crew_days(["A"], days=(0, 1)),
        [job("late", TOKYO, earliest_day=1)],
        first_date=FIRST_DATE,
    )
    (violation,) = [v for v in validate(p, Plan({("A", 0): ("late",)})) if v.rule == "day"]
    assert violation.template == DAY_NOT_ALLOWED
    assert (
        violation.message == "11/30 is not an allowed day: the job can start 12/01 at the earliest"
    )
    assert json.loads(json.dumps(to_json(violation.params))) == {
        "day": {"day": 0, "date": "2026-11-30"},
        "why": {
            "clauses": [
                {
                    "template": "the job can start {day} at the earliest",
                    "params": {"day": {"day": 1, "date": "2026-12-01"}},
                }
            ]
        },
    }


def test_every_reason_the_greedy_planner_gives_is_a_declared_template() -> None:
    p = problem(
        [crew("A", members=2)],
        crew_days(["A"]),
        [job("big", at(1, 1), members_needed=3), job("far", at(300, 0))],
        rules=Rules(),
        first_date=FIRST_DATE,
    )
    result = greedy.solve_greedy(p)
    given = [r for u in result.unassigned for r in u.reasons]
    assert given
    for reason in given:
        assert reason.template in TEMPLATES
        assert reason.message == reason.template.format(**reason.params)


def test_a_reason_without_params_still_works_for_old_callers() -> None:
    reason = Reason("manual", "taken out by hand")
    assert (reason.params, reason.template) == ({}, "")
    assert hash(reason) == hash(Reason("manual", "taken out by hand"))
    assert format(text("{shown} and {more} more", shown=Listing(["a", "b"]), more=2)) == (
        "a, b and 2 more"
    )
