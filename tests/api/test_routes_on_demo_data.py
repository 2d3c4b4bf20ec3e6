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

MONDAY = "2026-11-23"


@pytest.fixture
def published_demo_week() -> Plan:
    call_command("seed_demo", "--week-start", MONDAY, stdout=StringIO())
    call_command("plan_week", start=MONDAY, time_limit=3, publish=True, stdout=StringIO())
    return Plan.objects.get(status="published")


def test_partner1_pulls_its_monday_routes_with_everything_a_crew_needs(
    published_demo_week: Plan,
) -> None:
    partner = User.objects.get(username="partner1")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(user=partner, name='t')[1]}")
    response = client.get(f"/api/v1/routes/?date={MONDAY}")
    assert response.status_code == 200
    routes = response.json()["routes"] if isinstance(response.json(), dict) else response.json()
    expected = Visit.objects.filter(
        plan=published_demo_week, crew__company=partner.partner_company, date=MONDAY
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
