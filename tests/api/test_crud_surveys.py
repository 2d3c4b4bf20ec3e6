"""``/api/v1/surveys/``: site surveys; coordinators write them, support reads them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from sites.models import Site, SiteSurvey
from tests.api.conftest import Cast

URL = "/api/v1/surveys/"
Client = Callable[[User | None], APIClient]


@pytest.fixture(autouse=True)
def _no_earlier_surveys(cast: Cast) -> None:
    """These tests count surveys: start from none (the cast's sites come surveyed)."""
    SiteSurvey.objects.all().delete()


def survey_input(cast: Cast, **overrides: Any) -> dict[str, Any]:
    return {
        "site": cast.job_a.site_id,
        "surveyed_on": "2026-10-01",
        "surveyor": "田中",
        "structure": "src",
        "conduit_status": "full",
        "distance_to_base_station_m": 350,
        "access_start": "09:00",
        "access_end": "18:00",
        "access_rules": "守衛室で入館証",
        **overrides,
    }


def survey_of(site: Site, day: str = "2026-10-01") -> SiteSurvey:
    return SiteSurvey.objects.create(
        site=site,
        surveyed_on=dt.date.fromisoformat(day),
        surveyor="田中",
        distance_to_base_station_m=100,
    )


def test_it_works(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    created = client.post(URL, survey_input(cast), format="json")
    assert created.status_code == 201, created.json()
    item_url = f"{URL}{created.json()['id']}/"
    assert client.get(URL).json()["count"] == 1
    assert client.get(item_url).json()["conduit_status"] == "full"
    assert client.patch(item_url, {"complexity": "high"}).json()["complexity"] == "high"
    assert client.delete(item_url).status_code == 204


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"access_start": "18:00", "access_end": "09:00"}, "access_end"),
        ({"access_end": None}, "access_end"),
        ({"access_start": None}, "access_start"),
        ({"distance_to_base_station_m": -1}, "distance_to_base_station_m"),
        ({"parking": "helipad"}, "parking"),
        ({"site": 999_999}, "site"),
        ({"surveyed_on": None}, "surveyed_on"),
    ],
)
def test_it_validates_input(
    cast: Cast, client_for: Client, overrides: dict[str, Any], field: str
) -> None:
    response = client_for(cast.coordinator).post(
        URL, survey_input(cast, **overrides), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not SiteSurvey.objects.exists()


def test_support_reads_but_cannot_write(cast: Cast, client_for: Client) -> None:
    survey = survey_of(cast.job_a.site)
    client = client_for(cast.support)
    assert client.get(f"{URL}{survey.pk}/").status_code == 200
    assert client.post(URL, survey_input(cast), format="json").status_code == 403
    assert client.delete(f"{URL}{survey.pk}/").status_code == 403


def test_partners_have_no_access(cast: Cast, client_for: Client) -> None:
    """Partners get the access details through their sites, never the whole survey."""
    survey = survey_of(cast.job_a.site)
    client = client_for(cast.partner_a)
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}{survey.pk}/").status_code == 403


def test_filters_by_site_and_date(cast: Cast, client_for: Client) -> None:
    old = survey_of(cast.job_a.site, "2025-01-10")
    new = survey_of(cast.job_a.site, "2026-10-01")
    survey_of(cast.job_b.site)
    client = client_for(cast.coordinator)

    def ids(**params: Any) -> list[int]:
        return [s["id"] for s in client.get(URL, params).json()["results"]]

    assert ids(site=cast.job_a.site_id) == [new.pk, old.pk]  # newest first
    assert ids(site=cast.job_a.site_id, surveyed_on_before="2025-12-31") == [old.pk]
    assert ids(site=cast.job_a.site_id, ordering="surveyed_on") == [old.pk, new.pk]


def test_the_list_does_a_constant_number_of_queries(
    cast: Cast, client_for: Client, django_assert_max_num_queries: Any
) -> None:
    for _ in range(20):
        survey_of(cast.job_a.site)
    with django_assert_max_num_queries(2):  # count, surveys
        client_for(cast.support).get(URL, {"page_size": 100})
