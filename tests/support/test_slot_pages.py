"""The desk's "Offer visit slots" step and the board's list of booked slots, without a browser."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from dispatch.models import SlotBooking, SlotBookingStatus
from support.models import Call
from tests.support.conftest import Desk
from tests.support.test_api import a_call
from tests.support.test_slot_offers import crews  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("crews")

QUERY: dict[str, Any] = {
    "kind": "fault_diagnosis",
    "skills": ["fault_diagnosis"],
    "duration_minutes": 60,
    "members": 1,
    "days": 7,
}


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


@pytest.fixture
def call(desk: Desk) -> Call:
    return a_call(desk)


def test_the_card_offers_the_slot_step_preset_by_the_calls_category(desk: Desk, call: Call) -> None:
    page = signed_in(desk.support).get(reverse("support:desk"), {"site": desk.shibaura.pk})
    html = page.content.decode()
    assert "Offer visit slots" in html
    assert (
        'value="fault_diagnosis" data-skills="fault_diagnosis" data-minutes="60" selected' in html
    )


def test_offers_then_booking_tells_what_to_say_to_the_customer(desk: Desk, call: Call) -> None:
    client = signed_in(desk.support)
    page = client.get(reverse("support:slot-offers", args=[call.pk]), QUERY)
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("Book this slot") == 3
    offer = page.context["calls"][0]["slot"]["answer"].offers[0]
    response = client.post(
        reverse("support:book-slot", args=[call.pk]),
        {
            "crew": offer.crew.pk,
            "date": offer.date.isoformat(),
            "window_start": offer.window_start.strftime("%H:%M"),
            "window_end": offer.window_end.strftime("%H:%M"),
            **QUERY,
        },
        follow=True,
    )
    text = response.content.decode()
    assert "Tell the customer" in text
    assert offer.window_start.strftime("%H:%M") in text
    assert "Promised to the customer" in text
    assert SlotBooking.objects.get().status == SlotBookingStatus.PENDING


def test_bad_duration_is_shown_on_the_form(desk: Desk, call: Call) -> None:
    page = signed_in(desk.support).get(
        reverse("support:slot-offers", args=[call.pk]), {**QUERY, "duration_minutes": 0}
    )
    assert page.status_code == 400


def test_partners_cannot_ask_for_slots(desk: Desk, call: Call) -> None:
    page = signed_in(desk.partner).get(reverse("support:slot-offers", args=[call.pk]), QUERY)
    assert page.status_code == 403


def book_and_confirm(desk: Desk, call: Call) -> SlotBooking:
    """An offered slot booked from the call and confirmed onto the live schedule."""
    import datetime as dt

    from django.utils import timezone

    from dispatch.models import PlanStatus
    from dispatch.slots import slot_confirm, slot_offers, slot_request
    from support.services import slot_book
    from tests.factories import make_plan

    offer = slot_offers(
        slot_request(site=desk.shibaura, skills=["fault_diagnosis"], duration_minutes=60)
    ).offers[0]
    make_plan(
        status=PlanStatus.PUBLISHED,
        start_date=offer.date,
        end_date=offer.date + dt.timedelta(days=4),
        published_at=timezone.now(),
    )
    booking = slot_book(
        call=call,
        by=desk.support,
        crew_id=offer.crew.pk,
        date=offer.date,
        window_start=offer.window_start,
        window_end=offer.window_end,
        skills=["fault_diagnosis"],
        duration_minutes=60,
    )
    return slot_confirm(booking=SlotBooking.objects.get(job=booking.job), by=desk.coordinator)


def promise_line(desk: Desk) -> str:
    html = signed_in(desk.support).get(reverse("support:desk"), {"site": desk.shibaura.pk})
    text = html.content.decode()
    start = text.index('class="slot-promise"')
    return text[start : text.index("</p>", start)]


def test_the_promise_says_on_the_live_schedule_while_the_visit_is(desk: Desk, call: Call) -> None:
    book_and_confirm(desk, call)
    assert "On the live schedule" in promise_line(desk)


def test_the_promise_no_longer_says_on_the_schedule_once_the_crew_could_not_finish(
    desk: Desk, call: Call
) -> None:
    """The customer calls back after the failed visit: the operator must not say it is still on."""
    from dispatch.ledger import live_visits
    from dispatch.services import job_report_incomplete, job_transition
    from dispatch.states import JobStatus

    slot = book_and_confirm(desk, call)
    visit = live_visits().get(job=slot.job)
    job_transition(job=slot.job, to_status=JobStatus.DISPATCHED, by=desk.coordinator)
    job_report_incomplete(job=slot.job, crew=visit.crew, visit=visit, reason_code="customer_absent")

    line = promise_line(desk)
    assert "On the live schedule" not in line
    assert "Off the schedule" in line


def test_the_promise_no_longer_says_on_the_schedule_once_the_job_is_cancelled(
    desk: Desk, call: Call
) -> None:
    from dispatch.services import job_transition
    from dispatch.states import JobStatus

    slot = book_and_confirm(desk, call)
    job_transition(job=slot.job, to_status=JobStatus.CANCELLED, by=desk.coordinator)

    line = promise_line(desk)
    assert "On the live schedule" not in line
    assert "Off the schedule" in line
