"""A support operator on the phone asks for slots while the routing service is down:
the page and the API say so plainly (503), they never crash and never guess a road."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from support.models import Call
from tests.support.conftest import Desk
from tests.support.test_api import a_call
from tests.support.test_slot_offers import crews  # noqa: F401  (fixture)
from tests.support.test_slot_pages import QUERY, signed_in
from tests.travel.conftest import FakeOsrm

pytestmark = pytest.mark.usefixtures("crews")


@pytest.fixture
def call(desk: Desk) -> Call:
    return a_call(desk)


def test_the_slot_page_says_the_routing_service_is_down(
    desk: Desk, call: Call, fake_osrm: FakeOsrm
) -> None:
    fake_osrm.mode = "http_500"
    page = signed_in(desk.support).get(reverse("support:slot-offers", args=[call.pk]), QUERY)
    assert page.status_code == 200  # the desk page stays up, the slot step says why
    assert "the routing service is unavailable" in page.content.decode()
    assert "Book this slot" not in page.content.decode()


def test_the_slot_api_answers_503_routing_unavailable(
    desk: Desk, call: Call, fake_osrm: FakeOsrm
) -> None:
    fake_osrm.mode = "no_table"
    client = APIClient()
    client.force_authenticate(desk.support)
    body = {"skills": ["fault_diagnosis"], "duration_minutes": 60, "days": 7}
    response = client.post(f"/api/v1/support/calls/{call.pk}/slot-offers/", body, format="json")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "routing_unavailable"
    assert "NoTable" not in response.content.decode()  # the cause is for the log


def test_the_slot_page_answers_from_the_fake_roads_when_the_service_is_up(
    desk: Desk, call: Call, fake_osrm: FakeOsrm
) -> None:
    page = signed_in(desk.support).get(reverse("support:slot-offers", args=[call.pk]), QUERY)
    assert page.status_code == 200
    assert "Book this slot" in page.content.decode()
    assert fake_osrm.requests
