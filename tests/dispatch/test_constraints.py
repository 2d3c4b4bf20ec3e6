"""The database rejects crews, jobs, plans, visits and reports that break an invariant."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role, User
from dispatch.models import CrewUnavailability, JobReport, PlanStatus
from tests.factories import (
    make_company,
    make_crew,
    make_job,
    make_plan,
    make_user,
    make_visit,
)

pytestmark = pytest.mark.django_db


def assert_rejected(build: Callable[[], object]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        build()


@pytest.mark.parametrize(
    ("rule", "fields"),
    [
        ("no members", {"members": 0}),
        ("shift ends before it starts", {"shift_start": dt.time(17), "shift_end": dt.time(8)}),
        ("shift of zero length", {"shift_start": dt.time(9), "shift_end": dt.time(9)}),
        ("works no weekday", {"working_weekdays": 0}),
        ("weekday mask beyond Sunday", {"working_weekdays": 128}),
        ("zero jobs per day", {"max_jobs_per_day": 0}),
        ("home latitude out of range", {"home_latitude": 95.0}),
        ("home longitude out of range", {"home_longitude": -200.0}),
        ("utilization above 100 %", {"max_utilization_percent": 120}),
    ],
)
def test_crew_invariants_are_enforced_by_the_database(rule: str, fields: dict) -> None:
    assert_rejected(lambda: make_crew(**fields))


def test_crew_names_are_unique_within_a_company_only() -> None:
    company = make_company()
    make_crew(company=company, name="A班")
    make_crew(name="A班")  # another company may use the same name
    assert_rejected(lambda: make_crew(company=company, name="A班"))


def test_working_weekdays_are_a_bit_mask_from_monday() -> None:
    crew = make_crew(working_weekdays=0b0100001)  # Monday and Saturday
    assert crew.working_weekday_numbers == [0, 5]
    assert crew.works_on_weekday(5)
    assert not crew.works_on_weekday(6)


def test_unavailability_must_not_end_before_it_starts() -> None:
    crew = make_crew()
    CrewUnavailability.objects.create(
        crew=crew, start_date=dt.date(2026, 11, 24), end_date=dt.date(2026, 11, 24)
    )
    assert_rejected(
        lambda: CrewUnavailability.objects.create(
            crew=crew, start_date=dt.date(2026, 11, 25), end_date=dt.date(2026, 11, 24)
        )
    )


@pytest.mark.parametrize(
    ("rule", "fields"),
    [
        ("zero duration", {"duration_minutes": 0}),
        ("longer than a day", {"duration_minutes": 24 * 60 + 1}),
        ("no members needed", {"members_needed": 0}),
        ("priority 0", {"priority": 0}),
        ("priority 6", {"priority": 6}),
        ("unknown kind", {"kind": "teleport"}),
        ("unknown status", {"status": "lost"}),
        (
            "earliest date after due date",
            {"earliest_date": dt.date(2026, 11, 27), "due_date": dt.date(2026, 11, 26)},
        ),
        ("time slot with a start only", {"window_start": dt.time(9)}),
        (
            "time slot that ends before it starts",
            {"window_start": dt.time(15), "window_end": dt.time(10)},
        ),
        ("hard due date without a date", {"due_date_is_hard": True}),
        ("blank reference", {"reference": ""}),
    ],
)
def test_job_invariants_are_enforced_by_the_database(rule: str, fields: dict) -> None:
    assert_rejected(lambda: make_job(**fields))


def test_job_references_are_unique() -> None:
    make_job(reference="J-1")
    assert_rejected(lambda: make_job(reference="J-1"))


def test_plan_must_not_end_before_it_starts() -> None:
    assert_rejected(
        lambda: make_plan(start_date=dt.date(2026, 11, 27), end_date=dt.date(2026, 11, 23))
    )


def test_a_published_plan_records_when() -> None:
    assert_rejected(lambda: make_plan(status=PlanStatus.PUBLISHED))
    make_plan(status=PlanStatus.PUBLISHED, published_at=timezone.now())


def test_a_job_is_visited_at_most_once_per_plan() -> None:
    visit = make_visit()
    assert_rejected(lambda: make_visit(plan=visit.plan, job=visit.job, crew=visit.crew, sequence=2))


def test_two_visits_cannot_share_a_position_in_a_route() -> None:
    visit = make_visit()
    assert_rejected(lambda: make_visit(plan=visit.plan, crew=visit.crew, sequence=1))


def test_a_visit_must_end_after_it_starts() -> None:
    start = timezone.make_aware(dt.datetime(2026, 11, 23, 10, 0))
    assert_rejected(lambda: make_visit(planned_start=start, planned_end=start))


def _report(**fields: object) -> JobReport:
    visit = make_visit()
    defaults: dict[str, object] = {"job": visit.job, "visit": visit, "crew": visit.crew}
    return JobReport.objects.create(**{**defaults, **fields})


def test_an_incomplete_report_needs_a_reason() -> None:
    assert_rejected(lambda: _report(kind="incomplete"))
    report = _report(kind="incomplete", reason_code="no_access", reason_text="管理人不在")
    assert report.pk is not None


def test_a_completed_report_carries_no_incomplete_reason() -> None:
    assert_rejected(lambda: _report(kind="completed", reason_code="no_access"))


def test_an_idempotency_key_creates_one_report_per_crew() -> None:
    first = _report(kind="started", idempotency_key="key-1")
    assert_rejected(
        lambda: JobReport.objects.create(
            job=first.job, crew=first.crew, kind="started", idempotency_key="key-1"
        )
    )
    # Reports without a key are never considered duplicates.
    JobReport.objects.create(job=first.job, crew=first.crew, kind="en_route")
    JobReport.objects.create(job=first.job, crew=first.crew, kind="en_route")


def test_a_partner_user_must_belong_to_a_company() -> None:
    assert_rejected(lambda: make_user(role=Role.PARTNER))
    user = make_user(role=Role.PARTNER, partner_company=make_company())
    assert user.is_partner


def test_a_coordinator_is_not_bound_to_a_company() -> None:
    assert_rejected(lambda: make_user(role=Role.COORDINATOR, partner_company=make_company()))


def test_user_roles_are_a_closed_set() -> None:
    assert_rejected(lambda: User.objects.create(username="x", role="admin"))
