"""A large week's regions are searched on every Celery worker, and the run says how.

The planner offers each region of a round as a part; whoever claims a part first
(the planner itself or any worker) searches it once. These tests check the part's
travel (signed, its own rows of the matrix, the deadline as Unix time), that a
batch finishes with nobody else there, that a worker really takes parts while the
planner searches others, and, against PostgreSQL and Redis, that the prefork pool
of the README's production command searches parts in two processes at once.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import signing
from django.db import connection

import scheduler
from config.celery import app
from dispatch.models import OptimizationRun, RunStatus, SearchPart, SearchPartState
from dispatch.parts import CeleryParts, decode_part, encode_part, part_search
from dispatch.plans import plan_create
from dispatch.runs import plan_request_optimization
from dispatch.states import JobStatus
from scheduler import MaxRuntime, SolveParams
from scheduler.decompose import should_decompose
from scheduler.generate import generate_week
from scheduler.ortools_search import SearchTask
from scheduler.params import as_any_of
from scheduler.parts import solver_id
from scheduler.reasons import screen
from scheduler.travel import travel_for
from sites.models import Region
from tests.conftest import wait_until
from tests.dispatch.conftest import MONDAY
from tests.factories import make_company, make_crew, make_job, make_site
from tests.scheduler.conftest import assert_valid

REPO = Path(__file__).resolve().parents[2]


def large_week() -> scheduler.Problem:
    """400 jobs: more crew-days than one model searches well, so regions are used."""
    problem = generate_week(400, seed=4)
    assert should_decompose(problem, SolveParams())
    return problem


def a_part(problem: scheduler.Problem, seconds: float = 5.0) -> SearchTask:
    """The first crew's week and its greedy routes, as one region's part."""
    travel = travel_for(problem)
    crew = problem.crews[0]
    part = scheduler.Problem(
        crews=(crew,),
        crew_days=tuple(cd for cd in problem.crew_days if cd.crew_id == crew.id),
        jobs=problem.jobs[:5],
        rules=problem.rules,
        travel=travel,
    )
    return SearchTask(
        problem=part,
        travel=travel,
        candidates=screen(part, travel).candidates,
        stop=as_any_of(MaxRuntime(seconds)),
        params=SolveParams(seed=1),
        deadline=time.monotonic() + seconds,
    )


def test_a_part_travels_with_its_own_rows_of_the_matrix_and_its_deadline() -> None:
    problem = large_week()
    task = a_part(problem)
    back = decode_part(encode_part(task))
    locations = task.problem.locations()
    assert back.travel.locations == tuple(locations)
    assert len(back.travel.locations) < len(task.travel.locations)
    assert back.problem.travel is not None and back.problem.travel.locations == tuple(locations)
    for a in locations[:3]:
        for b in locations[-3:]:
            assert back.travel.duration(a, b) == task.travel.duration(a, b)
    assert back.deadline is not None and task.deadline is not None
    assert abs(back.deadline - task.deadline) < 1.0
    assert back.progress is None and back.cancel is None


def test_a_part_signed_with_another_key_is_refused(settings: pytest.FixtureRequest) -> None:
    payload = encode_part(a_part(large_week()))
    settings.SECRET_KEY = "another installation"  # type: ignore[attr-defined]
    with pytest.raises(signing.BadSignature):
        decode_part(payload)


@pytest.mark.django_db
def test_a_part_is_searched_once_whoever_receives_it() -> None:
    task = a_part(large_week(), seconds=0.2)
    row = SearchPart.objects.create(batch="5d0c8a1e-0000-4000-8000-000000000001", position=0)
    payload = encode_part(task)
    assert part_search(row.pk, str(row.batch), payload) == SearchPartState.DONE
    row.refresh_from_db()
    assert row.state == SearchPartState.DONE and row.solver == solver_id()
    assert row.outcome is not None and row.outcome["found"] is True
    assert part_search(row.pk, str(row.batch), payload) == "taken"
    other_batch = "5d0c8a1e-0000-4000-8000-000000000002"
    assert part_search(row.pk, other_batch, payload) == "taken"


@pytest.mark.django_db
def test_with_no_other_worker_the_planner_searches_every_part_itself() -> None:
    """Nobody consumes the queue: the planner claims each part and the week is still planned."""
    problem = large_week()
    runner = CeleryParts(3)
    result = scheduler.solve(problem, MaxRuntime(4), SolveParams(seed=1), part_runner=runner)
    assert_valid(problem, result)
    parallel = result.extra.parallel
    assert parallel is not None
    assert parallel["runner"] == "celery" and parallel["workers"] == 3
    assert parallel["parts"] > 0 and parallel["not_run"] == 0
    assert parallel["elsewhere"] == 0
    assert parallel["by_solver"] == {parallel["here"]: parallel["parts"]}
    assert not SearchPart.objects.exists()  # a batch's rows go with it


@pytest.fixture
def worker_thread() -> Iterator[None]:
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield


@pytest.mark.django_db(transaction=True)
def test_a_worker_takes_parts_while_the_planner_searches_others(
    worker_thread: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regions get 3 s each, longer than the queue's poll, so the worker claims parts the
    planner has not reached yet: both searched, at the same time."""
    monkeypatch.setattr("scheduler.decompose.REGION_SLICE_S", 3.0)
    problem = large_week()
    runner = CeleryParts(2)
    result = scheduler.solve(problem, MaxRuntime(14), SolveParams(seed=1), part_runner=runner)
    assert_valid(problem, result)
    parallel = result.extra.parallel
    assert parallel is not None
    assert parallel["elsewhere"] > 0, parallel
    assert len(parallel["by_solver"]) == 2
    assert parallel["max_concurrent"] == 2
    assert parallel["not_run"] == 0


@pytest.mark.django_db
def test_one_model_week_in_a_prefork_task_says_it_ran_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A small week is one model, which cannot be split: in a process that may not fork
    (a prefork task) the record says one search ran, and why."""
    monkeypatch.setattr(
        importlib.import_module("scheduler.solve"), "can_start_children", lambda: False
    )
    problem = generate_week(30, seed=1)
    result = scheduler.solve(
        problem, MaxRuntime(1), SolveParams(seed=1, num_workers=2), part_runner=CeleryParts(2)
    )
    parallel = result.extra.parallel
    assert parallel is not None and parallel["workers"] == 1
    assert any("may not start child processes" in note for note in parallel["notes"])
    assert any("one model cannot be split" in note for note in parallel["notes"])


def big_world() -> Region:
    """32 crews over a working week (160 crew-days): searched region by region."""
    region = Region.objects.create(code="tokyo-wide", name="Tokyo wide")
    company = make_company(name="首都圏光工事株式会社")
    company.regions.add(region)
    for i in range(32):
        make_crew(
            company=company,
            name=f"Crew {i}",
            home_latitude=35.60 + 0.01 * (i % 8),
            home_longitude=139.60 + 0.02 * (i // 8),
        )
    for i in range(120):
        site = make_site(
            region=region, latitude=35.58 + 0.003 * (i % 40), longitude=139.58 + 0.03 * (i // 40)
        )
        make_job(site=site, status=JobStatus.READY, duration_minutes=120)
    return region


@pytest.fixture
def prefork_worker() -> Iterator[None]:
    """``celery worker --pool=prefork -c 2`` (the README's production pool) on the test database."""
    environment = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "PLANNER_WORKERS": "2",
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=prefork",
            "--concurrency=2",
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=REPO,
        env=environment,
    )
    try:
        assert wait_until(lambda: bool(app.control.ping(timeout=0.5)), timeout_s=60)
        yield
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def _test_database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_prefork_workers_search_the_parts_of_one_run_in_two_processes_at_once(
    prefork_worker: None,
) -> None:
    """The run is queued like a coordinator's; its task runs in one prefork process (which
    may not fork) and the other process takes parts: two solvers, two parts at once."""
    region = big_world()
    plan = plan_create(
        name="Week 48",
        start_date=MONDAY,
        end_date=MONDAY + dt.timedelta(days=4),
        region=region,
        params={"time_limit_seconds": 12},
    )
    run = plan_request_optimization(plan=plan)
    assert wait_until(
        lambda: (
            OptimizationRun.objects.get(pk=run.pk).status in (RunStatus.SUCCEEDED, RunStatus.FAILED)
        ),
        timeout_s=120,
    )
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    parallel = run.summary["parallel"]
    assert parallel["runner"] == "celery", parallel
    assert len(parallel["by_solver"]) == 2, parallel
    assert parallel["elsewhere"] > 0 and parallel["max_concurrent"] == 2, parallel
    assert not SearchPart.objects.exists()


@pytest.mark.django_db
def test_with_a_part_runner_a_one_model_week_is_not_forked() -> None:
    """The app gives the planner its Celery runner; a small week (one model) then runs in
    this process alone, never in forked children (a Celery process's children hang on
    inherited broker connections), and the record says why."""
    problem = generate_week(30, seed=1)
    result = scheduler.solve(
        problem, MaxRuntime(1), SolveParams(seed=1, num_workers=2), part_runner=CeleryParts(2)
    )
    parallel = result.extra.parallel
    assert parallel is not None and parallel["runner"] == "here" and parallel["workers"] == 1
    assert parallel["notes"] == [
        "a week searched as one model cannot be split into parts for other workers "
        "(weeks of more than 150 crew-days are searched region by region): one search ran here"
    ]
