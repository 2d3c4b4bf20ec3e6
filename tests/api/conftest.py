"""The API's cast: Alice coordinates, Sam answers support calls, and two partner
companies (A and B) each have a crew with a published visit.

"Partner B should have no access to partner A's things" is the rule most
tests here check from one side or the other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import Role, User
from dispatch.models import Crew, Job, PartnerCompany, Plan, PlanStatus, Visit
from dispatch.states import JobStatus
from sites.models import Region
from tests.factories import (
    go_live_if_published,
    make_company,
    make_crew,
    make_job,
    make_site,
    make_skill,
    make_user,
)

MONDAY = dt.date(2026, 11, 30)  # 11/23 is a national holiday (勤労感謝の日): nobody is planned
JST = dt.timezone(dt.timedelta(hours=9))


@dataclass
class Cast:
    region: Region
    coordinator: User
    support: User
    partner_a: User
    partner_b: User
    company_a: PartnerCompany
    company_b: PartnerCompany
    crew_a: Crew
    crew_b: Crew
    job_a: Job
    job_b: Job
    plan: Plan
    visit_a: Visit
    visit_b: Visit


def _visit(plan: Plan, job: Job, crew: Crew, hour: int) -> Visit:
    start = dt.datetime.combine(MONDAY, dt.time(hour), tzinfo=JST)
    return go_live_if_published(
        Visit.objects.create(
            plan=plan,
            job=job,
            crew=crew,
            date=MONDAY,
            sequence=1,
            planned_start=start,
            planned_end=start + dt.timedelta(minutes=job.duration_minutes),
            travel_minutes_from_previous=20,
            travel_m_from_previous=6500,
        )
    )


@pytest.fixture(autouse=True)
def _fresh_throttle_counters() -> None:
    """Throttling counts live in the cache; one test's requests must not throttle the next."""
    cache.clear()


@pytest.fixture
def cast(db: None) -> Cast:
    region = Region.objects.create(code="tokyo-central", name="Tokyo central")
    company_a = make_company(name="A通信工業株式会社")
    company_b = make_company(name="B電設株式会社")
    for company in (company_a, company_b):
        company.regions.add(region)
    splicing = make_skill("fibre_splicing")
    crew_a = make_crew(company=company_a, name="A1", home_latitude=35.69, home_longitude=139.80)
    crew_b = make_crew(company=company_b, name="B1", home_latitude=35.69, home_longitude=139.70)
    for crew in (crew_a, crew_b):
        crew.skills.add(splicing)
    job_a = make_job(
        site=make_site(region=region, name="A現場ビル", latitude=35.692, longitude=139.795),
        status=JobStatus.SCHEDULED,
        duration_minutes=120,
        work_instructions="3F EPS 経由で MC 設置",
    )
    job_b = make_job(
        site=make_site(region=region, name="B現場ビル", latitude=35.692, longitude=139.705),
        status=JobStatus.SCHEDULED,
        duration_minutes=90,
    )
    plan = Plan.objects.create(
        name="Week 48",
        start_date=MONDAY,
        end_date=MONDAY + dt.timedelta(days=4),
        region=region,
        status=PlanStatus.PUBLISHED,
        published_at=dt.datetime(2026, 11, 20, 17, tzinfo=JST),
        params={"time_limit_seconds": 1},
    )
    return Cast(
        region=region,
        coordinator=make_user(Role.COORDINATOR, username="alice"),
        support=make_user(Role.SUPPORT, username="sam"),
        partner_a=make_user(Role.PARTNER, username="partner_a", partner_company=company_a),
        partner_b=make_user(Role.PARTNER, username="partner_b", partner_company=company_b),
        company_a=company_a,
        company_b=company_b,
        crew_a=crew_a,
        crew_b=crew_b,
        job_a=job_a,
        job_b=job_b,
        plan=plan,
        visit_a=_visit(plan, job_a, crew_a, 9),
        visit_b=_visit(plan, job_b, crew_b, 10),
    )


@pytest.fixture
def client_for() -> Callable[[User | None], APIClient]:
    """An API client logged in as ``user`` (anonymous for None), CSRF checks on."""

    def build(user: User | None) -> APIClient:
        client = APIClient(enforce_csrf_checks=False)
        if user is not None:
            client.force_authenticate(user=user)
        return client

    return build


from tests.api.rows import addressable  # noqa: E402, F401 - one row of every resource
from tests.dispatch.conftest import world  # noqa: E402, F401 - the small planning world
