"""A database outage met by a middleware, not the view, is a 503 too (issue 18, item 8).

Sessions, authentication and axes read the database before the view runs (and the
session is saved after it). Django answers an error there through ``handler500``, not
through the view's exception handling, and that answered 500. Now any
``OperationalError`` / ``InterfaceError`` in a request is a 503: the 503 page for pages,
the API's JSON (``database_unavailable``) under /api/. Any other error stays a 500.
"""

from __future__ import annotations

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import Client

from accounts.models import Role
from tests.factories import make_user

pytestmark = pytest.mark.django_db

ERRORS = [
    OperationalError("server closed the connection unexpectedly"),
    InterfaceError("connection already closed"),
]
IDS = ["OperationalError", "InterfaceError"]


def sessions_raise(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """The session middleware fails before any view runs, as when it reads its row."""

    def process_request(self: SessionMiddleware, request: HttpRequest) -> None:
        raise error

    monkeypatch.setattr(SessionMiddleware, "process_request", process_request)


def signed_in(language: str = "en") -> Client:
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(make_user(Role.COORDINATOR))
    return client


@pytest.mark.parametrize("error", ERRORS, ids=IDS)
def test_a_page_whose_middleware_meets_a_database_outage_is_the_503_page(
    monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    client = signed_in()
    sessions_raise(monkeypatch, error)

    response = client.get("/orders/")

    assert response.status_code == 503
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert "The service is unavailable for a moment" in html
    assert "server closed" not in html and "connection already closed" not in html
    assert "no-store" in response["Cache-Control"]


def test_the_503_page_from_a_middleware_speaks_the_readers_language(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The session failed before LocaleMiddleware ran: the language comes from the request."""
    client = signed_in("ja")
    sessions_raise(monkeypatch, OperationalError("the database system is starting up"))

    response = client.get("/orders/")

    assert response.status_code == 503
    html = response.content.decode()
    assert '<html lang="ja">' in html
    assert "サービスは一時的にご利用いただけません" in html


@pytest.mark.parametrize("error", ERRORS, ids=IDS)
def test_an_api_request_whose_middleware_meets_a_database_outage_is_the_503_json(
    monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    sessions_raise(monkeypatch, error)

    response = Client(raise_request_exception=False).get("/api/v1/health/")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": {
            "status": 503,
            "code": "database_unavailable",
            "message": "the database is unavailable for a moment; try again shortly",
        }
    }


def test_a_session_that_cannot_be_saved_after_the_view_is_a_503(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The other side of the view: the session middleware saves the session afterwards."""
    client = signed_in()

    def process_response(
        self: SessionMiddleware, request: HttpRequest, response: HttpResponse
    ) -> HttpResponse:
        raise OperationalError("could not write the session")

    monkeypatch.setattr(SessionMiddleware, "process_response", process_response)

    response = client.get("/orders/")

    assert response.status_code == 503
    assert "The service is unavailable for a moment" in response.content.decode()


@pytest.mark.parametrize("path", ["/orders/", "/api/v1/health/"])
def test_any_other_middleware_failure_is_still_a_500(
    monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    sessions_raise(monkeypatch, RuntimeError("a bug"))

    response = Client(raise_request_exception=False).get(path)

    assert response.status_code == 500
    assert "unavailable for a moment" not in response.content.decode()
    if path.startswith("/api/"):
        assert response.json()["error"]["code"] == "server_error"
