"""A finished optimization is a proposal: compared with the plan before, then kept or discarded."""

from __future__ import annotations

import datetime as dt

import pytest

from dispatch import editing
from dispatch.models import OptimizationRun, PlanStatus, RunDecision, RunStatus
from dispatch.plans import PlanConflict, plan_publish, publish_preview
from dispatch.runs import plan_request_optimization, run_accept, run_discard, run_optimization
from dispatch.states import PlanningError
from tests.dispatch.conftest import MONDAY, World

pytestmark = pytest.mark.django_db


def optimize(world_plan) -> OptimizationRun:  # type: ignore[no-untyped-def]
    run = plan_request_optimization(plan=world_plan, enqueue=False)
    return run_optimization(run_id=run.pk)


def test_a_run_records_the_figures_before_and_after(world: World) -> None:
    plan = world.plan()
    run = optimize(plan)
    before, after = run.summary["before"], run.summary["after"]
    assert before["jobs_planned"] == 0 and before["jobs_unplanned"] == 4
    assert after["jobs_planned"] == 4 and after["jobs_unplanned"] == 0
    assert after["total_km"] > 0
    assert after["mean_slack_minutes"] > 0
    assert 0 < after["mean_utilization"] < 1
    assert run.plan_version_after == plan.__class__.objects.get(pk=plan.pk).version


def test_discarding_a_proposal_restores_the_plan_exactly_as_it_was(world: World) -> None:
    plan = world.plan()
    first = optimize(plan)
    run_accept(run=first)
    # A coordinator's detour: one job sent across town to the other crew on Friday.
    visit = plan.visits.order_by("id").first()
    other = world.west_crew if visit.crew_id == world.east_crew.pk else world.east_crew
    editing.visit_move(visit=visit, crew=other, date=MONDAY + dt.timedelta(days=4))
    plan.refresh_from_db()
    kept = sorted(plan.visits.values_list("job_id", "crew_id", "date", "sequence", "locked"))
    kept_unassigned = plan.unassigned

    # The next run undoes the detour; discarding its proposal brings the detour back.
    second = optimize(plan)
    assert (
        sorted(plan.visits.values_list("job_id", "crew_id", "date", "sequence", "locked")) != kept
    )
    run_discard(run=second)
    plan.refresh_from_db()
    assert sorted(plan.visits.values_list("job_id", "crew_id", "date", "sequence", "locked")) == (
        kept
    )
    assert plan.unassigned == kept_unassigned
    assert plan.status == PlanStatus.PROPOSED
    second.refresh_from_db()
    assert second.decision == RunDecision.DISCARDED and second.decided_at is not None


def test_discarding_the_first_proposal_leaves_an_empty_draft(world: World) -> None:
    plan = world.plan()
    run_discard(run=optimize(plan))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    assert plan.visits.count() == 0


def test_a_proposal_cannot_be_discarded_after_the_plan_was_edited(world: World) -> None:
    plan = world.plan()
    run = optimize(plan)
    visit = plan.visits.order_by("id").first()
    editing.visit_unassign(visit=visit)
    with pytest.raises(PlanConflict):
        run_discard(run=run)
    assert plan.visits.count() == 3  # the edit stands


def test_a_decision_is_taken_once_and_only_on_a_finished_run(world: World) -> None:
    plan = world.plan()
    run = optimize(plan)
    run_accept(run=run)
    with pytest.raises(PlanningError, match="already accepted"):
        run_discard(run=run)
    queued = plan_request_optimization(plan=plan, enqueue=False)
    with pytest.raises(PlanningError, match="queued"):
        run_accept(run=queued)
    assert OptimizationRun.objects.get(pk=queued.pk).status == RunStatus.QUEUED


def test_the_database_refuses_a_decision_on_an_unfinished_run(world: World) -> None:
    from django.db import IntegrityError, transaction

    queued = plan_request_optimization(plan=world.plan(), enqueue=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        OptimizationRun.objects.filter(pk=queued.pk).update(decision=RunDecision.ACCEPTED)


def test_publish_preview_lists_what_changes_per_company_and_writes_nothing(world: World) -> None:
    plan = world.plan()
    optimize(plan)
    preview = publish_preview(plan=plan)
    assert [entry["company"] for entry in preview] == [world.company.name]
    assert preview[0]["added"] == 4 and preview[0]["removed"] == preview[0]["moved"] == 0
    assert {line["job"] for line in preview[0]["lines"]} == {j.reference for j in world.jobs}
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PROPOSED

    # After publication, a revision that moves one job previews exactly that move.
    plan_publish(plan=plan)
    from dispatch.plans import plan_revise

    revision = plan_revise(plan=plan)
    visit = revision.visits.order_by("id").first()
    other = world.west_crew if visit.crew_id == world.east_crew.pk else world.east_crew
    editing.visit_move(visit=visit, crew=other, date=MONDAY)
    preview = publish_preview(plan=revision)
    entry = preview[0]
    # The job changes crew (added for one, removed for the other); the routes it
    # left and joined are re-timed, so their other visits show as moved.
    assert (entry["added"], entry["removed"]) == (1, 1)
    changed_crew = {line["kind"]: line for line in entry["lines"] if line["kind"] != "moved"}
    assert changed_crew["added"]["job"] == changed_crew["removed"]["job"] == visit.job.reference
    assert changed_crew["added"]["crew"] == other.name
    assert entry["moved"] == len([line for line in entry["lines"] if line["kind"] == "moved"])
