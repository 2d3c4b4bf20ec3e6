"""The audit trail: every write to a job, plan, visit, site or construction record says who,
what and when, and only coordinators can read it (/api/v1/audit/)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db.models.signals import post_delete
from rest_framework.test import APIClient

from accounts.models import User
from audit.models import AuditEvent
from dispatch.models import Plan, Visit
from dispatch.plans import plan_revise
from dispatch.runs import run_optimization
from tests.api.conftest import MONDAY, Cast
from tests.factories import retire_by_hand

pytestmark = pytest.mark.django_db

Client = Callable[[User | None], APIClient]


def history(model: str, object_id: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(model=model, object_id=str(object_id)).order_by("id"))


def test_an_api_edit_of_a_job_records_who_changed_which_fields(
    cast: Cast, client_for: Client
) -> None:
    client = client_for(cast.coordinator)
    response = client.patch(f"/api/v1/jobs/{cast.job_a.pk}/", {"priority": 5}, format="json")
    assert response.status_code == 200, response.json()
    last = history("dispatch.job", cast.job_a.pk)[-1]
    assert (last.actor, last.actor_name, last.via, last.action) == (
        cast.coordinator,
        "alice",
        "api",
        "update",
    )
    assert last.changes["priority"] == 5


def test_sites_and_construction_records_are_audited_from_creation(
    cast: Cast, client_for: Client
) -> None:
    client = client_for(cast.coordinator)
    record = client.post(
        "/api/v1/construction-records/",
        {
            "site": cast.job_a.site_id,
            "job": cast.job_a.pk,
            "media_converter_location": "3F ラック2",
            "port": "ONU LAN1",
            "cable_route": "1F MDF → EPS → 3F",
        },
        format="json",
    ).json()
    created = history("sites.constructionrecord", record["id"])
    assert [e.action for e in created] == ["create"]
    assert created[0].changes["port"] == "ONU LAN1" and created[0].actor_name == "alice"

    client.patch(f"/api/v1/sites/{cast.job_a.site_id}/", {"name": "A現場ビル 新館"}, format="json")
    assert history("sites.site", cast.job_a.site_id)[-1].changes["name"] == "A現場ビル 新館"


def test_bulk_written_visits_are_recorded_in_the_plans_entry(
    cast: Cast, client_for: Client
) -> None:
    """The planner replaces visits in bulk; the plan's entry lists them as they now stand."""
    revision = plan_revise(plan=cast.plan, by=cast.coordinator)
    visit = Visit.objects.get(plan=revision, job=cast.job_a)
    client = client_for(cast.coordinator)
    moved = client.post(
        f"/api/v1/visits/{visit.pk}/move/",
        {"crew": cast.crew_b.pk, "date": str(MONDAY), "position": 1, "version": revision.version},
    )
    assert moved.status_code == 200, moved.json()
    last = history("dispatch.plan", revision.pk)[-1]
    assert last.actor_name == "alice"
    assert last.changes["version"] == Plan.objects.get(pk=revision.pk).version
    crews_by_job = {job: crew for job, crew, *_ in last.changes["visits"]}
    assert crews_by_job == {cast.job_a.pk: cast.crew_b.pk, cast.job_b.pk: cast.crew_b.pk}


def test_a_lock_shows_in_the_plans_entry(cast: Cast, client_for: Client) -> None:
    revision = plan_revise(plan=cast.plan)
    visit = Visit.objects.get(plan=revision, job=cast.job_a)
    client_for(cast.coordinator).post(f"/api/v1/visits/{visit.pk}/lock/")
    last = history("dispatch.plan", revision.pk)[-1]
    locked = {job: is_locked for job, _crew, _date, _start, is_locked in last.changes["visits"]}
    assert locked == {cast.job_a.pk: True, cast.job_b.pk: False}
    assert last.actor_name == "alice"


def test_an_optimization_by_the_worker_is_recorded_as_the_system(
    cast: Cast, client_for: Client
) -> None:
    retire_by_hand(cast.plan)
    type(cast.job_a).objects.update(status="ready")
    client = client_for(cast.coordinator)
    plan = client.post(
        "/api/v1/plans/",
        {"name": "w48", "start_date": str(MONDAY), "end_date": str(MONDAY)},
        format="json",
    ).json()
    run = client.post(
        f"/api/v1/plans/{plan['id']}/optimize/", {"time_limit_seconds": 1}, format="json"
    ).json()
    run_optimization(run_id=run["id"])
    entries = history("dispatch.plan", plan["id"])
    assert [(e.actor_name, e.via) for e in entries[:2]] == [("alice", "api"), ("alice", "api")]
    proposal = entries[-1]
    assert (proposal.via, proposal.changes["status"]) == ("system", "proposed")
    assert len(proposal.changes["visits"]) == Visit.objects.filter(plan_id=plan["id"]).count() > 0


def test_bulk_deletes_of_visits_stay_fast_deletes() -> None:
    """A delete receiver on Visit would make Django fetch and signal every row of a bulk delete."""
    assert not post_delete.has_listeners(Visit)


def test_only_coordinators_read_the_trail(cast: Cast, client_for: Client) -> None:
    client_for(cast.coordinator).patch(
        f"/api/v1/jobs/{cast.job_a.pk}/", {"priority": 4}, format="json"
    )
    response = client_for(cast.coordinator).get(
        "/api/v1/audit/", {"model": "dispatch.job", "object_id": cast.job_a.pk}
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["actor_name"] == "alice" and results[0]["changes"]["priority"] == 4
    for user in (cast.support, cast.partner_a):
        assert client_for(user).get("/api/v1/audit/").status_code == 403
    assert client_for(None).get("/api/v1/audit/").status_code == 401
