"""A new visit slot for a job already in the queue: the visit was not finished, or its slot lapsed.

The customer calls back (or support calls them) to make a new appointment.
The operator opens the site's card, asks for slots for *that* job (its
skills, members, duration, site), books one: the job carries the new
promise, the new slot waits for the coordinator, the earlier booking stays
as the history of what was said on the phone then.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from dispatch.ledger import ledger_problems, live_visits
from dispatch.models import (
    CompanyClosure,
    Crew,
    Job,
    PlanStatus,
    Skill,
    SlotBooking,
    SlotBookingStatus,
)
from dispatch.services import job_report_incomplete, job_transition
from dispatch.slots import (
    JobNotRebookable,
    SlotInputError,
    SlotNotConfirmable,
    SlotRebookedMeanwhile,
    current_slot_booking,
    first_slot_date,
    job_slot_offers,
    slot_confirm,
    slot_offers,
    slot_request,
)
from dispatch.states import JobStatus
from support.models import BookingDecision, Call, MaintenanceBooking
from support.services import call_log, slot_book, slot_rebook
from tests.factories import make_job, make_plan
from tests.support.conftest import Desk
from tests.support.test_api import API, a_call, client
from tests.support.test_slot_offers import crews  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("crews")


def signed_in(user: object) -> Client:
    page = Client()
    page.force_login(user)  # type: ignore[arg-type]
    return page


def publish_plans() -> None:
    """Published plans over the days slots are offered on, so a coordinator can confirm one.

    The first day (where the first visit fails) is its own plan's: that plan
    keeps the visit the crew could not finish as the field's record.
    """
    first = first_slot_date()
    for start, end in (
        (first, first),
        (first + dt.timedelta(days=1), first + dt.timedelta(days=20)),
    ):
        make_plan(
            status=PlanStatus.PUBLISHED,
            start_date=start,
            end_date=end,
            published_at=timezone.now(),
        )


def close_the_failed_day(slot: SlotBooking) -> None:
    """The partner is closed on the failed visit's day: the new slot is on a later one.

    (Offers start tomorrow by the wall clock, and so did the failed visit.)
    """
    CompanyClosure.objects.create(start_date=slot.date, end_date=slot.date, name="棚卸")


def booked(desk: Desk, call: Call) -> SlotBooking:
    """A slot booked from ``call`` (pending), the first one offered."""
    offer = slot_offers(
        slot_request(site=desk.shibaura, skills=["fault_diagnosis"], duration_minutes=60)
    ).offers[0]
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
    return SlotBooking.objects.get(job=booking.job)


def returned_from_the_field(desk: Desk) -> SlotBooking:
    """A slot booked, confirmed and driven to, whose visit the crew could not finish."""
    publish_plans()
    slot = slot_confirm(booking=booked(desk, a_call(desk)), by=desk.coordinator)
    visit = live_visits().get(job=slot.job)
    job_transition(job=slot.job, to_status=JobStatus.DISPATCHED, by=desk.coordinator)
    job_report_incomplete(job=slot.job, crew=visit.crew, visit=visit, reason_code="customer_absent")
    slot.refresh_from_db()
    slot.job.refresh_from_db()
    assert slot.job.status == JobStatus.READY and slot.job.is_returned_from_field
    return slot


def callback(desk: Desk) -> Call:
    """The customer's call asking for a new appointment."""
    return call_log(
        site=desk.shibaura,
        operator=desk.support,
        category="work_request",
        fault_isolation="carrier_side",
        description="不在だったので再訪問の日程を決めたい",
    )


def rebook(desk: Desk, job: Job, **fields: Any) -> SlotBooking:
    offer = job_slot_offers(job).offers[0]
    current = current_slot_booking(job)
    values: dict[str, Any] = {
        "job": job,
        "by": desk.support,
        "crew_id": offer.crew.pk,
        "date": offer.date,
        "window_start": offer.window_start,
        "window_end": offer.window_end,
        "replaces": current.pk if current else None,
    }
    return slot_rebook(**{**values, **fields})


def promise_line(desk: Desk, call: Call) -> str:
    page = signed_in(desk.support).get(reverse("support:desk"), {"site": desk.shibaura.pk})
    text = page.content.decode()
    start = text.index(f'id="call-{call.pk}"')
    start = text.index('class="slot-promise"', start)
    return text[start : text.index("</p>", start)]


# --- the operator's path on the desk ---------------------------------------------


def test_operator_gives_the_returned_job_a_new_slot_which_the_coordinator_confirms(
    desk: Desk,
) -> None:
    old = returned_from_the_field(desk)
    close_the_failed_day(old)
    job = old.job
    call = callback(desk)
    page = signed_in(desk.support)

    card = page.get(reverse("support:desk"), {"site": desk.shibaura.pk}).content.decode()
    assert "New visit slot" in card
    assert reverse("support:job-slot-offers", args=[job.pk]) in card

    offers = page.get(reverse("support:job-slot-offers", args=[job.pk]))
    assert offers.status_code == 200
    entry = next(e for e in offers.context["jobs"] if e["job"].pk == job.pk)
    assert entry["call"] == call.pk  # the newest call, linked unless the operator chooses
    answer = entry["slot"]["answer"]
    assert answer.request.skills == ("fault_diagnosis",)
    assert answer.request.duration_minutes == job.duration_minutes
    assert offers.content.decode().count("Book this slot") == len(answer.offers) > 0
    offer = answer.offers[0]

    done = page.post(
        reverse("support:job-book-slot", args=[job.pk]),
        {
            "crew": offer.crew.pk,
            "date": offer.date.isoformat(),
            "window_start": offer.window_start.strftime("%H:%M"),
            "window_end": offer.window_end.strftime("%H:%M"),
            "replaces": old.pk,
            "call": call.pk,
        },
        follow=True,
    )
    text = done.content.decode()
    assert "Tell the customer" in text and job.reference in text

    new = current_slot_booking(job)
    assert new is not None and new.pk != old.pk
    assert new.status == SlotBookingStatus.PENDING
    assert (new.crew_id, new.date, new.window_start) == (
        offer.crew.pk,
        offer.date,
        offer.window_start,
    )
    job.refresh_from_db()
    assert job.promise_is_hard
    assert job.preferred_dates == [offer.date.isoformat()]
    assert (job.window_start, job.window_end) == (offer.window_start, offer.window_end)
    # The call is linked to the job it rebooked, and its line shows the new promise.
    assert MaintenanceBooking.objects.get(call=call).decision == BookingDecision.ATTACHED
    line = promise_line(desk, call)
    assert offer.window_start.strftime("%H:%M") in line
    assert "Waiting for the coordinator" in line

    slot_confirm(booking=new, by=desk.coordinator)
    new.refresh_from_db()
    job.refresh_from_db()
    assert new.status == SlotBookingStatus.LIVE
    assert job.status == JobStatus.SCHEDULED
    assert live_visits().get(job=job).planned_start == new.planned_start
    assert "On the live schedule" in promise_line(desk, call)
    assert ledger_problems() == []


def test_the_earlier_booking_stays_as_history_and_the_card_lists_it(desk: Desk) -> None:
    old = returned_from_the_field(desk)
    said = (old.date, old.window_start, old.window_end, old.booked_by_id, old.visit_id)

    new = rebook(desk, old.job)

    old.refresh_from_db()
    assert old.status == SlotBookingStatus.REPLACED
    assert (old.date, old.window_start, old.window_end, old.booked_by_id, old.visit_id) == said
    assert list(SlotBooking.objects.filter(job=old.job).order_by("pk")) == [old, new]
    card = signed_in(desk.support).get(reverse("support:desk"), {"site": desk.shibaura.pk})
    text = card.content.decode()
    assert "Earlier promise" in text and "Replaced by a new slot" in text
    assert old.window_start.strftime("%H:%M") in text


def test_a_job_has_one_current_booking_whatever_the_code_path(desk: Desk) -> None:
    slot = booked(desk, a_call(desk))
    with pytest.raises(IntegrityError), transaction.atomic():
        SlotBooking.objects.create(
            job=slot.job,
            crew=slot.crew,
            date=slot.date,
            planned_start=slot.planned_start,
            planned_end=slot.planned_end,
            window_start=slot.window_start,
            window_end=slot.window_end,
            booked_by=desk.support,
        )


def test_a_maintenance_job_whose_held_slot_lapsed_gets_a_new_one(desk: Desk) -> None:
    """Booked on a call, never confirmed, and its day went by: the customer is called back."""
    old = booked(desk, a_call(desk))
    gone = timezone.localdate() - dt.timedelta(days=2)
    SlotBooking.objects.filter(pk=old.pk).update(date=gone)

    new = rebook(desk, old.job)

    old.refresh_from_db()
    assert old.status == SlotBookingStatus.REPLACED
    assert new.status == SlotBookingStatus.PENDING and new.date > gone
    job = Job.objects.get(pk=old.job_id)
    assert job.earliest_date is not None and job.earliest_date <= new.date


def test_moving_a_held_slot_frees_the_old_one_and_the_job_is_offered_its_own_crew_day(
    desk: Desk,
) -> None:
    """Its own held slot does not stand in the job's way; after the move it holds nothing."""
    Crew.objects.update(max_jobs_per_day=1)
    old = booked(desk, a_call(desk))
    days = {(o.crew.pk, o.date) for o in job_slot_offers(old.job).offers}
    assert (old.crew_id, old.date) in days

    new = rebook(desk, old.job, crew_id=old.crew_id, date=old.date)
    assert (new.crew_id, new.date) == (old.crew_id, old.date)
    request = slot_request(site=desk.shibaura, skills=["fault_diagnosis"], duration_minutes=60)
    others = {(o.crew.pk, o.date) for o in slot_offers(request).offers}
    assert (old.crew_id, old.date) not in others  # held once, by the new booking


def test_with_the_setting_the_new_slot_goes_live_at_once(desk: Desk) -> None:
    old = returned_from_the_field(desk)
    close_the_failed_day(old)
    with override_settings(SLOT_BOOKING_PUBLISHES=True):
        new = rebook(desk, old.job)
    assert new.status == SlotBookingStatus.LIVE
    assert live_visits().filter(job=old.job).count() == 1
    assert ledger_problems() == []


def test_a_new_slot_in_the_plan_that_keeps_the_failed_visit_waits_for_its_revision(
    desk: Desk,
) -> None:
    """A plan holds one visit per job: confirming there is refused, clearly, and nothing moves."""
    old = returned_from_the_field(desk)
    new = rebook(desk, old.job, crew_id=old.crew_id, date=old.date)
    with pytest.raises(SlotNotConfirmable) as caught:
        slot_confirm(booking=new, by=desk.coordinator)
    assert "revise that plan" in str(caught.value)
    new.refresh_from_db()
    assert new.status == SlotBookingStatus.PENDING
    assert not live_visits().filter(job=old.job).exists()
    assert ledger_problems() == []


# --- refusals ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "why"),
    [
        (JobStatus.SCHEDULED, "on the live schedule"),
        (JobStatus.IN_PROGRESS, "in progress"),
        (JobStatus.COMPLETED, "done"),
        (JobStatus.CANCELLED, "cancelled"),
        (JobStatus.AWAITING_PERMISSION, "not waiting"),
    ],
)
def test_only_a_job_waiting_in_the_queue_is_booked_again(desk: Desk, status: str, why: str) -> None:
    old = booked(desk, a_call(desk))
    Job.objects.filter(pk=old.job_id).update(status=status)
    job = Job.objects.get(pk=old.job_id)
    offer = slot_offers(
        slot_request(site=desk.shibaura, skills=["fault_diagnosis"], duration_minutes=60)
    ).offers[-1]
    with pytest.raises(JobNotRebookable) as caught:
        slot_rebook(
            job=job,
            by=desk.support,
            crew_id=offer.crew.pk,
            date=offer.date,
            window_start=offer.window_start,
            window_end=offer.window_end,
            replaces=old.pk,
        )
    assert caught.value.status == 409 and caught.value.field == "job"
    assert why in str(caught.value)
    assert list(SlotBooking.objects.filter(job=job)) == [old]
    old.refresh_from_db()
    assert old.status == SlotBookingStatus.PENDING


def test_two_operators_rebooking_one_job_one_wins_the_other_is_told(desk: Desk) -> None:
    """Both saw the same current booking; under the lock the second finds it replaced."""
    old = returned_from_the_field(desk)
    first = rebook(desk, old.job)
    offer = job_slot_offers(old.job).offers[-1]
    with pytest.raises(SlotRebookedMeanwhile) as caught:
        slot_rebook(
            job=old.job,
            by=desk.support,
            crew_id=offer.crew.pk,
            date=offer.date,
            window_start=offer.window_start,
            window_end=offer.window_end,
            replaces=old.pk,
        )
    assert caught.value.status == 409 and caught.value.field == "replaces"
    assert caught.value.details["current_slot"] == first.pk
    assert current_slot_booking(old.job) == first
    assert SlotBooking.objects.filter(job=old.job).count() == 2


# --- the API ----------------------------------------------------------------------


def test_api_offers_for_the_job_then_books_one_replacing_the_earlier(desk: Desk) -> None:
    old = returned_from_the_field(desk)
    call = callback(desk)
    url = f"{API}/jobs/{old.job_id}"

    answer = client(desk.support).post(f"{url}/slot-offers/", {}, format="json")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["skills"] == ["fault_diagnosis"] and body["offers"]
    assert body["job"]["reference"] == old.job.reference
    assert body["current_slot"]["id"] == old.pk
    offer = body["offers"][0]

    booked_now = client(desk.support).post(
        f"{url}/book-slot/",
        {
            "crew": offer["crew"]["id"],
            "date": offer["date"],
            "window_start": offer["window_start"],
            "window_end": offer["window_end"],
            "replaces": old.pk,
            "call": call.pk,
        },
        format="json",
    )
    assert booked_now.status_code == 201, booked_now.content
    result = booked_now.json()
    assert result["slot"]["status"] == "pending"
    assert (result["slot"]["date"], result["slot"]["window_start"]) == (
        offer["date"],
        offer["window_start"],
    )
    assert result["replaced"]["id"] == old.pk and result["replaced"]["status"] == "replaced"
    assert result["booking"]["decision"] == "attached"
    assert result["booking"]["job"] == old.job_id

    again = client(desk.support).post(
        f"{url}/book-slot/",
        {
            "crew": offer["crew"]["id"],
            "date": offer["date"],
            "window_start": offer["window_start"],
            "window_end": offer["window_end"],
            "replaces": old.pk,
        },
        format="json",
    )
    assert again.status_code == 409, again.content
    error = again.json()["error"]
    assert error["code"] == "rebooked_meanwhile" and "replaces" in error["fields"]
    assert error["current_slot"] == result["slot"]["id"]


def test_api_refuses_a_cancelled_job_in_english_and_japanese(desk: Desk) -> None:
    old = returned_from_the_field(desk)
    offer = job_slot_offers(old.job).offers[0]
    job_transition(job=old.job, to_status=JobStatus.CANCELLED, by=desk.coordinator)
    body = {
        "crew": offer.crew.pk,
        "date": offer.date.isoformat(),
        "window_start": offer.window_start.strftime("%H:%M"),
        "window_end": offer.window_end.strftime("%H:%M"),
        "replaces": old.pk,
    }
    url = f"{API}/jobs/{old.job_id}/book-slot/"
    english = client(desk.support).post(url, body, format="json")
    assert english.status_code == 409, english.content
    error = english.json()["error"]
    assert error["code"] == "job_not_rebookable" and error["current_status"] == "cancelled"
    assert "cancelled" in error["fields"]["job"][0]
    japanese = client(desk.support).post(url, body, format="json", HTTP_ACCEPT_LANGUAGE="ja")
    assert japanese.status_code == 409
    assert "キャンセル" in japanese.json()["error"]["fields"]["job"][0]
    offers = client(desk.support).post(f"{API}/jobs/{old.job_id}/slot-offers/", {}, format="json")
    assert offers.status_code == 409
    assert offers.json()["error"]["code"] == "job_not_rebookable"


def test_api_booking_is_supports_offers_are_read_by_coordinators_not_partners(
    desk: Desk,
) -> None:
    old = returned_from_the_field(desk)
    url = f"{API}/jobs/{old.job_id}"
    assert (
        client(desk.coordinator).post(f"{url}/slot-offers/", {}, format="json").status_code == 200
    )
    assert client(desk.partner).post(f"{url}/slot-offers/", {}, format="json").status_code == 403
    offer = job_slot_offers(old.job).offers[0]
    body = {
        "crew": offer.crew.pk,
        "date": offer.date.isoformat(),
        "window_start": offer.window_start.strftime("%H:%M"),
        "window_end": offer.window_end.strftime("%H:%M"),
        "replaces": old.pk,
    }
    assert (
        client(desk.coordinator).post(f"{url}/book-slot/", body, format="json").status_code == 403
    )
    missing = client(desk.support).post(
        f"{url}/book-slot/", {k: v for k, v in body.items() if k != "replaces"}, format="json"
    )
    assert missing.status_code == 400 and "replaces" in missing.json()["error"]["fields"]
    assert SlotBooking.objects.filter(job=old.job).count() == 1


def test_api_a_call_of_another_site_is_a_400_naming_it(desk: Desk) -> None:
    old = returned_from_the_field(desk)
    elsewhere = call_log(
        site=desk.marunouchi,
        operator=desk.support,
        category="no_connection",
        fault_isolation="carrier_side",
        description="別のビル",
    )
    offer = job_slot_offers(old.job).offers[0]
    response = client(desk.support).post(
        f"{API}/jobs/{old.job_id}/book-slot/",
        {
            "crew": offer.crew.pk,
            "date": offer.date.isoformat(),
            "window_start": offer.window_start.strftime("%H:%M"),
            "window_end": offer.window_end.strftime("%H:%M"),
            "replaces": old.pk,
            "call": elsewhere.pk,
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "call" in response.json()["error"]["fields"]
    assert current_slot_booking(old.job) == old


def test_an_installation_is_offered_and_booked_no_earlier_than_its_earliest_date(
    desk: Desk,
) -> None:
    """Its earliest date is the coordinators' (the line is not there before): it holds."""
    later = first_slot_date() + dt.timedelta(days=3)
    job = make_job(
        site=desk.shibaura, status=JobStatus.READY, duration_minutes=60, earliest_date=later
    )
    job.required_skills.add(Skill.objects.get(code="fault_diagnosis"))

    offers = job_slot_offers(job).offers
    assert offers and min(o.date for o in offers) >= later

    early = slot_offers(
        slot_request(site=desk.shibaura, skills=["fault_diagnosis"], duration_minutes=60)
    ).offers[0]
    assert early.date < later
    with pytest.raises(SlotInputError) as refused:
        slot_rebook(
            job=job,
            by=desk.support,
            crew_id=early.crew.pk,
            date=early.date,
            window_start=early.window_start,
            window_end=early.window_end,
            replaces=None,
        )
    assert refused.value.field == "date"
    job.refresh_from_db()
    assert (job.earliest_date, current_slot_booking(job)) == (later, None)
