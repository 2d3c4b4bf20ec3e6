"""``/api/v1/construction-records/``: as-built notes delivery leaves for support."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from sites.models import ConstructionRecord, Site
from tests.api.conftest import Cast

URL = "/api/v1/construction-records/"
Client = Callable[[User | None], APIClient]


def record_input(cast: Cast, **overrides: Any) -> dict[str, Any]:
    return {
        "site": cast.job_a.site_id,
        "job": cast.job_a.pk,
        "media_converter_location": "3F サーバールーム ラック2 上段",
        "port": "ONU LAN1",
        "cable_route": "1F MDF → EPS → 3F 天井裏",
        **overrides,
    }


def record_of(site: Site) -> ConstructionRecord:
    return ConstructionRecord.objects.create(site=site, media_converter_location="1F MDF")


def test_it_works(cast: Cast, client_for: Client) -> None:
    """The record remembers who wrote it, so support knows whom to ask."""
    client = client_for(cast.coordinator)
    created = client.post(URL, record_input(cast), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["recorded_by"], body["recorded_by_name"]) == (cast.coordinator.pk, "alice")
    item_url = f"{URL}{body['id']}/"
    assert client.get(URL).json()["count"] == 1
    assert client.patch(item_url, {"riser": "EPS-B"}).json()["riser"] == "EPS-B"
    assert client.delete(item_url).status_code == 204


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"media_converter_location": ""}, "media_converter_location"),
        ({"site": 999_999}, "site"),
        ({"job": 999_999}, "job"),
        ({"recorded_at": "yesterday"}, "recorded_at"),
    ],
)
def test_it_validates_input(
    cast: Cast, client_for: Client, overrides: dict[str, Any], field: str
) -> None:
    response = client_for(cast.coordinator).post(
        URL, record_input(cast, **overrides), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not ConstructionRecord.objects.exists()


def test_the_job_must_be_at_the_same_site(cast: Cast, client_for: Client) -> None:
    """Notes filed under another building's job would mislead the support operator."""
    body = record_input(cast, job=cast.job_b.pk)
    response = client_for(cast.coordinator).post(URL, body, format="json")
    assert response.status_code == 400
    assert "job" in response.json()["error"]["fields"]


def test_support_reads_but_cannot_write(cast: Cast, client_for: Client) -> None:
    record = record_of(cast.job_a.site)
    client = client_for(cast.support)
    assert client.get(URL, {"site": cast.job_a.site_id}).json()["count"] == 1
    assert client.get(f"{URL}{record.pk}/").status_code == 200
    assert client.post(URL, record_input(cast), format="json").status_code == 403
    assert client.delete(f"{URL}{record.pk}/").status_code == 403


def test_partners_have_no_access(cast: Cast, client_for: Client) -> None:
    assert client_for(cast.partner_a).get(URL).status_code == 403


def test_filters_by_site_and_job(cast: Cast, client_for: Client) -> None:
    at_a = record_of(cast.job_a.site)
    at_b = ConstructionRecord.objects.create(
        site=cast.job_b.site, job=cast.job_b, media_converter_location="2F"
    )
    client = client_for(cast.coordinator)
    assert [r["id"] for r in client.get(URL, {"site": cast.job_a.site_id}).json()["results"]] == [
        at_a.pk
    ]
    assert [r["id"] for r in client.get(URL, {"job": cast.job_b.pk}).json()["results"]] == [at_b.pk]


def test_the_list_does_a_constant_number_of_queries(
    cast: Cast, client_for: Client, django_assert_max_num_queries: Any
) -> None:
    for _ in range(20):
        record_of(cast.job_a.site)
    with django_assert_max_num_queries(2):  # count, records
        client_for(cast.support).get(URL, {"page_size": 100})
