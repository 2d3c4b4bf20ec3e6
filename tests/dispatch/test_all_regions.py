"""A week for all regions is one action: partitioned crew-days, region plans, publish all.

The batch runs for real through Celery, eagerly (``task_always_eager``): the
fan-out after commit runs each region's optimization in this process, one
after the other, with a one-second limit.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from config.celery import app
from dispatch.batches import batch_plans, batch_publish, planning_batch_start
from dispatch.ledger import ScheduleConflict, ledger_problems
from dispatch.models import Crew, LiveRoute, Plan, PlanningBatch, PlanStatus, RunStatus, Visit
from dispatch.plans import PlanBusy, plan_create, plan_publish
from dispatch.regions import NO_CREW_DAYS, week_partition
from dispatch.runs import plan_request_optimization, run_optimization
from dispatch.states import JobStatus
from sites.models import Region
from tests.dispatch.conftest import MONDAY, World
from tests.factories import make_company, make_crew, make_job, make_site

FRIDAY = MONDAY + dt.timedelta(days=4)


@pytest.fixture
def eager() -> Iterator[None]:
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = before


@pytest.fixture
def saitama(world: World) -> Region:
    """A second region the world's company also serves, with two ready jobs near Omiya."""
    region = Region.objects.create(code="saitama", name="Saitama")
    world.company.regions.add(region)
    for i in range(2):
        site = make_site(region=region, latitude=35.906 + i * 0.002, longitude=139.624)
        make_job(site=site, status=JobStatus.READY, duration_minutes=90)
    return region


def start_eagerly(capture: Callable[..., Any], **kwargs: Any) -> PlanningBatch:
    with capture(execute=True):
        batch = planning_batch_start(
            start_date=MONDAY, end_date=FRIDAY, params={"time_limit_seconds": 1}, **kwargs
        )
    batch.refresh_from_db()
    return batch


def crew_days_by_plan(plans: list[Plan]) -> Counter:
    """How many plans put work on each crew-day."""
    seen: Counter = Counter()
    for plan in plans:
        for key in set(Visit.objects.filter(plan=plan).values_list("crew_id", "date")):
            seen[key] += 1
    return seen


@pytest.mark.django_db
def test_all_regions_are_planned_and_published_without_a_crew_day_twice(
    world: World, saitama: Region, eager: None, django_capture_on_commit_callbacks: Any
) -> None:
    batch = start_eagerly(django_capture_on_commit_callbacks)

    assert batch.finished_at is not None
    plans = batch_plans(batch)
    assert [plan.region.code for plan in plans if plan.region] == ["saitama", "tokyo-central"]
    summary = batch.summary
    assert summary["failed"] == [] and summary["jobs_assigned"] == 6
    assert [r["region"] for r in summary["partition"]["regions"]] == ["saitama", "tokyo-central"]
    scopes = [{tuple(pair) for pair in plan.crew_day_scope} for plan in plans]
    assert not scopes[0] & scopes[1], "no crew-day given to two regions"
    assert len(scopes[0] | scopes[1]) == 10, "two crews x five days, every one given"
    assert max(crew_days_by_plan(plans).values()) == 1

    outcomes = batch_publish(batch=batch)

    assert [row["outcome"] for row in outcomes] == ["published", "published"]
    assert ledger_problems() == []
    assert Plan.objects.filter(status=PlanStatus.PUBLISHED).count() == 2
    routes = LiveRoute.objects.values_list("crew_id", "date")
    assert len(routes) == len(set(routes)) > 0
    batch.refresh_from_db()
    assert [row["outcome"] for row in batch.summary["publication"]["plans"]] == [
        "published",
        "published",
    ]
    assert [row["outcome"] for row in batch_publish(batch=batch)] == ["already_published"] * 2


@pytest.mark.django_db
def test_without_the_partition_two_region_plans_take_the_same_crew_day(
    world: World, saitama: Region, eager: None, django_capture_on_commit_callbacks: Any
) -> None:
    """Why the partition exists: one crew, one day, work in both regions."""
    world.west_crew.is_active = False
    world.west_crew.save()
    monday_only = {"start_date": MONDAY, "end_date": MONDAY, "params": {"time_limit_seconds": 1}}
    plans = [
        plan_create(name=region.code, region=region, **monday_only)
        for region in (world.region, saitama)
    ]
    for plan in plans:
        run_optimization(run_id=plan_request_optimization(plan=plan, enqueue=False).pk)
    plan_publish(plan=plans[0])
    with pytest.raises(ScheduleConflict):
        plan_publish(plan=plans[1])

    tuesday = MONDAY + dt.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        batch = planning_batch_start(
            start_date=tuesday, end_date=tuesday, params={"time_limit_seconds": 1}
        )
    north, central = batch_plans(batch)  # by region code: saitama, tokyo-central
    # Central's jobs went live on Monday: the crew-day goes where work is left.
    assert north.crew_day_scope == [[world.east_crew.pk, tuesday.isoformat()]]
    assert central.crew_day_scope == NO_CREW_DAYS
    outcomes = batch_publish(batch=batch)
    assert {row["outcome"] for row in outcomes} == {"published"}
    assert ledger_problems() == []
    north.refresh_from_db()
    assert north.kpis["jobs_assigned"] == 2


@pytest.mark.django_db
def test_crew_days_another_published_plan_holds_are_left_out(
    world: World, saitama: Region, eager: None, django_capture_on_commit_callbacks: Any
) -> None:
    other = plan_create(name="by hand", start_date=MONDAY, end_date=MONDAY, region=None)
    other.params = {**other.params, "time_limit_seconds": 1}
    other.save()
    run_optimization(run_id=plan_request_optimization(plan=other, enqueue=False).pk)
    plan_publish(plan=other)
    held = set(LiveRoute.objects.values_list("crew_id", "date"))
    assert held

    partition = week_partition(
        start_date=MONDAY, end_date=FRIDAY, regions=[world.region, saitama], max_utilization=0.85
    )
    assert not held & set(partition.assignment)
    assert partition.excluded_held == len(held)
    assert len(partition.assignment) == 10 - len(held)


@pytest.mark.django_db
def test_a_second_batch_for_the_week_revises_the_published_plans(
    world: World, saitama: Region, eager: None, django_capture_on_commit_callbacks: Any
) -> None:
    """The crew-days a published region plan holds stay with its revision."""
    first = start_eagerly(django_capture_on_commit_callbacks)
    batch_publish(batch=first)
    held = {
        plan.region_id: set(plan.live_routes.values_list("crew_id", "date"))
        for plan in batch_plans(first)
    }

    second = start_eagerly(django_capture_on_commit_callbacks)
    revisions = batch_plans(second)
    for plan in revisions:
        assert plan.revises is not None and plan.revises.region_id == plan.region_id
        scope = {(crew, dt.date.fromisoformat(day)) for crew, day in plan.crew_day_scope}
        assert held[plan.region_id] <= scope

    outcomes = batch_publish(batch=second)
    assert [row["outcome"] for row in outcomes] == ["published", "published"]
    assert ledger_problems() == []
    assert {plan.status for plan in batch_plans(first)} == {PlanStatus.SUPERSEDED}


@pytest.mark.django_db
def test_regions_none_means_every_region_with_ready_jobs_or_crews(
    world: World, saitama: Region, eager: None, django_capture_on_commit_callbacks: Any
) -> None:
    Region.objects.create(code="empty", name="Nothing here")
    lone = Region.objects.create(code="chiba", name="Chiba")
    company = make_company()
    company.regions.add(lone)
    make_crew(company=company, home_latitude=35.6, home_longitude=140.1)
    batch = start_eagerly(django_capture_on_commit_callbacks)
    codes = [plan.region.code for plan in batch_plans(batch) if plan.region]
    assert codes == ["chiba", "saitama", "tokyo-central"]
    chiba = batch_plans(batch)[0]
    crew = Crew.objects.get(company=company)
    assert {pair[0] for pair in chiba.crew_day_scope} == {crew.pk}


@pytest.mark.django_db
def test_publishing_waits_for_every_run_and_reports_refused_plans(world: World) -> None:
    batch = planning_batch_start(
        start_date=MONDAY, end_date=FRIDAY, regions=[world.region], enqueue=False
    )
    with pytest.raises(PlanBusy):
        batch_publish(batch=batch)
    run = batch.runs.get()
    run.status = RunStatus.FAILED
    run.save()
    Plan.objects.filter(pk=run.plan_id).update(status=PlanStatus.FAILED)
    [row] = batch_publish(batch=batch)
    assert row["outcome"] == "refused" and row["status"] == 409
