"""Plans a Japanese crew and building can keep: holidays, access hours, lunch, promises.

Each test plans the small world of ``conftest.py`` through the real
optimization path (database in, scheduler, visits out) and reads the stored
visits the way a crew or a coordinator would.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from dispatch.editing import RuleViolation, visit_move
from dispatch.models import (
    CompanyClosure,
    CrewWorkingDay,
    Job,
    OptimizationRun,
    PartnerClosure,
    Plan,
    PlannedBreak,
    Visit,
)
from dispatch.plans import plan_create
from dispatch.runs import plan_request_optimization, run_optimization
from tests.dispatch.conftest import World

pytestmark = pytest.mark.django_db

HOLIDAY_MONDAY = dt.date(2026, 11, 23)  # 勤労感謝の日
NEXT_MONDAY = dt.date(2026, 11, 30)  # an ordinary working week follows
WEEKDAYS_9_TO_17 = [{"days": [0, 1, 2, 3, 4], "opens": "09:00", "closes": "17:00"}]


def tokyo(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE))


def plan_week(world: World, monday: dt.date, **params: Any) -> Plan:
    return plan_create(
        name="Week",
        start_date=monday,
        end_date=monday + dt.timedelta(days=4),
        region=world.region,
        params={"time_limit_seconds": 1, **params},
    )


def optimize(plan: Plan) -> OptimizationRun:
    run = plan_request_optimization(plan=plan, enqueue=False)
    return run_optimization(run_id=run.pk)


def visits(plan: Plan) -> list[Visit]:
    return list(
        Visit.objects.filter(plan=plan).select_related("job__site").order_by("planned_start")
    )


# ----------------------------------------------------------------------------- calendars


def test_nobody_is_planned_on_a_national_holiday(world: World) -> None:
    plan = plan_week(world, HOLIDAY_MONDAY)
    optimize(plan)
    planned = visits(plan)
    assert planned, "the week has four free days: the jobs must be planned"
    assert all(v.date != HOLIDAY_MONDAY for v in planned)


def test_a_crew_marked_as_working_the_holiday_may_be_planned_on_it(world: World) -> None:
    Job.objects.filter(pk__in=[j.pk for j in world.jobs]).update(
        preferred_dates=[HOLIDAY_MONDAY.isoformat()], promise_is_hard=True
    )
    CrewWorkingDay.objects.create(crew=world.east_crew, date=HOLIDAY_MONDAY, note="振替出勤")
    plan = plan_week(world, HOLIDAY_MONDAY)
    optimize(plan)
    planned = visits(plan)
    assert planned and {v.date for v in planned} == {HOLIDAY_MONDAY}
    assert {v.crew_id for v in planned} == {world.east_crew.pk}


def test_company_and_partner_closures_close_their_days(world: World) -> None:
    CompanyClosure.objects.create(
        start_date=NEXT_MONDAY, end_date=NEXT_MONDAY + dt.timedelta(days=1), name="棚卸"
    )
    PartnerClosure.objects.create(
        company=world.company,
        start_date=NEXT_MONDAY + dt.timedelta(days=2),
        end_date=NEXT_MONDAY + dt.timedelta(days=3),
        reason="社員旅行",
    )
    plan = plan_week(world, NEXT_MONDAY)
    optimize(plan)
    friday = NEXT_MONDAY + dt.timedelta(days=4)
    planned = visits(plan)
    assert planned and {v.date for v in planned} == {friday}


def test_a_manual_move_onto_a_holiday_is_refused_with_the_holiday_named(world: World) -> None:
    plan = plan_week(world, HOLIDAY_MONDAY)
    optimize(plan)
    visit = visits(plan)[0]
    with pytest.raises(RuleViolation) as refused:
        visit_move(visit=visit, crew=world.east_crew, date=HOLIDAY_MONDAY)
    assert refused.value.rule == "closed_day"
    assert "勤労感謝の日" in str(refused.value) or "Labor Thanksgiving" in str(refused.value)
    assert Visit.objects.get(pk=visit.pk).date == visit.date


# ----------------------------------------------------------------------------- access hours


def test_every_visit_of_a_building_open_weekdays_9_to_17_is_inside_its_hours(
    world: World,
) -> None:
    for job in world.jobs:
        job.site.access_hours = WEEKDAYS_9_TO_17
        job.site.save()
    Job.objects.filter(pk__in=[j.pk for j in world.jobs]).update(duration_minutes=150)
    plan = plan_week(world, NEXT_MONDAY)
    optimize(plan)
    planned = visits(plan)
    assert len(planned) == len(world.jobs)
    for visit in planned:
        start, end = tokyo(visit.planned_start), tokyo(visit.planned_end)
        assert start.weekday() < 5
        assert dt.time(9) <= start.time() and end.time() <= dt.time(17), visit


def test_a_job_longer_than_any_opening_is_left_out_with_the_hours_named(world: World) -> None:
    short = world.jobs[0]
    short.site.access_hours = [{"days": [0, 1, 2, 3, 4], "opens": "09:00", "closes": "10:00"}]
    short.site.save()
    plan = plan_week(world, NEXT_MONDAY)
    optimize(plan)
    plan.refresh_from_db()
    row = next(r for r in plan.unassigned if r["job_id"] == short.pk)
    assert row["reasons"][0]["rule"] == "access"
    assert "90 min" in row["reasons"][0]["message"]
    assert "09:00" in row["reasons"][0]["message"]


# ----------------------------------------------------------------------------- lunch


def test_each_crew_day_gets_its_lunch_inside_the_window_and_between_visits(
    world: World,
) -> None:
    world.make_jobs_long()
    plan = plan_week(world, NEXT_MONDAY)
    optimize(plan)
    planned = visits(plan)
    used = {(v.crew_id, v.date) for v in planned}
    breaks = {(b.crew_id, b.date): b for b in PlannedBreak.objects.filter(plan=plan)}
    assert set(breaks) == used
    for (crew_id, date), lunch in breaks.items():
        start, end = tokyo(lunch.start), tokyo(lunch.end)
        assert dt.time(11, 30) <= start.time() <= dt.time(13, 30)
        assert end - start == dt.timedelta(minutes=60)
        for visit in planned:
            if (visit.crew_id, visit.date) == (crew_id, date):
                assert visit.planned_end <= lunch.start or visit.planned_start >= lunch.end


def test_a_company_without_lunch_gets_no_break(world: World) -> None:
    world.company.lunch_minutes = 0
    world.company.save()
    plan = plan_week(world, NEXT_MONDAY)
    optimize(plan)
    assert visits(plan)
    assert not PlannedBreak.objects.filter(plan=plan).exists()


# ----------------------------------------------------------------------------- promises


def test_a_hard_promise_of_date_and_morning_slot_is_kept(world: World) -> None:
    wednesday = NEXT_MONDAY + dt.timedelta(days=2)
    job = world.jobs[0]
    job.preferred_dates = [wednesday.isoformat()]
    job.window_start, job.window_end = dt.time(9), dt.time(12)
    job.promise_is_hard = True
    job.save()
    plan = plan_week(world, NEXT_MONDAY)
    optimize(plan)
    visit = Visit.objects.get(plan=plan, job=job)
    assert visit.date == wednesday
    assert dt.time(9) <= tokyo(visit.planned_start).time() <= dt.time(12)


def test_a_hard_promise_outside_the_plan_says_so_with_its_date(world: World) -> None:
    job = world.jobs[0]
    job.preferred_dates = ["2026-12-10"]
    job.promise_is_hard = True
    job.save()
    plan = plan_week(world, NEXT_MONDAY)
    optimize(plan)
    plan.refresh_from_db()
    row = next(r for r in plan.unassigned if r["job_id"] == job.pk)
    assert row["reasons"][0]["rule"] == "promise"
    assert "12/10" in row["reasons"][0]["message"]


# ----------------------------------------------------------------------------- times


def test_planned_times_sit_on_a_five_minute_grid(world: World) -> None:
    Job.objects.filter(pk__in=[j.pk for j in world.jobs]).update(duration_minutes=47)
    plan = plan_week(world, NEXT_MONDAY)
    optimize(plan)
    planned = visits(plan)
    assert planned
    for visit in planned:
        for moment in (visit.planned_start, visit.planned_end):
            assert moment.second == 0 and moment.minute % 5 == 0, moment
    for lunch in PlannedBreak.objects.filter(plan=plan):
        assert lunch.start.minute % 5 == 0 and lunch.start.second == 0


def test_the_boards_day_bar_shows_the_lunch_break(world: World) -> None:
    from django.test import Client

    from accounts.models import Role
    from tests.factories import make_user

    world.make_jobs_long()
    plan = plan_week(world, NEXT_MONDAY)
    optimize(plan)
    lunch = PlannedBreak.objects.filter(plan=plan).first()
    assert lunch is not None
    client = Client()
    client.force_login(make_user(Role.COORDINATOR))
    page = client.get(f"/plans/{plan.pk}/").content.decode()
    start, end = tokyo(lunch.start), tokyo(lunch.end)
    assert f"lunch {start:%H:%M}–{end:%H:%M}" in page
    assert "#8a94a6" in page  # the bar draws it in its own colour
