"""``/api/v1/contracts/{id}/handover/``: what blocks the line opening, and opening it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from dispatch.models import JobStatusChange
from dispatch.states import JobStatus
from sites.models import ContractStatus
from tests.api.conftest import Cast

from .conftest import Line

pytestmark = pytest.mark.urls("tests.handover.urls")

Client = Callable[[User | None], APIClient]


def _url(line: Line) -> str:
    return f"/api/v1/contracts/{line.contract.pk}/handover/"


def test_it_lists_what_blocks_the_handover(cast: Cast, client_for: Client, line: Line) -> None:
    body = client_for(cast.support).get(_url(line)).json()
    assert body == {
        "contract": line.contract.pk,
        "contract_id": "C-2026-000777",
        "status": "signed",
        "handed_over_at": None,
        "ready": False,
        "blockers": ["no IP address assigned", "billing is pending, not ready"],
        "pending_facts": [],
    }


def test_a_refused_handover_is_a_409_listing_every_blocker(
    cast: Cast, client_for: Client, line: Line
) -> None:
    line.job.status = JobStatus.SCHEDULED
    line.job.save()
    response = client_for(cast.coordinator).post(_url(line))
    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["status"], error["code"], error["blockers"]) == (
        409,
        "handover_blocked",
        [
            "construction not completed (job J-000777 is scheduled)",
            "no IP address assigned",
            "billing is pending, not ready",
        ],
    )
    assert error["message"].startswith("contract C-2026-000777 cannot be handed over: ")


def test_it_hands_the_line_over(cast: Cast, client_for: Client, line: Line) -> None:
    line.make_ready()
    client = client_for(cast.coordinator)
    assert client.get(_url(line)).json()["ready"] is True

    response = client.post(_url(line))

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["handed_over_at"] is not None) == (ContractStatus.ACTIVE, True)
    line.job.refresh_from_db()
    line.record.refresh_from_db()
    assert line.job.status == JobStatus.HANDED_OVER
    assert line.record.archived_at is not None
    assert JobStatusChange.objects.get(job=line.job).changed_by == cast.coordinator


def test_support_reads_but_cannot_hand_over(cast: Cast, client_for: Client, line: Line) -> None:
    line.make_ready()
    assert client_for(cast.support).post(_url(line)).status_code == 403
    line.job.refresh_from_db()
    assert line.job.status == JobStatus.COMPLETED
