"""Issue 18, finding 1: a job that moves between partner companies brings none of the first along.

The probe: partner 1's crew reported job 190 not finished ("no_access: probe
4"); a coordinator moved it to partner 2's crew in a revision and published.
Partner 2's job detail showed ``reports: []`` but its ``status_changes``
carried partner 1's user id and the notes "crew report: incomplete" and
"no_access: probe 4". The rule now lives in ``dispatch.selectors``: a partner
reads its own company's steps in full, no step of another partner company,
and staff steps without author or note.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import Role, User
from dispatch.models import JobStatusChange
from dispatch.selectors import plan_changes_visible_to, status_changes_visible_to
from dispatch.services import job_transition
from dispatch.states import JobStatus
from tests.api.moved_job import (
    A_COORDINATOR_NOTE,
    A_REASON,
    MARKER_A,
    MARKER_B,
    MovedJob,
    build_moved_job,
    foreign_ids,
)
from tests.factories import make_user


def client_as(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def moved(db: None) -> MovedJob:
    return build_moved_job()


def get_json(client: APIClient, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, (url, response.content[:500])
    return response.json()


def test_partner_b_reads_no_user_id_or_note_of_partner_a_in_the_jobs_history(
    moved: MovedJob,
) -> None:
    body = get_json(client_as(moved.partner_b), f"/api/v1/jobs/{moved.job.pk}/")

    history = body["status_changes"]
    assert moved.partner_a.pk not in {step["changed_by"] for step in history}
    notes = " | ".join(step["note"] for step in history)
    assert "crew report: incomplete" not in notes
    assert A_REASON not in notes and "no_access" not in notes
    assert MARKER_A not in json.dumps(body, ensure_ascii=False)
    # Staff steps stay as neutral steps: from, to and when, no author, no note.
    staff = [step for step in history if step["changed_by"] is None]
    assert [(s["from_status"], s["to_status"]) for s in staff] == [
        ("ready", "scheduled"),  # published for A
        ("ready", "scheduled"),  # published for B
        ("scheduled", "dispatched"),  # the coordinator's note quoted A
    ]
    assert all(step["note"] == "" for step in staff)
    # B's own steps in full.
    own = [step for step in history if step["changed_by"] == moved.partner_b.pk]
    assert [step["note"] for step in own] == ["crew report: started"]
    assert [report["crew"] for report in body["reports"]] == [moved.crew_b.pk]
    assert body["reports"][0]["reason_text"] == "MARKER-B-started"


def test_partner_b_reads_nothing_of_partner_a_on_any_endpoint(moved: MovedJob) -> None:
    client = client_as(moved.partner_b)
    day, job, plan = moved.day.isoformat(), moved.job.pk, moved.revision.pk
    urls = [
        "/api/v1/jobs/",
        f"/api/v1/jobs/{job}/",
        f"/api/v1/jobs/{job}/reports/",
        "/api/v1/sites/",
        f"/api/v1/sites/{moved.job.site_id}/",
        "/api/v1/plans/",
        f"/api/v1/plans/{plan}/",
        f"/api/v1/plans/{plan}/visits/",
        f"/api/v1/plans/{plan}/changes/",
        f"/api/v1/visits/{moved.visit_b.pk}/",
        "/api/v1/crews/",
        f"/api/v1/crews/{moved.crew_b.pk}/",
        f"/api/v1/crews/{moved.crew_b.pk}/calendar-feeds/",
        "/api/v1/partner-companies/",
        f"/api/v1/partner-companies/{moved.company_b.pk}/",
        f"/api/v1/routes/?date={day}",
        f"/api/v1/routes/geojson/?date={day}&crew={moved.crew_b.pk}",
        "/api/v1/auth/me/",
    ]
    leaks = {}
    for url in urls:
        body = get_json(client, url)
        text = json.dumps(body, ensure_ascii=False)
        found = [f"text {MARKER_A}…"] if MARKER_A in text else []
        found += foreign_ids(body, moved.ids_a)
        if found:
            leaks[url] = found
    ics = client.get(f"/api/v1/calendar/{moved.feed_token_b}.ics")
    assert ics.status_code == 200
    calendar = ics.content.decode().replace("\r\n ", "")  # unfold RFC 5545 lines
    if MARKER_A in calendar:
        leaks["calendar"] = [f"text {MARKER_A}…"]
    assert MARKER_B in calendar  # B's own crew is in its own feed
    assert not leaks, leaks
    # The walk saw the job: B's route has it, A's user, crew, company and words do not.
    routes = get_json(client, f"/api/v1/routes/?date={day}")["routes"]
    assert [stop["job"]["id"] for route in routes for stop in route["stops"]] == [job]


def test_partner_a_reads_nothing_of_partner_b_on_the_job_it_lost(moved: MovedJob) -> None:
    """A still sees the job (its not-finished visit stays on its day), but not B's side."""
    body = get_json(client_as(moved.partner_a), f"/api/v1/jobs/{moved.job.pk}/")

    assert MARKER_B not in json.dumps(body, ensure_ascii=False)
    assert moved.partner_b.pk not in {step["changed_by"] for step in body["status_changes"]}
    assert [report["crew"] for report in body["reports"]] == [moved.crew_a.pk]
    own_notes = [
        step["note"] for step in body["status_changes"] if step["changed_by"] == moved.partner_a.pk
    ]
    assert "crew report: incomplete" in own_notes
    assert f"no_access: {A_REASON}" in own_notes


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.SUPPORT])
def test_staff_still_read_the_whole_history(moved: MovedJob, role: str) -> None:
    body = get_json(client_as(make_user(role)), f"/api/v1/jobs/{moved.job.pk}/")

    authors = {step["changed_by"] for step in body["status_changes"]}
    assert {moved.partner_a.pk, moved.partner_b.pk, moved.coordinator.pk} <= authors
    notes = [step["note"] for step in body["status_changes"]]
    assert A_COORDINATOR_NOTE in notes and f"no_access: {A_REASON}" in notes
    assert {report["crew"] for report in body["reports"]} == {moved.crew_a.pk, moved.crew_b.pk}


def test_the_transition_answer_is_scoped_like_the_detail(moved: MovedJob) -> None:
    """The coordinator's transition response goes through the same selector (in full)."""
    client = client_as(moved.coordinator)
    response = client.post(
        f"/api/v1/jobs/{moved.job.pk}/transition/", {"status": "completed", "note": "x"}
    )
    assert response.status_code == 200, response.content
    assert A_COORDINATOR_NOTE in [step["note"] for step in response.json()["status_changes"]]


def test_a_partner_reads_system_steps_without_note_and_other_partners_steps_not_at_all(
    moved: MovedJob,
) -> None:
    job_transition(job=moved.job, to_status=JobStatus.COMPLETED, note="MARKER-A-system")
    steps = {step.pk: step for step in status_changes_visible_to(moved.partner_b)}

    system = JobStatusChange.objects.get(note="MARKER-A-system")
    assert (steps[system.pk].shown_changed_by_id, steps[system.pk].shown_note) == (None, "")
    by_a = JobStatusChange.objects.filter(changed_by=moved.partner_a)
    assert by_a.exists() and not set(steps) & set(by_a.values_list("pk", flat=True))
    assert not status_changes_visible_to(None).exists()  # type: ignore[arg-type]


def test_a_partner_reads_only_its_own_crews_plan_changes(moved: MovedJob) -> None:
    """``dispatch.selectors.plan_changes_visible_to``: the one rule for ``plans/{id}/changes/``."""
    crews = set(plan_changes_visible_to(moved.partner_b).values_list("crew_id", flat=True))
    assert crews == {moved.crew_b.pk}
    everything = set(plan_changes_visible_to(moved.coordinator).values_list("crew_id", flat=True))
    assert everything == {moved.crew_a.pk, moved.crew_b.pk}
