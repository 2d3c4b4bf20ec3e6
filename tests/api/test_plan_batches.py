"""/api/v1/plan-batches/: a week for all regions in one request, published in one request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from dispatch import batches, runs
from dispatch.ledger import ledger_problems
from dispatch.models import OptimizationRun, Plan, PlanningBatch, PlanStatus, RunStatus
from dispatch.states import JobStatus
from dispatch.tasks import optimize_plan
from sites.models import Region
from tests.api.conftest import MONDAY, Cast
from tests.factories import make_job, make_site

pytestmark = pytest.mark.django_db

Client = Callable[[User | None], APIClient]
URL = "/api/v1/plan-batches/"
WEEK = {"start_date": str(MONDAY), "end_date": str(MONDAY + dt.timedelta(days=4))}


@pytest.fixture
def saitama(cast: Cast) -> Region:
    """Partner A also serves Saitama; both regions have ready work."""
    region = Region.objects.create(code="saitama", name="Saitama")
    cast.company_a.regions.add(region)
    for lat, lon, where in ((35.906, 139.624, region), (35.694, 139.79, cast.region)):
        make_job(
            site=make_site(region=where, latitude=lat, longitude=lon),
            status=JobStatus.READY,
            duration_minutes=90,
        )
    return region


def test_a_coordinator_plans_every_region_in_one_request_and_publishes_them_all(
    cast: Cast, saitama: Region, client_for: Client
) -> None:
    client = client_for(cast.coordinator)
    response = client.post(URL, {**WEEK, "time_limit_seconds": 1}, format="json")

    assert response.status_code == 202, response.json()
    batch = response.json()
    assert response["Location"] == f"{URL}{batch['id']}/"
    assert batch["status"] == "optimizing"
    assert [p["region"] for p in batch["plans"]] == ["saitama", "tokyo-central"]
    assert all(p["run_status"] == "queued" for p in batch["plans"])
    assert sum(p["crew_days_given"] for p in batch["plans"]) == 10, "2 crews x 5 days"
    central = Plan.objects.get(pk=batch["plans"][1]["id"])
    assert central.revises == cast.plan, "the week's published plan for the region is revised"

    busy = client.post(batch["links"]["publish"], format="json")
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "plan_busy"

    for row in batch["plans"]:
        optimize_plan(row["run"])  # what the worker does, summary included
    polled = client.get(batch["links"]["self"]).json()
    assert polled["status"] == "finished"
    assert polled["summary"]["failed"] == [] and polled["summary"]["jobs_assigned"] >= 2
    assert {p["status"] for p in polled["plans"]} == {"proposed"}

    published = client.post(batch["links"]["publish"], format="json")
    assert published.status_code == 200, published.json()
    body = published.json()
    assert body["published"] == 2 and body["not_published"] == 0
    assert [p["outcome"] for p in body["plans"]] == ["published", "published"]
    assert body["batch"]["status"] == "published"
    assert ledger_problems() == []
    cast.plan.refresh_from_db()
    assert cast.plan.status == PlanStatus.SUPERSEDED

    listed = client.get(URL).json()
    assert batch["id"] in [row["id"] for row in listed.get("results", listed)]


def test_regions_can_be_chosen_by_code(cast: Cast, saitama: Region, client_for: Client) -> None:
    response = client_for(cast.coordinator).post(
        URL, {**WEEK, "regions": ["saitama"]}, format="json"
    )
    assert response.status_code == 202
    assert [p["region"] for p in response.json()["plans"]] == ["saitama"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"end_date": str(MONDAY - dt.timedelta(days=1))}, "end_date"),
        ({"end_date": str(MONDAY + dt.timedelta(days=40))}, "end_date"),
        ({"start_date": "next monday"}, "start_date"),
        ({"start_date": None}, "start_date"),
        ({"regions": ["atlantis"]}, "regions"),
        ({"regions": []}, "regions"),
        ({"time_limit_seconds": 0}, "time_limit_seconds"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
    cast: Cast, client_for: Client, body: dict, field: str
) -> None:
    response = client_for(cast.coordinator).post(URL, {**WEEK, **body}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"], error
    assert not PlanningBatch.objects.exists()
    assert Plan.objects.count() == 1


@pytest.mark.parametrize("who", ["support", "partner_a"])
def test_partners_and_support_are_turned_away(cast: Cast, client_for: Client, who: str) -> None:
    batch = batches.planning_batch_start(
        start_date=MONDAY, end_date=MONDAY, regions=[cast.region], enqueue=False
    )
    client = client_for(getattr(cast, who))
    for response in (
        client.post(URL, WEEK, format="json"),
        client.get(URL),
        client.get(f"{URL}{batch.pk}/"),
        client.post(f"{URL}{batch.pk}/publish/", format="json"),
    ):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
    assert PlanningBatch.objects.count() == 1


def test_a_broker_that_is_down_is_a_503_and_nothing_is_created(
    cast: Cast, client_for: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down() -> None:
        raise runs.QueueUnavailable("the task queue is unavailable")

    monkeypatch.setattr(batches, "_require_broker", down)
    response = client_for(cast.coordinator).post(URL, WEEK, format="json")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "queue_unavailable"
    assert not PlanningBatch.objects.exists() and Plan.objects.count() == 1


def test_a_failed_region_is_reported_and_the_others_still_publish(
    cast: Cast, saitama: Region, client_for: Client
) -> None:
    client = client_for(cast.coordinator)
    batch = client.post(URL, {**WEEK, "time_limit_seconds": 1}, format="json").json()
    first, second = batch["plans"]
    runs.run_cancel(run=OptimizationRun.objects.get(pk=first["run"]))
    optimize_plan(second["run"])
    assert OptimizationRun.objects.get(pk=first["run"]).status == RunStatus.CANCELLED

    body = client.post(batch["links"]["publish"], format="json").json()
    outcomes = {p["region"]: p for p in body["plans"]}
    assert outcomes["saitama"]["outcome"] == "refused" and outcomes["saitama"]["status"] == 409
    assert outcomes["tokyo-central"]["outcome"] == "published"
    assert body["batch"]["status"] == "partly_published"
    assert body["batch"]["summary"]["failed"] == ["saitama"]
