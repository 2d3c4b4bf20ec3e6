"""``/api/v1/crew-unavailabilities/``: days a crew cannot work; coordinators only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from dispatch.models import CrewUnavailability
from tests.api.conftest import Cast

URL = "/api/v1/crew-unavailabilities/"
Client = Callable[[User | None], APIClient]


def away(cast: Cast, start: str, end: str, crew: Any = None) -> CrewUnavailability:
    return CrewUnavailability.objects.create(
        crew=crew or cast.crew_a,
        start_date=dt.date.fromisoformat(start),
        end_date=dt.date.fromisoformat(end),
        reason="研修",
    )


def test_it_works(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    created = client.post(
        URL,
        {"crew": cast.crew_a.pk, "start_date": "2026-11-24", "end_date": "2026-11-25"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    item_url = f"{URL}{created.json()['id']}/"
    assert client.get(URL).json()["count"] == 1
    assert client.get(item_url).json()["crew"] == cast.crew_a.pk
    assert client.patch(item_url, {"reason": "車検"}).json()["reason"] == "車検"
    assert client.delete(item_url).status_code == 204


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"start_date": "2026-11-25", "end_date": "2026-11-24"}, "end_date"),
        ({"start_date": "2026-11-25", "end_date": "someday"}, "end_date"),
        ({"crew": 999_999, "start_date": "2026-11-25", "end_date": "2026-11-25"}, "crew"),
    ],
)
def test_it_validates_input(
    cast: Cast, client_for: Client, payload: dict[str, Any], field: str
) -> None:
    response = client_for(cast.coordinator).post(
        URL, {"crew": cast.crew_a.pk, **payload}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not CrewUnavailability.objects.exists()


def test_a_partial_update_cannot_invert_the_period(cast: Cast, client_for: Client) -> None:
    item = away(cast, "2026-11-24", "2026-11-25")
    response = client_for(cast.coordinator).patch(f"{URL}{item.pk}/", {"end_date": "2026-11-01"})
    assert response.status_code == 400
    assert "end_date" in response.json()["error"]["fields"]


@pytest.mark.parametrize("who", ["support", "partner_a"])
def test_support_and_partners_have_no_access(cast: Cast, client_for: Client, who: str) -> None:
    assert client_for(getattr(cast, who)).get(URL).status_code == 403


def test_filters_by_crew_and_overlapping_period(cast: Cast, client_for: Client) -> None:
    """``date_from``/``date_to`` find every period that overlaps the range."""
    before = away(cast, "2026-11-01", "2026-11-05")
    overlapping = away(cast, "2026-11-20", "2026-11-24")
    other_crew = away(cast, "2026-11-23", "2026-11-23", crew=cast.crew_b)
    client = client_for(cast.coordinator)

    def ids(**params: Any) -> list[int]:
        return [item["id"] for item in client.get(URL, params).json()["results"]]

    assert ids(date_from="2026-11-23", date_to="2026-11-27") == [overlapping.pk, other_crew.pk]
    assert ids(crew=cast.crew_a.pk) == [before.pk, overlapping.pk]
    assert ids(company=cast.company_b.pk) == [other_crew.pk]
    assert ids(ordering="-start_date") == [other_crew.pk, overlapping.pk, before.pk]


def test_the_list_does_a_constant_number_of_queries(
    cast: Cast, client_for: Client, django_assert_max_num_queries: Any
) -> None:
    for day in range(1, 21):
        away(cast, f"2026-12-{day:02d}", f"2026-12-{day:02d}")
    with django_assert_max_num_queries(2):  # count, periods
        client_for(cast.coordinator).get(URL, {"page_size": 100})
