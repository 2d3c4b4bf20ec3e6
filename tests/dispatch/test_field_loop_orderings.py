"""The field loop in the orders people really produce it.

A revision stays open for days while crews keep reporting, support keeps
cancelling and booking, and a second coordinator keeps working. Each test
is one such ordering; each ran red before its fix.
"""

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
from dispatch.ledger import ledger_problems, live_visits
from dispatch.models import Job, JobReport, Plan, Visit
from dispatch.plans import plan_create, plan_publish, plan_revise
from dispatch.reports import job_report_record
from dispatch.runs import plan_request_optimization, run_discard, run_optimization
from dispatch.services import job_transition
from dispatch.states import JobStatus, PlanningError
from tests.dispatch.conftest import MONDAY, World


def optimize(plan: Plan) -> Plan:
    run_optimization(run_id=plan_request_optimization(plan=plan, enqueue=False).pk)
    plan.refresh_from_db()
    return plan


def published(plan: Plan) -> Plan:
    return plan_publish(plan=optimize(plan))


def report(job: Job, kind: str, **fields: object) -> JobReport:
    """The crew's report on the job's live visit, as the partner API sends it."""
    created, _ = job_report_record(
        job=job,
        visit=live_visits().get(job=job),
        kind=kind,  # type: ignore[arg-type]
        **fields,  # type: ignore[arg-type]
    )
    return created


def revision_without(plan: Plan, job: Job) -> Plan:
    """A revision of ``plan`` from which the coordinator took ``job`` out by hand."""
    revision = plan_revise(plan=plan)
    visit_unassign(visit=Visit.objects.get(plan=revision, job=job))
    return revision


# --- a crew starts a job the open revision took out --------------------------------


@pytest.mark.parametrize("kind", ["started", "completed"])
def test_a_revision_that_dropped_a_job_the_crew_then_worked_is_not_published(
    world: World, kind: str
) -> None:
    plan = published(world.plan())
    job = world.jobs[0]
    worked_at = live_visits().get(job=job)
    revision = revision_without(plan, job)  # Monday morning: not started yet

    report(job, "started")  # meanwhile the crew is on site
    if kind == "completed":
        report(job, "completed", idempotency_key="done")

    with pytest.raises(PlanningError) as refused:
        plan_publish(plan=revision)

    assert refused.value.field == "visits"
    assert refused.value.details["jobs"] == [job.pk]
    assert job.reference in str(refused.value)
    assert live_visits().get(job=job) == worked_at, "the crew's stop stays on its route"
    revision.refresh_from_db()
    assert revision.status != "published"
    assert ledger_problems() == []


def test_a_worked_job_the_revision_dropped_can_be_put_back_where_it_was_worked(
    world: World,
) -> None:
    plan = published(world.plan())
    job = world.jobs[0]
    worked_at = live_visits().get(job=job)
    revision = revision_without(plan, job)
    report(job, "started")

    back = visit_place(plan=revision, job=job, crew=worked_at.crew, date=worked_at.date)

    assert (back.planned_start, back.locked) == (worked_at.planned_start, True)
    plan_publish(plan=revision)
    live = live_visits().get(job=job)
    assert (live.plan_id, live.crew_id, live.date) == (
        revision.pk,
        worked_at.crew_id,
        worked_at.date,
    )
    report(job, "completed", idempotency_key="done")  # the crew can still finish it
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED
    assert ledger_problems() == []


@pytest.mark.parametrize("edit", ["taken out", "moved"])
def test_optimizing_puts_a_worked_job_back_where_the_crew_works_it(world: World, edit: str) -> None:
    """The field's fact wins over an edit made before it: the crew is on site there."""
    plan = published(world.plan())
    job = world.jobs[0]
    worked_at = live_visits().get(job=job)
    revision = plan_revise(plan=plan)
    copy = Visit.objects.get(plan=revision, job=job)
    other_crew = world.west_crew if worked_at.crew_id == world.east_crew.pk else world.east_crew
    if edit == "taken out":
        visit_unassign(visit=copy)
    else:
        visit_move(visit=copy, crew=other_crew, date=copy.date)  # pinned there by the drag
    report(job, "started")

    optimize(revision)

    back = Visit.objects.get(plan=revision, job=job)
    assert (back.crew_id, back.date) == (worked_at.crew_id, worked_at.date)
    plan_publish(plan=revision)
    assert live_visits().get(job=job).plan_id == revision.pk
    assert ledger_problems() == []


def test_a_worked_job_is_not_placed_anywhere_else(world: World) -> None:
    plan = published(world.plan())
    job = world.jobs[0]
    worked_at = live_visits().get(job=job)
    revision = revision_without(plan, job)
    report(job, "started")
    elsewhere = world.west_crew if worked_at.crew_id == world.east_crew.pk else world.east_crew

    with pytest.raises(RuleViolation) as refused:
        visit_place(plan=revision, job=job, crew=elsewhere, date=worked_at.date)

    assert refused.value.rule == "not_ready"


# --- a job taken over by hand, then the plan is optimized ----------------------------


def next_week_taking_over(world: World, job: Job) -> tuple[Plan, dt.date]:
    """Next week's plan, into which the coordinator took ``job`` over by hand."""
    next_monday = MONDAY + dt.timedelta(days=7)
    second = optimize(
        plan_create(
            name="Week 49",
            start_date=next_monday,
            end_date=next_monday + dt.timedelta(days=4),
            region=world.region,
            params={"time_limit_seconds": 1},
        )
    )
    visit_place(plan=second, job=job, crew=world.west_crew, date=next_monday, take_over=True)
    return second, next_monday


def test_optimizing_keeps_a_job_taken_over_by_hand(world: World) -> None:
    published(world.plan())
    job = world.jobs[0]
    second, next_monday = next_week_taking_over(world, job)

    optimize(second)

    kept = second.visits.get(job=job)
    assert (kept.crew_id, kept.date, kept.takes_over) == (world.west_crew.pk, next_monday, True)
    plan_publish(plan=second)
    assert live_visits().get(job=job).plan_id == second.pk
    assert ledger_problems() == []


def test_discarding_a_proposal_keeps_a_job_taken_over_by_hand(world: World) -> None:
    published(world.plan())
    job = world.jobs[0]
    second, _ = next_week_taking_over(world, job)
    run = plan_request_optimization(plan=second, enqueue=False)
    run_optimization(run_id=run.pk)

    run_discard(run=run)

    assert second.visits.get(job=job).takes_over
    plan_publish(plan=second)
    assert live_visits().get(job=job).plan_id == second.pk


# --- a new plan for the published week, made on its Wednesday -----------------------


def test_a_new_plan_for_the_published_week_keeps_the_days_gone_by(world: World, settings) -> None:
    """A new plan for exactly the published dates is a revision too (docs/SCHEDULE.md).

    Made on Wednesday, it must keep Monday's visit where the field was sent, as
    Revise does: it used to plan the job again from Wednesday on, so publishing
    took Monday's stop (done, or waiting for its report) off the crew's day.
    """
    settings.PLANNING_TODAY = MONDAY
    plan = optimize(world.plan())
    first = plan.visits.order_by("job_id").first()
    assert first is not None
    sent = visit_move(visit=first, crew=first.crew, date=MONDAY)
    plan_publish(plan=plan)
    settings.PLANNING_TODAY = MONDAY + dt.timedelta(days=2)

    fresh = world.plan()
    assert fresh.revises_id == plan.pk
    optimize(fresh)

    kept = fresh.visits.get(job=sent.job)
    assert (kept.crew_id, kept.date) == (sent.crew_id, MONDAY)
    plan_publish(plan=fresh)
    live = live_visits().get(job=sent.job)
    assert (live.crew_id, live.date, live.plan_id) == (sent.crew_id, MONDAY, fresh.pk)
    assert ledger_problems() == []


def test_a_new_plan_for_the_published_week_keeps_a_job_the_crew_started(world: World) -> None:
    plan = optimize(world.plan())
    job = world.jobs[0]  # in the east: the optimizer would give it to the east crew
    visit = plan.visits.get(job=job)
    visit_move(visit=visit, crew=world.west_crew, date=visit.date)
    plan_publish(plan=plan)
    worked_at = live_visits().get(job=job)
    report(job, "started")  # the west crew is on site

    # Nothing but the start keeps the job there: no weight against moving it.
    fresh = optimize(world.plan(weights={"disruption_yen": 0}))

    kept = fresh.visits.get(job=job)
    assert (kept.crew_id, kept.date, kept.planned_start) == (
        worked_at.crew_id,
        worked_at.date,
        worked_at.planned_start,
    )
    plan_publish(plan=fresh)
    assert live_visits().get(job=job).plan_id == fresh.pk
    assert plan.pk != fresh.pk


# --- a new plan for the published week, and the coordinator's pins ------------------


def published_with_a_pin(world: World) -> Visit:
    """The week published with one east job pinned by hand on the west crew: its live visit."""
    plan = optimize(world.plan())
    job = world.jobs[0]  # in the east: the optimizer would give it to the east crew
    visit = plan.visits.get(job=job)
    visit_move(visit=visit, crew=world.west_crew, date=visit.date)
    plan_publish(plan=plan)
    pinned = live_visits().get(job=job)
    assert pinned.locked
    return pinned


def test_a_new_plan_for_the_published_week_keeps_its_pins(world: World) -> None:
    """'Start a new plan' revises the published week as Revise does, pins included.

    Revise copies the pins; the new plan, starting with no visits, let the
    optimizer move the coordinator's hand placement without telling anyone.
    """
    pinned = published_with_a_pin(world)

    # Nothing but the pin keeps the job there: no weight against moving it.
    fresh = optimize(world.plan(weights={"disruption_yen": 0}))

    kept = fresh.visits.get(job=pinned.job)
    assert (kept.crew_id, kept.date, kept.planned_start, kept.locked) == (
        pinned.crew_id,
        pinned.date,
        pinned.planned_start,
        True,
    ), "the pin stays, and shows on the board"
    plan_publish(plan=fresh)
    assert live_visits().get(job=pinned.job).crew_id == world.west_crew.pk


def test_a_pin_the_coordinator_takes_out_of_the_new_plan_stays_out(world: World) -> None:
    pinned = published_with_a_pin(world)
    fresh = optimize(world.plan(weights={"disruption_yen": 0}))
    kept = fresh.visits.get(job=pinned.job)
    visit_unassign(visit=visit_set_locked(visit=kept, locked=False))

    optimize(fresh)

    assert not fresh.visits.filter(job=pinned.job).exists()
    reasons = {row["job_id"]: row["reasons"][0]["rule"] for row in fresh.unassigned}
    assert reasons[pinned.job_id] == "manual"


def test_a_pin_the_coordinator_unlocks_in_the_new_plan_is_the_optimizers_again(
    world: World,
) -> None:
    pinned = published_with_a_pin(world)
    fresh = optimize(world.plan(weights={"disruption_yen": 0}))
    visit_set_locked(visit=fresh.visits.get(job=pinned.job), locked=False)

    optimize(fresh)

    assert fresh.visits.get(job=pinned.job).crew_id == world.east_crew.pk


# --- support cancels a job the draft pinned -------------------------------------------


def test_a_pinned_visit_of_a_job_cancelled_meanwhile_is_taken_out_without_unlocking(
    world: World,
) -> None:
    """Publishing refuses a cancelled job; its pin must not stand in the way of taking it out."""
    plan = optimize(world.plan())
    visit = plan.visits.order_by("job_id").first()
    assert visit is not None
    visit_move(visit=visit, crew=world.west_crew, date=visit.date)  # pinned by the drag
    job = Job.objects.get(pk=visit.job_id)
    job_transition(job=job, to_status=JobStatus.CANCELLED, note="the customer cancelled")

    with pytest.raises(PlanningError) as refused:
        plan_publish(plan=plan)
    assert refused.value.field == "visits"

    visit_unassign(visit=Visit.objects.get(plan=plan, job=job))

    assert not plan.visits.filter(job=job).exists()
    plan_publish(plan=plan)
    assert not live_visits().filter(job=job).exists()
    assert ledger_problems() == []


def test_a_pinned_visit_of_a_schedulable_job_still_needs_unlocking(world: World) -> None:
    plan = optimize(world.plan())
    visit = plan.visits.order_by("job_id").first()
    assert visit is not None
    moved = visit_move(visit=visit, crew=world.west_crew, date=visit.date)
    assert moved.locked

    with pytest.raises(RuleViolation) as refused:
        visit_unassign(visit=moved)

    assert refused.value.rule == "locked"
