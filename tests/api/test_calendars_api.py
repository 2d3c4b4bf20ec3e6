"""``/api/v1/company-closures/``, ``partner-closures/``, ``crew-working-days/`` and ``calendar/``.

Coordinators write; partners read their own company's closures and their own
crews' extra days, never partner B's; only coordinators read the calendar (it
shows absences).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from dispatch.models import (
    CompanyClosure,
    CrewUnavailability,
    CrewWorkingDay,
    PartnerClosure,
)
from tests.api.conftest import Cast

Client = Callable[[User | None], APIClient]
COMPANY = "/api/v1/company-closures/"
PARTNER = "/api/v1/partner-closures/"
WORKING = "/api/v1/crew-working-days/"
CALENDAR = "/api/v1/calendar/"
LABOR_THANKSGIVING = dt.date(2026, 11, 23)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# --- company closures -------------------------------------------------------------


def test_company_closures_work(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    created = client.post(
        COMPANY,
        {"start_date": "2026-12-29", "end_date": "2027-01-03", "name": "年末年始"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    item = f"{COMPANY}{created.json()['id']}/"
    assert client.get(COMPANY).json()["count"] == 1
    assert client.patch(item, {"name": "年末年始休業"}).json()["name"] == "年末年始休業"
    assert client.delete(item).status_code == 204
    assert not CompanyClosure.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"start_date": "2027-01-03", "end_date": "2026-12-29", "name": "x"}, "end_date"),
        ({"start_date": "2026-12-29", "end_date": "2027-01-03", "name": ""}, "name"),
        ({"start_date": "someday", "end_date": "2027-01-03", "name": "x"}, "start_date"),
        ({"start_date": "1999-12-29", "end_date": "2027-01-03", "name": "x"}, "start_date"),
    ],
)
def test_company_closures_validate_input(
    cast: Cast, client_for: Client, payload: dict[str, Any], field: str
) -> None:
    response = client_for(cast.coordinator).post(COMPANY, payload, format="json")
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid" and field in body["fields"]
    assert not CompanyClosure.objects.exists()


def test_company_closures_filter_by_overlapping_period(cast: Cast, client_for: Client) -> None:
    new_year = CompanyClosure.objects.create(
        start_date=d("2026-12-29"), end_date=d("2027-01-03"), name="年末年始"
    )
    CompanyClosure.objects.create(start_date=d("2027-08-13"), end_date=d("2027-08-16"), name="夏季")
    listed = client_for(cast.coordinator).get(
        COMPANY, {"date_from": "2027-01-01", "date_to": "2027-01-31"}
    )
    assert [row["id"] for row in listed.json()["results"]] == [new_year.pk]


@pytest.mark.parametrize("who", ["support", "partner_a"])
def test_everyone_reads_company_closures_but_only_coordinators_write(
    cast: Cast, client_for: Client, who: str
) -> None:
    client = client_for(getattr(cast, who))
    assert client.get(COMPANY).status_code == 200
    refused = client.post(
        COMPANY, {"start_date": "2026-12-29", "end_date": "2027-01-03", "name": "x"}, format="json"
    )
    assert refused.status_code == 403


# --- partner closures -------------------------------------------------------------


def test_partner_closures_work(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    created = client.post(
        PARTNER,
        {
            "company": cast.company_a.pk,
            "start_date": "2026-11-26",
            "end_date": "2026-11-27",
            "reason": "社員旅行",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["company_name"] == cast.company_a.name
    item = f"{PARTNER}{created.json()['id']}/"
    assert client.patch(item, {"end_date": "2026-11-28"}).json()["end_date"] == "2026-11-28"
    assert client.delete(item).status_code == 204


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"start_date": "2026-11-27", "end_date": "2026-11-26"}, "end_date"),
        ({"company": 999_999}, "company"),
        ({"company": None}, "company"),
    ],
)
def test_partner_closures_validate_input(
    cast: Cast, client_for: Client, payload: dict[str, Any], field: str
) -> None:
    body = {"company": cast.company_a.pk, "start_date": "2026-11-26", "end_date": "2026-11-27"}
    response = client_for(cast.coordinator).post(PARTNER, {**body, **payload}, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not PartnerClosure.objects.exists()


def test_a_partial_update_cannot_invert_the_period(cast: Cast, client_for: Client) -> None:
    closure = PartnerClosure.objects.create(
        company=cast.company_a, start_date=d("2026-11-26"), end_date=d("2026-11-27")
    )
    response = client_for(cast.coordinator).patch(
        f"{PARTNER}{closure.pk}/", {"start_date": "2026-12-01"}
    )
    assert response.status_code == 400
    assert "end_date" in response.json()["error"]["fields"]


def test_a_partner_reads_only_its_own_companys_closures(cast: Cast, client_for: Client) -> None:
    """Partner B should have no access to partner A's closures: not listed, not found."""
    own = PartnerClosure.objects.create(
        company=cast.company_a, start_date=d("2026-11-26"), end_date=d("2026-11-26")
    )
    other = PartnerClosure.objects.create(
        company=cast.company_b, start_date=d("2026-11-26"), end_date=d("2026-11-26")
    )
    client = client_for(cast.partner_a)
    assert [row["id"] for row in client.get(PARTNER).json()["results"]] == [own.pk]
    assert client.get(f"{PARTNER}{other.pk}/").status_code == 404
    assert client.get(PARTNER, {"company": cast.company_b.pk}).json()["count"] == 0
    assert client.delete(f"{PARTNER}{own.pk}/").status_code == 403
    assert client_for(cast.support).get(PARTNER).status_code == 403


# --- extra working days ------------------------------------------------------------


def test_crew_working_days_work(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    created = client.post(
        WORKING, {"crew": cast.crew_a.pk, "date": "2026-11-23", "note": "緊急"}, format="json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["crew_name"] == cast.crew_a.name
    item = f"{WORKING}{created.json()['id']}/"
    assert client.patch(item, {"note": "応援"}).json()["note"] == "応援"
    assert (
        client.get(WORKING, {"date_from": "2026-11-23", "date_to": "2026-11-23"}).json()["count"]
        == 1
    )
    assert client.get(WORKING, {"date_from": "2026-11-24"}).json()["count"] == 0
    assert client.delete(item).status_code == 204


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"crew": 999_999}, "crew"),
        ({"date": "2026-02-30"}, "date"),
        ({"date": None}, "date"),
    ],
)
def test_crew_working_days_validate_input(
    cast: Cast, client_for: Client, payload: dict[str, Any], field: str
) -> None:
    body = {"crew": cast.crew_a.pk, "date": "2026-11-23"}
    response = client_for(cast.coordinator).post(WORKING, {**body, **payload}, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_a_second_working_day_for_the_same_crew_and_date_is_refused(
    cast: Cast, client_for: Client
) -> None:
    """400 naming ``date``; the same date for another crew is fine."""
    CrewWorkingDay.objects.create(crew=cast.crew_a, date=LABOR_THANKSGIVING)
    client = client_for(cast.coordinator)
    again = client.post(WORKING, {"crew": cast.crew_a.pk, "date": "2026-11-23"}, format="json")
    assert again.status_code == 400
    error = again.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"] == {
        "date": [f"{cast.crew_a.name} already has an extra working day on 2026-11-23."]
    }
    other = client.post(WORKING, {"crew": cast.crew_b.pk, "date": "2026-11-23"}, format="json")
    assert other.status_code == 201


def test_moving_a_working_day_onto_a_taken_date_is_refused(cast: Cast, client_for: Client) -> None:
    CrewWorkingDay.objects.create(crew=cast.crew_a, date=LABOR_THANKSGIVING)
    second = CrewWorkingDay.objects.create(crew=cast.crew_a, date=d("2026-11-28"))
    client = client_for(cast.coordinator)
    response = client.patch(f"{WORKING}{second.pk}/", {"date": "2026-11-23"})
    assert response.status_code == 400 and "date" in response.json()["error"]["fields"]
    # Saving a row unchanged is not a clash with itself.
    assert client.patch(f"{WORKING}{second.pk}/", {"note": "x"}).status_code == 200


def test_a_partner_reads_only_its_own_crews_working_days(cast: Cast, client_for: Client) -> None:
    own = CrewWorkingDay.objects.create(crew=cast.crew_a, date=LABOR_THANKSGIVING)
    other = CrewWorkingDay.objects.create(crew=cast.crew_b, date=LABOR_THANKSGIVING)
    client = client_for(cast.partner_a)
    assert [row["id"] for row in client.get(WORKING).json()["results"]] == [own.pk]
    assert client.get(f"{WORKING}{other.pk}/").status_code == 404
    refused = client.post(WORKING, {"crew": cast.crew_a.pk, "date": "2026-11-28"}, format="json")
    assert refused.status_code == 403
    assert client_for(cast.support).get(WORKING).status_code == 403


# --- the calendar -----------------------------------------------------------------


def test_the_calendar_shows_holidays_closures_and_closed_crews(
    cast: Cast, client_for: Client
) -> None:
    CompanyClosure.objects.create(start_date=d("2026-11-25"), end_date=d("2026-11-25"), name="棚卸")
    PartnerClosure.objects.create(
        company=cast.company_b,
        start_date=d("2026-11-24"),
        end_date=d("2026-11-24"),
        reason="社員旅行",
    )
    CrewWorkingDay.objects.create(crew=cast.crew_a, date=LABOR_THANKSGIVING)
    CrewUnavailability.objects.create(
        crew=cast.crew_a, start_date=d("2026-11-26"), end_date=d("2026-11-26"), reason="研修"
    )
    response = client_for(cast.coordinator).get(
        CALENDAR, {"start": "2026-11-23", "end": "2026-11-28"}, HTTP_ACCEPT_LANGUAGE="ja"
    )
    assert response.status_code == 200, response.json()
    days = {day["date"]: day for day in response.json()["days"]}
    assert list(days) == [f"2026-11-{n}" for n in range(23, 29)]

    def closed(date: str) -> dict[int, str]:
        return {row["crew"]: row["code"] for row in days[date]["closed_crews"]}

    assert days["2026-11-23"]["holiday"] == "勤労感謝の日"
    assert closed("2026-11-23") == {cast.crew_b.pk: "holiday"}  # A works it by choice
    assert closed("2026-11-24") == {cast.crew_b.pk: "partner"}
    assert days["2026-11-25"]["company_closures"] == ["棚卸"]
    assert closed("2026-11-25") == {cast.crew_a.pk: "company", cast.crew_b.pk: "company"}
    assert closed("2026-11-26") == {cast.crew_a.pk: "absence"}
    assert closed("2026-11-27") == {}
    assert closed("2026-11-28") == {cast.crew_a.pk: "weekday", cast.crew_b.pk: "weekday"}


def test_the_calendar_names_holidays_in_english_for_the_english_ui(
    cast: Cast, client_for: Client
) -> None:
    response = client_for(cast.coordinator).get(
        CALENDAR,
        {"start": "2026-11-23", "end": "2026-11-23", "crew": cast.crew_a.pk},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    day = response.json()["days"][0]
    assert day["holiday"] == "Labor Thanksgiving Day"
    assert day["closed_crews"] == [
        {
            "crew": cast.crew_a.pk,
            "code": "holiday",
            "label": "national holiday Labor Thanksgiving Day",
        }
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"end": "2026-11-28"}, "start"),
        ({"start": "2026-11-28", "end": "2026-11-23"}, "end"),
        ({"start": "2026-01-01", "end": "2029-12-31"}, "end"),
        ({"start": "2026-11-23", "end": "not-a-date"}, "end"),
        ({"start": "2026-11-23", "end": "2026-11-28", "crew": "x"}, "crew"),
    ],
)
def test_the_calendar_validates_its_query(
    cast: Cast, client_for: Client, params: dict[str, str], field: str
) -> None:
    response = client_for(cast.coordinator).get(CALENDAR, params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize("who", ["support", "partner_a"])
def test_only_coordinators_read_the_calendar(cast: Cast, client_for: Client, who: str) -> None:
    response = client_for(getattr(cast, who)).get(
        CALENDAR, {"start": "2026-11-23", "end": "2026-11-28"}
    )
    assert response.status_code == 403
    assert client_for(None).get(CALENDAR).status_code == 401


def test_the_calendar_does_a_constant_number_of_queries(
    cast: Cast, client_for: Client, django_assert_max_num_queries: Any
) -> None:
    for day in range(1, 20):
        CrewWorkingDay.objects.create(crew=cast.crew_a, date=dt.date(2026, 12, day))
    # Session/auth aside: crews, company closures, partner closures, working days, absences.
    with django_assert_max_num_queries(6):
        client_for(cast.coordinator).get(CALENDAR, {"start": "2026-12-01", "end": "2027-01-31"})
