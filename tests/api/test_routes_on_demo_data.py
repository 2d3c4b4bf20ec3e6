"""A partner's daily route on the demo week: what a crew's app actually receives."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tokens import token_create
from dispatch.models import Plan, Visit

pytestmark = pytest.mark.django_db

MONDAY = "2026-11-23"  # 勤労感謝の日, a national holiday: nobody works
TUESDAY = "2026-11-24"


@pytest.fixture
def published_demo_week() -> Plan:
    call_command("seed_demo", "--week-start", MONDAY, stdout=StringIO())
    call_command("plan_week", start=MONDAY, time_limit=3, publish=True, stdout=StringIO())
    return Plan.objects.get(status="published")


def test_the_demo_week_of_the_holiday_plans_nothing_on_the_holiday(
    published_demo_week: Plan,
) -> None:
    assert Visit.objects.filter(plan=published_demo_week).exists()
    assert not Visit.objects.filter(plan=published_demo_week, date=MONDAY).exists()
    partner = User.objects.get(username="partner1")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(user=partner, name='t')[1]}")
    response = client.get(f"/api/v1/routes/?date={MONDAY}")
    assert response.status_code == 200
    routes = response.json()["routes"] if isinstance(response.json(), dict) else response.json()
    assert all(not route["stops"] for route in routes)


def test_every_demo_visit_keeps_its_buildings_hours_the_grid_and_a_lunch(
    published_demo_week: Plan,
) -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from dispatch.calendars import WorkCalendar
    from dispatch.models import PlannedBreak
    from sites.access import AccessHours, visit_fits

    tokyo = ZoneInfo("Asia/Tokyo")
    visits = list(Visit.objects.filter(plan=published_demo_week).select_related("job__site"))
    calendar = WorkCalendar.load([], min(v.date for v in visits), max(v.date for v in visits))
    restricted = 0
    for visit in visits:
        start, end = visit.planned_start.astimezone(tokyo), visit.planned_end.astimezone(tokyo)
        assert start.second == 0 and start.minute % 5 == 0, visit
        hours = AccessHours.from_json(visit.job.site.access_hours)
        if hours.is_unrestricted or visit.job.status != "scheduled":
            continue
        restricted += 1
        assert visit_fits(
            hours, visit.date.weekday(), calendar.is_holiday(visit.date), start.time(), end.time()
        ), (visit, hours.describe())
    assert restricted > 10, "the demo should exercise buildings' access hours"
    days = {(v.crew_id, v.date) for v in visits}
    lunches = {
        (b.crew_id, b.date): b for b in PlannedBreak.objects.filter(plan=published_demo_week)
    }
    assert set(lunches) == days
    for lunch in lunches.values():
        start = lunch.start.astimezone(tokyo)
        assert dt.time(11, 30) <= start.time() <= dt.time(13, 30)
        assert lunch.end - lunch.start == dt.timedelta(minutes=60)


def test_partner1_pulls_its_tuesday_routes_with_everything_a_crew_needs(
    published_demo_week: Plan,
) -> None:
    partner = User.objects.get(username="partner1")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(user=partner, name='t')[1]}")
    response = client.get(f"/api/v1/routes/?date={TUESDAY}")
    assert response.status_code == 200
    routes = response.json()["routes"] if isinstance(response.json(), dict) else response.json()
    expected = Visit.objects.filter(
        plan=published_demo_week, crew__company=partner.partner_company, date=TUESDAY
    )
    assert sum(len(route["stops"]) for route in routes) == expected.count() > 0
    for route in routes:
        starts = [stop["planned_start"] for stop in route["stops"]]
        assert starts == sorted(starts)
        for stop in route["stops"]:
            assert stop["site"]["address"]
            assert stop["site"]["latitude"] and stop["site"]["longitude"]
            assert stop["planned_start"].endswith("+09:00")
            assert stop["job"]["work_instructions"]
            assert stop["map_url"].startswith("https://www.openstreetmap.org/")
        assert route["totals"]["stops"] == len(route["stops"])
    crews = {route["crew"]["id"] for route in routes}
    assert crews <= set(partner.partner_company.crews.values_list("id", flat=True))
