"""A promise the failed visit was made to keep lapses with it.

A visit booked for a firm date (a slot promised on the phone, a hard due
date) that the crew reports not finished cannot keep that promise any more:
its day has gone by. Left firm, it screened the job out of every later
optimization ("promised for Mon 11/30") and refused every placement, so the
job the field sent back sat in the queue for good. The promise becomes the
job's history instead, and the job is planned again like any ready job.
"""

from __future__ import annotations

import datetime as dt

import pytest

from dispatch.ledger import live_visits
from dispatch.models import Job, JobStatusChange, Plan
from dispatch.plans import plan_publish, plan_revise
from dispatch.reports import job_report_record
from dispatch.runs import plan_request_optimization, run_optimization
from dispatch.states import JobStatus
from tests.dispatch.conftest import MONDAY, World

WEDNESDAY = MONDAY + dt.timedelta(days=2)
FRIDAY = MONDAY + dt.timedelta(days=4)


def optimize(plan: Plan) -> Plan:
    run_optimization(run_id=plan_request_optimization(plan=plan, enqueue=False).pk)
    plan.refresh_from_db()
    return plan


def not_finished_on_monday(world: World, settings, **promise: object) -> tuple[Plan, Job]:
    """The job promised ``promise``, sent to Monday, reported not finished there."""
    settings.PLANNING_TODAY = MONDAY
    job = world.jobs[0]
    Job.objects.filter(pk=job.pk).update(**promise)
    plan = optimize(world.plan())
    assert plan.visits.get(job=job).date == MONDAY
    plan_publish(plan=plan)
    job_report_record(
        job=job,
        visit=live_visits().get(job=job),
        kind="incomplete",
        reason_code="customer_absent",
    )
    job.refresh_from_db()
    return plan, job


PROMISES = {
    "a slot promised for Monday": {
        "preferred_dates": [MONDAY.isoformat()],
        "promise_is_hard": True,
        "window_start": dt.time(9),
        "window_end": dt.time(12),
    },
    "a hard due date of Monday": {"due_date": MONDAY, "due_date_is_hard": True},
}


@pytest.mark.parametrize("promise", PROMISES.values(), ids=PROMISES.keys())
def test_a_job_whose_promised_visit_failed_is_planned_again_from_today(
    world: World, settings, promise: dict
) -> None:
    plan, job = not_finished_on_monday(world, settings, **promise)
    assert job.status == JobStatus.READY

    settings.PLANNING_TODAY = WEDNESDAY
    revision = optimize(plan_revise(plan=plan))

    again = revision.visits.get(job=job)
    assert WEDNESDAY <= again.date <= FRIDAY
    assert not [row for row in revision.unassigned if row["job_id"] == job.pk]


def test_the_lapsed_promise_is_kept_in_the_jobs_history(world: World, settings) -> None:
    _, job = not_finished_on_monday(world, settings, **PROMISES["a slot promised for Monday"])

    assert (job.promise_is_hard, job.preferred_dates, job.window_start) == (False, [], None)
    note = JobStatusChange.objects.filter(job=job).latest("pk").note
    assert "promise" in note and "11/30" in note and "09:00" in note


def test_a_promise_for_a_later_day_still_binds(world: World, settings) -> None:
    """Only what the failed day could not keep lapses: a promise of Monday or Friday stands."""
    _, job = not_finished_on_monday(
        world,
        settings,
        preferred_dates=[MONDAY.isoformat(), FRIDAY.isoformat()],
        promise_is_hard=True,
    )

    assert job.promise_is_hard
    assert job.preferred_dates == [MONDAY.isoformat(), FRIDAY.isoformat()]


def test_a_hard_due_date_still_ahead_stays_hard(world: World, settings) -> None:
    _, job = not_finished_on_monday(world, settings, due_date=FRIDAY, due_date_is_hard=True)

    assert (job.due_date, job.due_date_is_hard) == (FRIDAY, True)
