"""GET /api/v1/routes/: a crew's published day, stop by stop, for partners and coordinators."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tokens import token_create
from dispatch.models import Crew, Plan, PlannedBreak, PlanStatus, Visit
from dispatch.states import JobKind, JobStatus
from sites.models import ConduitStatus, ConstructionRecord, Parking, Site, SiteSurvey
from tests.api.conftest import JST, MONDAY, Cast
from tests.factories import (
    go_live_if_published,
    make_contract,
    make_customer,
    make_job,
    make_plan,
    make_site,
    retire_by_hand,
)

URL = "/api/v1/routes/"
WEEKDAYS_AND_HOLIDAYS = [
    {"days": [0, 1, 2, 3, 4], "opens": "09:00", "closes": "18:00"},
    {"days": [7], "opens": "10:00", "closes": "16:00"},
]
Client = Callable[[User | None], APIClient]


def survey_of(site: Site, **fields: Any) -> SiteSurvey:
    defaults: dict[str, Any] = {
        "surveyed_on": dt.date(2026, 10, 1),
        "surveyor": "佐藤",
        "distance_to_base_station_m": 350,
    }
    return SiteSurvey.objects.create(site=site, **{**defaults, **fields})


def building_access(site: Site, hours: list[dict[str, Any]], notes: str = "") -> None:
    """The building's access as the planner reads it (``Site.access_hours``)."""
    site.access_hours, site.access_notes = hours, notes
    site.save()


def as_built_of(site: Site, **fields: Any) -> ConstructionRecord:
    return ConstructionRecord.objects.create(
        site=site, **{"media_converter_location": "2F サーバー室ラック", **fields}
    )


def add_stop(plan: Plan, crew: Crew, sequence: int, hour: int, **job_fields: Any) -> Visit:
    job = make_job(status=JobStatus.SCHEDULED, duration_minutes=60, **job_fields)
    start = dt.datetime.combine(MONDAY, dt.time(hour), tzinfo=JST)
    return go_live_if_published(
        Visit.objects.create(
            plan=plan,
            job=job,
            crew=crew,
            date=MONDAY,
            sequence=sequence,
            planned_start=start,
            planned_end=start + dt.timedelta(minutes=60),
            travel_minutes_from_previous=15,
            travel_m_from_previous=4200,
        )
    )


def routes(client: APIClient, **params: Any) -> Any:
    response = client.get(URL, {"date": MONDAY.isoformat(), **params})
    assert response.status_code == 200, response.content
    return response.json()


def test_it_works(cast: Cast, client_for: Client) -> None:
    body = routes(client_for(cast.partner_a))

    assert body["date"] == "2026-11-30"
    (route,) = body["routes"]
    assert route["crew"]["id"] == cast.crew_a.pk
    assert [stop["job"]["reference"] for stop in route["stops"]] == [cast.job_a.reference]


def test_a_stop_carries_what_the_crew_needs_on_site(cast: Cast, client_for: Client) -> None:
    site = cast.job_a.site
    cast.job_a.contract = make_contract(
        customer=make_customer(name="株式会社芝浦商事", contact_person="田中", phone="03-1234-5678")
    )
    cast.job_a.save()
    building_access(site, WEEKDAYS_AND_HOLIDAYS, "守衛室で入館証")
    survey_of(
        site,
        access_hours=[],  # what a survey saw is not what the plan kept: the site's is
        access_rules="古いメモ",
        parking=Parking.TENANT_LOT,
        parking_arrangement="B1 来客用 3 番",
        riser_route="北側 EPS",
        conduit_status=ConduitStatus.FULL,
        findings="共用部の配管が満杯",
    )

    (stop,) = routes(client_for(cast.partner_a))["routes"][0]["stops"]

    assert stop["sequence"] == 1
    assert stop["planned_arrival"] == "2026-11-30T09:00:00+09:00"
    assert stop["planned_start"] == "2026-11-30T09:00:00+09:00"
    assert stop["planned_end"] == "2026-11-30T11:00:00+09:00"
    assert stop["travel_minutes_from_previous"] == 20
    assert stop["travel_km_from_previous"] == 6.5
    assert stop["job"] == {
        "id": cast.job_a.pk,
        "reference": cast.job_a.reference,
        "kind": "new_line",
        "status": "scheduled",
        "duration_minutes": 120,
        "members_needed": 1,
        "priority": 3,
        "work_instructions": "3F EPS 経由で MC 設置",
        "time_slot": None,
        "window_start": None,
        "window_end": None,
        "promise_is_hard": False,
    }
    assert stop["site"]["name"] == "A現場ビル"
    assert stop["site"]["address"] == site.address
    assert (stop["site"]["latitude"], stop["site"]["longitude"]) == (35.692, 139.795)
    assert stop["map_url"] == (
        "https://www.openstreetmap.org/?mlat=35.692000&mlon=139.795000#map=18/35.692000/139.795000"
    )
    # The cast's Monday, 2026-11-30, is an ordinary weekday: the building's weekday hours.
    assert stop["access"] == {
        "hours": WEEKDAYS_AND_HOLIDAYS,
        "today": [["09:00", "18:00"]],
        "description": "Mon–Fri 09:00–18:00; holidays 10:00–16:00; closed Sat, Sun",
        "notes": "守衛室で入館証",
    }
    assert stop["parking"] == {"arrangement": "B1 来客用 3 番", "kind": "tenant_lot"}
    assert stop["site_notes"]["survey"]["riser_route"] == "北側 EPS"
    assert stop["site_notes"]["survey"]["conduit_status"] == "full"
    assert stop["site_notes"]["survey"]["findings"] == "共用部の配管が満杯"
    assert stop["site_notes"]["as_built"] is None  # a new line has no as-built yet
    assert stop["customer"] == {
        "contract_id": cast.job_a.contract.contract_id,
        "name": "株式会社芝浦商事",
        "contact_person": "田中",
        "phone": "03-1234-5678",
        "phone_alt": "",
    }


def test_the_jobs_window_is_the_customers_slot_not_the_access_hours(
    cast: Cast, client_for: Client
) -> None:
    cast.job_a.window_start, cast.job_a.window_end = dt.time(13), dt.time(17)
    cast.job_a.promise_is_hard = True
    cast.job_a.parking_arrangement = "テナント駐車場を手配済み"
    cast.job_a.save()
    building_access(cast.job_a.site, WEEKDAYS_AND_HOLIDAYS)

    (stop,) = routes(client_for(cast.partner_a))["routes"][0]["stops"]

    assert stop["job"]["time_slot"] == "pm"
    assert (stop["job"]["window_start"], stop["job"]["window_end"]) == ("13:00:00", "17:00:00")
    assert stop["job"]["promise_is_hard"] is True
    assert stop["access"]["today"] == [["09:00", "18:00"]]  # the building's, not the slot
    assert stop["parking"]["arrangement"] == "テナント駐車場を手配済み"


@pytest.mark.parametrize(
    ("day", "today"),
    [
        (dt.date(2026, 12, 1), [["09:00", "18:00"]]),  # a Tuesday
        (dt.date(2026, 11, 23), [["10:00", "16:00"]]),  # 勤労感謝の日: the holiday hours
        (dt.date(2026, 12, 5), []),  # a Saturday: closed
    ],
)
def test_access_today_follows_the_weekday_or_holiday_of_the_visit(
    cast: Cast, client_for: Client, day: dt.date, today: list[list[str]]
) -> None:
    building_access(cast.job_a.site, WEEKDAYS_AND_HOLIDAYS)
    # Move the live route and its visit together: on PostgreSQL a live visit must
    # match its route's crew, date and plan at every statement (migration 0009).
    route = cast.visit_a.route
    cast.visit_a.route = None
    cast.visit_a.save()
    route.date = day
    route.save()
    start = dt.datetime.combine(day, dt.time(9), tzinfo=JST)
    cast.visit_a.date, cast.visit_a.planned_start = day, start
    cast.visit_a.planned_end = start + dt.timedelta(hours=2)
    cast.visit_a.route = route
    cast.visit_a.save()

    (stop,) = routes(client_for(cast.partner_a), date=day.isoformat())["routes"][0]["stops"]

    assert stop["access"]["today"] == today


def test_a_site_without_access_hours_is_open_all_day(cast: Cast, client_for: Client) -> None:
    building_access(cast.job_a.site, [], "インターホンで 101")

    (stop,) = routes(client_for(cast.partner_a))["routes"][0]["stops"]

    assert stop["access"] == {
        "hours": [],
        "today": [["00:00", "24:00"]],
        "description": "Any time",
        "notes": "インターホンで 101",
    }


def test_the_description_speaks_the_requests_language(cast: Cast, client_for: Client) -> None:
    building_access(cast.job_a.site, WEEKDAYS_AND_HOLIDAYS)
    response = client_for(cast.partner_a).get(
        URL, {"date": MONDAY.isoformat()}, HTTP_ACCEPT_LANGUAGE="ja"
    )

    (stop,) = response.json()["routes"][0]["stops"]

    assert stop["access"]["description"].startswith("平日 9:00〜18:00")


def test_a_route_carries_the_lunch_break_its_plan_placed(cast: Cast, client_for: Client) -> None:
    lunch_at = dt.datetime.combine(MONDAY, dt.time(12), tzinfo=JST)
    PlannedBreak.objects.create(
        plan=cast.plan,
        crew=cast.crew_a,
        date=MONDAY,
        start=lunch_at,
        end=lunch_at + dt.timedelta(hours=1),
    )
    other_plan = make_plan(status=PlanStatus.DRAFT)
    PlannedBreak.objects.create(  # a draft's break is no crew's business
        plan=other_plan,
        crew=cast.crew_b,
        date=MONDAY,
        start=lunch_at,
        end=lunch_at + dt.timedelta(hours=1),
    )

    body = routes(client_for(cast.coordinator))
    lunches = {route["crew"]["id"]: route["lunch"] for route in body["routes"]}

    assert lunches[cast.crew_a.pk] == {
        "start": "2026-11-30T12:00:00+09:00",
        "end": "2026-11-30T13:00:00+09:00",
    }
    assert lunches[cast.crew_b.pk] is None


def test_only_the_latest_survey_counts(cast: Cast, client_for: Client) -> None:
    survey_of(cast.job_a.site, surveyed_on=dt.date(2025, 1, 1), riser_route="古いルート")
    survey_of(cast.job_a.site, surveyed_on=dt.date(2026, 10, 1), riser_route="新しいルート")

    (stop,) = routes(client_for(cast.partner_a))["routes"][0]["stops"]

    assert stop["site_notes"]["survey"]["riser_route"] == "新しいルート"


@pytest.mark.parametrize(
    ("kind", "gets_as_built"),
    [
        (JobKind.PLAN_CHANGE, True),
        (JobKind.MAINTENANCE, True),
        (JobKind.NEW_LINE, False),
        (JobKind.RELOCATION, False),
    ],
)
def test_as_built_notes_come_with_work_on_an_existing_line(
    cast: Cast, client_for: Client, kind: str, gets_as_built: bool
) -> None:
    cast.job_a.kind = kind
    cast.job_a.save()
    as_built_of(
        cast.job_a.site,
        media_converter_location="1F 古い",
        recorded_at=dt.datetime(2024, 1, 1, tzinfo=JST),
    )
    as_built_of(cast.job_a.site, media_converter_location="3F EPS 内", port="ONU-2")

    (stop,) = routes(client_for(cast.partner_a))["routes"][0]["stops"]

    as_built = stop["site_notes"]["as_built"]
    if gets_as_built:
        assert (as_built["media_converter_location"], as_built["port"]) == ("3F EPS 内", "ONU-2")
    else:
        assert as_built is None


def test_arrival_is_the_previous_end_plus_the_drive_and_the_rest_is_slack(
    cast: Cast, client_for: Client
) -> None:
    # Stop 1 ends 11:00; stop 2 is 15 min away and starts 11:30: arrive 11:15, wait 15.
    second = add_stop(cast.plan, cast.crew_a, sequence=2, hour=11)
    second.planned_start += dt.timedelta(minutes=30)
    second.planned_end += dt.timedelta(minutes=30)
    second.save()

    first, then = routes(client_for(cast.partner_a))["routes"][0]["stops"]

    assert (first["planned_arrival"], first["wait_minutes"]) == ("2026-11-30T09:00:00+09:00", 0)
    assert then["planned_arrival"] == "2026-11-30T11:15:00+09:00"
    assert then["planned_start"] == "2026-11-30T11:30:00+09:00"
    assert then["wait_minutes"] == 15


def test_totals_add_up_the_day_and_the_drive_home(cast: Cast, client_for: Client) -> None:
    add_stop(
        cast.plan,
        cast.crew_a,
        sequence=2,
        hour=13,
        site=make_site(latitude=35.70, longitude=139.80),
    )

    route = routes(client_for(cast.partner_a))["routes"][0]
    totals = route["totals"]

    assert totals["stops"] == 2
    assert totals["travel_km"] == 10.7  # 6.5 + 4.2
    assert totals["travel_minutes"] == 35
    assert totals["work_minutes"] == 180
    # The last stop is 1.1 km north of the home base (35.69, 139.80): 1.3 detour, 25 km/h.
    assert totals["return_home_km"] == 1.4
    assert totals["return_home_minutes"] == 4
    assert totals["total_km"] == 12.1
    assert totals["total_drive_minutes"] == 39
    assert totals["leave_home_at"] == "2026-11-30T08:40:00+09:00"
    assert totals["first_start"] == "2026-11-30T09:00:00+09:00"
    assert totals["last_end"] == "2026-11-30T14:00:00+09:00"
    assert totals["back_home_at"] == "2026-11-30T14:04:00+09:00"
    assert route["crew"]["home_base"] == {"address": "", "latitude": 35.69, "longitude": 139.80}


def test_partner_a_never_sees_partner_bs_route(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)

    crews = [route["crew"]["id"] for route in routes(client)["routes"]]
    assert crews == [cast.crew_a.pk]

    response = client.get(URL, {"date": MONDAY.isoformat(), "crew": cast.crew_b.pk})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_coordinator_sees_every_crew_and_may_pick_one(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)

    crews = {route["crew"]["id"] for route in routes(client)["routes"]}
    assert crews == {cast.crew_a.pk, cast.crew_b.pk}

    (route,) = routes(client, crew=cast.crew_b.pk)["routes"]
    assert route["crew"]["id"] == cast.crew_b.pk


def test_only_published_plans_reach_the_crew(cast: Cast, client_for: Client) -> None:
    draft = make_plan(status=PlanStatus.DRAFT)
    add_stop(draft, cast.crew_a, sequence=1, hour=14)
    retire_by_hand(cast.plan)

    assert routes(client_for(cast.partner_a))["routes"] == []
    assert routes(client_for(cast.coordinator))["routes"] == []


def test_a_crew_with_a_free_day_gets_an_empty_route(cast: Cast, client_for: Client) -> None:
    response = client_for(cast.partner_a).get(URL, {"date": "2026-12-01", "crew": cast.crew_a.pk})

    (route,) = response.json()["routes"]
    assert route["stops"] == []
    assert route["totals"]["stops"] == 0
    assert route["totals"]["first_start"] is None


def test_an_unknown_crew_is_not_found(cast: Cast, client_for: Client) -> None:
    response = client_for(cast.coordinator).get(URL, {"date": "2026-11-30", "crew": 999_999})

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "date"),
        ({"date": ""}, "date"),
        ({"date": "2026-13-01"}, "date"),
        ({"date": "23/11/2026"}, "date"),
        ({"date": "20261130"}, "date"),
        ({"date": "2026-11-30", "crew": "A1"}, "crew"),
        ({"date": "2026-11-30", "crew": "0"}, "crew"),
    ],
)
def test_bad_query_answers_400_naming_the_field(
    cast: Cast, client_for: Client, params: dict[str, str], field: str
) -> None:
    response = client_for(cast.partner_a).get(URL, params)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]


def test_support_is_forbidden(cast: Cast, client_for: Client) -> None:
    assert client_for(cast.support).get(URL, {"date": "2026-11-30"}).status_code == 403


def test_anonymous_is_unauthorized(cast: Cast, client_for: Client) -> None:
    response = client_for(None).get(URL, {"date": "2026-11-30"})

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_partners_machine_client_uses_its_bearer_token(cast: Cast) -> None:
    _, secret = token_create(user=cast.partner_a, name="crew app")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    (route,) = routes(client)["routes"]
    assert route["crew"]["id"] == cast.crew_a.pk


def test_the_query_count_does_not_grow_with_the_stops(
    cast: Cast, client_for: Client, django_assert_max_num_queries: Any
) -> None:
    for sequence in range(2, 8):
        visit = add_stop(
            cast.plan,
            cast.crew_a,
            sequence=sequence,
            hour=9 + 2 * sequence,
            kind=JobKind.MAINTENANCE,
            contract=make_contract(),
        )
        survey_of(visit.job.site)
        survey_of(visit.job.site, surveyed_on=dt.date(2026, 11, 1))
        as_built_of(visit.job.site)
    client = client_for(cast.coordinator)

    # the routes' change counters (the cache key), visits (crew, job, site, contract,
    # customer joined), surveys, construction records, lunch breaks
    with django_assert_max_num_queries(5):
        body = routes(client, crew=cast.crew_a.pk)
    assert body["routes"][0]["totals"]["stops"] == 7
    with django_assert_max_num_queries(5):
        routes(client)


def test_a_day_of_new_lines_needs_no_as_built_query(
    cast: Cast, client_for: Client, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(4):  # counters, visits, surveys, lunch breaks
        routes(client_for(cast.partner_a))


def test_times_are_local_with_their_offset(cast: Cast, client_for: Client) -> None:
    (stop,) = routes(client_for(cast.partner_a))["routes"][0]["stops"]

    start = dt.datetime.fromisoformat(stop["planned_start"])
    assert start.utcoffset() == dt.timedelta(hours=9)
    assert start == cast.visit_a.planned_start


def test_partner_b_sees_only_its_own_route(cast: Cast, client_for: Client) -> None:
    (route,) = routes(client_for(cast.partner_b))["routes"]

    assert route["crew"]["id"] == cast.crew_b.pk
    assert [stop["job"]["reference"] for stop in route["stops"]] == [cast.job_b.reference]
