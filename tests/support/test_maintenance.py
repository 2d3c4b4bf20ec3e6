"""Booking a maintenance visit from a call: a ready job that the coordinators see at once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from dispatch.models import Job, JobStatusChange, PlanStatus
from dispatch.problem import plan_candidate_jobs
from dispatch.states import JobKind, JobStatus
from sites.models import Contract, Site
from support.models import BookingDecision, Call, MaintenanceBooking
from support.selectors import open_jobs_for
from support.services import (
    AlreadyBooked,
    DuplicateBooking,
    call_amend,
    call_log,
    maintenance_book,
)
from tests.factories import make_plan, make_visit
from tests.support.conftest import Desk, a_job


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


# --- no silent duplicates: open jobs of the contract or site ------------------


def another_call(desk: Desk, *, contract: Contract | None = None, site: Site | None = None) -> Call:
    return call_log(
        site=site or desk.shibaura, contract=contract, operator=desk.support,
        category="no_connection", description="また繋がらない",
    )  # fmt: skip


def test_no_open_job_books_a_new_job_as_before(desk: Desk, call: Call) -> None:
    a_job(desk.marunouchi, contract=desk.sato)  # another customer's building
    booking = book(call, desk)
    assert booking.decision == BookingDecision.CREATED and booking.reason == ""
    assert Job.objects.filter(site=desk.shibaura).count() == 1


def test_a_second_call_about_the_same_contract_is_stopped_by_the_first_calls_job(
    desk: Desk, call: Call
) -> None:
    first = book(call, desk).job
    second = another_call(desk, contract=desk.yamada)
    with pytest.raises(DuplicateBooking) as error:
        book(second, desk)
    assert error.value.code == "open_job_exists"
    assert error.value.matched_by == "contract"
    assert [item.job for item in error.value.open_jobs] == [first]
    assert Job.objects.count() == 1 and not MaintenanceBooking.objects.filter(call=second).exists()


def test_without_a_contract_an_open_job_at_the_same_site_counts(desk: Desk) -> None:
    building = a_job(desk.shibaura, kind=JobKind.NEW_LINE, reference="NL-0001")
    with pytest.raises(DuplicateBooking) as error:
        book(another_call(desk), desk)
    assert error.value.matched_by == "site"
    assert error.value.as_dicts() == [
        {"id": building.pk, "reference": "NL-0001", "kind": "new_line", "status": "ready",
         "scheduled_date": None},
    ]  # fmt: skip


def test_a_visit_booked_from_a_call_without_a_contract_stops_a_later_call_naming_it(
    desk: Desk,
) -> None:
    """The first operator found the building but not the contract; the second found both.

    The first call's job (no contract, at the contract's site) is the open
    visit the second call must see: looking at the contract's jobs only
    booked a second visit to the same customer.
    """
    first = book(another_call(desk), desk).job
    assert first.contract is None

    with pytest.raises(DuplicateBooking) as error:
        book(another_call(desk, contract=desk.yamada), desk)

    assert [item.job for item in error.value.open_jobs] == [first]
    assert Job.objects.count() == 1


def test_a_job_of_another_contract_in_the_same_building_does_not_stop_the_call(
    desk: Desk, call: Call
) -> None:
    a_job(desk.shibaura, contract=desk.sato)  # another tenant of the building
    booking = book(call, desk)
    assert booking.decision == BookingDecision.CREATED


@pytest.mark.parametrize(
    "status",
    [JobStatus.NEW, JobStatus.READY, JobStatus.SCHEDULED, JobStatus.DISPATCHED,
     JobStatus.IN_PROGRESS, JobStatus.INCOMPLETE],
)  # fmt: skip
def test_a_job_in_any_status_short_of_completed_is_open(
    desk: Desk, call: Call, status: str
) -> None:
    a_job(desk.shibaura, contract=desk.yamada, status=status)
    with pytest.raises(DuplicateBooking):
        book(call, desk)


@pytest.mark.parametrize(
    "status", [JobStatus.COMPLETED, JobStatus.HANDED_OVER, JobStatus.CANCELLED]
)
def test_a_completed_handed_over_or_cancelled_job_does_not_count(
    desk: Desk, call: Call, status: str
) -> None:
    closed = a_job(desk.shibaura, contract=desk.yamada, status=status)
    booking = book(call, desk)
    assert booking.decision == BookingDecision.CREATED and booking.job != closed


def visit_on(job: Job, day: dt.date, **plan: object) -> None:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(9)))
    week = make_plan(start_date=day, end_date=day + dt.timedelta(days=4), **plan)
    make_visit(job=job, plan=week, date=day, planned_start=start,
               planned_end=start + dt.timedelta(hours=1))  # fmt: skip


def test_an_open_job_shows_the_day_of_its_published_visit_not_of_a_draft(desk: Desk) -> None:
    today = timezone.localdate()
    job = a_job(desk.shibaura, contract=desk.yamada, status=JobStatus.SCHEDULED)
    visit_on(job, today + dt.timedelta(days=1))  # a draft nobody has published
    assert open_jobs_for(site=desk.shibaura, contract=desk.yamada)[0].scheduled_date is None
    visit_on(job, today + dt.timedelta(days=2), status=PlanStatus.PUBLISHED,
             published_at=timezone.now())  # fmt: skip
    found = open_jobs_for(site=desk.shibaura, contract=desk.yamada)
    assert found[0].scheduled_date == today + dt.timedelta(days=2)


def test_attaching_the_call_to_the_open_job_links_it_and_creates_no_job(
    desk: Desk, call: Call
) -> None:
    open_job = a_job(desk.shibaura, contract=desk.yamada)
    booking = maintenance_book(call=call, by=desk.support, attach_to_job=open_job.pk)
    assert booking.job == open_job and booking.decision == BookingDecision.ATTACHED
    assert (booking.booked_by, booking.reason) == (desk.support, "")
    assert Job.objects.count() == 1
    assert Call.objects.get(pk=call.pk).booking == booking


def test_several_calls_may_be_attached_to_the_job_one_call_created(desk: Desk, call: Call) -> None:
    job = book(call, desk).job
    for _ in range(2):
        maintenance_book(call=another_call(desk, contract=desk.yamada), by=desk.support,
                         attach_to_job=job.pk)  # fmt: skip
    assert job.support_bookings.count() == 3 and Job.objects.count() == 1


@pytest.mark.parametrize("elsewhere", ["another_site", "closed", "unknown"])
def test_attaching_to_a_job_that_is_not_open_here_is_refused(
    desk: Desk, call: Call, elsewhere: str
) -> None:
    a_job(desk.shibaura, contract=desk.yamada)
    target = {
        "another_site": lambda: a_job(desk.marunouchi, contract=desk.sato).pk,
        "closed": lambda: a_job(desk.shibaura, contract=desk.yamada,
                                status=JobStatus.COMPLETED).pk,
        "unknown": lambda: 999_999,
    }[elsewhere]()  # fmt: skip
    with pytest.raises(ValidationError) as error:
        maintenance_book(call=call, by=desk.support, attach_to_job=target)
    assert "attach_to_job" in error.value.message_dict
    assert not MaintenanceBooking.objects.exists()


def test_creating_anyway_with_a_reason_books_a_second_job_and_records_the_choice(
    desk: Desk, call: Call
) -> None:
    open_job = a_job(desk.shibaura, contract=desk.yamada, reference="NL-0042")
    booking = book(call, desk, create_anyway=True, reason="  別フロアの別回線の障害  ")
    assert booking.job != open_job and Job.objects.count() == 2
    assert booking.decision == BookingDecision.CREATED_ANYWAY
    assert (booking.reason, booking.booked_by) == ("別フロアの別回線の障害", desk.support)
    step = JobStatusChange.objects.get(job=booking.job)
    assert step.changed_by == desk.support
    assert (
        step.note
        == f"booked from call #{call.pk}, a new job beside open NL-0042: 別フロアの別回線の障害"
    )


@pytest.mark.parametrize("reason", ["", "   "])
def test_creating_anyway_without_a_reason_is_refused(desk: Desk, call: Call, reason: str) -> None:
    a_job(desk.shibaura, contract=desk.yamada)
    with pytest.raises(ValidationError) as error:
        book(call, desk, create_anyway=True, reason=reason)
    assert "reason" in error.value.message_dict
    assert Job.objects.count() == 1


def test_attaching_and_creating_anyway_at_once_is_refused(desk: Desk, call: Call) -> None:
    open_job = a_job(desk.shibaura, contract=desk.yamada)
    with pytest.raises(ValidationError) as error:
        book(call, desk, attach_to_job=open_job.pk, create_anyway=True, reason="念のため")
    assert {"attach_to_job", "create_anyway"} <= set(error.value.message_dict)
    assert not MaintenanceBooking.objects.exists()
