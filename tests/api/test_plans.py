"""/api/v1/plans/: create, optimize (202 + poll), publish, revise, changes, roles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from dispatch.models import OptimizationRun, Plan, PlanChange, PlanStatus, RunStatus, Visit
from dispatch.runs import run_optimization
from tests.api.conftest import MONDAY, Cast
from tests.factories import retire_by_hand

pytestmark = pytest.mark.django_db

Client = Callable[[User | None], APIClient]


def create_plan(client: APIClient, **overrides: object) -> dict:
    body = {
        "name": "Week 48 draft",
        "start_date": str(MONDAY),
        "end_date": str(MONDAY + dt.timedelta(days=4)),
        "region": "tokyo-central",
        "params": {"time_limit_seconds": 1},
        **overrides,
    }
    response = client.post("/api/v1/plans/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_coordinator_creates_a_draft_plan(cast: Cast, client_for: Client) -> None:
    plan = create_plan(client_for(cast.coordinator))
    assert plan["status"] == "draft"
    assert plan["params"]["min_gap_minutes"] == 15
    assert plan["links"]["optimize"] == f"/api/v1/plans/{plan['id']}/optimize/"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"end_date": str(MONDAY - dt.timedelta(days=1))}, "end_date"),
        ({"region": "atlantis"}, "region"),
        ({"params": {"max_utilization": 3}}, "max_utilization"),
        ({"params": {"colour": "red"}}, "colour"),
        ({"start_date": "next monday"}, "start_date"),
    ],
)
def test_bad_plan_input_is_a_400_naming_the_field_and_writes_nothing(
    cast: Cast, client_for: Client, body: dict, field: str
) -> None:
    before = Plan.objects.count()
    base = {"name": "x", "start_date": str(MONDAY), "end_date": str(MONDAY), **body}
    response = client_for(cast.coordinator).post("/api/v1/plans/", base, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert Plan.objects.count() == before


def test_optimize_answers_202_with_a_run_to_poll(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    plan = create_plan(client)
    response = client.post(f"/api/v1/plans/{plan['id']}/optimize/", {"seed": 3}, format="json")
    assert response.status_code == 202
    run = response.json()
    assert response["Location"] == f"/api/v1/runs/{run['id']}/"
    assert run["status"] == "queued" and run["seed"] == 3

    run_optimization(run_id=run["id"])  # what the worker does
    polled = client.get(run["links"]["self"]).json()
    assert polled["status"] == "succeeded" and polled["progress"] == 1.0
    assert client.get(f"/api/v1/plans/{plan['id']}/").json()["status"] == "proposed"


def test_a_second_optimize_while_one_is_queued_is_a_409(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    plan = create_plan(client)
    assert client.post(f"/api/v1/plans/{plan['id']}/optimize/").status_code == 202
    second = client.post(f"/api/v1/plans/{plan['id']}/optimize/")
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "plan_busy"
    assert OptimizationRun.objects.filter(plan_id=plan["id"]).count() == 1


def test_a_queued_run_can_be_cancelled(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    plan = create_plan(client)
    run = client.post(f"/api/v1/plans/{plan['id']}/optimize/").json()
    response = client.post(f"/api/v1/runs/{run['id']}/cancel/")
    assert response.status_code == 202
    assert response.json()["status"] == RunStatus.CANCELLED
    assert client.post(f"/api/v1/runs/{run['id']}/cancel/").status_code == 409


def test_publish_then_changes_per_crew(cast: Cast, client_for: Client) -> None:
    """A fresh week: the two jobs are ready and nothing is published yet."""
    retire_by_hand(cast.plan)
    type(cast.job_a).objects.update(status="ready")
    client = client_for(cast.coordinator)
    plan = create_plan(client)
    run = client.post(f"/api/v1/plans/{plan['id']}/optimize/").json()
    run_optimization(run_id=run["id"])
    version = client.get(f"/api/v1/plans/{plan['id']}/").json()["version"]

    stale = client.post(f"/api/v1/plans/{plan['id']}/publish/", {"version": version - 1})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "plan_conflict"
    published = client.post(f"/api/v1/plans/{plan['id']}/publish/", {"version": version})
    assert published.status_code == 200, published.json()
    assert published.json()["status"] == "published"

    changes = client.get(f"/api/v1/plans/{plan['id']}/changes/").json()
    assert changes and {c["kind"] for c in changes} == {"added"}
    assert PlanChange.objects.filter(plan_id=plan["id"]).count() == len(changes)


def test_a_published_plan_is_revised_not_edited(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    response = client.post(f"/api/v1/plans/{cast.plan.pk}/optimize/")
    assert response.status_code == 409
    assert "revise it first" in response.json()["error"]["message"]
    revision = client.post(f"/api/v1/plans/{cast.plan.pk}/revise/")
    assert revision.status_code == 201
    assert revision.json()["revises"] == cast.plan.pk
    assert revision.json()["status"] == PlanStatus.PROPOSED


def test_patch_changes_name_and_params_only_with_a_fresh_version(
    cast: Cast, client_for: Client
) -> None:
    client = client_for(cast.coordinator)
    plan = create_plan(client)
    ok = client.patch(
        f"/api/v1/plans/{plan['id']}/",
        {"name": "Renamed", "params": {"min_gap_minutes": 30}, "version": plan["version"]},
        format="json",
    )
    assert ok.status_code == 200, ok.json()
    assert ok.json()["params"]["min_gap_minutes"] == 30
    stale = client.patch(
        f"/api/v1/plans/{plan['id']}/", {"name": "Again", "version": plan["version"]}, format="json"
    )
    assert stale.status_code == 409
    assert client.get(f"/api/v1/plans/{plan['id']}/").json()["name"] == "Renamed"


def test_partners_see_only_published_plans_with_their_crews_and_no_internals(
    cast: Cast, client_for: Client
) -> None:
    create_plan(client_for(cast.coordinator))  # a draft: invisible to partners
    listed = client_for(cast.partner_a).get("/api/v1/plans/").json()["results"]
    assert [p["id"] for p in listed] == [cast.plan.pk]
    assert "params" not in listed[0] and "unassigned" not in listed[0]
    assert (
        client_for(cast.partner_a).post(f"/api/v1/plans/{cast.plan.pk}/optimize/").status_code
        == 403
    )


def test_partner_changes_are_limited_to_their_own_crews(cast: Cast, client_for: Client) -> None:
    for crew, job in ((cast.crew_a, cast.job_a), (cast.crew_b, cast.job_b)):
        PlanChange.objects.create(
            plan=cast.plan, crew=crew, job=job, kind="added", published_version=1
        )
    seen = client_for(cast.partner_a).get(f"/api/v1/plans/{cast.plan.pk}/changes/").json()
    assert [c["crew"] for c in seen] == [cast.crew_a.pk]


def test_support_cannot_touch_plans(cast: Cast, client_for: Client) -> None:
    support = client_for(cast.support)
    assert support.get("/api/v1/plans/").status_code == 403
    assert support.post(f"/api/v1/plans/{cast.plan.pk}/publish/").status_code == 403


def test_anonymous_callers_get_401_in_the_error_shape(cast: Cast, client_for: Client) -> None:
    response = client_for(None).get("/api/v1/plans/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_the_changes_a_partner_is_told_carry_times_in_tokyo_time(
    cast: Cast, client_for: Client
) -> None:
    """As the routes do: a crew reads 09:00+09:00, not 00:00+00:00, for a visit at nine."""
    coordinator = client_for(cast.coordinator)
    revision = coordinator.post(f"/api/v1/plans/{cast.plan.pk}/revise/").json()
    copy = Visit.objects.get(plan_id=revision["id"], job=cast.job_a)
    moved = coordinator.post(
        f"/api/v1/visits/{copy.pk}/move/",
        {
            "crew": cast.crew_a.pk,
            "date": str(MONDAY + dt.timedelta(days=2)),
            "version": revision["version"],
        },
    )
    assert moved.status_code == 200, moved.json()
    version = coordinator.get(f"/api/v1/plans/{revision['id']}/").json()["version"]
    assert (
        coordinator.post(
            f"/api/v1/plans/{revision['id']}/publish/", {"version": version}
        ).status_code
        == 200
    )

    (change,) = client_for(cast.partner_a).get(f"/api/v1/plans/{revision['id']}/changes/").json()

    assert change["kind"] == "moved"
    assert change["before"]["planned_start"] == "2026-11-30T09:00:00+09:00"
    assert change["before"]["planned_end"] == "2026-11-30T11:00:00+09:00"
    assert change["after"]["planned_start"].startswith("2026-12-02T")
    assert change["after"]["planned_start"].endswith("+09:00")
