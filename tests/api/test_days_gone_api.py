"""The days gone by through the API: each refusal is a 409 that names the field and why."""

from __future__ import annotations

import datetime as dt

from accounts.models import Role
from dispatch.models import Plan
from dispatch.runs import plan_request_optimization, run_optimization
from tests.api.test_live_schedule_api import client_as
from tests.dispatch.conftest import MONDAY, World
from tests.factories import make_user

WEDNESDAY = MONDAY + dt.timedelta(days=2)


def optimized(world: World) -> Plan:
    plan = world.plan()
    run_optimization(run_id=plan_request_optimization(plan=plan, enqueue=False).pk)
    plan.refresh_from_db()
    return plan


def test_a_drag_onto_a_day_gone_by_answers_409_naming_the_day(world: World, settings) -> None:
    settings.PLANNING_TODAY = MONDAY
    plan = optimized(world)
    visit = plan.visits.order_by("pk").first()
    assert visit is not None
    coordinator = client_as(make_user(Role.COORDINATOR))
    settings.PLANNING_TODAY = WEDNESDAY

    english = coordinator.post(
        f"/api/v1/visits/{visit.pk}/move/",
        {"crew": visit.crew_id, "date": str(MONDAY + dt.timedelta(days=1))},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    japanese = coordinator.post(
        f"/api/v1/visits/{visit.pk}/move/",
        {"crew": visit.crew_id, "date": str(MONDAY)},
        HTTP_ACCEPT_LANGUAGE="ja",
    )

    assert english.status_code == 409, english.json()
    body = english.json()["error"]
    assert body["rule"] == "day"
    assert body["violations"][0]["message"] == (
        "Tue 12/1 has passed: new work goes on today or later"
    )
    assert japanese.status_code == 409
    assert "過ぎ" in japanese.json()["error"]["violations"][0]["message"]


def test_publishing_visits_on_a_day_gone_by_answers_409_listing_them(
    world: World, settings
) -> None:
    settings.PLANNING_TODAY = MONDAY
    plan = optimized(world)
    coordinator = client_as(make_user(Role.COORDINATOR))
    settings.PLANNING_TODAY = WEDNESDAY
    plan.refresh_from_db()
    gone = sorted(plan.visits.filter(date__lt=WEDNESDAY).values_list("job_id", flat=True))
    assert gone, "optimized on Monday, the plan starts on Monday"

    answer = coordinator.post(f"/api/v1/plans/{plan.pk}/publish/", {"version": plan.version})

    assert answer.status_code == 409, answer.json()
    body = answer.json()["error"]
    assert body["fields"] == {"visits": [body["message"]]}
    assert sorted(body["jobs"]) == gone
    assert "days that have passed (today is 2026-12-02)" in body["message"]


def test_optimizing_a_plan_whose_days_all_passed_answers_409(world: World, settings) -> None:
    plan = world.plan()
    coordinator = client_as(make_user(Role.COORDINATOR))
    settings.PLANNING_TODAY = MONDAY + dt.timedelta(days=7)

    answer = coordinator.post(f"/api/v1/plans/{plan.pk}/optimize/")

    assert answer.status_code == 409, answer.json()
    body = answer.json()["error"]
    assert list(body["fields"]) == ["end_date"]
    assert "every day of this plan has passed" in body["message"]
