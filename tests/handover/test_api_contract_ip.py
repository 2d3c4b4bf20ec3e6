"""``/api/v1/contracts/{id}/ip/``: read, allocate (idempotent), release a contract's address."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from delivery import handover
from sites.models import IpAssignment
from tests.api.conftest import Cast

from .conftest import Line

pytestmark = pytest.mark.urls("tests.handover.urls")

Client = Callable[[User | None], APIClient]


def _url(line: Line) -> str:
    return f"/api/v1/contracts/{line.contract.pk}/ip/"


def test_it_allocates_once_and_then_answers_with_the_same_address(
    cast: Cast, client_for: Client, line: Line
) -> None:
    client = client_for(cast.coordinator)
    created = client.post(_url(line))
    assert created.status_code == 201, created.json()
    assert created.json() | {"assigned_at": None} == {
        "contract": line.contract.pk,
        "contract_id": "C-2026-000777",
        "pool": line.pool.pk,
        "pool_name": "Tokyo bay /29",
        "address": "192.0.2.2",
        "assigned_at": None,
    }
    again = client.post(_url(line))
    assert (again.status_code, again.json()) == (200, created.json())


def test_it_allocates_from_the_pool_asked_for(cast: Cast, client_for: Client, line: Line) -> None:
    spare = handover.ip_pool_create(name="Spare", network="198.51.100.0/29")
    response = client_for(cast.coordinator).post(_url(line), {"pool": spare.pk})
    assert (response.status_code, response.json()["address"]) == (201, "198.51.100.2")


def test_an_exhausted_pool_answers_409_with_its_code(
    cast: Cast, client_for: Client, line: Line
) -> None:
    for _ in range(5):
        handover.ip_allocate(contract=line.another_contract())
    response = client_for(cast.coordinator).post(_url(line))
    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["code"], error["pools"]) == ("ip_pool_exhausted", ["Tokyo bay /29"])


def test_it_releases_the_address(cast: Cast, client_for: Client, line: Line) -> None:
    client = client_for(cast.coordinator)
    client.post(_url(line))
    assert client.delete(_url(line)).status_code == 204
    assert client.delete(_url(line)).status_code == 204
    assert not IpAssignment.objects.exists()
    missing = client.get(_url(line))
    assert (missing.status_code, missing.json()["error"]["message"]) == (
        404,
        "contract C-2026-000777 has no IP address",
    )


def test_support_reads_the_address_during_a_call_but_changes_nothing(
    cast: Cast, client_for: Client, line: Line
) -> None:
    handover.ip_allocate(contract=line.contract)
    support = client_for(cast.support)
    assert support.get(_url(line)).json()["address"] == "192.0.2.2"
    assert support.post(_url(line)).status_code == 403
    assert support.delete(_url(line)).status_code == 403
    assert IpAssignment.objects.count() == 1


def test_an_unknown_contract_is_not_found(cast: Cast, client_for: Client) -> None:
    response = client_for(cast.coordinator).post("/api/v1/contracts/999999/ip/")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")


def test_an_unknown_pool_is_a_field_error(cast: Cast, client_for: Client, line: Line) -> None:
    response = client_for(cast.coordinator).post(_url(line), {"pool": 999_999})
    assert response.status_code == 400
    assert "pool" in response.json()["error"]["fields"]
