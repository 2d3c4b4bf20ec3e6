"""/api/v1/runs/{id}/accept|discard and /plans/{id}/publish-preview/: the proposal workflow."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from dispatch import editing
from dispatch.runs import plan_request_optimization, run_optimization
from tests.dispatch.conftest import World

pytestmark = pytest.mark.django_db

Client = Callable[[User | None], APIClient]


@pytest.fixture
def coordinator() -> APIClient:
    from accounts.models import Role
    from tests.factories import make_user

    client = APIClient()
    client.force_authenticate(make_user(Role.COORDINATOR))
    return client


def finished_run(world: World) -> int:
    plan = world.plan()
    return run_optimization(run_id=plan_request_optimization(plan=plan, enqueue=False).pk).pk


def test_a_run_shows_before_and_after_and_can_be_accepted_once(
    world: World, coordinator: APIClient
) -> None:
    run_id = finished_run(world)
    run = coordinator.get(f"/api/v1/runs/{run_id}/").json()
    assert run["decision"] == ""
    assert run["summary"]["before"]["jobs_planned"] == 0
    assert run["summary"]["after"]["jobs_planned"] == 4
    assert run["links"]["accept"] == f"/api/v1/runs/{run_id}/accept/"
    accepted = coordinator.post(f"/api/v1/runs/{run_id}/accept/")
    assert accepted.status_code == 200 and accepted.json()["decision"] == "accepted"
    again = coordinator.post(f"/api/v1/runs/{run_id}/discard/")
    assert again.status_code == 409
    assert again.json()["error"]["fields"] == {"decision": ["this proposal was already accepted"]}


def test_discard_puts_the_plan_back_and_is_refused_after_an_edit(
    world: World, coordinator: APIClient
) -> None:
    run_id = finished_run(world)
    plan_id = coordinator.get(f"/api/v1/runs/{run_id}/").json()["plan"]
    discarded = coordinator.post(f"/api/v1/runs/{run_id}/discard/")
    assert discarded.status_code == 200
    assert coordinator.get(f"/api/v1/plans/{plan_id}/visits/").json() == []

    second = finished_run(world)
    from dispatch.models import Visit

    visit = Visit.objects.filter(plan__runs=second).first()
    editing.visit_unassign(visit=visit)
    refused = coordinator.post(f"/api/v1/runs/{second}/discard/")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "plan_conflict"


def test_publish_preview_tells_each_company_what_changes(
    world: World, coordinator: APIClient
) -> None:
    run_id = finished_run(world)
    plan_id = coordinator.get(f"/api/v1/runs/{run_id}/").json()["plan"]
    preview = coordinator.get(f"/api/v1/plans/{plan_id}/publish-preview/")
    assert preview.status_code == 200
    [company] = preview.json()
    assert company["company"] == world.company.name
    assert (company["added"], company["removed"], company["moved"]) == (4, 0, 0)
    assert {line["kind"] for line in company["lines"]} == {"added"}
