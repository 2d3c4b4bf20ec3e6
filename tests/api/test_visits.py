"""/api/v1/visits/: manual moves checked by the validator (409 with the rule), locks, unassign."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from dispatch.models import Plan, PlanStatus, Visit
from dispatch.plans import plan_revise
from dispatch.services import job_transition
from dispatch.states import JobStatus
from tests.api.conftest import MONDAY, Cast
from tests.factories import make_crew, retire_by_hand

pytestmark = pytest.mark.django_db

Client = Callable[[User | None], APIClient]


@pytest.fixture
def revision(cast: Cast) -> Plan:
    return plan_revise(plan=cast.plan)


def visit_in(plan: Plan, job_id: int) -> Visit:
    return Visit.objects.get(plan=plan, job_id=job_id)


def test_a_move_to_a_qualified_crew_is_accepted(
    cast: Cast, client_for: Client, revision: Plan
) -> None:
    visit = visit_in(revision, cast.job_a.pk)
    response = client_for(cast.coordinator).post(
        f"/api/v1/visits/{visit.pk}/move/",
        {"crew": cast.crew_b.pk, "date": str(MONDAY), "position": 1, "version": revision.version},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["crew"] == cast.crew_b.pk and response.json()["sequence"] == 1
    moved_b = visit_in(revision, cast.job_b.pk)
    assert (
        moved_b.sequence == 2
        and moved_b.planned_start >= visit_in(revision, cast.job_a.pk).planned_end
    )


def test_a_move_to_a_crew_without_the_skill_is_refused_with_the_rule(
    cast: Cast, client_for: Client, revision: Plan
) -> None:
    cast.job_a.required_skills.add(cast.crew_a.skills.get())
    novice = make_crew(company=cast.company_b, name="Novice")
    visit = visit_in(revision, cast.job_a.pk)
    response = client_for(cast.coordinator).post(
        f"/api/v1/visits/{visit.pk}/move/", {"crew": novice.pk, "date": str(MONDAY)}
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "rule_violated" and error["rule"] == "skill"
    assert error["violations"][0]["rule"] == "skill"
    assert visit_in(revision, cast.job_a.pk).crew_id == cast.crew_a.pk


def test_move_input_is_validated(cast: Cast, client_for: Client, revision: Plan) -> None:
    visit = visit_in(revision, cast.job_a.pk)
    response = client_for(cast.coordinator).post(
        f"/api/v1/visits/{visit.pk}/move/", {"crew": 999999, "date": "monday", "position": 0}
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"crew", "date", "position"}


def test_lock_unlock_and_unassign(cast: Cast, client_for: Client, revision: Plan) -> None:
    client = client_for(cast.coordinator)
    visit = visit_in(revision, cast.job_a.pk)
    assert client.post(f"/api/v1/visits/{visit.pk}/lock/").json()["locked"] is True
    refused = client.post(f"/api/v1/visits/{visit.pk}/unassign/")
    assert refused.status_code == 409 and refused.json()["error"]["rule"] == "locked"
    assert client.post(f"/api/v1/visits/{visit.pk}/unlock/").json()["locked"] is False
    assert client.post(f"/api/v1/visits/{visit.pk}/unassign/").status_code == 204
    revision.refresh_from_db()
    assert revision.unassigned[-1]["job_id"] == cast.job_a.pk


def test_a_stale_version_is_a_409_and_nothing_moves(
    cast: Cast, client_for: Client, revision: Plan
) -> None:
    visit = visit_in(revision, cast.job_a.pk)
    response = client_for(cast.coordinator).post(
        f"/api/v1/visits/{visit.pk}/lock/", {"version": revision.version + 1}
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "plan_conflict"
    assert not visit_in(revision, cast.job_a.pk).locked


def test_placing_a_job_from_the_queue(cast: Cast, client_for: Client, revision: Plan) -> None:
    client = client_for(cast.coordinator)
    visit = visit_in(revision, cast.job_a.pk)
    client.post(f"/api/v1/visits/{visit.pk}/unassign/")
    cast.job_a.status = "ready"
    cast.job_a.save()
    placed = client.post(
        f"/api/v1/plans/{revision.pk}/visits/",
        {"job": cast.job_a.pk, "crew": cast.crew_a.pk, "date": str(MONDAY)},
    )
    assert placed.status_code == 201, placed.json()
    again = client.post(
        f"/api/v1/plans/{revision.pk}/visits/",
        {"job": cast.job_a.pk, "crew": cast.crew_a.pk, "date": str(MONDAY)},
    )
    assert again.status_code == 409


def test_partners_read_their_own_published_visits_only(cast: Cast, client_for: Client) -> None:
    partner_a = client_for(cast.partner_a)
    assert partner_a.get(f"/api/v1/visits/{cast.visit_a.pk}/").status_code == 200
    assert partner_a.get(f"/api/v1/visits/{cast.visit_b.pk}/").status_code == 404
    assert partner_a.post(f"/api/v1/visits/{cast.visit_a.pk}/lock/").status_code == 403
    listed = partner_a.get(f"/api/v1/plans/{cast.plan.pk}/visits/").json()
    assert [v["id"] for v in listed] == [cast.visit_a.pk]


def test_visits_of_a_draft_are_invisible_to_partners(cast: Cast, client_for: Client) -> None:
    retire_by_hand(cast.plan, PlanStatus.PROPOSED)
    assert client_for(cast.partner_a).get(f"/api/v1/visits/{cast.visit_a.pk}/").status_code == 404


def test_a_revision_cannot_send_a_crew_back_to_a_job_done_on_its_published_day(
    cast: Cast, client_for: Client, revision: Plan
) -> None:
    """The coordinator dragged job A to Wednesday in a revision; on Monday the crew did it.

    Publishing the revision used to move the finished job to Wednesday on the
    live schedule: crew A was sent back to a job already done. It is refused,
    naming the job, and the live schedule keeps Monday's visit.
    """
    coordinator = client_for(cast.coordinator)
    wednesday = MONDAY + dt.timedelta(days=2)
    visit = visit_in(revision, cast.job_a.pk)
    moved = coordinator.post(
        f"/api/v1/visits/{visit.pk}/move/",
        {"crew": cast.crew_a.pk, "date": str(wednesday), "version": revision.version},
    )
    assert moved.status_code == 200, moved.json()
    crew = client_for(cast.partner_a)
    for kind in ("started", "completed"):
        done = crew.post(
            f"/api/v1/jobs/{cast.job_a.pk}/reports/",
            {"kind": kind},
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"{kind}-monday",
        )
        assert done.status_code == 201, done.json()

    revision.refresh_from_db()
    response = coordinator.post(
        f"/api/v1/plans/{revision.pk}/publish/", {"version": revision.version}
    )

    assert response.status_code == 409, response.json()
    error = response.json()["error"]
    assert error["jobs"] == [cast.job_a.pk]
    assert cast.job_a.reference in error["message"]
    cast.visit_a.refresh_from_db()
    assert cast.visit_a.is_live and cast.visit_a.date == MONDAY
    assert Plan.objects.get(pk=revision.pk).status == PlanStatus.PROPOSED


def test_a_started_job_s_visit_may_be_put_back_where_it_was_worked_and_nowhere_else(
    cast: Cast, client_for: Client, revision: Plan
) -> None:
    """The way out of the refusal above: drag the visit back to its published crew-day."""
    coordinator = client_for(cast.coordinator)
    visit = visit_in(revision, cast.job_a.pk)

    def move(day: dt.date) -> object:
        revision.refresh_from_db()
        return coordinator.post(
            f"/api/v1/visits/{visit.pk}/move/",
            {"crew": cast.crew_a.pk, "date": str(day), "version": revision.version},
        )

    assert move(MONDAY + dt.timedelta(days=2)).status_code == 200
    job_transition(job=cast.job_a, to_status=JobStatus.DISPATCHED)
    job_transition(job=cast.job_a, to_status=JobStatus.IN_PROGRESS)

    elsewhere = move(MONDAY + dt.timedelta(days=3))
    assert elsewhere.status_code == 409
    assert elsewhere.json()["error"]["rule"] == "locked"
    back = move(MONDAY)
    assert back.status_code == 200, back.json()
    revision.refresh_from_db()
    published = coordinator.post(
        f"/api/v1/plans/{revision.pk}/publish/", {"version": revision.version}
    )
    assert published.status_code == 200, published.json()
    assert visit_in(revision, cast.job_a.pk).date == MONDAY
