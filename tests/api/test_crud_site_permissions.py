"""``/api/v1/site-permissions/``: consents to build; coordinators write, support reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from sites.models import Permission, PermissionParty, PermissionStatus, Site
from tests.api.conftest import Cast

URL = "/api/v1/site-permissions/"
Client = Callable[[User | None], APIClient]


def permission_input(cast: Cast, **overrides: Any) -> dict[str, Any]:
    return {
        "site": cast.job_a.site_id,
        "party": "management",
        "party_name": "芝浦ビル管理株式会社",
        "requested_on": "2026-10-01",
        **overrides,
    }


def permission_of(site: Site, **fields: Any) -> Permission:
    return Permission.objects.create(
        site=site,
        party=fields.pop("party", PermissionParty.OWNER),
        requested_on=dt.date(2026, 10, 1),
        **fields,
    )


def test_it_works(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    created = client.post(URL, permission_input(cast), format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "requested"
    item_url = f"{URL}{created.json()['id']}/"
    assert client.get(URL).json()["count"] == 1
    granted = client.patch(item_url, {"status": "granted", "decided_on": "2026-10-15"})
    assert granted.status_code == 200
    assert granted.json()["status"] == "granted"
    assert client.delete(item_url).status_code == 204


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"status": "granted"}, "decided_on"),
        ({"status": "refused"}, "decided_on"),
        ({"status": "granted", "decided_on": "2026-09-01"}, "decided_on"),
        ({"expires_on": "2027-01-01"}, "expires_on"),
        (
            {"status": "granted", "decided_on": "2026-10-15", "expires_on": "2026-10-14"},
            "expires_on",
        ),
        ({"party": "neighbour's cat"}, "party"),
        ({"requested_on": None}, "requested_on"),
    ],
)
def test_it_validates_input(
    cast: Cast, client_for: Client, overrides: dict[str, Any], field: str
) -> None:
    body = permission_input(cast, **overrides)
    response = client_for(cast.coordinator).post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Permission.objects.exists()


def test_granting_by_patch_needs_the_decision_date(cast: Cast, client_for: Client) -> None:
    permission = permission_of(cast.job_a.site)
    response = client_for(cast.coordinator).patch(f"{URL}{permission.pk}/", {"status": "granted"})
    assert response.status_code == 400
    assert "decided_on" in response.json()["error"]["fields"]


def test_support_reads_but_cannot_write(cast: Cast, client_for: Client) -> None:
    permission = permission_of(cast.job_a.site)
    client = client_for(cast.support)
    assert client.get(f"{URL}{permission.pk}/").status_code == 200
    assert client.post(URL, permission_input(cast), format="json").status_code == 403
    assert client.patch(f"{URL}{permission.pk}/", {"notes": "x"}).status_code == 403


def test_partners_have_no_access(cast: Cast, client_for: Client) -> None:
    assert client_for(cast.partner_a).get(URL).status_code == 403


def test_filters_by_site_status_and_party(cast: Cast, client_for: Client) -> None:
    owner = permission_of(cast.job_a.site)
    granted = permission_of(
        cast.job_a.site,
        party=PermissionParty.CUSTOMER,
        status=PermissionStatus.GRANTED,
        decided_on=dt.date(2026, 10, 5),
    )
    permission_of(cast.job_b.site)
    client = client_for(cast.coordinator)

    def ids(**params: Any) -> list[int]:
        return [p["id"] for p in client.get(URL, params).json()["results"]]

    assert ids(site=cast.job_a.site_id) == [granted.pk, owner.pk]
    assert ids(status="granted") == [granted.pk]
    assert ids(site=cast.job_a.site_id, party="owner") == [owner.pk]


def test_the_list_does_a_constant_number_of_queries(
    cast: Cast, client_for: Client, django_assert_max_num_queries: Any
) -> None:
    for party in PermissionParty:
        for _ in range(5):
            permission_of(cast.job_a.site, party=party)
    with django_assert_max_num_queries(2):  # count, permissions
        client_for(cast.coordinator).get(URL, {"page_size": 100})
