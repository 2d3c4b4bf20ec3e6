"""``/api/v1/contracts/``: coordinators keep contracts; support reads them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from sites.models import Contract
from tests.api.conftest import Cast
from tests.factories import make_contract, make_customer, make_job

URL = "/api/v1/contracts/"
Client = Callable[[User | None], APIClient]


def test_it_works(cast: Cast, client_for: Client) -> None:
    customer = make_customer()
    client = client_for(cast.coordinator)
    created = client.post(
        URL,
        {
            "contract_id": "C-2026-000123",
            "customer": customer.pk,
            "sites": [cast.job_a.site_id],
            "service_name": "光ビジネス 1G",
            "signed_on": "2026-10-01",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["customer_name"], body["sites"], body["circuit_id"]) == (
        customer.name,
        [cast.job_a.site_id],
        None,
    )
    item_url = f"{URL}{body['id']}/"
    assert client.get(item_url).json()["status"] == "signed"
    opening = client.patch(item_url, {"status": "active"})
    assert opening.status_code == 400, "a line opens only through the handover"
    assert "handover" in opening.json()["error"]["fields"]["status"][0]
    assert client.patch(item_url, {"status": "cancelled"}).json()["status"] == "cancelled"
    assert client.delete(item_url).status_code == 204


def test_an_empty_circuit_id_is_stored_as_none(cast: Cast, client_for: Client) -> None:
    """Two contracts without a circuit yet must not collide on the unique index."""
    customer = make_customer()
    client = client_for(cast.coordinator)
    for contract_id in ("C-1", "C-2"):
        response = client.post(
            URL, {"contract_id": contract_id, "customer": customer.pk, "circuit_id": ""}
        )
        assert response.status_code == 201, response.json()
    assert Contract.objects.filter(circuit_id__isnull=True).count() == 2


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"contract_id": "C-TAKEN"}, "contract_id"),
        ({"contract_id": ""}, "contract_id"),
        ({"customer": 999_999}, "customer"),
        ({"sites": [999_999]}, "sites"),
        ({"status": "pending"}, "status"),
        ({"signed_on": "01/10/2026"}, "signed_on"),
    ],
)
def test_it_validates_input(
    cast: Cast, client_for: Client, payload: dict[str, Any], field: str
) -> None:
    make_contract(contract_id="C-TAKEN")
    body = {"contract_id": "C-NEW", "customer": make_customer().pk, **payload}
    response = client_for(cast.coordinator).post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert Contract.objects.count() == 1


def test_a_contract_with_jobs_cannot_be_deleted(cast: Cast, client_for: Client) -> None:
    contract = make_contract()
    make_job(contract=contract)
    response = client_for(cast.coordinator).delete(f"{URL}{contract.pk}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "in_use"


def test_support_reads_but_cannot_write(cast: Cast, client_for: Client) -> None:
    contract = make_contract()
    client = client_for(cast.support)
    assert client.get(URL, {"contract_id": contract.contract_id}).json()["count"] == 1
    assert client.patch(f"{URL}{contract.pk}/", {"status": "active"}).status_code == 403
    assert client.delete(f"{URL}{contract.pk}/").status_code == 403


def test_partners_have_no_access(cast: Cast, client_for: Client) -> None:
    assert client_for(cast.partner_a).get(URL).status_code == 403


def test_filters(cast: Cast, client_for: Client) -> None:
    at_site = make_contract(status="active")
    at_site.sites.add(cast.job_a.site)
    other = make_contract()
    client = client_for(cast.coordinator)

    def ids(**params: Any) -> list[int]:
        return [c["id"] for c in client.get(URL, params).json()["results"]]

    assert ids(site=cast.job_a.site_id) == [at_site.pk]
    assert ids(customer=other.customer_id) == [other.pk]
    assert ids(status="active") == [at_site.pk]
    assert ids(circuit_id=str(other.circuit_id).lower()) == [other.pk]


def test_the_list_does_a_constant_number_of_queries(
    cast: Cast, client_for: Client, django_assert_max_num_queries: Any
) -> None:
    for _ in range(20):
        make_contract().sites.add(cast.job_a.site, cast.job_b.site)
    with django_assert_max_num_queries(3):  # count, contracts with customers, sites
        client_for(cast.coordinator).get(URL, {"page_size": 100})
