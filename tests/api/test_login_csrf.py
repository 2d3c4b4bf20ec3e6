"""The API sign-in checks CSRF (issue 18, finding 8: login CSRF).

Without the check, a foreign page could post the attacker's username and
password from a victim's browser and sign the victim into the attacker's
account. The sign-in only ever starts a cookie session, so it always checks:
``GET /api/v1/auth/login/`` sets the csrftoken cookie, the ``POST`` sends it
back in ``X-CSRFToken``, as a browser client of the API does.
"""

from __future__ import annotations

import typing

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.api.conftest import Cast

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login/"
PASSWORD = "correct horse"
ALICE = {"username": "alice", "password": PASSWORD}


@pytest.fixture
def browser(cast: Cast) -> APIClient:
    """A client that, like a browser, is held to the CSRF check; Alice can sign in."""
    cast.coordinator.set_password(PASSWORD)
    cast.coordinator.save()
    return APIClient(enforce_csrf_checks=True)


def _csrf_token(client: APIClient) -> str:
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert response.json()["csrf_token"]
    return client.cookies[settings.CSRF_COOKIE_NAME].value


def test_a_sign_in_without_a_csrf_token_is_a_403_csrf_failed(browser: APIClient) -> None:
    response = browser.post(LOGIN, ALICE)
    assert response.status_code == 403
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (403, "csrf_failed")
    assert "GET /api/v1/auth/login/" in error["message"]
    assert settings.SESSION_COOKIE_NAME not in browser.cookies
    assert browser.get("/api/v1/auth/me/").status_code == 401


def test_a_cookie_without_the_header_is_refused(browser: APIClient) -> None:
    _csrf_token(browser)
    response = browser.post(LOGIN, ALICE)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "csrf_failed")


def test_a_wrong_csrf_token_is_refused(browser: APIClient) -> None:
    _csrf_token(browser)
    response = browser.post(LOGIN, ALICE, HTTP_X_CSRFTOKEN="x" * 32)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "csrf_failed")


def test_a_header_forged_without_the_cookie_is_refused(cast: Cast) -> None:
    """A foreign page cannot read our cookie; inventing a token it does not hold fails."""
    cast.coordinator.set_password(PASSWORD)
    cast.coordinator.save()
    attacker = APIClient(enforce_csrf_checks=True)
    response = attacker.post(LOGIN, ALICE, HTTP_X_CSRFTOKEN="a" * 32)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "csrf_failed")


def test_a_sign_in_with_the_csrf_token_starts_a_session(browser: APIClient) -> None:
    token = _csrf_token(browser)
    response = browser.post(LOGIN, ALICE, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    # The session works, and the rotated CSRF cookie protects its writes as before.
    assert browser.get("/api/v1/auth/me/").status_code == 200
    fresh_token = browser.cookies[settings.CSRF_COOKIE_NAME].value
    created = browser.post("/api/v1/auth/tokens/", {"name": "script"}, HTTP_X_CSRFTOKEN=fresh_token)
    assert created.status_code == 201


def test_the_token_in_the_get_body_works_as_well_as_the_cookie(browser: APIClient) -> None:
    """For clients that cannot read the cookie (HttpOnly): the body carries a valid token."""
    body_token = browser.get(LOGIN).json()["csrf_token"]
    response = browser.post(LOGIN, ALICE, HTTP_X_CSRFTOKEN=body_token)
    assert response.status_code == 200


def test_wrong_passwords_are_still_401_once_csrf_passes(browser: APIClient) -> None:
    token = _csrf_token(browser)
    response = browser.post(
        LOGIN, {"username": "alice", "password": "guess"}, HTTP_X_CSRFTOKEN=token
    )
    assert (response.status_code, response.json()["error"]["code"]) == (401, "bad_credentials")


def test_fetching_the_csrf_cookie_does_not_use_up_the_login_budget(browser: APIClient) -> None:
    rates = typing.cast(dict[str, str], settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])
    rate = int(rates["login"].split("/")[0])
    for _ in range(rate + 2):
        assert browser.get(LOGIN).status_code == 200
    token = browser.cookies[settings.CSRF_COOKIE_NAME].value
    assert browser.post(LOGIN, ALICE, HTTP_X_CSRFTOKEN=token).status_code == 200


def test_the_web_sign_in_form_is_csrf_protected_too(cast: Cast) -> None:
    """The other way in, Django's /login/ form, was already protected; it stays so."""
    from django.test import Client

    cast.coordinator.set_password(PASSWORD)
    cast.coordinator.save()
    response = Client(enforce_csrf_checks=True).post("/login/", ALICE)
    assert response.status_code == 403
