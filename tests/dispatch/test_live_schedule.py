"""One live schedule: every job and crew-day has one truth after Publish (issue 17).

Each test names the finding it reproduces; all ran red before the ledger
(``dispatch.ledger``) and pass on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from dispatch.editing import RuleViolation, visit_move, visit_place
from dispatch.ledger import ScheduleConflict, ledger_problems, live_visits
from dispatch.models import Job, JobReport, LiveRoute, Plan, PlanStatus, ReleaseReason, Visit
from dispatch.plans import plan_create, plan_publish, plan_revise
from dispatch.reports import ReportRefused, job_report_record
from dispatch.runs import plan_request_optimization, run_optimization
from dispatch.states import JobStatus
from sites.models import Region
from tests.dispatch.conftest import MONDAY, World
from tests.factories import make_crew, make_job, make_site


def optimize(plan: Plan) -> Plan:
    run = plan_request_optimization(plan=plan, enqueue=False)
    run_optimization(run_id=run.pk)
    plan.refresh_from_db()
    return plan


def published(plan: Plan) -> Plan:
    return plan_publish(plan=optimize(plan))


def live_of(job: Job) -> Visit | None:
    return live_visits().filter(job=job).first()


def report(job: Job, kind: str, **fields: object) -> JobReport:
    visit = live_visits().filter(job=job).first() or (
        Visit.objects.filter(job=job).exclude(release_reason="").order_by("-released_at").first()
    )
    assert visit is not None
    created, _ = job_report_record(job=job, visit=visit, kind=kind, **fields)  # type: ignore[arg-type]
    return created


def week(world: World, start: dt.date, **params: object) -> Plan:
    return plan_create(
        name=f"Week of {start}",
        start_date=start,
        end_date=start + dt.timedelta(days=4),
        region=world.region,
        params={"time_limit_seconds": 1, **params},
    )


# --- finding 1: one job published to two partner companies -------------------------


def test_a_job_in_two_drafts_goes_live_only_once(world: World) -> None:
    """Both drafts planned the same ready job; the second publication is refused, whole."""
    first, second = optimize(world.plan()), optimize(week(world, MONDAY + dt.timedelta(days=7)))
    shared = {v.job_id for v in first.visits.all()} & {v.job_id for v in second.visits.all()}
    assert shared, "both drafts hold the ready jobs"
    plan_publish(plan=first)

    with pytest.raises(ScheduleConflict) as refused:
        plan_publish(plan=second)

    assert {c.job_id for c in refused.value.conflicts} == shared
    assert all(c.kind == "job" and c.plan_id == first.pk for c in refused.value.conflicts)
    second.refresh_from_db()
    assert second.status == PlanStatus.PROPOSED
    assert not LiveRoute.objects.filter(plan=second).exists()

    optimize(second)  # the draft now sees the live schedule and lets those jobs go
    reasons = {row["job_id"]: row["reasons"][0]["rule"] for row in second.unassigned}
    assert {j for j, rule in reasons.items() if rule == "scheduled_elsewhere"} == shared
    plan_publish(plan=second)
    assert ledger_problems() == []


def test_a_draft_never_plans_a_job_that_is_live_elsewhere(world: World) -> None:
    first = published(world.plan())
    second = optimize(week(world, MONDAY + dt.timedelta(days=7)))

    assert first.visits.count() == 4
    assert not second.visits.exists()
    assert not second.unassigned, "scheduled jobs are not in another plan's queue"


def test_taking_a_job_over_by_hand_moves_it_out_of_the_other_plan_on_publish(
    world: World,
) -> None:
    first = published(world.plan())
    job = world.jobs[0]
    owner = live_of(job)
    assert owner is not None
    second = optimize(week(world, MONDAY + dt.timedelta(days=7)))
    next_monday = MONDAY + dt.timedelta(days=7)

    with pytest.raises(RuleViolation) as refused:
        visit_place(plan=second, job=job, crew=world.west_crew, date=next_monday)
    assert refused.value.rule == "scheduled_elsewhere"

    visit_place(plan=second, job=job, crew=world.west_crew, date=next_monday, take_over=True)
    plan_publish(plan=second)

    now = live_of(job)
    assert now is not None and now.plan_id == second.pk and now.date == next_monday
    old = Visit.objects.get(pk=owner.pk)
    assert (old.plan_id, old.is_live, old.release_reason) == (
        first.pk,
        False,
        ReleaseReason.TAKEN_OVER,
    )
    assert ledger_problems() == []


def test_the_database_refuses_a_second_live_visit_of_a_job(world: World) -> None:
    first = published(world.plan())
    live = first.visits.first()
    assert live is not None
    other = Plan.objects.create(
        name="rogue", start_date=MONDAY, end_date=MONDAY, status=PlanStatus.PROPOSED
    )
    rogue_route = LiveRoute.objects.create(crew=make_crew(), date=MONDAY, plan=other)
    with pytest.raises(IntegrityError), transaction.atomic():
        Visit.objects.create(
            plan=other,
            job=live.job,
            crew=rogue_route.crew,
            date=MONDAY,
            sequence=1,
            planned_start=live.planned_start,
            planned_end=live.planned_end,
            route=rogue_route,
        )


# --- finding 2: a crew booked by several plans on the same day ----------------------


@pytest.fixture
def two_regions(world: World) -> tuple[Region, Region]:
    """The same partner (and so the same two crews) serves a second region next door."""
    north = Region.objects.create(code="tokyo-north", name="Tokyo north")
    world.company.regions.add(north)
    for lon in (139.796, 139.703):
        site = make_site(region=north, latitude=35.70, longitude=lon)
        job = make_job(site=site, status=JobStatus.READY, duration_minutes=60)
        job.required_skills.add(*world.jobs[0].required_skills.all())
    return world.region, north


def test_two_region_plans_never_put_one_crew_day_on_the_road_twice(
    world: World, two_regions: tuple[Region, Region]
) -> None:
    """One day; the central jobs fill both crews, so the north plan wants one of them too."""
    central, north = two_regions
    world.make_jobs_long()
    plans = [
        optimize(
            plan_create(
                name=region.code,
                start_date=MONDAY,
                end_date=MONDAY,
                region=region,
                params={"time_limit_seconds": 1},
            )
        )
        for region in (central, north)
    ]
    days = [{(v.crew_id, v.date) for v in plan.visits.all()} for plan in plans]
    assert days[0] & days[1], "both region plans want the same crew-days"
    plan_publish(plan=plans[0])

    with pytest.raises(ScheduleConflict) as refused:
        plan_publish(plan=plans[1])
    assert {(c.crew_id, c.date) for c in refused.value.conflicts if c.kind == "crew_day"} == (
        days[0] & days[1]
    )
    assert plans[1].visits.exists() and not live_visits().filter(plan=plans[1]).exists()

    replanned = optimize(plans[1])  # plans around the crew-days now on the road
    assert not {(v.crew_id, v.date) for v in replanned.visits.all()} & days[0]
    plan_publish(plan=replanned)
    assert ledger_problems() == []
    crew_days = LiveRoute.objects.values_list("crew_id", "date")
    assert len(set(crew_days)) == len(crew_days)


def test_a_draft_cannot_be_edited_onto_a_crew_day_another_plan_holds(
    world: World, two_regions: tuple[Region, Region]
) -> None:
    _central, north = two_regions
    first = published(world.plan())
    taken = first.visits.first()
    assert taken is not None
    other = plan_create(
        name="north", start_date=MONDAY, end_date=MONDAY + dt.timedelta(days=4), region=north
    )
    job = Job.objects.filter(site__region=north).first()
    assert job is not None

    with pytest.raises(RuleViolation) as refused:
        visit_place(plan=other, job=job, crew=taken.crew, date=taken.date)
    assert refused.value.rule == "crew_day_taken"


# --- finding 3: a visit that failed in the field stays planned ----------------------


def test_a_not_finished_visit_leaves_the_schedule_and_comes_back_to_the_queue(
    world: World,
) -> None:
    plan = published(world.plan())
    job = world.jobs[0]
    failed = live_of(job)
    assert failed is not None
    revision = plan_revise(plan=plan)  # a revision made before the report holds a copy

    report(job, "incomplete", reason_code="no_access", reason_text="管理人不在")

    job.refresh_from_db()
    failed.refresh_from_db()
    assert job.status == JobStatus.READY
    assert (job.failed_attempts, job.is_returned_from_field) == (1, True)
    assert not job.needs_attention
    assert (failed.is_live, failed.release_reason) == (False, ReleaseReason.NOT_FINISHED)
    assert live_of(job) is None
    revision.refresh_from_db()
    assert not revision.visits.filter(job=job).exists()
    queued = next(row for row in revision.unassigned if row["job_id"] == job.pk)
    assert queued["reasons"][0]["rule"] == "returned_from_field"
    assert ledger_problems() == []


def test_a_returned_job_is_planned_again_and_published_live_once(world: World) -> None:
    plan = published(world.plan())
    job = world.jobs[0]
    report(job, "incomplete", reason_code="customer_absent")

    revision = optimize(plan_revise(plan=plan))
    assert revision.visits.filter(job=job).exists(), "the next optimization plans it again"
    plan_publish(plan=revision)

    job.refresh_from_db()
    assert job.status == JobStatus.SCHEDULED and not job.is_returned_from_field
    assert live_visits().filter(job=job).count() == 1
    assert job.reports.get().reason_code == "customer_absent"  # the failure stays in history
    assert ledger_problems() == []


def test_a_second_failed_attempt_raises_the_job_for_attention(world: World) -> None:
    plan = published(world.plan())
    job = world.jobs[0]
    report(job, "incomplete", reason_code="no_access")
    plan_publish(plan=optimize(plan_revise(plan=plan)))
    report(job, "incomplete", reason_code="no_access", idempotency_key="second")

    job.refresh_from_db()
    assert (job.failed_attempts, job.needs_attention) == (2, True)


def test_a_visit_off_the_schedule_takes_no_new_report(world: World) -> None:
    published(world.plan())
    job = world.jobs[0]
    report(job, "incomplete", reason_code="no_access", idempotency_key="k1")

    with pytest.raises(ReportRefused, match="not on the schedule"):
        report(job, "completed", idempotency_key="k2")
    again = report(job, "incomplete", reason_code="no_access", idempotency_key="k1")
    assert JobReport.objects.filter(job=job).count() == 1 and again.kind == "incomplete"


# --- finding 4: reports for tomorrow are accepted -----------------------------------


def live_visit_on(world: World, day: dt.date) -> Visit:
    """A published plan with one visit on ``day`` (crews work every day here)."""
    from dispatch.models import ALL_WEEKDAYS_MASK, Crew

    Crew.objects.update(working_weekdays=ALL_WEEKDAYS_MASK)
    plan = optimize(week(world, day - dt.timedelta(days=1)))
    first = plan.visits.order_by("pk").first()
    assert first is not None
    moved = visit_move(visit=first, crew=first.crew, date=day)
    plan_publish(plan=plan)
    return Visit.objects.get(pk=moved.pk)


@pytest.mark.parametrize("kind", ["en_route", "started", "completed", "incomplete"])
def test_reports_before_the_visits_day_are_refused(world: World, kind: str) -> None:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    visit = live_visit_on(world, tomorrow)
    fields = {"reason_code": "no_access"} if kind == "incomplete" else {}

    with pytest.raises(ReportRefused) as refused:
        job_report_record(job=visit.job, visit=visit, kind=kind, **fields)  # type: ignore[arg-type]

    assert f"planned for {tomorrow:%Y-%m-%d}" in str(refused.value)
    assert not JobReport.objects.exists()
    visit.job.refresh_from_db()
    assert visit.job.status == JobStatus.SCHEDULED


def test_reports_on_the_visits_day_are_accepted(world: World) -> None:
    visit = live_visit_on(world, timezone.localdate())
    created, _ = job_report_record(job=visit.job, visit=visit, kind="started")
    assert created.kind == "started"


# --- finding 5: the optimizer silently undoes manual work ---------------------------


def test_optimize_keeps_every_visit_moved_by_hand(world: World) -> None:
    plan = optimize(world.plan())
    moved = []
    job_ids = list(plan.visits.order_by("pk").values_list("job_id", flat=True)[:2])
    for job_id, day in zip(job_ids, (3, 4), strict=True):
        visit = plan.visits.get(job_id=job_id)  # moves re-time routes: fetch afresh
        # Somewhere the optimizer would not choose: the far crew, late in the week.
        far = world.west_crew if visit.crew_id == world.east_crew.pk else world.east_crew
        target = MONDAY + dt.timedelta(days=day)
        moved.append((visit_move(visit=visit, crew=far, date=target).job_id, far.pk, target))

    optimize(plan)

    for job_id, crew_id, date in moved:
        after = plan.visits.get(job_id=job_id)
        assert (after.crew_id, after.date, after.locked) == (crew_id, date, True)


def test_a_job_taken_out_by_hand_stays_out_when_optimizing(world: World) -> None:
    from dispatch.editing import visit_unassign

    plan = optimize(world.plan())
    visit = plan.visits.first()
    assert visit is not None
    visit_unassign(visit=visit)

    optimize(plan)

    assert not plan.visits.filter(job_id=visit.job_id).exists()
    row = next(r for r in plan.unassigned if r["job_id"] == visit.job_id)
    assert row["reasons"][0]["rule"] == "manual"


@pytest.mark.postgres
def test_postgresql_refuses_a_live_visit_on_another_plans_route(world: World) -> None:
    """The composite key: a visit can only be live on a route of its own plan, crew and day."""
    first = published(world.plan())
    live = first.visits.first()
    assert live is not None
    draft = Plan.objects.create(name="draft", start_date=MONDAY, end_date=MONDAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        Visit.objects.create(
            plan=draft,
            job=make_job(site=live.job.site, status=JobStatus.READY),
            crew=live.crew,
            date=live.date,
            sequence=99,
            planned_start=live.planned_start,
            planned_end=live.planned_end,
            route=live.route,
        )


def test_cancelling_a_live_job_takes_it_off_the_crews_route(world: World) -> None:
    """Same kind as finding 3: a job nobody should visit any more must not stay scheduled."""
    from dispatch.services import job_transition

    published(world.plan())
    job = world.jobs[0]
    visit = live_of(job)
    assert visit is not None

    job_transition(job=job, to_status=JobStatus.CANCELLED, note="customer withdrew")

    visit.refresh_from_db()
    assert (visit.is_live, visit.release_reason) == (False, ReleaseReason.CANCELLED)
    assert live_of(job) is None
    assert ledger_problems() == []


def test_a_plan_for_every_region_keeps_each_job_to_crews_serving_its_region(
    world: World, two_regions: tuple[Region, Region]
) -> None:
    """Found while measuring all-regions batches: region-less plans sent any crew anywhere."""
    _central, north = two_regions
    world.company.regions.remove(north)
    everywhere = plan_create(
        name="all",
        start_date=MONDAY,
        end_date=MONDAY + dt.timedelta(days=4),
        region=None,
        params={"time_limit_seconds": 1},  # six jobs: a second is plenty
    )
    optimize(everywhere)

    north_jobs = set(Job.objects.filter(site__region=north).values_list("pk", flat=True))
    assert not everywhere.visits.filter(job_id__in=north_jobs).exists()
    reasons = {r["job_id"]: r["reasons"][0] for r in everywhere.unassigned}
    assert {reasons[j]["rule"] for j in north_jobs} == {"skill"}
    assert all("works in tokyo-north" in reasons[j]["message"] for j in north_jobs)
    assert everywhere.visits.count() == 4  # the central jobs are planned as before


def test_a_company_listing_no_region_serves_every_region(
    world: World, two_regions: tuple[Region, Region]
) -> None:
    world.company.regions.clear()
    everywhere = plan_create(
        name="all",
        start_date=MONDAY,
        end_date=MONDAY + dt.timedelta(days=4),
        region=None,
        params={"time_limit_seconds": 1},  # six jobs: a second is plenty
    )
    optimize(everywhere)
    assert everywhere.visits.count() == 6
