"""Optimization through a real Celery worker: queued on commit, progress stored, regions fanned out.

The worker consumes the configured broker for real (the filesystem queue on
the embedded defaults, Redis when ``CELERY_BROKER_URL`` points at it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app
from dispatch.batches import planning_batch_start
from dispatch.models import OptimizationRun, PlanningBatch, PlanStatus, RunStatus
from dispatch.runs import plan_request_optimization, run_cancel
from sites.models import Region
from tests.conftest import wait_until
from tests.dispatch.conftest import MONDAY, World
from tests.factories import make_company, make_crew, make_job, make_site

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker() -> Iterator[None]:
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield


def test_optimize_is_queued_on_commit_and_run_by_the_worker(world: World, worker: None) -> None:
    plan = world.plan()
    run = plan_request_optimization(plan=plan)
    assert run.status == RunStatus.QUEUED
    assert wait_until(lambda: OptimizationRun.objects.get(pk=run.pk).status == RunStatus.SUCCEEDED)
    run.refresh_from_db()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PROPOSED
    assert plan.visits.count() == 4
    assert run.started_at is not None and run.finished_at is not None
    assert run.elapsed_seconds > 0


def test_progress_can_be_polled_while_the_worker_runs(world: World, worker: None) -> None:
    """The run stays RUNNING until the coordinator cancels it (its limit is an hour away),
    so the poll sees progress however slow the machine; the cancel then ends it."""
    plan = world.plan(time_limit_seconds=3600)
    run = plan_request_optimization(plan=plan)

    def progress_seen_while_running() -> bool:
        polled = OptimizationRun.objects.get(pk=run.pk)
        return (
            polled.status == RunStatus.RUNNING
            and polled.jobs_assigned > 0
            and polled.best_objective_yen is not None
            and polled.elapsed_seconds > 0
        )

    assert wait_until(progress_seen_while_running)
    run_cancel(run=OptimizationRun.objects.get(pk=run.pk))
    assert wait_until(lambda: OptimizationRun.objects.get(pk=run.pk).status == RunStatus.CANCELLED)


def test_regions_are_planned_in_parallel_and_gathered_into_one_summary(
    world: World, worker: None
) -> None:
    north = Region.objects.create(code="saitama", name="Saitama")
    company = make_company(name="大宮光ケーブル工業株式会社")
    company.regions.add(north)
    make_crew(company=company, name="Omiya", home_latitude=35.906, home_longitude=139.624)
    site = make_site(region=north, latitude=35.91, longitude=139.63)
    make_job(site=site, status="ready", duration_minutes=60)

    batch = planning_batch_start(
        start_date=MONDAY,
        end_date=MONDAY + dt.timedelta(days=4),
        regions=[world.region, north],
        params={"time_limit_seconds": 1},
    )
    assert wait_until(lambda: PlanningBatch.objects.get(pk=batch.pk).finished_at is not None)
    batch.refresh_from_db()
    summary = batch.summary
    assert [r["region"] for r in summary["regions"]] == ["saitama", "tokyo-central"]
    assert summary["jobs_assigned"] == 5 and summary["failed"] == []
    assert all(r["run_status"] == RunStatus.SUCCEEDED for r in summary["regions"])


@pytest.mark.redis
def test_the_worker_optimizes_through_redis(world: World, worker: None) -> None:
    assert app.conf.broker_url.startswith("redis://")
    run = plan_request_optimization(plan=world.plan())
    assert wait_until(lambda: OptimizationRun.objects.get(pk=run.pk).status == RunStatus.SUCCEEDED)
