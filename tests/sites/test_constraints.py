"""The database itself rejects sites, contracts, surveys and permissions that break an invariant.

Form validation can be skipped by a script, an import or a bug; these
constraints cannot. Each case builds one row that breaks exactly one rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import IntegrityError, transaction

from sites.models import GeocodeStatus, Permission, PermissionStatus, SiteSurvey
from tests.factories import make_contract, make_customer, make_site

pytestmark = pytest.mark.django_db


def assert_rejected(build: Callable[[], object]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        build()


def test_a_valid_site_is_stored() -> None:
    site = make_site()
    assert site.pk is not None
    assert site.has_coordinates


@pytest.mark.parametrize(
    ("rule", "fields"),
    [
        ("latitude above 90", {"latitude": 90.5}),
        ("latitude below -90", {"latitude": -91.0}),
        ("longitude above 180", {"longitude": 181.0}),
        ("longitude below -180", {"longitude": -180.5}),
        ("latitude without longitude", {"longitude": None, "geocode_status": "pending"}),
        ("geocoded without coordinates", {"latitude": None, "longitude": None}),
        ("unknown geocoding status", {"geocode_status": "guessed"}),
        ("postal code of 6 digits", {"postal_code": "108002"}),
        ("zero floors", {"floors": 0}),
        ("blank address", {"address": ""}),
    ],
)
def test_site_invariants_are_enforced_by_the_database(rule: str, fields: dict) -> None:
    assert_rejected(lambda: make_site(**fields))


def test_a_site_may_wait_for_geocoding_without_coordinates() -> None:
    site = make_site(latitude=None, longitude=None, geocode_status=GeocodeStatus.PENDING)
    assert not site.has_coordinates


def test_contract_ids_are_unique() -> None:
    make_contract(contract_id="C-1")
    assert_rejected(lambda: make_contract(contract_id="C-1"))


def test_circuit_ids_are_unique_but_optional() -> None:
    make_contract(circuit_id=None)
    make_contract(circuit_id=None)
    make_contract(circuit_id="CIR-1")
    assert_rejected(lambda: make_contract(circuit_id="CIR-1"))


def test_blank_customer_name_is_rejected() -> None:
    assert_rejected(lambda: make_customer(name=""))


def _survey(**fields: object) -> SiteSurvey:
    defaults: dict[str, object] = {
        "site": make_site(),
        "surveyed_on": dt.date(2026, 11, 2),
        "surveyor": "山田",
        "distance_to_base_station_m": 350,
    }
    return SiteSurvey.objects.create(**{**defaults, **fields})


def test_survey_access_hours_default_to_no_restriction() -> None:
    """The database only stores the JSON: its rules are ``sites.access`` (tests/sites/
    test_access_hours.py) and the API's field, which answer 400 naming the range."""
    survey = _survey()
    survey.refresh_from_db()
    assert survey.access_hours == []


def test_survey_conduit_status_must_be_known() -> None:
    assert_rejected(lambda: _survey(conduit_status="maybe"))


def _permission(**fields: object) -> Permission:
    defaults: dict[str, object] = {
        "site": make_site(),
        "party": "management",
        "requested_on": dt.date(2026, 11, 1),
    }
    return Permission.objects.create(**{**defaults, **fields})


def test_a_decided_permission_needs_a_decision_date() -> None:
    _permission(status=PermissionStatus.GRANTED, decided_on=dt.date(2026, 11, 5))
    assert_rejected(lambda: _permission(status=PermissionStatus.GRANTED))
    assert_rejected(lambda: _permission(status=PermissionStatus.REFUSED))


def test_a_permission_cannot_be_decided_before_it_was_requested() -> None:
    assert_rejected(
        lambda: _permission(status=PermissionStatus.GRANTED, decided_on=dt.date(2026, 10, 1))
    )


def test_a_permission_cannot_expire_before_it_was_granted() -> None:
    assert_rejected(
        lambda: _permission(
            status=PermissionStatus.GRANTED,
            decided_on=dt.date(2026, 11, 5),
            expires_on=dt.date(2026, 11, 4),
        )
    )


def test_permission_validity_respects_expiry() -> None:
    permission = _permission(
        status=PermissionStatus.GRANTED,
        decided_on=dt.date(2026, 11, 5),
        expires_on=dt.date(2026, 11, 30),
    )
    assert permission.is_valid_on(dt.date(2026, 11, 30))
    assert not permission.is_valid_on(dt.date(2026, 12, 1))
    assert not _permission().is_valid_on(dt.date(2026, 11, 2))
