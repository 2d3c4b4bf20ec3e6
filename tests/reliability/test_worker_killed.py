"""SIGKILL of the Celery worker in the middle of an optimization (Redis + PostgreSQL):
the run ends failed once its silence outlasts the time limit (runs_fail_stale), a
redelivered copy of the task does nothing, the published plan is untouched and no
visit is orphaned or duplicated."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from dispatch.models import OptimizationRun, Plan, PlanStatus, RunStatus, Visit
from dispatch.plans import plan_publish, plan_revise
from dispatch.runs import plan_request_optimization, run_optimization, runs_fail_stale
from tests.conftest import wait_until
from tests.dispatch.conftest import World

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def visits_of(plan: Plan) -> list[tuple[int, int, dt.date, int]]:
    return sorted(
        Visit.objects.filter(plan=plan).values_list("job_id", "crew_id", "date", "sequence")
    )


def _worker() -> subprocess.Popen[bytes]:
    """A real worker process on the test database (solo pool: the task runs in this process)."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-l", "WARNING"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_worker_killed_mid_run_fails_the_run_and_touches_no_published_visit(
    world: World,
) -> None:
    published = world.plan()
    first = plan_request_optimization(plan=published, enqueue=False)
    run_optimization(run_id=first.pk)
    plan_publish(plan=published)
    published_visits = visits_of(published)
    assert len(published_visits) == 4

    revision = plan_revise(plan=published)
    revision.params = {**revision.params, "time_limit_seconds": 60}
    revision.save(update_fields=["params"])
    revision_visits = visits_of(revision)

    worker = _worker()
    try:
        run = plan_request_optimization(plan=revision)  # queued on commit, through Redis
        # Killed once the search has reported progress: well inside the solve,
        # whatever the machine's speed (the run's limit is far away).
        assert wait_until(
            lambda: OptimizationRun.objects.filter(
                pk=run.pk, status=RunStatus.RUNNING, best_objective_yen__isnull=False
            ).exists()
        ), "the worker never started the run"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING  # nobody is left to say otherwise…
    # …until its silence outlasts the time limit plus two minutes:
    silent_since = timezone.now() - dt.timedelta(seconds=run.time_limit_seconds + 121)
    OptimizationRun.objects.filter(pk=run.pk).update(heartbeat_at=silent_since)
    assert runs_fail_stale(plan=revision) == 1
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "lost or killed" in run.error

    # A redelivered copy of the task finds the run already claimed and does nothing.
    assert run_optimization(run_id=run.pk).status == RunStatus.FAILED

    published.refresh_from_db()
    revision.refresh_from_db()
    assert published.status == PlanStatus.PUBLISHED and visits_of(published) == published_visits
    assert revision.status != PlanStatus.OPTIMIZING
    assert visits_of(revision) == revision_visits  # the proposal it had, no half-written one
    assert Visit.objects.count() == len(published_visits) + len(revision_visits)
    # and the plan can be optimized again
    assert plan_request_optimization(plan=revision, enqueue=False).status == RunStatus.QUEUED
