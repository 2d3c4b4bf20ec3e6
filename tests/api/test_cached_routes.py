"""A crew's day is built once and served from the cache until something it shows changes.

These tests commit (``transaction=True``): the change counters are bumped after
commit, exactly as in production. Each writer of something a route shows is
tried once: read the route (now cached), write, read again, and the new
answer must show the write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import User
from dispatch.models import PlannedBreak, Visit
from dispatch.plans import plan_publish, plan_revise
from dispatch.services import job_transition
from dispatch.states import JobKind, JobStatus
from sites.models import ConstructionRecord, SiteSurvey
from stamps.models import ChangeCounter
from tests.api.conftest import JST, MONDAY, Cast
from tests.factories import make_contract, make_customer
from tests.observability.test_metrics import grew, scrape

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/routes/"
Client = Callable[[User | None], APIClient]


@pytest.fixture(autouse=True)
def _cache_on(settings: Any) -> None:
    settings.ROUTE_CACHE_SECONDS = 600
    cache.clear()


def get(client: APIClient, **headers: str) -> Any:
    return client.get(URL, {"date": MONDAY.isoformat()}, **headers)


def stop_of(client: APIClient, **headers: str) -> dict[str, Any]:
    response = get(client, **headers)
    assert response.status_code == 200, response.content
    return response.json()["routes"][0]["stops"][0]


def route_of(client: APIClient) -> dict[str, Any]:
    response = get(client)
    assert response.status_code == 200, response.content
    return response.json()["routes"][0]


# --- served from the cache, with a validator ------------------------------------------


def test_the_second_read_runs_no_route_query(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    first = get(client)

    with CaptureQueriesContext(connection) as queries:
        second = get(client)

    assert second.content == first.content
    # Only the change counters are read (the client is authenticated without a query).
    assert [
        q["sql"] for q in queries.captured_queries if "stamps_changecounter" not in q["sql"]
    ] == []
    assert len(queries.captured_queries) == 1


def test_an_answer_carries_an_etag_and_a_matching_if_none_match_gets_304(
    cast: Cast, client_for: Client
) -> None:
    client = client_for(cast.partner_a)
    first = get(client)
    etag = first["ETag"]

    again = get(client, HTTP_IF_NONE_MATCH=etag)
    other = get(client, HTTP_IF_NONE_MATCH='"not-this-one"')
    listed = get(client, HTTP_IF_NONE_MATCH=f'"older", {etag}')

    assert etag.startswith('"') and etag.endswith('"')
    assert (again.status_code, again.content, again["ETag"]) == (304, b"", etag)
    assert (other.status_code, other.content) == (200, first.content)
    assert listed.status_code == 304
    for response in (first, again):
        # No browser or proxy keeps customers' data; the partner's app keeps its own copy.
        assert response["Cache-Control"] == "private, no-store"
        vary = {v.strip().lower() for v in response["Vary"].split(",")}
        assert {"accept", "accept-language", "authorization"} <= vary


def test_the_etag_is_the_same_for_the_same_bytes_cached_or_not(
    cast: Cast, client_for: Client, settings: Any
) -> None:
    cached = get(client_for(cast.partner_a))
    settings.ROUTE_CACHE_SECONDS = 0
    built = get(client_for(cast.partner_a))

    assert built.content == cached.content
    assert built["ETag"] == cached["ETag"]
    assert get(client_for(cast.partner_a), HTTP_IF_NONE_MATCH=built["ETag"]).status_code == 304


def test_after_a_change_the_old_etag_gets_the_new_answer(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    etag = get(client)["ETag"]
    cast.crew_a.name = "A1 改"
    cast.crew_a.save()

    response = get(client, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response.json()["routes"][0]["crew"]["name"] == "A1 改"
    assert response["ETag"] != etag


def test_each_language_and_each_partner_has_its_own_answer(cast: Cast, client_for: Client) -> None:
    english = get(client_for(cast.partner_a), HTTP_ACCEPT_LANGUAGE="en")
    japanese = get(client_for(cast.partner_a), HTTP_ACCEPT_LANGUAGE="ja")
    other_partner = client_for(cast.partner_b).get(
        URL, {"date": MONDAY.isoformat(), "crew": cast.crew_a.pk}
    )
    own = client_for(cast.partner_a).get(URL, {"date": MONDAY.isoformat(), "crew": cast.crew_a.pk})

    assert english.content != japanese.content
    assert (
        english.json()["routes"][0]["stops"][0]["access"]["description"]
        != (japanese.json()["routes"][0]["stops"][0]["access"]["description"])
    )
    assert own.status_code == 200
    assert other_partner.status_code == 404  # cached for partner A, never for partner B
    assert [r["crew"]["id"] for r in get(client_for(cast.partner_b)).json()["routes"]] == [
        cast.crew_b.pk
    ]


def test_the_cache_being_down_costs_speed_not_answers(
    cast: Cast, client_for: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache unreachable")

    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "set", down)

    response = get(client_for(cast.partner_a))

    assert response.status_code == 200
    assert response.json()["routes"][0]["crew"]["id"] == cast.crew_a.pk


def test_a_write_that_rolls_back_changes_no_counter(cast: Cast) -> None:
    before = dict(ChangeCounter.objects.values_list("name", "value"))
    with pytest.raises(RuntimeError), transaction.atomic():
        cast.crew_a.name = "never"
        cast.crew_a.save()
        raise RuntimeError("roll back")

    assert dict(ChangeCounter.objects.values_list("name", "value")) == before


# --- every writer of what a route shows makes the next read fresh ---------------------


def _report(cast: Cast, client_for: Client, body: dict[str, Any]) -> None:
    response = client_for(cast.partner_a).post(
        f"/api/v1/jobs/{cast.job_a.pk}/reports/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert response.status_code == 201, response.content


def test_a_field_report_shows_the_new_status(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    assert stop_of(client)["job"]["status"] == "scheduled"

    _report(cast, client_for, {"kind": "en_route"})

    assert stop_of(client)["job"]["status"] == "dispatched"


def test_a_not_finished_report_takes_the_stop_off_the_schedule(
    cast: Cast, client_for: Client
) -> None:
    client = client_for(cast.partner_a)
    assert stop_of(client)["on_schedule"] is True

    _report(
        cast,
        client_for,
        {"kind": "incomplete", "reason_code": "customer_absent", "reason_text": "不在"},
    )

    stop = stop_of(client)
    assert (stop["on_schedule"], stop["left_schedule_because"]) == (False, "not_finished")


def test_a_cancelled_job_leaves_the_schedule(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    stop_of(client)

    job_transition(job=cast.job_a, to_status=JobStatus.CANCELLED, note="customer cancelled")

    stop = stop_of(client)
    assert (stop["job"]["status"], stop["left_schedule_because"]) == ("cancelled", "cancelled")


def test_a_republished_plan_shows_its_new_times(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    assert stop_of(client)["planned_start"] == "2026-11-30T09:00:00+09:00"
    revision = plan_revise(plan=cast.plan)
    later = dt.datetime.combine(MONDAY, dt.time(13), tzinfo=JST)
    Visit.objects.filter(plan=revision, job=cast.job_a).update(
        planned_start=later, planned_end=later + dt.timedelta(minutes=120)
    )

    plan_publish(plan=revision)

    stop = stop_of(client)
    assert (stop["plan_id"], stop["planned_start"]) == (revision.pk, "2026-11-30T13:00:00+09:00")


def test_a_lunch_break_placed_on_the_day_appears(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    assert route_of(client)["lunch"] is None
    noon = dt.datetime.combine(MONDAY, dt.time(12), tzinfo=JST)

    PlannedBreak.objects.create(
        plan=cast.plan, crew=cast.crew_a, date=MONDAY, start=noon, end=noon + dt.timedelta(hours=1)
    )

    assert route_of(client)["lunch"] == {
        "start": "2026-11-30T12:00:00+09:00",
        "end": "2026-11-30T13:00:00+09:00",
    }


def test_the_sites_access_notes_change(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    stop_of(client)
    site = cast.job_a.site

    site.access_notes = "守衛室で入館証"
    site.save()

    assert stop_of(client)["access"]["notes"] == "守衛室で入館証"


def test_a_new_survey_changes_the_parking(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    stop_of(client)

    SiteSurvey.objects.create(
        site=cast.job_a.site,
        surveyed_on=dt.date(2026, 11, 20),
        surveyor="佐藤",
        distance_to_base_station_m=350,
        parking_arrangement="B1 来客用 3 番",
    )

    assert stop_of(client)["parking"]["arrangement"] == "B1 来客用 3 番"


def test_an_as_built_record_appears_for_a_maintenance_visit(cast: Cast, client_for: Client) -> None:
    cast.job_a.kind = JobKind.MAINTENANCE
    cast.job_a.save()
    client = client_for(cast.partner_a)
    assert stop_of(client)["site_notes"]["as_built"] is None

    ConstructionRecord.objects.create(
        site=cast.job_a.site, media_converter_location="2F サーバー室ラック"
    )

    as_built = stop_of(client)["site_notes"]["as_built"]
    assert as_built["media_converter_location"] == "2F サーバー室ラック"


def test_the_customers_phone_changes(cast: Cast, client_for: Client) -> None:
    customer = make_customer(name="株式会社芝浦商事", phone="03-1234-5678")
    cast.job_a.contract = make_contract(customer=customer)
    cast.job_a.save()
    client = client_for(cast.partner_a)
    assert stop_of(client)["customer"]["phone"] == "03-1234-5678"

    customer.phone = "03-9999-0000"
    customer.save()

    assert stop_of(client)["customer"]["phone"] == "03-9999-0000"


def test_the_crew_and_its_company_are_renamed(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    route_of(client)

    cast.company_a.name = "A通信工業 新社名"
    cast.company_a.save()

    assert route_of(client)["crew"]["company"] == "A通信工業 新社名"


def test_the_geojson_route_is_cached_and_validated_the_same_way(
    cast: Cast, client_for: Client
) -> None:
    client = client_for(cast.partner_a)
    params = {"date": MONDAY.isoformat(), "crew": cast.crew_a.pk}
    first = client.get("/api/v1/routes/geojson/", params, HTTP_ACCEPT="application/geo+json")
    assert first["Content-Type"] == "application/geo+json"
    as_json = client.get("/api/v1/routes/geojson/", params, HTTP_ACCEPT="application/json")
    assert as_json["Content-Type"] == "application/json"

    unchanged = client.get("/api/v1/routes/geojson/", params, HTTP_IF_NONE_MATCH=first["ETag"])
    site = cast.job_a.site
    site.latitude, site.longitude = 35.70, 139.81
    site.save()
    moved = client.get("/api/v1/routes/geojson/", params, HTTP_IF_NONE_MATCH=first["ETag"])

    assert unchanged.status_code == 304
    assert moved.status_code == 200
    stops = [f for f in moved.json()["features"] if f["geometry"]["type"] == "Point"]
    assert [139.81, 35.70] in [f["geometry"]["coordinates"] for f in stops]


def test_hits_and_misses_are_counted_for_metrics(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    before = scrape()

    get(client)
    get(client)
    get(client)

    after = scrape()
    series = "dispatch_cached_representations_total"
    assert grew(before, after, series, answer="routes", outcome="miss") == 1
    assert grew(before, after, series, answer="routes", outcome="hit") == 2


def test_one_partners_report_leaves_the_other_partners_day_cached(
    cast: Cast, client_for: Client
) -> None:
    other = client_for(cast.partner_b)
    get(other)
    coordinator = client_for(cast.coordinator)
    assert [s["job"]["status"] for r in route_list(coordinator) for s in r["stops"]] == [
        "scheduled",
        "scheduled",
    ]

    _report(cast, client_for, {"kind": "en_route"})

    with CaptureQueriesContext(connection) as queries:
        assert get(other).status_code == 200
    assert len(queries.captured_queries) == 1  # the counters: partner B's day is still cached
    statuses = {r["crew"]["id"]: r["stops"][0]["job"]["status"] for r in route_list(coordinator)}
    assert statuses == {cast.crew_a.pk: "dispatched", cast.crew_b.pk: "scheduled"}


def route_list(client: APIClient) -> list[dict[str, Any]]:
    response = get(client)
    assert response.status_code == 200, response.content
    return response.json()["routes"]
