"""GET /api/v1/exports/{kind}.{csv|xlsx}: the file, named, with its content type."""

from __future__ import annotations

import io
from collections.abc import Callable

import openpyxl
import pytest
from rest_framework.test import APIClient

from accounts.models import User
from delivery.imports import import_apply
from dispatch.models import Skill
from tests.imports.conftest import read

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.imports.urls")]


def test_orders_as_csv(client_for: Callable[[User | None], APIClient], alice: User) -> None:
    import_apply(kind="orders", file=read("orders_utf8.csv"), filename="orders.csv")

    response = client_for(alice).get("/api/v1/exports/orders.csv", HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="orders-')
    assert response["Content-Disposition"].endswith('.csv"')
    assert response["Cache-Control"] == "no-store"
    text = response.content.decode("utf-8-sig")
    assert text.startswith("reference,contract id,circuit id,customer name")
    assert "株式会社芝浦商事" in text


def test_crews_as_xlsx(
    client_for: Callable[[User | None], APIClient], alice: User, skills: list[Skill]
) -> None:
    import_apply(kind="crews", file=read("crews.csv"), filename="crews.csv")

    response = client_for(alice).get("/api/v1/exports/crews.xlsx")

    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    assert len(list(workbook["crews"].iter_rows())) == 4  # header + 3 crews


def test_an_unknown_format_is_not_found(
    client_for: Callable[[User | None], APIClient], alice: User
) -> None:
    assert client_for(alice).get("/api/v1/exports/orders.pdf").status_code == 404


@pytest.mark.parametrize("role", ["sam", "pat"])
def test_support_and_partners_are_refused_in_json(
    client_for: Callable[[User | None], APIClient], request: pytest.FixtureRequest, role: str
) -> None:
    response = client_for(request.getfixturevalue(role)).get(
        "/api/v1/exports/orders.csv", HTTP_ACCEPT="text/csv"
    )

    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "permission_denied"


def test_anonymous_callers_must_log_in(client_for: Callable[[User | None], APIClient]) -> None:
    assert client_for(None).get("/api/v1/exports/crews.csv").status_code == 401
