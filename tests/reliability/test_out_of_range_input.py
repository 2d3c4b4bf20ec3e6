"""Numbers too large for the database's integers in a query string are never a 500.
SQLite refuses them (OverflowError, answered 400); on PostgreSQL Django matches
nothing (200 empty or 404). Found by `make fuzz`."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from tests.api.conftest import Cast

pytestmark = pytest.mark.django_db

HUGE = "-97221986583532535808"


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/site-permissions/?contract={HUGE}",
        f"/api/v1/routes/geojson/?crew={HUGE[1:]}&date=2026-11-23",
        f"/api/v1/audit/?actor={HUGE[1:]}",
    ],
)
def test_an_out_of_range_number_is_not_a_server_error(
    url: str, cast: Cast, client_for: Callable[[User | None], APIClient]
) -> None:
    response = client_for(cast.coordinator).get(url)
    assert response.status_code in (200, 400, 404), response.content[:200]
    if response.status_code == 400:
        assert response.json()["error"]["code"] == "invalid"
