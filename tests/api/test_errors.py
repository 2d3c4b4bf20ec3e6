"""Bad input of every kind gets one JSON error shape and writes nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from dispatch.models import Crew, Skill
from tests.api.conftest import Cast

pytestmark = pytest.mark.django_db

Client = Callable[[User | None], APIClient]


def test_an_oversized_payload_is_a_413_and_writes_nothing(cast: Cast, client_for: Client) -> None:
    before = Skill.objects.count()
    body = '{"code": "x", "name": "' + "x" * 2_000_000 + '"}'
    response = client_for(cast.coordinator).generic(
        "POST", "/api/v1/skills/", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert Skill.objects.count() == before


def test_malformed_json_is_a_400(cast: Cast, client_for: Client) -> None:
    response = client_for(cast.coordinator).generic(
        "POST", "/api/v1/skills/", '{"code": ', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_wrong_types_name_every_offending_field(cast: Cast, client_for: Client) -> None:
    before = Crew.objects.count()
    response = client_for(cast.coordinator).post(
        "/api/v1/crews/",
        {"company": "acme", "name": "", "members": "two", "home_latitude": 123.0},
        format="json",
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert {"company", "name", "members", "home_latitude"} <= set(fields)
    assert Crew.objects.count() == before


def test_an_unknown_url_is_a_json_404(db: None) -> None:
    response = APIClient().get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_unsupported_method_is_a_405_in_the_same_shape(cast: Cast, client_for: Client) -> None:
    response = client_for(cast.coordinator).delete("/api/v1/plans/")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
