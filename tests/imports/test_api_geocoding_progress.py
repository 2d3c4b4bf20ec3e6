"""GET /api/v1/imports/geocoding/: how far geocoding of imported sites has got."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from delivery.imports import import_apply
from sites.models import GeocodeStatus
from tests.factories import make_site
from tests.imports.conftest import read

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.imports.urls")]

URL = "/api/v1/imports/geocoding/"


def test_it_counts_sites_per_status(
    client_for: Callable[[User | None], APIClient], alice: User
) -> None:
    import_apply(kind="orders", file=read("orders_utf8.csv"), filename="orders.csv")
    make_site(geocode_status=GeocodeStatus.FAILED, latitude=None, longitude=None)

    response = client_for(alice).get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "pending": 3,
        "ok": 0,
        "not_found": 0,
        "failed": 1,
        "manual": 1,
        "total": 5,
    }


@pytest.mark.parametrize("role", ["sam", "pat"])
def test_support_and_partners_are_refused(
    client_for: Callable[[User | None], APIClient], request: pytest.FixtureRequest, role: str
) -> None:
    assert client_for(request.getfixturevalue(role)).get(URL).status_code == 403


def test_anonymous_callers_must_log_in(client_for: Callable[[User | None], APIClient]) -> None:
    assert client_for(None).get(URL).status_code == 401
