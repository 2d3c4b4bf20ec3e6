"""Booking a maintenance visit from a call: a ready job that the coordinators see at once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from dispatch.models import JobStatusChange
from dispatch.problem import plan_candidate_jobs
from dispatch.states import JobKind, JobStatus
from support.models import Call, MaintenanceBooking
from support.services import AlreadyBooked, call_amend, call_log, maintenance_book
from tests.factories import make_plan
from tests.support.conftest import Desk


@pytest.fixture
def call(desk: Desk) -> Call:
    return call_log(
        site=desk.shibaura,
        contract=desk.yamada,
        operator=desk.support,
        category="no_connection",
        fault_isolation="carrier_side",
        description="MCのLOSランプ赤。光ケーブル断の疑い。3F EPS内を確認願います。",
        caller_name="山田 太郎",
        caller_phone="03-1234-5678",
    )


def book(call: Call, desk: Desk, **fields: object) -> MaintenanceBooking:
    today = timezone.localdate()
    values: dict = {"priority": 5, "due_date": today + dt.timedelta(days=3)}
    return maintenance_book(call=call, by=desk.support, **{**values, **fields})


def test_the_booked_job_is_a_ready_maintenance_visit_at_the_calls_site(
    desk: Desk, call: Call
) -> None:
    booking = book(call, desk)
    job = booking.job
    assert job.kind == JobKind.MAINTENANCE
    assert job.status == JobStatus.READY
    assert job.site == desk.shibaura and job.contract == desk.yamada
    assert job.priority == 5
    assert job.due_date == timezone.localdate() + dt.timedelta(days=3)
    assert job.earliest_date == timezone.localdate()
    assert job.work_instructions.startswith(call.description)
    assert f"#{call.pk}" in job.work_instructions and "山田 太郎" in job.work_instructions


def test_the_job_lands_in_the_coordinators_queue_of_unscheduled_jobs_at_once(
    desk: Desk, call: Call
) -> None:
    today = timezone.localdate()
    next_week = make_plan(
        start_date=today + dt.timedelta(days=1),
        end_date=today + dt.timedelta(days=5),
        region=desk.region,
    )
    job = book(call, desk).job
    assert job in plan_candidate_jobs(next_week)


def test_its_history_says_who_booked_it_from_which_call(desk: Desk, call: Call) -> None:
    job = book(call, desk).job
    step = JobStatusChange.objects.get(job=job)
    assert (step.from_status, step.to_status) == (JobStatus.NEW, JobStatus.READY)
    assert step.changed_by == desk.support
    assert step.note == f"booked from call #{call.pk}"


def test_the_amended_description_is_what_the_crew_reads(desk: Desk, call: Call) -> None:
    call_amend(
        call=call, author=desk.support, text="症状を訂正",
        corrections={"description": "ONUの電源が入らない。電源アダプタ交換を。"},
    )  # fmt: skip
    job = book(call, desk).job
    assert job.work_instructions.startswith("ONUの電源が入らない。")


def test_a_call_books_one_visit_however_often_the_button_is_pressed(desk: Desk, call: Call) -> None:
    first = book(call, desk)
    with pytest.raises(AlreadyBooked) as error:
        book(call, desk, priority=3)
    assert error.value.booking.job_id == first.job_id
    assert MaintenanceBooking.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"priority": 0}, "priority"),
        ({"priority": 6}, "priority"),
        ({"due_date": dt.date(2000, 1, 1)}, "due_date"),
        ({"earliest_date": dt.date(2100, 1, 1)}, "earliest_date"),
        ({"duration_minutes": 0}, "duration_minutes"),
    ],
)
def test_a_booking_that_breaks_a_rule_is_refused_and_creates_nothing(
    desk: Desk, call: Call, fields: dict, bad_field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        book(call, desk, **fields)
    assert bad_field in error.value.message_dict
    assert not MaintenanceBooking.objects.exists()
