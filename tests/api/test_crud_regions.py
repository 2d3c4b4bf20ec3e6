"""``/api/v1/regions/``: planning areas; coordinators keep them, support reads them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from sites.models import Region
from tests.api.conftest import Cast

URL = "/api/v1/regions/"
Client = Callable[[User | None], APIClient]


def test_it_works(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    assert client.get(URL).json()["count"] == 1

    created = client.post(URL, {"code": "tokyo-east", "name": "Tokyo east"})
    assert created.status_code == 201, created.json()
    region_url = f"{URL}{created.json()['id']}/"
    assert client.get(region_url).json()["code"] == "tokyo-east"
    assert client.put(region_url, {"code": "tokyo-east", "name": "東東京"}).status_code == 200
    assert client.delete(region_url).status_code == 204


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"code": "tokyo-central", "name": "again"}, "code"),
        ({"code": "no spaces please", "name": "x"}, "code"),
        ({"code": "x"}, "name"),
    ],
)
def test_it_validates_input(
    cast: Cast, client_for: Client, payload: dict[str, Any], field: str
) -> None:
    response = client_for(cast.coordinator).post(URL, payload)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert Region.objects.count() == 1


def test_a_region_with_sites_cannot_be_deleted(cast: Cast, client_for: Client) -> None:
    response = client_for(cast.coordinator).delete(f"{URL}{cast.region.pk}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "in_use"


def test_a_region_of_a_partner_company_cannot_be_deleted(cast: Cast, client_for: Client) -> None:
    """The company's region list would otherwise lose it without anyone noticing."""
    east = Region.objects.create(code="tokyo-east", name="Tokyo east")
    cast.company_a.regions.add(east)
    response = client_for(cast.coordinator).delete(f"{URL}{east.pk}/")
    assert response.status_code == 409
    assert Region.objects.filter(pk=east.pk).exists()


def test_support_reads_but_cannot_write(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.support)
    assert client.get(f"{URL}{cast.region.pk}/").status_code == 200
    assert client.post(URL, {"code": "x", "name": "x"}).status_code == 403
    assert client.patch(f"{URL}{cast.region.pk}/", {"name": "x"}).status_code == 403


def test_partners_have_no_access(cast: Cast, client_for: Client) -> None:
    assert client_for(cast.partner_a).get(URL).status_code == 403


def test_a_stale_etag_answers_412_and_the_fresh_one_works(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    region_url = f"{URL}{cast.region.pk}/"
    old_tag = client.get(region_url)["ETag"]
    client.patch(region_url, {"name": "都心"})
    assert client.patch(region_url, {"name": "x"}, HTTP_IF_MATCH=old_tag).status_code == 412
    assert Region.objects.get(pk=cast.region.pk).name == "都心"
    fresh_tag = client.get(region_url)["ETag"]
    assert client.patch(region_url, {"name": "x"}, HTTP_IF_MATCH=fresh_tag).status_code == 200


def test_filters_and_the_query_count(
    cast: Cast, client_for: Client, django_assert_max_num_queries: Any
) -> None:
    for n in range(20):
        Region.objects.create(code=f"area-{n}", name=f"Area {n}")
    client = client_for(cast.coordinator)
    assert client.get(URL, {"code": "area-3"}).json()["count"] == 1
    with django_assert_max_num_queries(2):  # count, regions
        assert client.get(URL, {"page_size": 100}).json()["count"] == 21
