"""Pages answer 503 "unavailable for a moment" during a database outage (issue 18, finding 8).

When PostgreSQL restarts, a page's query raises ``OperationalError`` (or
``InterfaceError`` on a connection that died). The API already answers its 503 JSON;
a page answers a small standalone 503 page in the reader's language, which reads
nothing from the database itself. Any other failure is still a 500, and the API keeps
its own JSON shape.
"""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client

import api.views
import web.views
from accounts.models import Role
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def coordinator(language: str = "en") -> Client:
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(make_user(Role.COORDINATOR))
    return client


def orders_raise(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def open_orders(**filters: object) -> None:
        raise error

    monkeypatch.setattr(web.views, "open_orders", open_orders)


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("server closed the connection unexpectedly"),
        InterfaceError("connection already closed"),
    ],
    ids=["OperationalError", "InterfaceError"],
)
def test_a_page_during_a_database_outage_is_a_503_that_asks_to_try_again(
    monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    orders_raise(monkeypatch, error)

    response = coordinator().get("/orders/")

    assert response.status_code == 503
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert "The service is unavailable for a moment" in html
    assert "try again" in html
    assert "server closed" not in html and "connection already closed" not in html
    assert "no-store" in response["Cache-Control"]


def test_the_503_page_speaks_japanese_to_a_japanese_reader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    orders_raise(monkeypatch, OperationalError("the database system is starting up"))

    response = coordinator("ja").get("/orders/")

    assert response.status_code == 503
    html = response.content.decode()
    assert '<html lang="ja">' in html
    assert "サービスは一時的にご利用いただけません" in html
    assert "しばらくしてから、もう一度お試しください。" in html


def test_any_other_failure_of_a_page_is_still_a_500(monkeypatch: pytest.MonkeyPatch) -> None:
    orders_raise(monkeypatch, RuntimeError("a bug"))

    response = coordinator().get("/orders/")

    assert response.status_code == 500
    assert "unavailable for a moment" not in response.content.decode()


def test_the_api_keeps_its_own_503_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """The middleware leaves /api/ to api/errors.py: the API's one JSON error shape."""

    class DownDatabase:
        vendor = "postgresql"

        def cursor(self) -> None:
            raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(api.views, "connection", DownDatabase())

    response = Client(raise_request_exception=False).get("/api/v1/health/")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "database_unavailable"
