"""A job that moved from partner company A to partner company B, with A's traces all over it.

The probe of issue 18 (finding 1): A's crew reported the job not finished
with a reason, a coordinator put it on B's crew in a revision and published;
B then read A's user id and A's words in the job's history. This world
rebuilds that through the real services (``dispatch.editing``,
``dispatch.plans``, ``dispatch.reports``), with every name and text of
company A carrying a ``MARKER-A-`` prefix so a substring scan of a response is
a reliable test, and A's numeric ids collected per kind for field checks.

No optimizer run: visits are placed by hand, so the world builds in well
under a second. The work day is today (Asia/Tokyo): reports are accepted
from the visit's day on, and the calendar feed carries only days around today.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from accounts.models import Role, User
from dispatch.calendar_feeds import calendar_feed_create
from dispatch.editing import visit_place
from dispatch.ledger import live_visits
from dispatch.models import (
    ALL_WEEKDAYS_MASK,
    Crew,
    CrewUnavailability,
    Job,
    JobReport,
    JobStatusChange,
    PartnerCompany,
    Plan,
    PlanChange,
    PlanStatus,
    ReleaseReason,
    Skill,
    Visit,
)
from dispatch.plans import plan_publish, plan_revise
from dispatch.reports import job_report_record
from dispatch.services import job_transition
from dispatch.states import JobStatus
from sites.models import Region
from tests.factories import make_company, make_contract, make_crew, make_job, make_site, make_user

#: Every name and text company A owns starts with this.
MARKER_A = "MARKER-A-"
#: Company B's own words: B must still see them (the scan is not vacuous).
MARKER_B = "MARKER-B-"

A_REASON = "MARKER-A-reason: the caretaker was out"
A_COORDINATOR_NOTE = "MARKER-A-note: told MARKER-A-crew to take the key"


@dataclass
class MovedJob:
    day: dt.date
    region: Region
    skill: Skill
    coordinator: User
    partner_a: User
    partner_b: User
    company_a: PartnerCompany
    company_b: PartnerCompany
    crew_a: Crew
    crew_b: Crew
    job: Job
    """Was A's (reported not finished), now live on B's crew."""
    first_plan: Plan
    revision: Plan
    """The published revision: B's visit of the job, A's other work of the day."""
    visit_a: Visit
    """A's visit of the job, off the schedule as not finished."""
    visit_b: Visit
    feed_token_b: str
    ids_a: dict[str, set[int]] = field(default_factory=dict)
    """Company A's ids per kind: user, crew, company, visit, job, site, report, …"""


def build_moved_job() -> MovedJob:
    day = timezone.localdate()
    region = Region.objects.create(code="tokyo-moved", name="Tokyo (moved job)")
    skill, _ = Skill.objects.get_or_create(code="fibre_splicing", defaults={"name": "splicing"})
    company_a = make_company(
        name="MARKER-A-company 株式会社",
        name_kana="MARKER-A-kana",
        phone="MARKER-A-phone",
        email="marker-a@example.com",
    )
    company_b = make_company(name="B電設 MARKER-B-company")
    crews = []
    for company, name, home in (
        (company_a, "MARKER-A-crew", "MARKER-A-home-base"),
        (company_b, "B1 MARKER-B-crew", "B home base"),
    ):
        company.regions.add(region)
        crew = make_crew(
            company=company,
            name=name,
            home_base_address=home,
            home_latitude=35.69,
            home_longitude=139.75,
            working_weekdays=ALL_WEEKDAYS_MASK,
        )
        crew.skills.add(skill)
        crews.append(crew)
    crew_a, crew_b = crews
    coordinator = make_user(Role.COORDINATOR, username="moved-coordinator")
    partner_a = make_user(
        Role.PARTNER,
        username="MARKER-A-user",
        first_name="MARKER-A-first",
        last_name="MARKER-A-last",
        email="marker-a-user@example.com",
        partner_company=company_a,
    )
    partner_b = make_user(Role.PARTNER, username="MARKER-B-user", partner_company=company_b)

    def ready_job(site_name: str, instructions: str = "") -> Job:
        job = make_job(
            site=make_site(region=region, name=site_name, latitude=35.692, longitude=139.752),
            contract=make_contract(),
            status=JobStatus.READY,
            duration_minutes=60,
            work_instructions=instructions,
        )
        job.required_skills.add(skill)
        return job

    job = ready_job("Moved-job building")
    stays_with_a = ready_job("MARKER-A-site", instructions="MARKER-A-instructions")
    added_for_a = ready_job("MARKER-A-site-2", instructions="MARKER-A-instructions-2")

    # Published for A: both of A's first jobs on A's crew.
    first_plan = Plan.objects.create(
        name="Moved-job week",
        start_date=day,
        end_date=day,
        region=region,
        status=PlanStatus.PROPOSED,  # as if optimized: the visits are placed by hand
        params={"time_limit_seconds": 1},
    )
    for placed in (job, stays_with_a):
        visit_place(plan=first_plan, job=placed, crew=crew_a, date=day, by=coordinator)
    plan_publish(plan=first_plan, by=coordinator)
    calendar_feed_create(crew=crew_a, by=partner_a)
    CrewUnavailability.objects.create(
        crew=crew_a, start_date=day + dt.timedelta(days=30), end_date=day + dt.timedelta(days=30),
        reason="MARKER-A-holiday",
    )  # fmt: skip

    # A's crew reports it not finished straight from "scheduled", as in the probe.
    visit_a = live_visits().get(job=job)
    job_report_record(
        job=job,
        visit=visit_a,
        kind="incomplete",
        reason_code="no_access",
        reason_text=A_REASON,
        by=partner_a,
        idempotency_key="a-incomplete",
    )
    visit_a.refresh_from_db()
    assert visit_a.release_reason == ReleaseReason.NOT_FINISHED

    # The revision puts the job on B's crew and adds work for A; published.
    revision = plan_revise(plan=first_plan, by=coordinator)
    visit_place(plan=revision, job=job, crew=crew_b, date=day, by=coordinator)
    visit_place(plan=revision, job=added_for_a, crew=crew_a, date=day, by=coordinator)
    plan_publish(plan=revision, by=coordinator)
    visit_b = live_visits().get(job=job)
    assert visit_b.crew_id == crew_b.pk

    # The coordinator dispatches B with a note quoting A; B's crew starts (its own words).
    job_transition(job=job, to_status=JobStatus.DISPATCHED, by=coordinator, note=A_COORDINATOR_NOTE)
    job_report_record(
        job=job,
        visit=visit_b,
        kind="started",
        reason_text="MARKER-B-started",
        by=partner_b,
        idempotency_key="b-started",
    )
    _, feed_token_b = calendar_feed_create(crew=crew_b, by=partner_b)

    a_jobs = {stays_with_a.pk, added_for_a.pk}
    world = MovedJob(
        day=day,
        region=region,
        skill=skill,
        coordinator=coordinator,
        partner_a=partner_a,
        partner_b=partner_b,
        company_a=company_a,
        company_b=company_b,
        crew_a=crew_a,
        crew_b=crew_b,
        job=job,
        first_plan=first_plan,
        revision=revision,
        visit_a=visit_a,
        visit_b=visit_b,
        feed_token_b=feed_token_b,
    )
    world.ids_a = {
        "user": {partner_a.pk},
        "crew": {crew_a.pk},
        "company": {company_a.pk},
        "visit": set(Visit.objects.filter(crew=crew_a).values_list("pk", flat=True)),
        "job": a_jobs,
        "site": set(Job.objects.filter(pk__in=a_jobs).values_list("site_id", flat=True)),
        "report": set(JobReport.objects.filter(crew=crew_a).values_list("pk", flat=True)),
        "status_change": set(
            JobStatusChange.objects.filter(changed_by=partner_a).values_list("pk", flat=True)
        ),
        "plan_change": set(PlanChange.objects.filter(crew=crew_a).values_list("pk", flat=True)),
        "feed": set(crew_a.calendar_feeds.values_list("pk", flat=True)),
    }
    assert all(world.ids_a.values()), world.ids_a  # every kind has something to leak
    return world


#: Keys whose value (an id, or an object with an ``id``) is of a known kind.
KEY_KIND = {
    "changed_by": "user",
    "reported_by": "user",
    "created_by": "user",
    "recorded_by": "user",
    "actor": "user",
    "user": "user",
    "crew": "crew",
    "crew_id": "crew",
    "company": "company",
    "company_id": "company",
    "partner_company": "company",
    "visit": "visit",
    "visit_id": "visit",
    "job": "job",
    "job_id": "job",
    "site": "site",
    "reports": "report",
    "status_changes": "status_change",
    "feed": "feed",
}


def foreign_ids(node: Any, ids: dict[str, set[int]], kind: str | None = None) -> list[str]:
    """Where ``node`` (a decoded JSON body) carries one of ``ids``; ``kind`` is what its ``id`` is.

    A list passes its kind to its items (``reports: [{id: …}]``), a paginated
    body its kind to ``results``.
    """
    found: list[str] = []
    if isinstance(node, list):
        for item in node:
            found += foreign_ids(item, ids, kind)
        return found
    if not isinstance(node, dict):
        if kind is not None and isinstance(node, int) and node in ids.get(kind, ()):
            found.append(f"{kind} {node}")
        return found
    for key, value in node.items():
        if key == "id" or key == "results":
            found += foreign_ids(value, ids, kind)
        else:
            found += foreign_ids(value, ids, KEY_KIND.get(key))
    return found
