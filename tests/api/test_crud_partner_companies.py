"""``/api/v1/partner-companies/``: coordinators keep them; a partner reads its own only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from dispatch.models import PartnerCompany
from sites.models import Region
from tests.api.conftest import Cast
from tests.factories import make_company

URL = "/api/v1/partner-companies/"
Client = Callable[[User | None], APIClient]


def test_it_works(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    assert client.get(URL).json()["count"] == 2

    created = client.post(
        URL,
        {"name": "C通信建設", "is_group_company": True, "regions": [cast.region.pk]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["regions"] == [cast.region.pk]
    company_url = f"{URL}{created.json()['id']}/"
    assert client.get(company_url).json()["name"] == "C通信建設"
    assert client.patch(company_url, {"phone": "03-0000-1111"}).json()["phone"] == "03-0000-1111"
    assert client.delete(company_url).status_code == 204


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "A通信工業株式会社"}, "name"),  # taken
        ({"name": "C", "email": "not an email"}, "email"),
        ({"name": "C", "regions": [999_999]}, "regions"),
    ],
)
def test_it_validates_input(
    cast: Cast, client_for: Client, payload: dict[str, Any], field: str
) -> None:
    response = client_for(cast.coordinator).post(URL, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert PartnerCompany.objects.count() == 2


def test_partner_a_sees_only_its_own_company(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    assert [c["id"] for c in client.get(URL).json()["results"]] == [cast.company_a.pk]
    assert client.get(f"{URL}{cast.company_a.pk}/").status_code == 200
    assert client.get(f"{URL}{cast.company_b.pk}/").status_code == 404


def test_filters_do_not_leak_across_partners(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    assert client.get(URL, {"name": "B電設"}).json()["results"] == []


def test_partners_cannot_write(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    assert client.post(URL, {"name": "X"}).status_code == 403
    assert client.patch(f"{URL}{cast.company_a.pk}/", {"phone": "1"}).status_code == 403


def test_support_has_no_access(cast: Cast, client_for: Client) -> None:
    assert client_for(cast.support).get(URL).status_code == 403


def test_deleting_a_company_with_crews_answers_409_in_use(cast: Cast, client_for: Client) -> None:
    response = client_for(cast.coordinator).delete(f"{URL}{cast.company_b.pk}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "in_use"


def test_filters(cast: Cast, client_for: Client) -> None:
    north = Region.objects.create(code="tokyo-north", name="Tokyo north")
    group = make_company(name="Group Net", is_group_company=True)
    group.regions.add(north)
    client = client_for(cast.coordinator)

    def ids(**params: Any) -> list[int]:
        return [c["id"] for c in client.get(URL, params).json()["results"]]

    assert ids(region=north.pk) == [group.pk]
    assert ids(is_group_company="true") == [group.pk]
    assert ids(ordering="-name")[0] == group.pk


def test_the_list_does_a_constant_number_of_queries(
    cast: Cast, client_for: Client, django_assert_max_num_queries: Any
) -> None:
    for _ in range(20):
        make_company().regions.add(cast.region)
    with django_assert_max_num_queries(3):  # count, companies, regions
        client_for(cast.coordinator).get(URL, {"page_size": 100})
