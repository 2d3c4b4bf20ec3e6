"""Slot offers during a call drive the configured roads: a far crew offers a later start."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from dispatch.problem import TIME_GRID_S, planning_tz
from dispatch.slots import SlotOffers, slot_offers, slot_request
from dispatch.travel import PLANNER_STRAIGHT_LINE, RoutingUnavailable
from scheduler.model import Location
from scheduler.travel import OsrmError
from tests.factories import make_company, make_crew, make_skill
from tests.support.conftest import Desk
from tests.travel.conftest import FakeOsrm, expected_leg

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2027, 2, 1)
SHIFT_START = dt.time(8, 30)


def ask(desk: Desk) -> SlotOffers:
    skill = make_skill("fault_diagnosis")
    crew = make_crew(company=make_company(name="東都通信工業"), name="A", shift_start=SHIFT_START)
    crew.skills.add(skill)
    request = slot_request(
        site=desk.shibaura,
        skills=["fault_diagnosis"],
        duration_minutes=60,
        days=1,
        first_date=MONDAY,
    )
    return slot_offers(request)


def first_start_after_shift(offers: SlotOffers) -> int:
    """Seconds from the shift start to the first offer's start: the drive from home, on the grid."""
    offer = offers.offers[0]
    shift = dt.datetime.combine(offer.date, SHIFT_START, tzinfo=planning_tz())
    return int((offer.planned_start - shift).total_seconds())


def on_grid(seconds: int) -> int:
    return math.ceil(seconds / TIME_GRID_S) * TIME_GRID_S


def crew_home_and_site(offers: SlotOffers) -> tuple[Location, Location]:
    crew, site = offers.offers[0].crew, offers.request.site
    home = Location(crew.home_latitude, crew.home_longitude)
    return home, Location(site.latitude, site.longitude)  # type: ignore[arg-type]


def test_the_first_slot_starts_after_the_servers_drive_from_home(
    desk: Desk, fake_osrm: FakeOsrm
) -> None:
    offers = ask(desk)
    assert offers.offers, offers.reasons
    home, site = crew_home_and_site(offers)
    assert first_start_after_shift(offers) == on_grid(expected_leg(home, site)[1])
    assert fake_osrm.requests and site in fake_osrm.requests[0]["points"]


def test_straight_lines_stay_the_default_for_slots(desk: Desk, osrm_server: FakeOsrm) -> None:
    offers = ask(desk)
    home, site = crew_home_and_site(offers)
    straight = PLANNER_STRAIGHT_LINE.matrix([home, site]).duration(home, site)
    assert first_start_after_shift(offers) == on_grid(straight)
    assert osrm_server.requests == []


def test_no_slot_is_offered_on_guessed_roads_while_the_service_fails(
    desk: Desk, fake_osrm: FakeOsrm
) -> None:
    fake_osrm.mode = "http_500"
    with pytest.raises(RoutingUnavailable) as refused:
        ask(desk)
    assert refused.value.status == 503
    assert isinstance(refused.value.__cause__, OsrmError)
    assert "answered HTTP 500" in str(refused.value.__cause__)
