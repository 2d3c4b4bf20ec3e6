"""A job is plannable only with its survey done and every needed permission granted."""

from __future__ import annotations

import datetime as dt

import pytest

from dispatch.editing import RuleViolation, visit_place
from dispatch.models import Job, Visit
from dispatch.readiness import JobBlocked, job_blockers
from dispatch.runs import plan_request_optimization, run_optimization
from dispatch.services import job_transition
from dispatch.states import JobKind, JobStatus
from sites.models import Permission, PermissionStatus, Site
from tests.dispatch.conftest import MONDAY, World
from tests.factories import make_job, make_site, make_survey

pytestmark = pytest.mark.django_db

REQUESTED = dt.date(2026, 10, 1)


def permission(site: Site, party: str, status: str = "requested", **fields: object) -> Permission:
    if status != PermissionStatus.REQUESTED:
        fields.setdefault("decided_on", dt.date(2026, 10, 10))
    return Permission.objects.create(
        site=site, party=party, status=status, requested_on=REQUESTED, **fields
    )


def codes(job: Job) -> list[str]:
    return [b.code for b in job_blockers(job, on=MONDAY)]


def test_a_job_without_a_survey_is_blocked_by_the_survey() -> None:
    job = make_job(surveyed=False)
    assert codes(job) == ["survey_missing"]


def test_a_survey_scheduled_in_the_future_still_blocks() -> None:
    job = make_job(surveyed=False)
    make_survey(job.site, surveyed_on=MONDAY + dt.timedelta(days=3))
    assert codes(job) == ["survey_missing"]


def test_each_needed_party_must_have_granted_an_unexpired_permission() -> None:
    site = make_site()
    make_survey(site, needed_parties=["customer", "management", "owner", "tenant"])
    job = make_job(site=site)
    permission(site, "customer", "granted")
    permission(site, "management")
    permission(site, "owner", "refused")
    assert codes(job) == ["permission_pending", "permission_refused", "permission_missing"]
    messages = [b.message for b in job_blockers(job, on=MONDAY)]
    assert messages[0] == "Management company: permission requested on 2026-10-01"


def test_an_expired_permission_blocks_again() -> None:
    site = make_site()
    make_survey(site, needed_parties=["management"])
    job = make_job(site=site)
    permission(site, "management", "granted", expires_on=MONDAY - dt.timedelta(days=1))
    assert codes(job) == ["permission_expired"]


def test_maintenance_visits_have_no_gates() -> None:
    assert codes(make_job(kind=JobKind.MAINTENANCE, surveyed=False)) == []


def test_the_state_machine_refuses_ready_while_blocked_and_says_why() -> None:
    site = make_site()
    make_survey(site, needed_parties=["owner"])
    job = make_job(site=site, status=JobStatus.AWAITING_PERMISSION)
    with pytest.raises(JobBlocked, match="Building owner: permission not requested"):
        job_transition(job=job, to_status=JobStatus.READY)
    job.refresh_from_db()
    assert job.status == JobStatus.AWAITING_PERMISSION
    permission(site, "owner", "granted")
    job_transition(job=job, to_status=JobStatus.READY)
    assert job.status == JobStatus.READY


def test_a_ready_job_whose_permission_lapsed_is_never_planned(world: World) -> None:
    job = world.jobs[0]
    survey = job.site.surveys.get()
    survey.needed_parties = ["management"]
    survey.save()
    permission(job.site, "management", "granted", expires_on=MONDAY - dt.timedelta(days=1))

    plan = world.plan()
    run_optimization(run_id=plan_request_optimization(plan=plan, enqueue=False).pk)
    plan.refresh_from_db()
    assert not Visit.objects.filter(plan=plan, job=job).exists()
    entry = next(item for item in plan.unassigned if item["job_id"] == job.pk)
    assert entry["reasons"][0]["rule"] == "permission_expired"

    with pytest.raises(RuleViolation) as forced:
        visit_place(plan=plan, job=job, crew=world.east_crew, date=MONDAY)
    assert forced.value.rule == "permission_expired"
