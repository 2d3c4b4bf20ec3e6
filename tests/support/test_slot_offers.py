"""Visit slots offered during a call: the live schedule's earliest gaps, booked atomically.

A small world: three crews of one partner company that can diagnose faults,
one that cannot, and the week of Monday 2027-02-01. Every offer is checked
with the scheduler's validator on the live schedule it was found in, and no
live visit ever moves.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

import scheduler
from dispatch import texts
from dispatch.ledger import ledger_problems, live_visits
from dispatch.models import (
    CompanyClosure,
    Crew,
    CrewUnavailability,
    Job,
    JobStatus,
    Plan,
    PlanStatus,
    SlotBooking,
    SlotBookingStatus,
    Visit,
)
from dispatch.slots import (
    NEW_JOB,
    SlotInputError,
    SlotTaken,
    _serving_crews,
    _world,
    pending_slots,
    slot_confirm,
    slot_offers,
    slot_request,
)
from scheduler.insertion import find_insertions
from support.models import Call, MaintenanceBooking
from support.services import call_log, slot_book
from tests.factories import make_company, make_crew, make_plan, make_skill, make_visit
from tests.support.conftest import Desk

MONDAY = dt.date(2027, 2, 1)
TUESDAY = MONDAY + dt.timedelta(days=1)


@pytest.fixture
def crews(desk: Desk) -> list[Crew]:
    skill = make_skill("fault_diagnosis")
    company = make_company(name="東都通信工業")
    fault = []
    for name in ("A", "B", "C"):
        crew = make_crew(company=company, name=name, members=2, max_jobs_per_day=2)
        crew.skills.add(skill)
        fault.append(crew)
    make_crew(company=company, name="plain")
    return fault


def ask(desk: Desk, **fields: object):
    values: dict = {
        "site": desk.shibaura,
        "skills": ["fault_diagnosis"],
        "duration_minutes": 60,
        "days": 5,
        "first_date": MONDAY,
    }
    return slot_offers(slot_request(**{**values, **fields}))


def assert_validated(desk: Desk, answer) -> None:
    """Re-find the offers in the world they came from: the validator accepts each route."""
    request = answer.request
    world = _world(
        request,
        crews=_serving_crews(request.site),
        dates=tuple(answer.first_date + dt.timedelta(days=i) for i in range(request.days)),
    )
    found = find_insertions(world.problem, world.routes, NEW_JOB).insertions
    assert len(found) == len(answer.offers)
    travel = scheduler.travel_for(world.problem)
    for insertion in found:
        violations = scheduler.validate_route(
            world.problem, insertion.crew_id, insertion.day, insertion.job_ids, travel
        )
        assert violations == [], [v.message for v in violations]


def publish_visit(crew: Crew, date: dt.date, start_h: int, hours: int = 2) -> Visit:
    plan = Plan.objects.filter(status=PlanStatus.PUBLISHED).first() or make_plan(
        status=PlanStatus.PUBLISHED,
        start_date=MONDAY,
        end_date=MONDAY + dt.timedelta(days=4),
        published_at=timezone.now(),
    )
    sequence = 1 + Visit.objects.filter(plan=plan, crew=crew, date=date).count()
    start = timezone.make_aware(dt.datetime.combine(date, dt.time(start_h)))
    return make_visit(
        plan=plan,
        crew=crew,
        date=date,
        planned_start=start,
        planned_end=start + dt.timedelta(hours=hours),
        sequence=sequence,
    )


@pytest.fixture
def call(desk: Desk) -> Call:
    return call_log(
        site=desk.shibaura,
        contract=desk.yamada,
        operator=desk.support,
        category="no_connection",
        fault_isolation="carrier_side",
        description="MCのLOSランプ赤。",
    )


def test_three_earliest_slots_one_per_crew_day_with_the_skill(
    desk: Desk, crews: list[Crew]
) -> None:
    answer = ask(desk)
    assert [o.date for o in answer.offers] == [MONDAY] * 3
    assert {o.crew.name for o in answer.offers} == {"A", "B", "C"}
    first = answer.offers[0]
    assert (
        first.window_start
        < first.planned_start.astimezone(timezone.get_current_timezone()).time()
        < first.window_end
    )
    assert_validated(desk, answer)


def test_a_full_published_day_is_skipped_and_nothing_live_moves(
    desk: Desk, crews: list[Crew]
) -> None:
    before = {}
    for crew in crews:
        for start in (9, 13):
            visit = publish_visit(crew, MONDAY, start)
            before[visit.pk] = (visit.crew_id, visit.date, visit.planned_start)
    answer = ask(desk)
    assert [o.date for o in answer.offers] == [TUESDAY] * 3
    assert_validated(desk, answer)
    after = {v.pk: (v.crew_id, v.date, v.planned_start) for v in live_visits()}
    assert after == before


def test_closed_days_and_absences_are_never_offered(desk: Desk, crews: list[Crew]) -> None:
    CompanyClosure.objects.create(start_date=MONDAY, end_date=MONDAY, name="棚卸")
    CrewUnavailability.objects.create(crew=crews[0], start_date=TUESDAY, end_date=TUESDAY)
    answer = ask(desk)
    assert [(o.crew.name, o.date) for o in answer.offers] == [
        ("B", TUESDAY),
        ("C", TUESDAY),
        ("A", TUESDAY + dt.timedelta(days=1)),
    ]
    assert_validated(desk, answer)


def test_the_buildings_access_hours_bound_the_visit(desk: Desk, crews: list[Crew]) -> None:
    desk.shibaura.access_hours = [{"days": [0, 1, 2, 3, 4], "opens": "14:00", "closes": "16:00"}]
    desk.shibaura.save()
    answer = ask(desk)
    tz = timezone.get_current_timezone()
    for offer in answer.offers:
        assert dt.time(14) <= offer.planned_start.astimezone(tz).time()
        assert offer.planned_end.astimezone(tz).time() <= dt.time(16)
    assert_validated(desk, answer)


def test_no_crew_with_the_skill_says_why_in_words(desk: Desk, crews: list[Crew]) -> None:
    make_skill("night_work")
    answer = ask(desk, skills=["night_work"])
    assert answer.offers == ()
    assert [row["rule"] for row in answer.reasons] == ["skill"]
    assert "night_work" in answer.reasons[0]["message"] or answer.reason_texts()
    assert answer.summary().startswith("No free slot from")


def test_longer_than_the_buildings_hours_says_so(desk: Desk, crews: list[Crew]) -> None:
    desk.shibaura.access_hours = [{"days": [0, 1, 2, 3, 4], "opens": "14:00", "closes": "15:00"}]
    desk.shibaura.save()
    answer = ask(desk, duration_minutes=120)
    assert answer.offers == ()
    assert [row["rule"] for row in answer.reasons] == ["access"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("duration_minutes", 0), ("duration_minutes", "abc"), ("days", 999), ("members", 0)],
)
def test_bad_input_names_its_field(
    desk: Desk, crews: list[Crew], field: str, value: object
) -> None:
    with pytest.raises(SlotInputError) as caught:
        ask(desk, **{field: value})
    assert caught.value.field == field


def test_unknown_skill_is_refused(desk: Desk, crews: list[Crew]) -> None:
    with pytest.raises(SlotInputError) as caught:
        ask(desk, skills=["juggling"])
    assert caught.value.field == "skills"


def book(desk: Desk, call: Call, offer, **fields: object) -> MaintenanceBooking:
    values: dict = {
        "call": call,
        "by": desk.support,
        "crew_id": offer.crew.pk,
        "date": offer.date,
        "window_start": offer.window_start,
        "window_end": offer.window_end,
        "skills": ["fault_diagnosis"],
        "duration_minutes": 60,
    }
    return slot_book(**{**values, **fields})


def test_booking_a_slot_holds_it_with_the_promise_on_the_job(
    desk: Desk, crews: list[Crew], call: Call
) -> None:
    offer = ask(desk).offers[0]
    booking = book(desk, call, offer)
    job = booking.job
    assert job.status == JobStatus.READY
    assert job.promise_is_hard
    assert job.preferred_dates == [offer.date.isoformat()]
    assert (job.window_start, job.window_end) == (offer.window_start, offer.window_end)
    assert list(job.required_skills.values_list("code", flat=True)) == ["fault_diagnosis"]
    held = SlotBooking.objects.get(job=job)
    assert held.status == SlotBookingStatus.PENDING
    assert (held.crew_id, held.date) == (offer.crew.pk, offer.date)
    # The next caller is offered around the held slot.
    again = ask(desk)
    assert all(
        (o.crew.pk, o.planned_start) != (offer.crew.pk, offer.planned_start) for o in again.offers
    )


def test_a_slot_taken_meanwhile_is_refused_and_nothing_is_written(
    desk: Desk, crews: list[Crew], call: Call
) -> None:
    Crew.objects.update(max_jobs_per_day=1)
    offer = ask(desk).offers[0]
    book(desk, call, offer)
    second = call_log(
        site=desk.shibaura,
        operator=desk.support,
        category="no_connection",
        fault_isolation="carrier_side",
        description="もう一件",
    )
    with pytest.raises(SlotTaken) as caught:
        book(desk, second, offer, create_anyway=True, reason="別回線")
    assert caught.value.status == 409
    assert caught.value.code == "slot_taken"
    assert caught.value.details["offers"]  # fresh offers for the operator
    assert not MaintenanceBooking.objects.filter(call=second).exists()
    assert SlotBooking.objects.count() == 1


def test_the_coordinator_confirms_the_slot_onto_the_live_schedule(
    desk: Desk, crews: list[Crew], call: Call
) -> None:
    existing = publish_visit(crews[0], MONDAY, 15)
    offer = ask(desk).offers[0]
    booking = book(desk, call, offer)
    held = SlotBooking.objects.get(job=booking.job)
    slot_confirm(booking=held, by=desk.coordinator)
    held.refresh_from_db()
    assert held.status == SlotBookingStatus.LIVE
    visit = live_visits().get(job=booking.job)
    assert visit.planned_start == offer.planned_start
    assert visit.locked
    booking.job.refresh_from_db()
    assert booking.job.status == JobStatus.SCHEDULED
    existing_after = Visit.objects.get(pk=existing.pk)
    assert existing_after.planned_start == existing.planned_start
    assert ledger_problems() == []


def test_with_the_setting_a_booked_slot_goes_live_at_once(
    desk: Desk, crews: list[Crew], call: Call
) -> None:
    publish_visit(crews[0], MONDAY, 15)
    offer = ask(desk).offers[0]
    with override_settings(SLOT_BOOKING_PUBLISHES=True):
        booking = book(desk, call, offer)
    assert SlotBooking.objects.get(job=booking.job).status == SlotBookingStatus.LIVE
    assert live_visits().filter(job=booking.job).exists()
    assert ledger_problems() == []


def test_a_cancelled_job_frees_its_held_slot(desk: Desk, crews: list[Crew], call: Call) -> None:
    Crew.objects.update(max_jobs_per_day=1)
    offer = ask(desk).offers[0]
    booking = book(desk, call, offer)
    assert (offer.crew.pk, offer.date) not in {(o.crew.pk, o.date) for o in ask(desk).offers}
    Job.objects.filter(pk=booking.job_id).update(status=JobStatus.CANCELLED)
    assert (offer.crew.pk, offer.date) in {(o.crew.pk, o.date) for o in ask(desk).offers}
    assert pending_slots(start=MONDAY, end=MONDAY + dt.timedelta(days=4)) == []


def test_a_published_lunch_stays_where_the_crew_was_told(desk: Desk, crews: list[Crew]) -> None:
    """The lunch is on the partner's route like the visits: offers fit around it, never move it."""
    from dispatch.models import PlannedBreak

    tz = timezone.get_current_timezone()
    lunch_start = dt.datetime.combine(MONDAY, dt.time(11, 0), tzinfo=tz)
    for crew in crews:
        visit = publish_visit(crew, MONDAY, 9)  # 09:00-11:00, then lunch 11:00-12:00
        PlannedBreak.objects.create(
            plan=visit.plan,
            crew=crew,
            date=MONDAY,
            start=lunch_start,
            end=lunch_start + dt.timedelta(hours=1),
        )
    answer = ask(desk, days=1)

    assert answer.offers
    for offer in answer.offers:
        assert offer.planned_start >= lunch_start + dt.timedelta(hours=1)
    assert_validated(desk, answer)
    assert set(PlannedBreak.objects.values_list("start", flat=True)) == {lunch_start}


def test_a_slot_confirmed_while_the_plan_is_being_revised_stays_live_when_it_is_published(
    desk: Desk, crews: list[Crew], call: Call
) -> None:
    """Support books a visit into the live week while the coordinator reworks that week.

    The revision was copied before the slot went live; publishing it must not
    silently take the customer's promised visit off the schedule.
    """
    from dispatch.plans import plan_publish, plan_revise

    existing = publish_visit(crews[0], MONDAY, 15)
    Job.objects.filter(pk=existing.job_id).update(status=JobStatus.SCHEDULED)
    revision = plan_revise(plan=existing.plan)
    version = revision.version
    offer = ask(desk).offers[0]
    booking = book(desk, call, offer)
    slot_confirm(booking=SlotBooking.objects.get(job=booking.job), by=desk.coordinator)

    copy = Visit.objects.get(plan=revision, job=booking.job)
    assert (copy.crew_id, copy.date, copy.planned_start) == (
        offer.crew.pk,
        offer.date,
        offer.planned_start,
    )
    assert copy.locked  # the customer was promised it: Optimize keeps it there
    day = Visit.objects.filter(plan=revision, crew_id=copy.crew_id, date=copy.date)
    starts = list(day.order_by("sequence").values_list("planned_start", flat=True))
    assert starts == sorted(starts)  # in time order on its crew-day
    revision.refresh_from_db()
    assert revision.version == version + 1  # a running optimization will not overwrite it
    plan_publish(plan=revision)
    assert live_visits().get(job=booking.job).plan_id == revision.pk
    booking.job.refresh_from_db()
    assert booking.job.status == JobStatus.SCHEDULED
    assert ledger_problems() == []


def test_a_slot_whose_job_was_cancelled_meanwhile_is_not_put_on_the_schedule(
    desk: Desk, crews: list[Crew], call: Call
) -> None:
    """The coordinator's board was loaded before the customer called back to cancel."""
    from dispatch.services import job_transition
    from dispatch.slots import SlotNotConfirmable

    publish_visit(crews[0], MONDAY, 15)
    booking = book(desk, call, ask(desk).offers[0])
    on_the_board = SlotBooking.objects.get(job=booking.job)
    job_transition(job=booking.job, to_status=JobStatus.CANCELLED, by=desk.support)

    with pytest.raises(SlotNotConfirmable) as caught:
        slot_confirm(booking=on_the_board, by=desk.coordinator)

    assert caught.value.status == 409
    assert not Visit.objects.filter(job=booking.job).exists()  # no crew drives to it
    booking.job.refresh_from_db()
    assert booking.job.status == JobStatus.CANCELLED
    assert SlotBooking.objects.get(job=booking.job).status == SlotBookingStatus.PENDING
    assert ledger_problems() == []


def test_a_slot_whose_day_has_passed_is_not_put_on_the_schedule(
    desk: Desk, crews: list[Crew], call: Call
) -> None:
    """Confirmed too late: the day is the field's record, no crew went there."""
    from dispatch.slots import SlotNotConfirmable

    publish_visit(crews[0], MONDAY, 15)
    booking = book(desk, call, ask(desk).offers[0])
    held = SlotBooking.objects.get(job=booking.job)

    with override_settings(PLANNING_TODAY=TUESDAY), pytest.raises(SlotNotConfirmable) as caught:
        slot_confirm(booking=held, by=desk.coordinator)

    assert caught.value.status == 409
    assert not Visit.objects.filter(job=booking.job).exists()
    booking.job.refresh_from_db()
    assert booking.job.status == JobStatus.READY  # still in the coordinators' queue


def test_a_slot_confirmed_on_its_own_day_still_goes_live(
    desk: Desk, crews: list[Crew], call: Call
) -> None:
    publish_visit(crews[0], MONDAY, 15)
    booking = book(desk, call, ask(desk).offers[0])

    with override_settings(PLANNING_TODAY=MONDAY):
        slot_confirm(booking=SlotBooking.objects.get(job=booking.job), by=desk.coordinator)

    assert live_visits().filter(job=booking.job).exists()


def publish_plan_with(desk: Desk, job: Job, crew: Crew, start: dt.datetime) -> Plan:
    """The coordinator optimizes the week and publishes it: the job goes live with ``crew``."""
    from dispatch.plans import plan_publish

    plan = make_plan(
        status=PlanStatus.PROPOSED, start_date=MONDAY, end_date=MONDAY + dt.timedelta(days=4)
    )
    make_visit(
        plan=plan,
        job=job,
        crew=crew,
        date=start.date(),
        planned_start=start,
        planned_end=start + dt.timedelta(minutes=job.duration_minutes),
    )
    return plan_publish(plan=plan, by=desk.coordinator)


def test_a_held_slot_whose_job_a_publication_put_elsewhere_holds_nothing_any_more(
    desk: Desk, crews: list[Crew], call: Call
) -> None:
    """The week was optimized and published before the slot was confirmed, with crew B.

    Crew A's day is free again: the next caller is offered it, and booking
    it must not be refused as "taken" by the first call's slot.
    """
    Crew.objects.update(max_jobs_per_day=1)
    first = ask(desk).offers[0]
    booking = book(desk, call, first)
    other = next(crew for crew in crews if crew.pk != first.crew.pk)
    publish_plan_with(desk, booking.job, other, first.planned_start)

    second = call_log(
        site=desk.shibaura,
        operator=desk.support,
        category="no_connection",
        fault_isolation="carrier_side",
        description="別のフロアも繋がらない",
    )
    again = next(o for o in ask(desk).offers if (o.crew.pk, o.date) == (first.crew.pk, MONDAY))
    booked = book(desk, second, again, create_anyway=True, reason="別フロアの回線")

    assert SlotBooking.objects.get(job=booked.job).crew_id == first.crew.pk


def test_a_slot_that_went_live_by_publication_does_not_come_back_after_a_failed_visit(
    desk: Desk, crews: list[Crew], call: Call
) -> None:
    """The crew could not finish: the job goes to the queue, not back onto the failed day."""
    from dispatch.services import job_report_incomplete, job_transition
    from dispatch.slots import SlotNotConfirmable

    first = ask(desk).offers[0]
    booking = book(desk, call, first)
    publish_plan_with(desk, booking.job, first.crew, first.planned_start)
    visit = live_visits().get(job=booking.job)

    job_transition(job=booking.job, to_status=JobStatus.DISPATCHED, by=desk.coordinator)
    job_report_incomplete(
        job=booking.job, crew=visit.crew, visit=visit, reason_code="no_access", by=desk.coordinator
    )

    assert pending_slots(start=MONDAY, end=MONDAY + dt.timedelta(days=4)) == []
    with pytest.raises(SlotNotConfirmable):  # a board loaded before the publication
        slot_confirm(booking=SlotBooking.objects.get(job=booking.job), by=desk.coordinator)
    assert not live_visits().filter(job=booking.job).exists()


def test_a_confirmed_slot_takes_its_time_in_the_revision_from_what_was_only_proposed_there(
    desk: Desk, crews: list[Crew], call: Call
) -> None:
    """The revision, re-optimized, proposes a queued job in the gap the customer was promised.

    Publishing the revision keeps the customer's visit; the proposal that
    overlapped it goes back to the revision's queue, saying why, instead of
    both going live on top of each other.
    """
    from dispatch.plans import plan_publish, plan_revise
    from tests.support.conftest import a_job

    existing = publish_visit(crews[0], MONDAY, 15)
    Job.objects.filter(pk=existing.job_id).update(status=JobStatus.SCHEDULED)
    revision = plan_revise(plan=existing.plan)
    offer = next(o for o in ask(desk).offers if o.crew.pk == crews[0].pk)
    queued = a_job(desk.marunouchi, duration_minutes=60)
    Visit.objects.filter(plan=revision, job=existing.job).update(sequence=2)
    make_visit(
        plan=revision,
        job=queued,
        crew=crews[0],
        date=MONDAY,
        sequence=1,
        planned_start=offer.planned_start,
        planned_end=offer.planned_start + dt.timedelta(minutes=60),
    )
    booking = book(desk, call, offer)
    slot_confirm(booking=SlotBooking.objects.get(job=booking.job), by=desk.coordinator)

    assert not Visit.objects.filter(plan=revision, job=queued).exists()
    revision.refresh_from_db()
    (row,) = [row for row in revision.unassigned if row["job_id"] == queued.pk]
    start = offer.planned_start.astimezone(timezone.get_current_timezone())
    when = f"{texts.day_label(MONDAY)} {start:%H:%M}"
    assert texts.render_row(row["reasons"][0]) == (
        f"gave way to a visit slot promised to a customer: A at {when}; place it again"
    )
    plan_publish(plan=revision, by=desk.coordinator)
    assert live_visits().get(job=booking.job).planned_start == offer.planned_start
    assert ledger_problems() == []
    queued.refresh_from_db()
    assert queued.status == JobStatus.READY
