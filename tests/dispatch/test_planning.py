"""The plan lifecycle: create, optimize (progress, cancel, crash, conflicts), publish, revise."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction

import scheduler
from dispatch.editing import visit_set_locked
from dispatch.models import (
    ChangeKind,
    IncompleteReason,
    OptimizationRun,
    Plan,
    PlanChange,
    PlanStatus,
    RunStatus,
    Visit,
)
from dispatch.plans import (
    PlanBusy,
    PlanConflict,
    plan_create,
    plan_discard,
    plan_publish,
    plan_revise,
)
from dispatch.problem import ParameterError
from dispatch.runs import plan_request_optimization, run_cancel, run_optimization, runs_fail_stale
from dispatch.services import job_report_incomplete, job_transition
from dispatch.states import JobStatus, PlanningError
from tests.dispatch.conftest import MONDAY, World

pytestmark = pytest.mark.django_db


def optimize(plan: Plan, **kwargs: Any) -> OptimizationRun:
    run = plan_request_optimization(plan=plan, enqueue=False)
    return run_optimization(run_id=run.pk, **kwargs)


def visits_of(plan: Plan) -> dict[int, tuple[int, dt.date, int]]:
    return {v.job_id: (v.crew_id, v.date, v.sequence) for v in Visit.objects.filter(plan=plan)}


def test_a_new_plan_is_a_draft_with_validated_parameters(world: World) -> None:
    plan = world.plan(min_gap_minutes=20)
    assert plan.status == PlanStatus.DRAFT
    assert plan.params["min_gap_minutes"] == 20
    with pytest.raises(ParameterError) as excinfo:
        world.plan(max_utilization=1.5)
    assert excinfo.value.field == "max_utilization"
    with pytest.raises(ParameterError, match="unknown parameter"):
        world.plan(colour="blue")
    with pytest.raises(PlanningError):
        plan_create(name="x", start_date=MONDAY, end_date=MONDAY - dt.timedelta(days=1))


def test_optimizing_writes_a_proposal_with_visits_kpis_and_progress(world: World) -> None:
    plan = world.plan()
    seen: list[OptimizationRun] = []
    run = optimize(plan, progress_hook=seen.append)

    plan.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert plan.status == PlanStatus.PROPOSED
    assert set(visits_of(plan)) == {job.pk for job in world.jobs}
    assert plan.kpis["jobs_assigned"] == 4 and plan.unassigned == []
    assert run.summary["jobs_assigned"] == 4
    assert run.params["seed"] == 0 and run.params["time_limit_seconds"] == 1
    assert seen, "the progress hook was never called"
    assert run.elapsed_seconds > 0 and run.heartbeat_at is not None


def test_the_planner_gets_as_many_worker_processes_as_the_setting_allows(
    world: World, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``PLANNER_WORKERS`` reaches the solver, and a run with two workers plans everything."""
    settings.PLANNER_WORKERS = 2
    used: list[int] = []
    solve = scheduler.solve

    def spy(*args: Any, **kwargs: Any) -> scheduler.Result:
        used.append(args[2].num_workers)
        return solve(*args, **kwargs)

    monkeypatch.setattr(scheduler, "solve", spy)
    plan = world.plan()
    run = optimize(plan)
    assert used == [2]
    assert run.status == RunStatus.SUCCEEDED
    assert set(visits_of(plan)) == {job.pk for job in world.jobs}


def test_nearby_jobs_are_batched_onto_the_nearby_crew(world: World) -> None:
    """A crew-day holds two long jobs, so each pair goes to the crew living next to it."""
    world.make_jobs_long()
    plan = world.plan()
    optimize(plan)
    east_jobs, west_jobs = world.jobs[:2], world.jobs[2:]
    crew_of = {v.job_id: v.crew_id for v in Visit.objects.filter(plan=plan)}
    assert {crew_of[j.pk] for j in east_jobs} == {world.east_crew.pk}
    assert {crew_of[j.pk] for j in west_jobs} == {world.west_crew.pk}


def test_visit_times_are_in_tokyo_office_hours(world: World) -> None:
    plan = world.plan()
    optimize(plan)
    for visit in Visit.objects.filter(plan=plan):
        local = visit.planned_start.astimezone(dt.timezone(dt.timedelta(hours=9)))
        assert dt.time(8, 30) <= local.time() <= dt.time(17, 30)
        assert visit.planned_end - visit.planned_start == dt.timedelta(minutes=90)


def test_a_second_optimization_of_the_same_plan_is_refused_while_one_is_active(
    world: World,
) -> None:
    plan = world.plan()
    plan_request_optimization(plan=plan, enqueue=False)
    with pytest.raises(PlanBusy, match="already being optimized"):
        plan_request_optimization(plan=plan, enqueue=False)
    assert OptimizationRun.objects.filter(plan=plan).count() == 1


def test_the_database_refuses_two_active_runs_for_one_plan(world: World) -> None:
    plan = world.plan()
    OptimizationRun.objects.create(plan=plan, status=RunStatus.RUNNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        OptimizationRun.objects.create(plan=plan, status=RunStatus.QUEUED)


def test_a_run_is_executed_once_even_if_its_task_is_delivered_twice(world: World) -> None:
    plan = world.plan()
    run = plan_request_optimization(plan=plan, enqueue=False)
    run_optimization(run_id=run.pk)
    visits_before = visits_of(plan)
    again = run_optimization(run_id=run.pk)
    assert again.status == RunStatus.SUCCEEDED
    assert visits_of(plan) == visits_before


def test_cancelling_a_queued_run_returns_the_plan_to_draft(world: World) -> None:
    plan = world.plan()
    run = plan_request_optimization(plan=plan, enqueue=False)
    run_cancel(run=run)
    plan.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert plan.status == PlanStatus.DRAFT
    assert run_optimization(run_id=run.pk).status == RunStatus.CANCELLED


def test_cancelling_a_running_run_keeps_the_previous_proposal(world: World) -> None:
    plan = world.plan()
    optimize(plan)
    before = visits_of(plan)
    plan.refresh_from_db()
    plan.params = {**plan.params, "time_limit_seconds": 30}
    plan.save()

    def cancel_at_first_progress(progress: OptimizationRun) -> None:
        run_cancel(run=progress)

    run = optimize(plan, progress_hook=cancel_at_first_progress)
    plan.refresh_from_db()
    assert run.status == RunStatus.CANCELLED  # stopped by the cancel, not the 30 s limit
    assert plan.status == PlanStatus.PROPOSED
    assert visits_of(plan) == before


def test_a_crash_in_the_solver_fails_the_run_and_leaves_the_plan_untouched(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = world.plan()
    optimize(plan)
    before = visits_of(plan)

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("worker crashed mid-run")

    monkeypatch.setattr(scheduler, "solve", crash)
    run = optimize(plan)
    plan.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "worker crashed mid-run" in run.error
    assert plan.status == PlanStatus.PROPOSED
    assert visits_of(plan) == before


def test_a_first_run_that_crashes_marks_the_plan_failed_and_it_can_be_retried(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = world.plan()
    with monkeypatch.context() as patch:
        patch.setattr(scheduler, "solve", lambda *a, **k: 1 / 0)
        assert optimize(plan).status == RunStatus.FAILED
    plan.refresh_from_db()
    assert plan.status == PlanStatus.FAILED
    assert not Visit.objects.filter(plan=plan).exists()
    assert optimize(plan).status == RunStatus.SUCCEEDED


def test_a_run_whose_worker_went_silent_is_failed_so_the_plan_is_not_stuck(
    world: World,
) -> None:
    plan = world.plan()
    run = plan_request_optimization(plan=plan, enqueue=False)
    long_ago = run.created_at - dt.timedelta(hours=2)
    OptimizationRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, heartbeat_at=long_ago
    )
    assert runs_fail_stale() == 1
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "stopped reporting" in run.error
    assert plan_request_optimization(plan=plan, enqueue=False).status == RunStatus.QUEUED


def test_a_long_run_silent_for_a_minute_is_failed_whatever_its_time_limit(
    world: World,
) -> None:
    """Issue 18, finding 3: a killed 3,600 s run held its plan for 62 minutes."""
    from django.utils import timezone

    plan = world.plan(time_limit_seconds=3600)
    run = plan_request_optimization(plan=plan, enqueue=False)
    silent = timezone.now() - dt.timedelta(seconds=settings.RUN_STALE_AFTER_SECONDS + 1)
    OptimizationRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, heartbeat_at=silent)

    from dispatch.tasks import sweep_stale_runs

    assert sweep_stale_runs() == 1
    run.refresh_from_db()
    plan.refresh_from_db()
    assert run.status == RunStatus.FAILED and "optimize again" in run.error
    assert plan.status != PlanStatus.OPTIMIZING


def test_a_run_that_reported_recently_is_left_running(world: World) -> None:
    from django.utils import timezone

    plan = world.plan(time_limit_seconds=3600)
    run = plan_request_optimization(plan=plan, enqueue=False)
    recent = timezone.now() - dt.timedelta(seconds=settings.RUN_STALE_AFTER_SECONDS - 10)
    OptimizationRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, heartbeat_at=recent)
    assert runs_fail_stale() == 0


def test_a_run_given_up_for_dead_writes_nothing_when_it_finishes_after_all(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep told the coordinator it failed: a late result must not appear from nowhere."""
    plan = world.plan()
    run = plan_request_optimization(plan=plan, enqueue=False)
    real_solve = scheduler.solve

    def solve_then_be_declared_dead(*args: Any, **kwargs: Any) -> Any:
        result = real_solve(*args, **kwargs)
        OptimizationRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED)
        return result

    monkeypatch.setattr(scheduler, "solve", solve_then_be_declared_dead)
    assert run_optimization(run_id=run.pk).status == RunStatus.FAILED
    assert not Visit.objects.filter(plan=plan).exists()


def test_a_redelivered_task_of_a_dead_run_frees_the_plan(world: World) -> None:
    from django.utils import timezone

    plan = world.plan()
    run = plan_request_optimization(plan=plan, enqueue=False)
    silent = timezone.now() - dt.timedelta(seconds=settings.RUN_STALE_AFTER_SECONDS + 5)
    OptimizationRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, heartbeat_at=silent)

    assert run_optimization(run_id=run.pk).status == RunStatus.FAILED
    plan.refresh_from_db()
    assert plan.status != PlanStatus.OPTIMIZING


def test_a_manual_edit_during_optimization_is_kept_and_the_run_refuses_to_overwrite_it(
    world: World,
) -> None:
    plan = world.plan()
    optimize(plan)
    before = visits_of(plan)
    visit = Visit.objects.filter(plan=plan).first()
    assert visit is not None

    def coordinator_locks_a_visit(progress: OptimizationRun) -> None:
        if not Visit.objects.get(pk=visit.pk).locked:
            visit_set_locked(visit=visit, locked=True)

    run = optimize(plan, progress_hook=coordinator_locks_a_visit)
    plan.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "edited during the optimization" in run.error
    assert Visit.objects.get(pk=visit.pk).locked
    assert visits_of(plan) == before
    assert plan.status == PlanStatus.PROPOSED


def test_a_stale_edit_is_refused_with_a_conflict(world: World) -> None:
    plan = world.plan()
    optimize(plan)
    plan.refresh_from_db()
    visit = Visit.objects.filter(plan=plan).first()
    assert visit is not None
    visit_set_locked(visit=visit, locked=True, expected_version=plan.version)
    with pytest.raises(PlanConflict):
        visit_set_locked(visit=visit, locked=False, expected_version=plan.version)


def test_locked_visits_stay_exactly_where_they_are_when_reoptimizing(world: World) -> None:
    plan = world.plan()
    optimize(plan)
    visit = Visit.objects.filter(plan=plan, crew=world.east_crew).first()
    assert visit is not None
    # Move it somewhere the solver would never choose (the far crew, Friday 14:00), then lock it.
    friday = MONDAY + dt.timedelta(days=4)
    start = dt.datetime.combine(friday, dt.time(14), tzinfo=dt.timezone(dt.timedelta(hours=9)))
    Visit.objects.filter(pk=visit.pk).update(
        crew=world.west_crew,
        date=friday,
        sequence=99,
        planned_start=start,
        planned_end=start + dt.timedelta(minutes=90),
    )
    visit_set_locked(visit=visit, locked=True)

    optimize(plan)
    moved = Visit.objects.get(plan=plan, job_id=visit.job_id)
    assert (moved.crew_id, moved.date, moved.planned_start, moved.locked) == (
        world.west_crew.pk,
        friday,
        start,
        True,
    )


def test_publishing_schedules_the_jobs_and_records_every_visit_as_added(world: World) -> None:
    plan = world.plan()
    optimize(plan)
    plan = plan_publish(plan=plan)
    assert plan.status == PlanStatus.PUBLISHED and plan.published_at is not None
    assert {j.status for j in type(world.jobs[0]).objects.all()} == {JobStatus.SCHEDULED}
    changes = PlanChange.objects.filter(plan=plan)
    assert {c.kind for c in changes} == {ChangeKind.ADDED}
    assert {c.job_id for c in changes} == {j.pk for j in world.jobs}
    assert all(c.published_version == plan.version for c in changes)


def test_only_a_proposed_plan_can_be_published(world: World) -> None:
    plan = world.plan()
    with pytest.raises(PlanningError, match="only a proposed plan"):
        plan_publish(plan=plan)


def test_publishing_with_a_stale_version_is_a_conflict(world: World) -> None:
    plan = world.plan()
    optimize(plan)
    with pytest.raises(PlanConflict):
        plan_publish(plan=plan, expected_version=1)


def test_a_published_plan_cannot_be_optimized_in_place_but_can_be_revised(world: World) -> None:
    plan = world.plan()
    optimize(plan)
    plan_publish(plan=plan)
    with pytest.raises(PlanningError, match="revise it first"):
        plan_request_optimization(plan=plan, enqueue=False)
    revision = plan_revise(plan=plan)
    assert revision.status == PlanStatus.PROPOSED and revision.revises == plan
    assert visits_of(revision) == visits_of(plan)
    with pytest.raises(PlanBusy, match="open revision"):
        plan_revise(plan=plan)


def test_republishing_records_what_changed_per_crew(world: World) -> None:
    world.make_jobs_long()
    plan = world.plan()
    optimize(plan)
    plan_publish(plan=plan)
    revision = plan_revise(plan=plan)
    east_visits = list(Visit.objects.filter(plan=revision, crew=world.east_crew).order_by("job"))
    west_visit = Visit.objects.filter(plan=revision, crew=world.west_crew).order_by("job").first()
    assert len(east_visits) == 2 and west_visit is not None
    moved_to_other_crew, dropped = east_visits
    Visit.objects.filter(pk=moved_to_other_crew.pk).update(crew=world.west_crew, sequence=50)
    dropped.delete()
    Visit.objects.filter(pk=west_visit.pk).update(date=MONDAY + dt.timedelta(days=3))

    published = plan_publish(plan=revision)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUPERSEDED
    changes = {
        (c.crew_id, c.job_id, c.kind)
        for c in PlanChange.objects.filter(plan=published, published_version=published.version)
    }
    assert changes == {
        (world.west_crew.pk, moved_to_other_crew.job_id, ChangeKind.ADDED),
        (world.east_crew.pk, moved_to_other_crew.job_id, ChangeKind.REMOVED),
        (world.east_crew.pk, dropped.job_id, ChangeKind.REMOVED),
        (world.west_crew.pk, west_visit.job_id, ChangeKind.MOVED),
    }
    dropped_job = type(world.jobs[0]).objects.get(pk=dropped.job_id)
    assert dropped_job.status == JobStatus.READY


def test_reoptimizing_a_revision_keeps_what_crews_already_have(world: World) -> None:
    plan = world.plan()
    optimize(plan)
    plan_publish(plan=plan)
    revision = plan_revise(plan=plan)
    assert optimize(revision).status == RunStatus.SUCCEEDED
    published = plan_publish(plan=revision)
    assert not PlanChange.objects.filter(
        plan=published, published_version=published.version, kind=ChangeKind.REMOVED
    ).exists()


def test_an_incomplete_report_sends_the_job_back_to_the_queue_with_its_history(
    world: World,
) -> None:
    plan = world.plan()
    optimize(plan)
    plan_publish(plan=plan)
    job = world.jobs[0]
    job.refresh_from_db()
    job_transition(job=job, to_status=JobStatus.DISPATCHED)
    visit = Visit.objects.get(plan=plan, job=job)
    report = job_report_incomplete(
        job=job,
        crew=visit.crew,
        visit=visit,
        reason_code=IncompleteReason.CUSTOMER_ABSENT,
        reason_text="担当者不在",
    )
    job.refresh_from_db()
    assert job.status == JobStatus.READY
    steps = list(job.status_changes.values_list("to_status", flat=True))
    assert steps[-2:] == [JobStatus.INCOMPLETE, JobStatus.READY]
    assert report.reason_code == IncompleteReason.CUSTOMER_ABSENT

    # The next plan of the week picks it up again.
    next_plan = world.plan()
    optimize(next_plan)
    assert job.pk in visits_of(next_plan)


def test_a_plan_that_was_never_published_can_be_discarded(world: World) -> None:
    plan = world.plan()
    run = plan_request_optimization(plan=plan, enqueue=False)
    with pytest.raises(PlanBusy, match="cancel the running optimization"):
        plan_discard(plan=plan)
    run_cancel(run=run)
    assert plan_discard(plan=plan).status == PlanStatus.CANCELLED
    with pytest.raises(PlanningError, match="cannot be optimized"):
        plan_request_optimization(plan=plan, enqueue=False)


def test_a_published_plan_cannot_be_discarded(world: World) -> None:
    plan = world.plan()
    optimize(plan)
    plan_publish(plan=plan)
    with pytest.raises(PlanningError, match="cannot be discarded"):
        plan_discard(plan=plan)


def test_a_job_in_progress_keeps_its_visit_when_a_revision_is_reoptimized(world: World) -> None:
    """Started work is fact, not a proposal: the solver plans around it."""
    plan = world.plan()
    optimize(plan)
    plan_publish(plan=plan)
    visit = Visit.objects.filter(plan=plan).order_by("job").first()
    assert visit is not None
    job = visit.job
    job_transition(job=job, to_status=JobStatus.DISPATCHED)
    job_transition(job=job, to_status=JobStatus.IN_PROGRESS)

    revision = plan_revise(plan=plan)
    # Make the solver want to move everything: the visit's crew now costs a fortune per km.
    type(visit.crew).objects.filter(pk=visit.crew_id).update(cost_per_km_yen=100_000)
    assert optimize(revision).status == RunStatus.SUCCEEDED
    kept = Visit.objects.get(plan=revision, job=job)
    assert (kept.crew_id, kept.date, kept.planned_start) == (
        visit.crew_id,
        visit.date,
        visit.planned_start,
    )


def test_a_new_plan_for_a_published_week_revises_it_and_keeps_its_jobs(world: World) -> None:
    first = world.plan()
    optimize(first)
    plan_publish(plan=first)
    second = world.plan()
    assert second.revises == first
    assert optimize(second).status == RunStatus.SUCCEEDED
    assert set(visits_of(second)) == {job.pk for job in world.jobs}
