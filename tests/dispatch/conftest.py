"""A tiny planning world: one region, two crews of one partner, four ready jobs nearby.

Small enough to solve in a second, realistic enough that the solver has real
choices: the crews live at opposite ends of central Tokyo, the jobs sit in two
pairs, one pair near each crew's home.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from dispatch.models import Crew, Job, PartnerCompany, Plan
from dispatch.plans import plan_create
from dispatch.states import JobStatus
from sites.models import Region
from tests.factories import make_company, make_crew, make_job, make_site, make_skill

MONDAY = dt.date(2026, 11, 30)  # 11/23 is a national holiday (勤労感謝の日): nobody is planned


@dataclass
class World:
    region: Region
    company: PartnerCompany
    east_crew: Crew
    west_crew: Crew
    jobs: list[Job]

    def make_jobs_long(self) -> None:
        """Three-hour jobs: a crew-day holds two, so both crews are needed."""
        Job.objects.filter(pk__in=[job.pk for job in self.jobs]).update(duration_minutes=180)

    def plan(self, **params: object) -> Plan:
        return plan_create(
            name="Week 48",
            start_date=MONDAY,
            end_date=MONDAY + dt.timedelta(days=4),
            region=self.region,
            params={"time_limit_seconds": 1, **params},
        )


@pytest.fixture
def world(db: None) -> World:
    region = Region.objects.create(code="tokyo-central", name="Tokyo central")
    company = make_company(name="光都エンジニアリング株式会社")
    company.regions.add(region)
    splicing = make_skill("fibre_splicing")
    east = make_crew(company=company, name="East", home_latitude=35.690, home_longitude=139.80)
    west = make_crew(company=company, name="West", home_latitude=35.690, home_longitude=139.70)
    for crew in (east, west):
        crew.skills.add(splicing)
    jobs = []
    for i, lon in enumerate((139.795, 139.798, 139.702, 139.705)):
        site = make_site(region=region, latitude=35.692 + i * 0.001, longitude=lon)
        job = make_job(site=site, status=JobStatus.READY, duration_minutes=90)
        job.required_skills.add(splicing)
        jobs.append(job)
    return World(region=region, company=company, east_crew=east, west_crew=west, jobs=jobs)
