"""Tiny builders for test data: valid by default, every field overridable.

Plain functions instead of a factory library: a reader sees in one screen
what a "valid crew" or a "valid job" is.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from accounts.models import Role, User
from dispatch.models import Crew, Job, LiveRoute, PartnerCompany, Plan, PlanStatus, Skill, Visit
from dispatch.states import JobKind
from sites.models import Contract, Customer, GeocodeStatus, Site, SiteSurvey

_counter = itertools.count(1)


def _n() -> int:
    return next(_counter)


def make_site(**fields: Any) -> Site:
    defaults: dict[str, Any] = {
        "name": f"芝浦第{_n()}ビル",
        "address": "東京都港区芝浦3丁目4-1",
        "postal_code": "1080023",
        "prefecture": "東京都",
        "city": "港区",
        "latitude": 35.6425,
        "longitude": 139.7480,
        "geocode_status": GeocodeStatus.MANUAL,
    }
    return Site.objects.create(**{**defaults, **fields})


def make_customer(**fields: Any) -> Customer:
    defaults = {"name": f"株式会社テスト{_n()}", "name_kana": "カブシキガイシャテスト"}
    return Customer.objects.create(**{**defaults, **fields})


def make_contract(**fields: Any) -> Contract:
    n = _n()
    defaults: dict[str, Any] = {"contract_id": f"C-TEST-{n:06d}", "circuit_id": f"CIR-{n:06d}"}
    if "customer" not in fields:
        defaults["customer"] = make_customer()
    return Contract.objects.create(**{**defaults, **fields})


def make_survey(site: Site, **fields: Any) -> SiteSurvey:
    """A finished survey that asks for no permissions: the site is ready to build on."""
    defaults: dict[str, Any] = {
        # Long ago, so a test's own surveys are always the latest.
        "surveyed_on": dt.date(2024, 4, 1),
        "surveyor": "山田",
        "distance_to_base_station_m": 300,
    }
    return SiteSurvey.objects.create(site=site, **{**defaults, **fields})


def make_company(**fields: Any) -> PartnerCompany:
    return PartnerCompany.objects.create(**{"name": f"テスト通信工業{_n()}", **fields})


def make_skill(code: str = "fibre_splicing") -> Skill:
    skill, _ = Skill.objects.get_or_create(code=code, defaults={"name": code.replace("_", " ")})
    return skill


def make_crew(**fields: Any) -> Crew:
    defaults: dict[str, Any] = {
        "name": f"Crew {_n()}",
        "home_latitude": 35.6812,
        "home_longitude": 139.7671,
    }
    if "company" not in fields:
        defaults["company"] = make_company()
    return Crew.objects.create(**{**defaults, **fields})


def make_job(*, surveyed: bool = True, **fields: Any) -> Job:
    """A job at a site; by default the site is surveyed and needs no permission."""
    defaults: dict[str, Any] = {
        "reference": f"J-{_n():06d}",
        "kind": JobKind.NEW_LINE,
        "duration_minutes": 120,
    }
    if "site" not in fields:
        defaults["site"] = make_site()
    job = Job.objects.create(**{**defaults, **fields})
    if surveyed and not job.site.surveys.exists():
        make_survey(job.site)
    return job


def make_plan(**fields: Any) -> Plan:
    defaults = {
        "name": f"Week {_n()}",
        "start_date": dt.date(2026, 11, 23),
        "end_date": dt.date(2026, 11, 27),
    }
    return Plan.objects.create(**{**defaults, **fields})


def make_visit(**fields: Any) -> Visit:
    start = timezone.make_aware(dt.datetime(2026, 11, 23, 9, 0))
    defaults: dict[str, Any] = {
        "date": dt.date(2026, 11, 23),
        "sequence": 1,
        "planned_start": start,
        "planned_end": start + dt.timedelta(hours=2),
    }
    if "plan" not in fields:
        defaults["plan"] = make_plan()
    if "job" not in fields:
        defaults["job"] = make_job()
    if "crew" not in fields:
        defaults["crew"] = make_crew()
    return go_live_if_published(Visit.objects.create(**{**defaults, **fields}))


def retire_by_hand(plan: Plan, status: str = PlanStatus.SUPERSEDED) -> None:
    """Set a fixture's published plan to ``status`` and take its visits off the live schedule.

    For tests that start from "nothing is live"; the app itself only retires
    a plan by publishing its replacement.
    """
    Visit.objects.filter(plan=plan).update(route=None)
    LiveRoute.objects.filter(plan=plan).delete()
    Plan.objects.filter(pk=plan.pk).update(status=status)
    plan.refresh_from_db()


def go_live_if_published(visit: Visit) -> Visit:
    """A visit made straight into a published plan is live, as publishing would make it.

    Fixtures build published plans row by row; the partner-facing reads only
    see the live schedule (``dispatch.ledger``), so the fixture puts the visit
    on its crew-day's route.
    """
    if visit.plan.status != PlanStatus.PUBLISHED:
        return visit
    route, _ = LiveRoute.objects.get_or_create(
        crew=visit.crew, date=visit.date, defaults={"plan": visit.plan}
    )
    Visit.objects.filter(pk=visit.pk).update(route=route)
    visit.refresh_from_db()
    return visit


def make_user(role: str = Role.COORDINATOR, **fields: Any) -> User:
    return User.objects.create_user(
        username=fields.pop("username", f"user{_n()}"),
        password=fields.pop("password", "pw"),
        role=role,
        **fields,
    )
