"""Hostile JSON bodies answer 400 in the one error shape, never 500 (issue 18, finding 5)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from tests.factories import make_user

PLAN = '{"name": "x", "start_date": "2026-12-07", "end_date": "2026-12-08", "params": %s}'


@pytest.fixture
def client(db: None) -> APIClient:
    client = APIClient()
    client.force_authenticate(make_user(Role.COORDINATOR))
    return client


@pytest.mark.parametrize("depth", [40, 1_000, 100_000])
def test_json_nested_deeper_than_any_body_is_a_400(client: APIClient, depth: int) -> None:
    body = "[" * depth + "]" * depth
    response = client.post("/api/v1/plans/", body, content_type="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "parse_error" and "nested deeper" in error["message"]


@pytest.mark.parametrize(
    "params", ['{"\\ud800": 1}', '{"weights": {"x": "\\udfff"}}', '["\\ud83d"]']
)
def test_a_lone_surrogate_anywhere_is_a_400(client: APIClient, params: str) -> None:
    response = client.post("/api/v1/plans/", PLAN % params, content_type="application/json")
    assert response.status_code == 400
    assert "not valid Unicode" in response.json()["error"]["message"]


def test_a_real_pair_of_surrogates_is_an_ordinary_character(client: APIClient) -> None:
    """😀 written as an escaped pair is fine: only a lone half is refused."""
    body = '{"name": "\\ud83d\\ude00", "start_date": "2026-12-07", "end_date": "2026-12-08"}'
    response = client.post("/api/v1/plans/", body, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response.json()["name"] == "😀"
