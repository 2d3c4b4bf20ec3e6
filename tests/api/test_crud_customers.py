"""``/api/v1/customers/``: coordinators keep customers; support looks them up during calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from sites.models import Customer
from tests.api.conftest import Cast
from tests.factories import make_contract, make_customer

URL = "/api/v1/customers/"
Client = Callable[[User | None], APIClient]


def test_it_works(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    created = client.post(
        URL, {"name": "株式会社豊洲商事", "phone": "03-5555-0101", "email": "it@toyosu.example"}
    )
    assert created.status_code == 201, created.json()
    item_url = f"{URL}{created.json()['id']}/"
    assert client.get(URL).json()["count"] == 1
    assert client.get(item_url).json()["phone"] == "03-5555-0101"
    assert client.patch(item_url, {"contact_person": "佐藤"}).json()["contact_person"] == "佐藤"
    assert client.delete(item_url).status_code == 204


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"name": ""}, "name"), ({"name": "x", "email": "nope"}, "email"), ({}, "name")],
)
def test_it_validates_input(
    cast: Cast, client_for: Client, payload: dict[str, Any], field: str
) -> None:
    response = client_for(cast.coordinator).post(URL, payload)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Customer.objects.exists()


def test_a_customer_with_contracts_cannot_be_deleted(cast: Cast, client_for: Client) -> None:
    contract = make_contract()
    response = client_for(cast.coordinator).delete(f"{URL}{contract.customer_id}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "in_use"


def test_support_finds_a_caller_by_phone_or_name(cast: Cast, client_for: Client) -> None:
    caller = make_customer(name="有限会社晴海", phone="03-1111-2222", phone_alt="090-3333-4444")
    make_customer(name="株式会社別件")
    client = client_for(cast.support)
    assert [c["id"] for c in client.get(URL, {"phone": "090-3333-4444"}).json()["results"]] == [
        caller.pk
    ]
    assert [c["id"] for c in client.get(URL, {"search": "晴海"}).json()["results"]] == [caller.pk]


def test_support_reads_but_cannot_write(cast: Cast, client_for: Client) -> None:
    customer = make_customer()
    client = client_for(cast.support)
    assert client.get(f"{URL}{customer.pk}/").status_code == 200
    assert client.post(URL, {"name": "x"}).status_code == 403
    assert client.patch(f"{URL}{customer.pk}/", {"name": "x"}).status_code == 403
    assert client.delete(f"{URL}{customer.pk}/").status_code == 403


def test_partners_never_see_customers(cast: Cast, client_for: Client) -> None:
    customer = make_customer()
    client = client_for(cast.partner_a)
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}{customer.pk}/").status_code == 403


def test_the_list_does_a_constant_number_of_queries(
    cast: Cast, client_for: Client, django_assert_max_num_queries: Any
) -> None:
    for _ in range(20):
        make_customer()
    with django_assert_max_num_queries(2):  # count, customers
        client_for(cast.support).get(URL, {"page_size": 100, "ordering": "name"})


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("0352593118", "03-5259-3118"),
        ("03-5259-3118", "03-5259-3118"),
        ("０３（５２５９）３１１８", "03-5259-3118"),
        ("+81 3 5259 3118", "03-5259-3118"),
        ("090-1234-5678", "090-1234-5678"),
        ("0120-123-456", "0120-123-456"),
    ],
)
def test_a_phone_number_is_stored_in_the_national_format(
    cast: Cast, client_for: Client, written: str, stored: str
) -> None:
    response = client_for(cast.coordinator).post(
        URL, {"name": "株式会社神田", "phone": written, "phone_alt": written}
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["phone"], response.json()["phone_alt"]) == (stored, stored)


@pytest.mark.parametrize("field", ["phone", "phone_alt"])
@pytest.mark.parametrize("written", ["12345", "03-5259-311", "+1 650 253 0000", "電話なし"])
def test_a_phone_number_that_is_not_japanese_and_valid_is_refused(
    cast: Cast, client_for: Client, field: str, written: str
) -> None:
    response = client_for(cast.coordinator).post(URL, {"name": "株式会社神田", field: written})
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Customer.objects.exists()


def test_support_finds_a_caller_by_the_digits_of_a_formatted_number(
    cast: Cast, client_for: Client
) -> None:
    caller = make_customer(name="株式会社神田", phone="03-5259-3118")
    legacy = make_customer(name="株式会社旧", phone="0352593119")  # stored before formatting
    client = client_for(cast.support)
    found = client.get(URL, {"phone": "0352593118"}).json()["results"]
    assert [c["id"] for c in found] == [caller.pk]
    found = client.get(URL, {"phone": "03-5259-3119"}).json()["results"]
    assert [c["id"] for c in found] == [legacy.pk]
