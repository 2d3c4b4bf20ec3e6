"""The slot endpoints: offers for support and coordinators, booking for support, 400/403/409."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from dispatch.models import Crew, SlotBooking
from support.models import Call, MaintenanceBooking
from tests.support.conftest import Desk
from tests.support.test_api import API, a_call, assert_field_error, client
from tests.support.test_slot_offers import crews  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("crews")

BODY = {"skills": ["fault_diagnosis"], "duration_minutes": 60, "days": 7}


@pytest.fixture
def call(desk: Desk) -> Call:
    return a_call(desk)


def offers(desk: Desk, call: Call, user: Any = None, **body: Any) -> Any:
    return client(user or desk.support).post(
        f"{API}/calls/{call.pk}/slot-offers/", {**BODY, **body}, format="json"
    )


def book_body(offer: dict) -> dict:
    return {
        **BODY,
        "crew": offer["crew"]["id"],
        "date": offer["date"],
        "window_start": offer["window_start"],
        "window_end": offer["window_end"],
    }


def test_support_gets_three_slots_with_company_and_window(desk: Desk, call: Call) -> None:
    response = offers(desk, call)
    assert response.status_code == 200, response.content
    body = response.json()
    assert len(body["offers"]) == 3
    first = body["offers"][0]
    assert first["company"]["name"] == "東都通信工業"
    assert first["window_start"] < first["start"] < first["window_end"]
    assert body["summary"] == "" and body["reasons"] == []


def test_coordinators_may_read_offers_partners_may_not(desk: Desk, call: Call) -> None:
    assert offers(desk, call, desk.coordinator).status_code == 200
    assert offers(desk, call, desk.partner).status_code == 403
    body = book_body(offers(desk, call).json()["offers"][0])
    assert (
        client(desk.coordinator)
        .post(f"{API}/calls/{call.pk}/book-slot/", body, format="json")
        .status_code
        == 403
    )
    assert (
        client(desk.partner)
        .post(f"{API}/calls/{call.pk}/book-slot/", body, format="json")
        .status_code
        == 403
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("duration_minutes", 0), ("duration_minutes", "x"), ("days", 0), ("skills", ["juggling"])],
)
def test_bad_input_is_a_400_naming_the_field(
    desk: Desk, call: Call, field: str, value: Any
) -> None:
    assert_field_error(offers(desk, call, **{field: value}), field)


def test_no_slot_says_why_in_words(desk: Desk, call: Call) -> None:
    from tests.factories import make_skill

    make_skill("night_work")
    body = offers(desk, call, skills=["night_work"]).json()
    assert body["offers"] == []
    assert body["summary"]
    assert body["reasons"][0]["rule"] == "skill"
    assert body["reasons"][0]["message"]


def test_booking_then_booking_the_same_slot_again_is_a_409_slot_taken(
    desk: Desk, call: Call
) -> None:
    Crew.objects.update(max_jobs_per_day=1)
    offer = offers(desk, call).json()["offers"][0]
    response = client(desk.support).post(
        f"{API}/calls/{call.pk}/book-slot/", book_body(offer), format="json"
    )
    assert response.status_code == 201, response.content
    slot = response.json()["slot"]
    assert slot["status"] == "pending"
    assert (slot["date"], slot["window_start"]) == (offer["date"], offer["window_start"])
    assert response.json()["booking"]["job_reference"].startswith("MNT-")

    other = a_call(desk)
    again = client(desk.support).post(
        f"{API}/calls/{other.pk}/book-slot/",
        {**book_body(offer), "create_anyway": True, "reason": "別回線"},
        format="json",
    )
    assert again.status_code == 409, again.content
    error = again.json()["error"]
    assert error["code"] == "slot_taken"
    assert error["offers"] and all(
        (o["crew"]["id"], o["date"]) != (offer["crew"]["id"], offer["date"])
        for o in error["offers"]
    )
    assert SlotBooking.objects.count() == 1


def test_booking_twice_from_one_call_is_already_booked(desk: Desk, call: Call) -> None:
    offer = offers(desk, call).json()["offers"][0]
    url = f"{API}/calls/{call.pk}/book-slot/"
    assert client(desk.support).post(url, book_body(offer), format="json").status_code == 201
    second = offers(desk, call).json()["offers"][0]
    response = client(desk.support).post(url, book_body(second), format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_booked"
    assert SlotBooking.objects.count() == 1


def test_a_bad_window_is_a_400(desk: Desk, call: Call) -> None:
    offer = offers(desk, call).json()["offers"][0]
    body = {**book_body(offer), "window_end": offer["window_start"]}
    response = client(desk.support).post(f"{API}/calls/{call.pk}/book-slot/", body, format="json")
    assert_field_error(response, "window_end")


@pytest.mark.parametrize("days_ago", [0, 1])
def test_a_slot_today_or_earlier_is_a_400_naming_the_date_and_nothing_is_booked(
    desk: Desk, call: Call, days_ago: int
) -> None:
    """Today's crews are already out and its morning may be over: offers start tomorrow,
    so a booking for today (or a day gone) would promise the customer a time the
    schedule cannot keep."""
    offer = offers(desk, call).json()["offers"][0]
    today = timezone.localdate() - dt.timedelta(days=days_ago)
    body = {**book_body(offer), "date": today.isoformat()}

    response = client(desk.support).post(f"{API}/calls/{call.pk}/book-slot/", body, format="json")

    assert_field_error(response, "date")
    assert SlotBooking.objects.count() == 0
    assert not MaintenanceBooking.objects.filter(call=call).exists()
