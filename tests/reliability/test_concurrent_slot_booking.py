"""Six operators book the same last slot at once on PostgreSQL: one gets it, five get 409.

The ledger lock (``dispatch.ledger.ledger_lock``) serializes the re-check and
the write, so the slot is held exactly once and the others answer
``slot_taken`` with fresh offers; nothing else is written for them.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from dispatch.models import Crew, SlotBooking
from support.models import MaintenanceBooking
from support.services import call_log
from tests.factories import make_company, make_crew, make_skill
from tests.support.conftest import Desk, desk  # noqa: F401  (fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 6


def test_concurrent_bookings_of_one_slot_hold_it_once(request: pytest.FixtureRequest) -> None:
    cast: Desk = request.getfixturevalue("desk")
    crew: Crew = make_crew(company=make_company(), name="only", max_jobs_per_day=1)
    crew.skills.add(make_skill("fault_diagnosis"))
    calls = [
        call_log(
            site=cast.shibaura,
            operator=cast.support,
            category="no_connection",
            fault_isolation="carrier_side",
            description=f"call {n}",
        )
        for n in range(THREADS)
    ]
    body = {"skills": ["fault_diagnosis"], "duration_minutes": 60, "days": 7}
    api = APIClient()
    api.force_authenticate(user=cast.support)
    offer = api.post(f"/api/v1/support/calls/{calls[0].pk}/slot-offers/", body, format="json")
    first = offer.json()["offers"][0]
    slot = {
        **body,
        "crew": first["crew"]["id"],
        "date": first["date"],
        "window_start": first["window_start"],
        "window_end": first["window_end"],
        "create_anyway": True,
        "reason": "concurrency test",
    }
    barrier = threading.Barrier(THREADS)

    def book(index: int) -> tuple[int, Any]:
        client = APIClient()
        client.force_authenticate(user=cast.support)
        barrier.wait()
        try:
            response = client.post(
                f"/api/v1/support/calls/{calls[index].pk}/book-slot/", slot, format="json"
            )
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(book, range(THREADS)))

    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * (THREADS - 1), answers
    assert {body["error"]["code"] for status, body in answers if status == 409} == {"slot_taken"}
    assert SlotBooking.objects.count() == 1
    assert MaintenanceBooking.objects.count() == 1
