"""``/api/v1/ip-pools/``: coordinators list and add address blocks."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from delivery import handover
from sites.models import IpPool
from tests.api.conftest import Cast

from .conftest import Line

pytestmark = pytest.mark.urls("tests.handover.urls")

URL = "/api/v1/ip-pools/"
Client = Callable[[User | None], APIClient]


def test_it_lists_pools_with_how_many_addresses_they_gave(
    cast: Cast, client_for: Client, line: Line
) -> None:
    handover.ip_allocate(contract=line.contract)
    body = client_for(cast.coordinator).get(URL).json()
    assert body["results"] == [
        {
            "id": line.pool.pk,
            "name": "Tokyo bay /29",
            "network": "192.0.2.0/29",
            "region": line.region.pk,
            "is_active": True,
            "assigned_count": 1,
        }
    ]


def test_it_creates_a_pool(cast: Cast, client_for: Client) -> None:
    response = client_for(cast.coordinator).post(
        URL, {"name": "Tokyo central v6", "network": "2001:db8:10::/64", "region": cast.region.pk}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["assigned_count"] == 0
    assert IpPool.objects.get().network == "2001:db8:10::/64"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"network": "192.0.2.0/28"}, "network"),  # overlaps the line's pool
        ({"network": "192.0.2.300/24"}, "network"),
        ({"name": "Tokyo bay /29"}, "name"),  # taken
        ({"region": 999_999}, "region"),
    ],
)
def test_it_validates_input(
    cast: Cast, client_for: Client, line: Line, payload: dict[str, object], field: str
) -> None:
    body = {"name": "New", "network": "198.51.100.0/29", **payload}
    response = client_for(cast.coordinator).post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert IpPool.objects.count() == 1


@pytest.mark.parametrize("role", ["support", "partner_a"])
def test_only_coordinators_see_pools(cast: Cast, client_for: Client, role: str) -> None:
    assert client_for(getattr(cast, role)).get(URL).status_code == 403
