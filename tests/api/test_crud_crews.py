"""``/api/v1/crews/``: coordinators keep crews; a partner reads only its own company's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from dispatch.models import Crew
from tests.api.conftest import Cast
from tests.factories import make_crew, make_skill

URL = "/api/v1/crews/"
Client = Callable[[User | None], APIClient]


def crew_input(cast: Cast, **overrides: Any) -> dict[str, Any]:
    return {
        "company": cast.company_a.pk,
        "name": "A2",
        "members": 3,
        "skills": ["fibre_splicing"],
        "home_latitude": 35.70,
        "home_longitude": 139.78,
        "shift_start": "08:30",
        "shift_end": "17:30",
        **overrides,
    }


def test_it_works(cast: Cast, client_for: Client) -> None:
    """A coordinator lists, creates, reads, updates and deletes crews; skills go by code."""
    client = client_for(cast.coordinator)
    assert client.get(URL).json()["count"] == 2

    created = client.post(URL, crew_input(cast), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["skills"] == ["fibre_splicing"]
    assert body["company_name"] == cast.company_a.name

    detail = f"{URL}{body['id']}/"
    assert client.get(detail).json()["name"] == "A2"
    make_skill("mc_install")
    patched = client.patch(detail, {"skills": ["mc_install"], "members": 4}, format="json")
    assert patched.status_code == 200
    assert patched.json()["skills"] == ["mc_install"]
    assert patched.json()["members"] == 4

    assert client.delete(detail).status_code == 204
    assert not Crew.objects.filter(pk=body["id"]).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"shift_start": "18:00"}, "shift_end"),
        ({"home_latitude": 91}, "home_latitude"),
        ({"home_longitude": -181}, "home_longitude"),
        ({"members": 0}, "members"),
        ({"working_weekdays": 128}, "working_weekdays"),
        ({"max_utilization_percent": 101}, "max_utilization_percent"),
        ({"skills": ["no_such_skill"]}, "skills"),
        ({"company": 999_999}, "company"),
        ({"name": "A1"}, "non_field_errors"),  # A already has a crew A1
    ],
)
def test_it_validates_input(
    cast: Cast, client_for: Client, overrides: dict[str, Any], field: str
) -> None:
    """Bad input answers 400 naming the field and writes nothing."""
    response = client_for(cast.coordinator).post(URL, crew_input(cast, **overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert Crew.objects.count() == 2


def test_a_partial_update_is_checked_against_the_stored_shift(
    cast: Cast, client_for: Client
) -> None:
    """Moving only the shift end before the stored start is refused."""
    response = client_for(cast.coordinator).patch(
        f"{URL}{cast.crew_a.pk}/", {"shift_end": "08:00"}, format="json"
    )
    assert response.status_code == 400
    assert "shift_end" in response.json()["error"]["fields"]


def test_partner_a_sees_only_its_own_crews(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    names = [crew["name"] for crew in client.get(URL).json()["results"]]
    assert names == ["A1"]
    assert client.get(f"{URL}{cast.crew_a.pk}/").status_code == 200


def test_partner_a_gets_404_for_partner_bs_crew(cast: Cast, client_for: Client) -> None:
    """No existence leak: B's crew is simply not there for A."""
    response = client_for(cast.partner_a).get(f"{URL}{cast.crew_b.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_filters_do_not_leak_across_partners(cast: Cast, client_for: Client) -> None:
    """Partner A filtering by B's company gets an empty list, like a company that does not exist."""
    client = client_for(cast.partner_a)
    assert client.get(URL, {"company": cast.company_b.pk}).json()["results"] == []
    assert client.get(URL, {"company": 999_999}).json()["results"] == []


def test_partners_cannot_write(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    assert client.post(URL, crew_input(cast), format="json").status_code == 403
    assert client.patch(f"{URL}{cast.crew_a.pk}/", {"members": 9}).status_code == 403
    assert client.delete(f"{URL}{cast.crew_a.pk}/").status_code == 403


def test_support_and_anonymous_have_no_access(cast: Cast, client_for: Client) -> None:
    assert client_for(cast.support).get(URL).status_code == 403
    assert client_for(None).get(URL).status_code == 401


def test_filters_by_company_skill_and_activity(cast: Cast, client_for: Client) -> None:
    make_crew(company=cast.company_a, name="A2", is_active=False)
    client = client_for(cast.coordinator)

    def names(**params: Any) -> list[str]:
        return [crew["name"] for crew in client.get(URL, params).json()["results"]]

    assert names(company=cast.company_a.pk) == ["A1", "A2"]
    assert names(skill="fibre_splicing") == ["A1", "B1"]
    assert names(is_active="false") == ["A2"]
    assert names(ordering="-name") == ["B1", "A2", "A1"]


def test_a_stale_etag_answers_412_and_the_fresh_one_works(cast: Cast, client_for: Client) -> None:
    """Two coordinators edit the same crew: the second, holding an old ETag, must reload."""
    client = client_for(cast.coordinator)
    detail = f"{URL}{cast.crew_a.pk}/"
    old_tag = client.get(detail)["ETag"]
    client.patch(detail, {"members": 3}, format="json")

    stale = client.patch(detail, {"members": 4}, format="json", HTTP_IF_MATCH=old_tag)
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "precondition_failed"
    assert Crew.objects.get(pk=cast.crew_a.pk).members == 3

    fresh_tag = client.get(detail)["ETag"]
    fresh = client.patch(detail, {"members": 4}, format="json", HTTP_IF_MATCH=fresh_tag)
    assert fresh.status_code == 200
    assert fresh["ETag"] != fresh_tag


def test_deleting_a_crew_with_visits_answers_409_in_use(cast: Cast, client_for: Client) -> None:
    response = client_for(cast.coordinator).delete(f"{URL}{cast.crew_a.pk}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "in_use"


def test_the_list_does_a_constant_number_of_queries(
    cast: Cast, client_for: Client, django_assert_max_num_queries: Any
) -> None:
    skills = [make_skill("fibre_splicing"), make_skill("mc_install")]
    for n in range(20):
        make_crew(company=cast.company_a, name=f"extra {n}").skills.add(*skills)
    client = client_for(cast.coordinator)
    with django_assert_max_num_queries(3):  # count, crews with companies, skills
        response = client.get(URL, {"page_size": 100})
    assert len(response.json()["results"]) == 22


def test_a_malformed_filter_answers_400_naming_it(cast: Cast, client_for: Client) -> None:
    response = client_for(cast.coordinator).get(URL, {"company": "A"})
    assert response.status_code == 400
    assert "company" in response.json()["error"]["fields"]


def test_a_crews_lunch_break_is_set_and_checked(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    url = f"/api/v1/crews/{cast.crew_a.pk}/"
    response = client.patch(
        url,
        {"lunch_minutes": 45, "lunch_earliest_start": "12:00", "lunch_latest_start": "13:00"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    cast.crew_a.refresh_from_db()
    lunch = cast.crew_a.lunch
    assert lunch is not None and lunch.minutes == 45
    assert (lunch.earliest_start, lunch.latest_start) == (dt.time(12), dt.time(13))
    response = client.patch(url, {"lunch_latest_start": "11:00"}, format="json")
    assert response.status_code == 400
    assert "lunch_latest_start" in response.json()["error"]["fields"]
    response = client.patch(url, {"lunch_minutes": 300}, format="json")
    assert response.status_code == 400
    assert "lunch_minutes" in response.json()["error"]["fields"]
    # 0 minutes: no planned break for this crew, whatever its company says.
    assert client.patch(url, {"lunch_minutes": 0}, format="json").status_code == 200
    cast.crew_a.refresh_from_db()
    assert cast.crew_a.lunch is None
