"""Migration sites 0005: customers' phone numbers stored before formatting get formatted.

Numbers are formatted on the way in (the API's JapanesePhoneField, the
import), so old rows ("0352593118") and new ones ("03-5259-3118") would
otherwise read differently on the card, the drawer and in exports. The
migration's function is run on rows written as old code wrote them, the way
tests/conftest.py runs the estimate rules' migration.
"""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from sites.models import Customer
from sites.normalize import parse_phone
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

migration = importlib.import_module("sites.migrations.0005_format_customer_phones")


def run_migration() -> None:
    migration.format_phones(apps, None)


@pytest.mark.parametrize(
    ("stored", "formatted"),
    [
        ("0352593118", "03-5259-3118"),
        ("09012345678", "090-1234-5678"),
        ("０４５（６７８）９０１２", "045-678-9012"),
        ("+81-3-5555-0101", "03-5555-0101"),
        ("03 5259 3118", "03-5259-3118"),
        ("03-5259-3118", "03-5259-3118"),
    ],
)
def test_a_parseable_number_is_formatted_as_the_api_formats_it(stored: str, formatted: str) -> None:
    customer = make_customer(phone=stored, phone_alt=stored)

    run_migration()

    customer.refresh_from_db()
    assert (customer.phone, customer.phone_alt) == (formatted, formatted)
    assert formatted == parse_phone(stored)  # the same rule as on the way in


@pytest.mark.parametrize("stored", ["", "不明", "内線 204", "12345", "+1 212 555 0100"])
def test_anything_else_is_left_as_a_person_wrote_it(stored: str) -> None:
    customer = make_customer(phone=stored, phone_alt="0352593118")

    run_migration()

    customer.refresh_from_db()
    assert customer.phone == stored
    assert customer.phone_alt == "03-5259-3118"


def test_many_rows_are_formatted_in_batches_and_a_second_run_changes_nothing() -> None:
    Customer.objects.bulk_create(
        Customer(name=f"顧客{n}", phone=f"035259{n:04d}", phone_alt="")
        for n in range(migration.BATCH + 20)
    )

    run_migration()
    first = dict(Customer.objects.values_list("pk", "phone"))
    run_migration()

    assert dict(Customer.objects.values_list("pk", "phone")) == first
    assert all(phone.count("-") == 2 for phone in first.values()), first


def test_the_migration_is_part_of_the_sites_history() -> None:
    loader = MigrationLoader(connection)
    assert ("sites", "0005_format_customer_phones") in loader.graph.nodes
    assert ("sites", "0005_format_customer_phones") in loader.applied_migrations
