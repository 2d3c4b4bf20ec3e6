"""``/api/v1/skills/``: a skill's English name beside its Japanese one.

The board shows ``name`` to Japanese coordinators and ``name_en`` to English
ones (the Japanese name while ``name_en`` is blank), so the API keeps both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from dispatch.models import Skill
from tests.api.conftest import Cast

URL = "/api/v1/skills/"
Client = Callable[[User | None], APIClient]


def test_the_english_name_is_written_read_and_changed(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)

    created = client.post(URL, {"code": "chasing", "name": "壁面はつり", "name_en": "Wall chasing"})
    assert created.status_code == 201, created.json()
    assert created.json()["name_en"] == "Wall chasing"
    url = f"{URL}{created.json()['id']}/"
    assert client.get(url).json() | {"id": 0} == {
        "id": 0,
        "code": "chasing",
        "name": "壁面はつり",
        "name_en": "Wall chasing",
    }
    assert client.patch(url, {"name_en": "Chasing"}).json()["name_en"] == "Chasing"
    assert Skill.objects.get(code="chasing").name_en == "Chasing"


def test_the_english_name_is_optional(cast: Cast, client_for: Client) -> None:
    created = client_for(cast.coordinator).post(URL, {"code": "pole_survey", "name": "電柱調査"})

    assert created.status_code == 201, created.json()
    assert created.json()["name_en"] == ""


@pytest.mark.parametrize(
    "payload",
    [
        {"code": "too_long", "name": "長い", "name_en": "x" * 101},
        {"code": "not_text", "name": "表", "name_en": {"en": "table"}},
    ],
)
def test_a_bad_english_name_is_a_400_naming_the_field(
    cast: Cast, client_for: Client, payload: dict[str, Any]
) -> None:
    response = client_for(cast.coordinator).post(URL, payload, format="json")

    assert response.status_code == 400
    assert "name_en" in response.json()["error"]["fields"]
    assert not Skill.objects.filter(code=payload["code"]).exists()
