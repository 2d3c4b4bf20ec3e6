"""Postal codes and phone numbers are shown as people write them (issue 21).

Stored as 7 digits and in the national format (older rows as typed), shown
as ``〒160-0004`` and ``03-5259-3118`` on the drawer, the support card and the
order page, through one template filter library (``sites/templatetags/contacts.py``).
"""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import Client

from accounts.models import Role
from dispatch.states import JobStatus
from tests.factories import make_contract, make_customer, make_job, make_site, make_user

pytestmark = pytest.mark.django_db


def client_as(role: str) -> Client:
    client = Client()
    client.force_login(make_user(role))
    return client


@pytest.mark.parametrize(
    ("template", "value", "shown"),
    [
        ("{{ v|postal_code }}", "1600004", "〒160-0004"),
        ("{{ v|postal_code }}", "", ""),
        ("{{ v|phone }}", "0352593118", "03-5259-3118"),
        ("{{ v|phone }}", "+81 90 1234 5678", "090-1234-5678"),
        ("{{ v|phone }}", "内線12", "内線12"),  # not a number: shown as stored
        ("{{ v|phone }}", None, ""),
    ],
)
def test_the_filters(template: str, value: str | None, shown: str) -> None:
    rendered = Template("{% load contacts %}" + template).render(Context({"v": value}))
    assert rendered == shown


def test_the_drawer_shows_the_postal_code_with_a_hyphen_and_the_phone_formatted() -> None:
    contract = make_contract(customer=make_customer(phone="0352593118"))
    job = make_job(site=make_site(postal_code="1600004"), contract=contract)
    html = client_as(Role.COORDINATOR).get(f"/jobs/{job.pk}/drawer/").content.decode()
    assert "〒160-0004" in html
    assert "〒1600004" not in html
    assert "03-5259-3118" in html


def test_the_order_page_finds_kana_and_references_and_shows_the_postal_code() -> None:
    customer = make_customer(name="株式会社白鷺商事", name_kana="シラサギショウジ")
    contract = make_contract(customer=customer)
    site = make_site(postal_code="1080023")
    contract.sites.add(site)
    make_job(site=site, contract=contract, status=JobStatus.READY, reference="J-777001")
    other = make_contract()
    make_job(contract=other, status=JobStatus.READY)
    client = client_as(Role.COORDINATOR)
    for query in ("しらさぎ", "ｼﾗｻｷﾞ", "j-777001"):
        page = client.get("/orders/", {"q": query}).content.decode()
        assert contract.contract_id in page, query
        assert other.contract_id not in page, query
    assert "〒108-0023" in client.get("/orders/", {"q": "しらさぎ"}).content.decode()
