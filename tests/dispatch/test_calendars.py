"""Which days a crew works (dispatch/calendars.py): each kind of closed day, respected and violated.

The tiny world: company A's Mon–Fri crew "A1" and company B's crew "B1", around
勤労感謝の日 (Monday 2026-11-23) and 年末年始.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import translation

from dispatch.calendars import ClosedDay, WorkCalendar, closed_reason
from dispatch.models import (
    CompanyClosure,
    Crew,
    CrewUnavailability,
    CrewWorkingDay,
    PartnerClosure,
)
from tests.factories import make_company, make_crew

LABOR_THANKSGIVING = dt.date(2026, 11, 23)  # a Monday and a national holiday
TUESDAY = dt.date(2026, 11, 24)
SATURDAY = dt.date(2026, 11, 28)

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew_a() -> Crew:
    return make_crew(name="A1", company=make_company(name="A通信工業"))


@pytest.fixture
def crew_b() -> Crew:
    return make_crew(name="B1", company=make_company(name="B電設"))


def code(crew: Crew, day: dt.date) -> str | None:
    reason = closed_reason(crew, day)
    return reason.code if reason else None


# --- national holidays ------------------------------------------------------------


def test_a_national_holiday_is_closed(crew_a: Crew) -> None:
    with translation.override("ja"):
        assert closed_reason(crew_a, LABOR_THANKSGIVING) == ClosedDay(
            "holiday", "祝日: 勤労感謝の日"
        )
    with translation.override("en"):
        assert closed_reason(crew_a, LABOR_THANKSGIVING) == ClosedDay(
            "holiday", "national holiday Labor Thanksgiving Day"
        )


def test_a_crew_marked_working_on_a_holiday_works(crew_a: Crew) -> None:
    CrewWorkingDay.objects.create(crew=crew_a, date=LABOR_THANKSGIVING, note="緊急対応")
    assert closed_reason(crew_a, LABOR_THANKSGIVING) is None


def test_an_ordinary_weekday_is_open(crew_a: Crew) -> None:
    assert closed_reason(crew_a, TUESDAY) is None


def test_holiday_names_follow_the_active_language(crew_a: Crew) -> None:
    calendar = WorkCalendar.load([crew_a], LABOR_THANKSGIVING, TUESDAY)
    with translation.override("ja"):
        assert calendar.holiday_name(LABOR_THANKSGIVING) == "勤労感謝の日"
    with translation.override("en"):
        assert calendar.holiday_name(LABOR_THANKSGIVING) == "Labor Thanksgiving Day"
    assert calendar.holiday_name(TUESDAY) is None


def test_substitute_holidays_come_from_the_package_too(crew_a: Crew) -> None:
    """2026-05-06 is 振替休日 (Constitution Day fell on a Sunday): nobody typed it in."""
    with translation.override("ja"):
        assert code(crew_a, dt.date(2026, 5, 6)) == "holiday"


# --- company closures -------------------------------------------------------------


def test_a_company_closure_closes_every_day_of_it(crew_a: Crew, crew_b: Crew) -> None:
    CompanyClosure.objects.create(
        start_date=dt.date(2026, 12, 29), end_date=dt.date(2027, 1, 3), name="年末年始"
    )
    calendar = WorkCalendar.load([crew_a, crew_b], dt.date(2026, 12, 28), dt.date(2027, 1, 4))
    assert calendar.closed(crew_a.pk, dt.date(2026, 12, 28)) is None
    assert calendar.closed(crew_a.pk, dt.date(2026, 12, 29)) == ClosedDay(
        "company", "company closed: 年末年始"
    )
    assert calendar.closed(crew_b.pk, dt.date(2026, 12, 30)).code == "company"  # type: ignore[union-attr]
    assert calendar.company_closure(dt.date(2027, 1, 3)) == "年末年始"
    assert calendar.closed(crew_a.pk, dt.date(2027, 1, 4)) is None
    assert calendar.company_closure(dt.date(2027, 1, 4)) is None


def test_a_crew_marked_working_in_a_company_closure_works(crew_a: Crew) -> None:
    CompanyClosure.objects.create(
        start_date=dt.date(2026, 12, 29), end_date=dt.date(2027, 1, 3), name="年末年始"
    )
    CrewWorkingDay.objects.create(crew=crew_a, date=dt.date(2026, 12, 30))
    assert code(crew_a, dt.date(2026, 12, 30)) is None
    assert code(crew_a, dt.date(2026, 12, 29)) == "company"


def test_a_company_closure_is_not_a_national_holiday(crew_a: Crew) -> None:
    """Buildings' 祝日 access hours follow the law, not our closures."""
    CompanyClosure.objects.create(
        start_date=dt.date(2026, 12, 29), end_date=dt.date(2027, 1, 3), name="年末年始"
    )
    calendar = WorkCalendar.load([crew_a], dt.date(2026, 12, 29), dt.date(2027, 1, 1))
    assert not calendar.is_holiday(dt.date(2026, 12, 29))
    assert calendar.is_holiday(dt.date(2027, 1, 1))  # 元日 is both


def test_the_day_labels_show_the_holiday_and_the_closure(crew_a: Crew) -> None:
    CompanyClosure.objects.create(
        start_date=dt.date(2026, 12, 29), end_date=dt.date(2027, 1, 3), name="年末年始"
    )
    calendar = WorkCalendar.load([crew_a], dt.date(2026, 12, 28), dt.date(2027, 1, 1))
    with translation.override("ja"):
        assert calendar.day_labels(dt.date(2027, 1, 1)) == ["元日", "年末年始"]
        assert calendar.day_labels(dt.date(2026, 12, 30)) == ["年末年始"]
        assert calendar.day_labels(dt.date(2026, 12, 28)) == []


# --- partner closures -------------------------------------------------------------


def test_a_partner_closure_closes_only_that_companys_crews(crew_a: Crew, crew_b: Crew) -> None:
    PartnerClosure.objects.create(
        company=crew_a.company, start_date=TUESDAY, end_date=TUESDAY, reason="社員旅行"
    )
    calendar = WorkCalendar.load([crew_a, crew_b], TUESDAY, TUESDAY)
    assert calendar.closed(crew_a.pk, TUESDAY) == ClosedDay("partner", "partner closed: 社員旅行")
    assert calendar.closed(crew_b.pk, TUESDAY) is None


def test_a_crew_marked_working_in_its_partner_closure_works(crew_a: Crew) -> None:
    PartnerClosure.objects.create(company=crew_a.company, start_date=TUESDAY, end_date=TUESDAY)
    CrewWorkingDay.objects.create(crew=crew_a, date=TUESDAY)
    assert code(crew_a, TUESDAY) is None


# --- absences ---------------------------------------------------------------------


def test_an_absence_closes_the_day(crew_a: Crew) -> None:
    CrewUnavailability.objects.create(
        crew=crew_a, start_date=TUESDAY, end_date=TUESDAY, reason="研修"
    )
    assert closed_reason(crew_a, TUESDAY) == ClosedDay("absence", "absent: 研修")


def test_an_absence_beats_an_extra_working_day(crew_a: Crew) -> None:
    CrewWorkingDay.objects.create(crew=crew_a, date=LABOR_THANKSGIVING)
    CrewUnavailability.objects.create(
        crew=crew_a, start_date=LABOR_THANKSGIVING, end_date=TUESDAY, reason="研修"
    )
    assert code(crew_a, LABOR_THANKSGIVING) == "absence"


# --- working weekdays -------------------------------------------------------------


def test_a_saturday_is_closed_for_a_monday_to_friday_crew(crew_a: Crew) -> None:
    with translation.override("en"):
        assert closed_reason(crew_a, SATURDAY) == ClosedDay(
            "weekday", "not a working weekday (Sat)"
        )


def test_a_saturday_marked_working_is_open(crew_a: Crew) -> None:
    CrewWorkingDay.objects.create(crew=crew_a, date=SATURDAY)
    assert closed_reason(crew_a, SATURDAY) is None


def test_a_crew_that_works_saturdays_works_them(crew_a: Crew) -> None:
    crew_a.working_weekdays = 0b0111111  # Monday to Saturday
    crew_a.save()
    assert closed_reason(crew_a, SATURDAY) is None


# --- precedence and loading ------------------------------------------------------


def test_the_entered_closure_is_reported_before_the_holiday(crew_a: Crew) -> None:
    """Precedence: company, partner, holiday, weekday; the rarest news first."""
    PartnerClosure.objects.create(
        company=crew_a.company,
        start_date=LABOR_THANKSGIVING,
        end_date=LABOR_THANKSGIVING,
        reason="社員旅行",
    )
    assert code(crew_a, LABOR_THANKSGIVING) == "partner"
    CompanyClosure.objects.create(
        start_date=LABOR_THANKSGIVING, end_date=LABOR_THANKSGIVING, name="棚卸"
    )
    assert code(crew_a, LABOR_THANKSGIVING) == "company"


def test_a_day_outside_the_loaded_range_is_an_error(crew_a: Crew) -> None:
    calendar = WorkCalendar.load([crew_a], TUESDAY, TUESDAY)
    with pytest.raises(ValueError, match="outside"):
        calendar.closed(crew_a.pk, SATURDAY)


def test_loading_takes_a_constant_number_of_queries(
    django_assert_max_num_queries: Any,
) -> None:
    """Four queries whether one crew or twenty, one week or a month."""
    crews = []
    for index in range(20):
        crew = make_crew(name=f"C{index}")
        PartnerClosure.objects.create(company=crew.company, start_date=TUESDAY, end_date=TUESDAY)
        CrewWorkingDay.objects.create(crew=crew, date=SATURDAY)
        CrewUnavailability.objects.create(crew=crew, start_date=TUESDAY, end_date=SATURDAY)
        crews.append(crew)
    CompanyClosure.objects.create(start_date=TUESDAY, end_date=TUESDAY, name="棚卸")
    start, end = LABOR_THANKSGIVING, LABOR_THANKSGIVING + dt.timedelta(days=30)
    with django_assert_max_num_queries(4):
        calendar = WorkCalendar.load(crews, start, end)
        reasons = [
            calendar.closed(crew.pk, start + dt.timedelta(days=offset))
            for crew in crews
            for offset in range(31)
        ]
    assert sum(1 for reason in reasons if reason is None) > 0
    assert all(r is not None and r.code == "absence" for r in reasons[1:6])
