"""Manual edits are checked by the scheduler's validator and re-time the routes they touch."""

from __future__ import annotations

import datetime as dt

import pytest

from dispatch.editing import (
    RuleViolation,
    visit_move,
    visit_place,
    visit_set_locked,
    visit_unassign,
)
from dispatch.models import Plan, PlanStatus, Visit
from dispatch.plans import PlanConflict, plan_publish
from dispatch.runs import plan_request_optimization, run_optimization
from dispatch.states import JobStatus, PlanningError
from tests.dispatch.conftest import MONDAY, World
from tests.factories import make_crew, make_job, make_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposed(world: World) -> Plan:
    plan = world.plan()
    run = plan_request_optimization(plan=plan, enqueue=False)
    run_optimization(run_id=run.pk)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PROPOSED
    return plan


def east_visit(plan: Plan, world: World) -> Visit:
    visit = Visit.objects.filter(plan=plan, job=world.jobs[0]).get()
    return visit


def test_a_move_to_a_qualified_crew_is_accepted_and_re_timed(world: World, proposed: Plan) -> None:
    visit = east_visit(proposed, world)
    friday = MONDAY + dt.timedelta(days=4)
    moved = visit_move(
        visit=visit, crew=world.west_crew, date=friday, expected_version=proposed.version
    )
    assert (moved.crew_id, moved.date, moved.sequence) == (world.west_crew.pk, friday, 1)
    local_start = moved.planned_start.astimezone(dt.timezone(dt.timedelta(hours=9)))
    assert local_start.time() >= dt.time(8, 30)  # after the drive from home
    assert moved.travel_m_from_previous > 0
    proposed.refresh_from_db()
    assert proposed.version > 1


def test_a_move_to_a_crew_without_the_skill_is_refused_and_changes_nothing(
    world: World, proposed: Plan
) -> None:
    novice = make_crew(company=world.company, name="Novice")  # no fibre_splicing
    visit = east_visit(proposed, world)
    before = list(
        Visit.objects.filter(plan=proposed).values_list("job", "crew", "date", "sequence")
    )
    with pytest.raises(RuleViolation) as excinfo:
        visit_move(visit=visit, crew=novice, date=MONDAY)
    assert excinfo.value.rule == "skill"
    assert (
        list(Visit.objects.filter(plan=proposed).values_list("job", "crew", "date", "sequence"))
        == before
    )


def test_a_move_outside_the_plan_or_onto_a_day_off_is_refused(world: World, proposed: Plan) -> None:
    visit = east_visit(proposed, world)
    with pytest.raises(RuleViolation) as outside:
        visit_move(visit=visit, crew=world.west_crew, date=MONDAY + dt.timedelta(days=7))
    assert outside.value.rule == "day"
    type(world.west_crew).objects.filter(pk=world.west_crew.pk).update(working_weekdays=0b11110)
    with pytest.raises(RuleViolation) as day_off:
        visit_move(visit=visit, crew=world.west_crew, date=MONDAY)  # Monday off now
    assert day_off.value.rule == "closed_day"
    assert "not a working weekday (Mon)" in str(day_off.value)


def test_an_overfull_day_is_refused_with_the_rule_it_breaks(world: World, proposed: Plan) -> None:
    """Four 200-minute jobs cannot fit into one 9-hour shift kept 15 % free."""
    type(world.jobs[0]).objects.update(duration_minutes=200)
    visits = list(Visit.objects.filter(plan=proposed).order_by("pk"))
    target = visits[0]
    with pytest.raises(RuleViolation) as excinfo:
        for other in visits[1:]:
            visit_move(visit=other, crew=target.crew, date=target.date)
    assert excinfo.value.rule in {"shift", "max_utilization"}


def test_a_locked_visit_cannot_be_unassigned(world: World, proposed: Plan) -> None:
    visit = east_visit(proposed, world)
    visit_set_locked(visit=visit, locked=True)
    with pytest.raises(RuleViolation, match="locked"):
        visit_unassign(visit=visit)


def test_a_coordinator_may_move_a_locked_visit_and_it_stays_locked(
    world: World, proposed: Plan
) -> None:
    """The lock keeps the optimizer off the visit, not the coordinator who set it."""
    visit = east_visit(proposed, world)
    visit_set_locked(visit=visit, locked=True)
    moved = visit_move(visit=visit, crew=world.west_crew, date=MONDAY)
    assert (moved.crew_id, moved.date, moved.locked) == (world.west_crew.pk, MONDAY, True)


def test_unassigning_sends_the_job_to_the_queue_with_a_reason(world: World, proposed: Plan) -> None:
    visit = east_visit(proposed, world)
    visit_unassign(visit=visit)
    proposed.refresh_from_db()
    assert not Visit.objects.filter(plan=proposed, job=world.jobs[0]).exists()
    entry = next(item for item in proposed.unassigned if item["job_id"] == world.jobs[0].pk)
    assert entry["reasons"][0]["rule"] == "manual"
    sequences = list(
        Visit.objects.filter(plan=proposed, crew=visit.crew, date=visit.date)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )
    assert sequences == list(range(1, len(sequences) + 1))


def test_placing_a_ready_job_from_the_queue_works_and_a_job_awaiting_permission_never_does(
    world: World, proposed: Plan
) -> None:
    visit_unassign(visit=east_visit(proposed, world))
    placed = visit_place(plan=proposed, job=world.jobs[0], crew=world.east_crew, date=MONDAY)
    assert placed.crew_id == world.east_crew.pk
    proposed.refresh_from_db()
    assert all(item["job_id"] != world.jobs[0].pk for item in proposed.unassigned)

    blocked = make_job(
        site=make_site(region=world.region, latitude=35.69, longitude=139.79),
        status=JobStatus.AWAITING_PERMISSION,
    )
    with pytest.raises(RuleViolation) as excinfo:
        visit_place(plan=proposed, job=blocked, crew=world.east_crew, date=MONDAY)
    assert excinfo.value.rule == "not_ready"


def test_a_stale_edit_is_a_conflict_and_a_published_plan_must_be_revised(
    world: World, proposed: Plan
) -> None:
    visit = east_visit(proposed, world)
    with pytest.raises(PlanConflict):
        visit_move(visit=visit, crew=world.east_crew, date=MONDAY, expected_version=1)
    plan_publish(plan=proposed)
    with pytest.raises(PlanningError, match="revise it first"):
        visit_move(visit=visit, crew=world.east_crew, date=MONDAY)


def test_visits_keep_their_ids_when_moved_placed_around_or_re_timed(
    world: World, proposed: Plan
) -> None:
    """Issue 18, finding 8: clients holding visit ids got 404 after any edit of the day."""
    before = {v.job_id: v.pk for v in Visit.objects.filter(plan=proposed)}
    visit = east_visit(proposed, world)

    moved = visit_move(visit=visit, crew=world.west_crew, date=MONDAY)

    assert moved.pk == visit.pk
    after = {v.job_id: v.pk for v in Visit.objects.filter(plan=proposed)}
    assert after == before  # the moved one and every re-timed neighbour alike
