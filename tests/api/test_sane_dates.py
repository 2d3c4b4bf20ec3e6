"""Nonsense dates are a 400 naming the field (issue 18, finding 6)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from dispatch.models import CrewUnavailability, JobReport, Plan
from tests.api.conftest import Cast
from tests.factories import make_user


@pytest.fixture
def coordinator(cast: Cast) -> APIClient:
    client = APIClient()
    client.force_authenticate(cast.coordinator)
    return client


@pytest.mark.parametrize(
    ("start", "end"),
    [("0001-01-01", "0001-01-05"), ("9999-12-27", "9999-12-31"), ("1999-12-31", "2000-01-04")],
)
def test_a_plan_in_another_century_is_refused(coordinator: APIClient, start: str, end: str) -> None:
    before = Plan.objects.count()
    response = coordinator.post(
        "/api/v1/plans/", {"name": "typo", "start_date": start, "end_date": end}
    )
    assert response.status_code == 400
    assert "start_date" in response.json()["error"]["fields"]
    assert Plan.objects.count() == before


def test_a_plan_years_ahead_is_refused_by_the_service_too(coordinator: APIClient) -> None:
    """2090 is a real date, but no coordinator plans a week 64 years ahead."""
    response = coordinator.post(
        "/api/v1/plans/", {"name": "far", "start_date": "2090-01-02", "end_date": "2090-01-06"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["start_date"]


def test_a_report_from_the_year_219_is_refused(cast: Cast) -> None:
    client = APIClient()
    client.force_authenticate(cast.partner_a)
    response = client.post(
        f"/api/v1/jobs/{cast.job_a.pk}/reports/",
        {"kind": "arrived", "occurred_at": "0219-05-01T09:00:00+09:00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-old",
    )
    assert response.status_code == 400
    assert "occurred_at" in response.json()["error"]["fields"]
    assert not JobReport.objects.exists()


def test_a_crew_absence_over_a_century_is_refused(coordinator: APIClient, cast: Cast) -> None:
    body: dict[str, Any] = {
        "crew": cast.crew_a.pk,
        "start_date": "2000-01-01",
        "end_date": "2100-12-31",
        "reason": "typo",
    }
    response = coordinator.post("/api/v1/crew-unavailabilities/", body)
    assert response.status_code == 400
    assert "end_date" in response.json()["error"]["fields"]
    assert not CrewUnavailability.objects.exists()


def test_a_date_in_the_query_string_is_bounded_too(cast: Cast) -> None:
    client = APIClient()
    client.force_authenticate(make_user(Role.COORDINATOR))
    response = client.get(f"/api/v1/plans/{cast.plan.pk}/visits/", {"date": "0001-01-01"})
    assert response.status_code == 400
    assert "date" in response.json()["error"]["fields"]
