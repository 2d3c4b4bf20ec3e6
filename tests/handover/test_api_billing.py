"""``/api/v1/contracts/{id}/billing/``: coordinators move billing set-up along."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from sites.models import BillingStatus, Contract
from tests.api.conftest import Cast

from .conftest import Line

pytestmark = pytest.mark.urls("tests.handover.urls")

Client = Callable[[User | None], APIClient]


def _url(line: Line) -> str:
    return f"/api/v1/contracts/{line.contract.pk}/billing/"


def test_it_works(cast: Cast, client_for: Client, line: Line) -> None:
    client = client_for(cast.coordinator)
    requested = client.post(_url(line), {"status": "requested"})
    assert (requested.status_code, requested.json()) == (
        200,
        {
            "contract": line.contract.pk,
            "contract_id": "C-2026-000777",
            "billing_status": "requested",
            "billing_ready_on": None,
        },
    )
    ready = client.post(_url(line), {"status": "ready", "on": "2026-01-05"})
    assert ready.json()["billing_ready_on"] == "2026-01-05"


def test_a_skipped_step_is_a_409_naming_the_allowed_ones(
    cast: Cast, client_for: Client, line: Line
) -> None:
    response = client_for(cast.coordinator).post(_url(line), {"status": "ready"})
    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["code"], error["current_status"], error["requested_status"]) == (
        "billing_transition",
        "pending",
        "ready",
    )
    assert "it can go to Direct debit requested" in error["message"]
    assert Contract.objects.get().billing_status == BillingStatus.PENDING


TOMORROW = "<tomorrow>"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "paid"}, "status"),
        ({}, "status"),
        ({"status": "requested", "on": "2026-01-05"}, "on"),
        ({"status": "ready", "on": "tomorrow"}, "on"),
        ({"status": "ready", "on": TOMORROW}, "on"),
    ],
)
def test_it_validates_input(
    cast: Cast, client_for: Client, line: Line, payload: dict[str, str], field: str
) -> None:
    if payload.get("on") == TOMORROW:
        # Read when the test runs, not when it is collected: collected before midnight
        # in Tokyo and run after it, "tomorrow" was already today (CI, 2026-12-07).
        payload = {**payload, "on": str(timezone.localdate() + dt.timedelta(days=1))}
    response = client_for(cast.coordinator).post(_url(line), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_support_cannot_change_billing(cast: Cast, client_for: Client, line: Line) -> None:
    assert client_for(cast.support).post(_url(line), {"status": "requested"}).status_code == 403
    assert Contract.objects.get().billing_status == BillingStatus.PENDING
