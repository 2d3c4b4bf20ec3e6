"""``/api/v1/skills/``: coordinators keep the skill list; everyone else reads it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from dispatch.models import EstimateRule, Skill
from tests.api.conftest import Cast
from tests.factories import make_skill

URL = "/api/v1/skills/"
Client = Callable[[User | None], APIClient]


@pytest.fixture(autouse=True)
def _only_the_casts_skill(cast: Cast) -> None:
    """These tests count skills: drop the estimate rule table's reference skills first."""
    EstimateRule.objects.all().delete()
    Skill.objects.exclude(code="fibre_splicing").delete()


def test_it_works(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    assert [s["code"] for s in client.get(URL).json()["results"]] == ["fibre_splicing"]

    created = client.post(URL, {"code": "aerial_work", "name": "Aerial work"})
    assert created.status_code == 201, created.json()
    skill_url = f"{URL}{created.json()['id']}/"
    assert client.get(skill_url).json()["code"] == "aerial_work"
    assert client.patch(skill_url, {"name": "Bucket truck"}).json()["name"] == "Bucket truck"
    assert client.delete(skill_url).status_code == 204


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"code": "has spaces", "name": "x"}, "code"),
        ({"code": "fibre_splicing", "name": "again"}, "code"),
        ({"code": "ok_code", "name": ""}, "name"),
    ],
)
def test_it_validates_input(
    cast: Cast, client_for: Client, payload: dict[str, Any], field: str
) -> None:
    response = client_for(cast.coordinator).post(URL, payload)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert Skill.objects.count() == 1


def test_a_skill_in_use_cannot_be_deleted(cast: Cast, client_for: Client) -> None:
    """Deleting it would silently drop a job's requirement and let the planner misassign it."""
    skill = Skill.objects.get(code="fibre_splicing")
    response = client_for(cast.coordinator).delete(f"{URL}{skill.pk}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "in_use"
    assert Skill.objects.filter(pk=skill.pk).exists()


@pytest.mark.parametrize("who", ["support", "partner_a"])
def test_support_and_partners_read_but_cannot_write(
    cast: Cast, client_for: Client, who: str
) -> None:
    client = client_for(getattr(cast, who))
    skill = Skill.objects.get()
    assert client.get(URL).status_code == 200
    assert client.get(f"{URL}{skill.pk}/").status_code == 200
    assert client.post(URL, {"code": "x", "name": "x"}).status_code == 403
    assert client.delete(f"{URL}{skill.pk}/").status_code == 403


def test_anonymous_gets_401(client_for: Client, db: None) -> None:
    assert client_for(None).get(URL).status_code == 401


def test_filters_and_ordering(cast: Cast, client_for: Client) -> None:
    make_skill("aerial_work")
    client = client_for(cast.coordinator)
    assert [s["code"] for s in client.get(URL, {"code": "aerial_work"}).json()["results"]] == [
        "aerial_work"
    ]
    ordered = client.get(URL, {"ordering": "-code"}).json()["results"]
    assert [s["code"] for s in ordered] == ["fibre_splicing", "aerial_work"]


def test_the_list_does_a_constant_number_of_queries(
    cast: Cast, client_for: Client, django_assert_max_num_queries: Any
) -> None:
    for n in range(20):
        make_skill(f"skill_{n}")
    with django_assert_max_num_queries(2):  # count, skills
        client_for(cast.partner_a).get(URL, {"page_size": 100})
