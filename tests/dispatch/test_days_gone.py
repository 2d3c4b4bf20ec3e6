"""The days gone by are the field's record: new work goes on today or later.

A coordinator re-plans the week on its Wednesday, after the field reports of
Monday and Tuesday. The optimizer, a drag and a publication must then leave
Monday and Tuesday as the crews were sent there (done, or waiting for their
report), and put everything else on Wednesday or later. "Today" is
``settings.PLANNING_TODAY`` here, so each test says which day it is.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from config.env import env_date
from dispatch.editing import (
    RuleViolation,
    visit_move,
    visit_place,
    visit_set_locked,
    visit_unassign,
)
from dispatch.ledger import live_visits
from dispatch.models import LiveRoute, OptimizationRun, Plan, PlanStatus, Visit
from dispatch.plans import plan_create, plan_publish, plan_revise
from dispatch.problem import planning_today
from dispatch.reports import job_report_record
from dispatch.runs import plan_request_optimization, run_optimization
from dispatch.states import JobStatus, PlanningError
from tests.dispatch.conftest import MONDAY, World

TUESDAY, WEDNESDAY, THURSDAY = (MONDAY + dt.timedelta(days=d) for d in (1, 2, 3))


def optimize(plan: Plan) -> Plan:
    run_optimization(run_id=plan_request_optimization(plan=plan, enqueue=False).pk)
    plan.refresh_from_db()
    return plan


def on_monday(plan: Plan) -> Visit:
    """One visit of ``plan`` dragged to Monday (the east crew): the field's record to be."""
    visit = plan.visits.order_by("job_id").first()
    assert visit is not None
    return visit_move(visit=visit, crew=visit.crew, date=MONDAY)


def published_with_monday(world: World, settings) -> tuple[Plan, Visit]:
    """The week optimized and published on its Monday, one visit sent to Monday."""
    settings.PLANNING_TODAY = MONDAY
    plan = optimize(world.plan())
    sent = on_monday(plan)
    plan_publish(plan=plan)
    return plan, sent


def places(plan: Plan) -> dict[int, tuple[int, dt.date]]:
    return {v.job_id: (v.crew_id, v.date) for v in plan.visits.all()}


def live_places() -> dict[int, tuple[int, dt.date]]:
    return {v.job_id: (v.crew_id, v.date) for v in live_visits()}


def test_optimizing_on_wednesday_plans_nothing_on_monday_or_tuesday(world: World, settings) -> None:
    settings.PLANNING_TODAY = WEDNESDAY

    plan = optimize(world.plan())

    assert plan.visits.count() == len(world.jobs)  # everybody still fits Wed-Fri
    assert min(plan.visits.values_list("date", flat=True)) >= WEDNESDAY


def test_a_revision_keeps_the_days_gone_by_as_the_field_left_them(world: World, settings) -> None:
    plan, _ = published_with_monday(world, settings)
    sent_before_wednesday = {
        job: place for job, place in live_places().items() if place[1] < WEDNESDAY
    }
    assert sent_before_wednesday, "Monday holds at least the visit dragged there"

    settings.PLANNING_TODAY = WEDNESDAY
    revision = optimize(plan_revise(plan=plan))

    after = places(revision)
    assert {job: after[job] for job in sent_before_wednesday} == sent_before_wednesday
    assert all(
        date >= WEDNESDAY for job, (_, date) in after.items() if job not in sent_before_wednesday
    )
    plan_publish(plan=revision)
    assert {job: live_places()[job] for job in sent_before_wednesday} == sent_before_wednesday


def test_a_job_not_finished_on_monday_is_planned_again_from_today(world: World, settings) -> None:
    plan, failed = published_with_monday(world, settings)
    job_report_record(
        job=failed.job,
        visit=live_visits().get(job=failed.job),
        kind="incomplete",
        reason_code="no_access",
    )

    settings.PLANNING_TODAY = WEDNESDAY
    revision = optimize(plan_revise(plan=plan))

    again = revision.visits.get(job=failed.job)
    assert again.date >= WEDNESDAY
    plan_publish(plan=revision)
    failed.job.refresh_from_db()
    assert failed.job.status == JobStatus.SCHEDULED
    assert live_visits().get(job=failed.job).date >= WEDNESDAY


def test_a_drag_onto_a_day_gone_by_is_refused_and_changes_nothing(world: World, settings) -> None:
    settings.PLANNING_TODAY = MONDAY
    plan = optimize(world.plan())
    settings.PLANNING_TODAY = WEDNESDAY
    visit = plan.visits.order_by("job_id").first()
    assert visit is not None
    plan.refresh_from_db()
    version, before = plan.version, places(plan)

    with pytest.raises(RuleViolation) as refused:
        visit_move(visit=visit, crew=visit.crew, date=TUESDAY)

    assert refused.value.rule == "day"
    assert "Tue 12/1 has passed" in str(refused.value)
    plan.refresh_from_db()
    assert (plan.version, places(plan)) == (version, before)


def test_a_job_from_the_queue_cannot_be_placed_on_a_day_gone_by(world: World, settings) -> None:
    settings.PLANNING_TODAY = WEDNESDAY
    plan = optimize(world.plan())
    visit = plan.visits.order_by("job_id").first()
    assert visit is not None
    visit_unassign(visit=visit)

    with pytest.raises(RuleViolation) as refused:
        visit_place(plan=plan, job=visit.job, crew=world.east_crew, date=MONDAY)

    assert refused.value.rule == "day"
    assert not plan.visits.filter(job=visit.job).exists()
    placed = visit_place(plan=plan, job=visit.job, crew=world.east_crew, date=WEDNESDAY)
    assert placed.date == WEDNESDAY


def test_a_live_visit_of_a_day_gone_by_may_be_put_back_where_it_is_live(
    world: World, settings
) -> None:
    plan, sent = published_with_monday(world, settings)
    moved = revision_moving_monday(plan, sent)  # on Monday morning, Monday was still ahead
    settings.PLANNING_TODAY = WEDNESDAY

    with pytest.raises(RuleViolation):
        visit_move(visit=moved, crew=moved.crew, date=TUESDAY)  # another day gone by: no
    back = visit_move(visit=moved, crew=sent.crew, date=MONDAY)  # where it is live: yes

    assert (back.crew_id, back.date) == (sent.crew_id, MONDAY)


# --- the field's record stays on its day ---------------------------------------------


def revision_moving_monday(plan: Plan, sent: Visit) -> Visit:
    """A revision made on Monday morning that moves Monday's visit to Thursday."""
    copy = plan_revise(plan=plan).visits.get(job=sent.job)
    return visit_move(visit=copy, crew=copy.crew, date=THURSDAY)


def revision_dropping_monday(plan: Plan, sent: Visit) -> Plan:
    """A revision made on Monday morning that takes Monday's visit out by hand."""
    revision = plan_revise(plan=plan)
    pinned = revision.visits.get(job=sent.job)  # dragged to Monday: pinned
    visit_unassign(visit=visit_set_locked(visit=pinned, locked=False))
    return revision


@pytest.mark.parametrize("edit", ["moved", "dropped"])
def test_publishing_a_revision_that_takes_a_visit_off_a_day_gone_by_is_refused(
    world: World, settings, edit: str
) -> None:
    """Monday's visit waits for its report: publishing used to release it as 'replaced'.

    The crew's late report was then refused and the job was planned again. The
    revision was edited while Monday was still ahead, and published on Wednesday.
    """
    plan, sent = published_with_monday(world, settings)
    if edit == "moved":
        revision = revision_moving_monday(plan, sent).plan
    else:
        revision = revision_dropping_monday(plan, sent)
    settings.PLANNING_TODAY = WEDNESDAY

    with pytest.raises(PlanningError) as refused:
        plan_publish(plan=revision)

    assert refused.value.field == "visits"
    assert refused.value.details["jobs"] == [sent.job_id]
    assert f"{sent.job.reference} (East, 2026-11-30)" in str(refused.value)
    assert "days that have passed" in str(refused.value)
    revision.refresh_from_db()
    assert revision.status != PlanStatus.PUBLISHED
    assert live_places()[sent.job_id] == (sent.crew_id, MONDAY), "the crew's stop stays"


@pytest.mark.parametrize("edit", ["moved", "dropped"])
def test_a_visit_of_a_day_gone_by_put_back_where_it_was_sent_is_published(
    world: World, settings, edit: str
) -> None:
    plan, sent = published_with_monday(world, settings)
    if edit == "moved":
        revision = revision_moving_monday(plan, sent).plan
    else:
        revision = revision_dropping_monday(plan, sent)
    settings.PLANNING_TODAY = WEDNESDAY

    if edit == "moved":
        visit_move(visit=revision.visits.get(job=sent.job), crew=sent.crew, date=MONDAY)
    else:
        visit_place(plan=revision, job=sent.job, crew=sent.crew, date=MONDAY)
    plan_publish(plan=revision)

    assert live_places()[sent.job_id] == (sent.crew_id, MONDAY)
    job_report_record(job=sent.job, visit=live_visits().get(job=sent.job), kind="started")
    sent.job.refresh_from_db()
    assert sent.job.status == JobStatus.IN_PROGRESS, "the crew's late report is taken"


@pytest.mark.parametrize("edit", ["moved", "dropped"])
def test_optimizing_puts_a_visit_of_a_day_gone_by_back_where_it_was_sent(
    world: World, settings, edit: str
) -> None:
    """An edit made while Monday was ahead cannot be published once it has passed."""
    plan, sent = published_with_monday(world, settings)
    if edit == "moved":
        revision = revision_moving_monday(plan, sent).plan
    else:
        revision = revision_dropping_monday(plan, sent)
    settings.PLANNING_TODAY = WEDNESDAY

    optimize(revision)

    assert places(revision)[sent.job_id] == (sent.crew_id, MONDAY)
    plan_publish(plan=revision)
    assert live_places()[sent.job_id] == (sent.crew_id, MONDAY)


def test_a_visit_of_a_day_gone_by_is_not_taken_out_or_dragged_away(world: World, settings) -> None:
    plan, sent = published_with_monday(world, settings)
    settings.PLANNING_TODAY = WEDNESDAY
    revision = plan_revise(plan=plan)
    copy = revision.visits.get(job=sent.job)
    revision.refresh_from_db()
    version, before = revision.version, places(revision)

    with pytest.raises(RuleViolation) as unassigned:
        visit_unassign(visit=copy)
    with pytest.raises(RuleViolation) as dragged:
        visit_move(visit=copy, crew=copy.crew, date=THURSDAY)

    for refused in (unassigned, dragged):
        assert refused.value.rule == "day"
        assert str(refused.value) == (
            "day: the crew was sent here on Mon 11/30, which has passed; the visit stays "
            "until its report comes (a 'not finished' report frees it)"
        )
    revision.refresh_from_db()
    assert (revision.version, places(revision)) == (version, before)


def test_publishing_a_draft_whose_day_has_passed_is_refused_whole(world: World, settings) -> None:
    settings.PLANNING_TODAY = MONDAY
    plan = optimize(world.plan())
    stale = on_monday(plan)
    settings.PLANNING_TODAY = TUESDAY  # the draft was left unpublished overnight

    with pytest.raises(PlanningError) as refused:
        plan_publish(plan=plan)

    assert refused.value.field == "visits"
    assert stale.job_id in refused.value.details["jobs"]
    assert "days that have passed" in str(refused.value) and stale.job.reference in str(
        refused.value
    )
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PROPOSED
    assert not LiveRoute.objects.exists() and not live_visits().exists()

    # Optimized again, the plan goes live from Tuesday on. The visit pinned by
    # hand to Monday keeps its pin out of the plan, and says why: the
    # coordinator decides where it goes now.
    optimize(plan)
    reasons = {row["job_id"]: row["reasons"][0] for row in plan.unassigned}
    assert reasons[stale.job_id]["rule"] == "locked"
    assert reasons[stale.job_id]["message"] == (
        "it was pinned by hand to Mon 11/30, which has passed; drag it to today or later"
    )
    plan_publish(plan=plan)
    assert live_places() and min(d for _, d in live_places().values()) >= TUESDAY
    friday = MONDAY + dt.timedelta(days=4)
    visit_place(plan=plan_revise(plan=plan), job=stale.job, crew=stale.crew, date=friday)


def test_a_plan_whose_days_have_all_passed_cannot_be_optimized(world: World, settings) -> None:
    plan = world.plan()
    settings.PLANNING_TODAY = MONDAY + dt.timedelta(days=7)

    with pytest.raises(PlanningError) as refused:
        plan_request_optimization(plan=plan, enqueue=False)

    assert refused.value.field == "end_date"
    assert "every day of this plan has passed" in str(refused.value)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    assert not OptimizationRun.objects.exists()


def test_a_run_that_starts_after_the_plans_last_day_fails_saying_why(
    world: World, settings
) -> None:
    """Queued on Friday night, started after midnight: the worker refuses, nothing is written."""
    plan = world.plan()
    run = plan_request_optimization(plan=plan, enqueue=False)
    settings.PLANNING_TODAY = MONDAY + dt.timedelta(days=5)

    finished = run_optimization(run_id=run.pk)

    assert finished.status == "failed" and "every day of this plan has passed" in finished.error
    assert not plan.visits.exists()


def test_today_is_the_date_in_tokyo_unless_pinned(settings) -> None:
    settings.PLANNING_TODAY = None
    before = dt.datetime.now(ZoneInfo("Asia/Tokyo")).date()
    today = planning_today()
    after = dt.datetime.now(ZoneInfo("Asia/Tokyo")).date()
    assert before <= today <= after

    with override_settings(PLANNING_TODAY=dt.date(2027, 4, 1)):
        assert planning_today() == dt.date(2027, 4, 1)


def test_the_pinned_day_is_read_as_an_iso_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPATCH_PLANNING_TODAY", "2027-04-01")
    assert env_date("DISPATCH_PLANNING_TODAY") == dt.date(2027, 4, 1)
    monkeypatch.setenv("DISPATCH_PLANNING_TODAY", "")
    assert env_date("DISPATCH_PLANNING_TODAY") is None
    monkeypatch.setenv("DISPATCH_PLANNING_TODAY", "1st of April")
    with pytest.raises(ValueError, match="DISPATCH_PLANNING_TODAY must be a date"):
        env_date("DISPATCH_PLANNING_TODAY")


def board_warnings(plan: Plan) -> dict[tuple[int, dt.date], list[str]]:
    from dispatch.board import board_for

    board = board_for(plan)
    return {
        (cell.crew.pk, cell.date): cell.warnings
        for group in board.groups
        for row in group.rows
        for cell in row.cells
        if cell.warnings
    }


def test_the_board_warns_of_a_visit_that_publishing_would_refuse(world: World, settings) -> None:
    """Before the click: a draft's visit on a day gone by is flagged on its crew-day."""
    settings.PLANNING_TODAY = MONDAY
    plan = optimize(world.plan())
    stale = on_monday(plan)
    settings.PLANNING_TODAY = TUESDAY

    warnings = board_warnings(plan)[(stale.crew_id, MONDAY)]

    assert (
        f"{stale.job.reference} is on a day that has passed: publishing will be refused "
        "until it moves"
    ) in warnings


def test_the_board_does_not_warn_of_the_field_record_in_a_revision(world: World, settings) -> None:
    plan, sent = published_with_monday(world, settings)
    settings.PLANNING_TODAY = WEDNESDAY

    revision = plan_revise(plan=plan)

    assert not any(
        "has passed" in w for w in board_warnings(revision).get((sent.crew_id, MONDAY), [])
    )


def test_the_board_warns_of_a_visit_of_a_day_gone_by_taken_off_its_day(
    world: World, settings
) -> None:
    """Before the click: the revision no longer holds Monday's visit where the crew was sent."""
    plan, sent = published_with_monday(world, settings)
    revision = revision_dropping_monday(plan, sent)
    settings.PLANNING_TODAY = WEDNESDAY

    warnings = board_warnings(revision).get((sent.crew_id, MONDAY), [])

    assert (
        f"{sent.job.reference} was sent to this crew-day, which has passed: publishing will "
        "be refused until its visit is back here"
    ) in warnings


def test_the_board_warns_of_visits_that_overlap(world: World, settings) -> None:
    """Two visits of one crew-day whose times cross (a slot confirmed into a changed revision)."""
    plan = optimize(world.plan())
    for position, job in enumerate(world.jobs[:2], start=1):  # east's pair, both on Monday
        visit_move(
            visit=plan.visits.get(job=job), crew=world.east_crew, date=MONDAY, position=position
        )
    first, second = plan.visits.filter(crew=world.east_crew, date=MONDAY).order_by("sequence")[:2]
    Visit.objects.filter(pk=second.pk).update(
        planned_start=first.planned_end - dt.timedelta(minutes=30),
        planned_end=first.planned_end + dt.timedelta(minutes=60),
    )

    warnings = board_warnings(plan)[(world.east_crew.pk, MONDAY)]

    assert any(
        w.startswith(f"{second.job.reference} starts before {first.job.reference} ends")
        for w in warnings
    ), warnings


def test_a_job_sent_out_on_a_day_gone_by_is_not_taken_over_into_another_plan(
    world: World, settings
) -> None:
    _, sent = published_with_monday(world, settings)
    settings.PLANNING_TODAY = WEDNESDAY
    next_monday = MONDAY + dt.timedelta(days=7)
    next_week = plan_create(
        name="Week 49",
        start_date=next_monday,
        end_date=next_monday + dt.timedelta(days=4),
        region=world.region,
    )

    with pytest.raises(RuleViolation) as refused:
        visit_place(
            plan=next_week, job=sent.job, crew=world.west_crew, date=next_monday, take_over=True
        )

    assert refused.value.rule == "day"
    assert "Mon 11/30, which has passed" in str(refused.value)
    assert not next_week.visits.exists()
    assert live_places()[sent.job_id] == (sent.crew_id, MONDAY)
