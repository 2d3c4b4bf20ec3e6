"""A token checked recently is not looked up again, yet every change to it counts at once.

These tests commit (``transaction=True``): the ``credentials`` change counter
is bumped after commit, as in production. Each change that must end or
alter a token's access is tried once: authenticate (now remembered), change,
and the very next request must see it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

import accounts.tokens
from accounts.models import ApiToken, Role, User
from accounts.tokens import (
    TokenExpired,
    forget_checked_tokens,
    token_authenticate,
    token_create,
    token_revoke,
    token_rotate,
)
from tests.api.conftest import Cast

pytestmark = pytest.mark.django_db(transaction=True)

Client = Callable[[User | None], APIClient]
ME = "/api/v1/auth/me/"


@pytest.fixture(autouse=True)
def _remembering(settings: Any) -> Iterator[None]:
    settings.API_TOKEN_CACHE_SECONDS = 300
    forget_checked_tokens()
    cache.clear()
    yield
    forget_checked_tokens()


def machine(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def token_lookups(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "accounts_apitoken" in q["sql"]]


def test_a_token_checked_once_is_not_looked_up_again(cast: Cast) -> None:
    _, secret = token_create(user=cast.partner_a, name="app")
    client = machine(secret)
    assert client.get(ME).status_code == 200

    with CaptureQueriesContext(connection) as queries:
        again = client.get(ME)

    assert again.json()["username"] == "partner_a"
    assert token_lookups(queries) == []


def test_a_revoked_token_is_refused_on_the_next_request(cast: Cast) -> None:
    token, secret = token_create(user=cast.partner_a, name="app")
    client = machine(secret)
    assert client.get(ME).status_code == 200

    token_revoke(token=token)

    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_after_a_rotation_the_old_secret_is_refused_and_the_new_one_works(cast: Cast) -> None:
    token, old_secret = token_create(user=cast.partner_a, name="app")
    assert machine(old_secret).get(ME).status_code == 200

    _, new_secret = token_rotate(token=token)

    assert machine(old_secret).get(ME).status_code == 401
    assert machine(new_secret).get(ME).status_code == 200


def test_a_deactivated_user_is_refused_on_the_next_request(cast: Cast) -> None:
    _, secret = token_create(user=cast.partner_a, name="app")
    assert machine(secret).get(ME).status_code == 200

    cast.partner_a.is_active = False
    cast.partner_a.save()

    assert machine(secret).get(ME).status_code == 401


def test_a_new_role_or_company_counts_on_the_next_request(cast: Cast) -> None:
    _, secret = token_create(user=cast.partner_a, name="app")
    client = machine(secret)
    assert client.get(ME).json()["role"] == Role.PARTNER
    monday = {"date": "2026-11-30"}
    [route] = client.get("/api/v1/routes/", monday).json()["routes"]
    assert route["crew"]["id"] == cast.crew_a.pk

    cast.partner_a.partner_company = cast.company_b
    cast.partner_a.save()
    [route] = client.get("/api/v1/routes/", monday).json()["routes"]
    assert route["crew"]["id"] == cast.crew_b.pk

    cast.partner_a.role = Role.SUPPORT
    cast.partner_a.partner_company = None
    cast.partner_a.save()
    assert client.get("/api/v1/routes/", monday).status_code == 403


def test_a_login_elsewhere_does_not_forget_the_checked_tokens(cast: Cast) -> None:
    _, secret = token_create(user=cast.partner_a, name="app")
    client = machine(secret)
    client.get(ME)

    cast.partner_a.last_login = timezone.now()
    cast.partner_a.save(update_fields=["last_login"])

    with CaptureQueriesContext(connection) as queries:
        assert client.get(ME).status_code == 200
    assert token_lookups(queries) == []


def test_a_remembered_token_still_expires_on_time(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, secret = token_create(user=cast.partner_a, name="app", expires_in_days=1)
    assert token_authenticate(secret) is not None
    later = token.expires_at + dt.timedelta(seconds=1)

    monkeypatch.setattr(accounts.tokens.timezone, "now", lambda: later)

    with pytest.raises(TokenExpired):
        token_authenticate(secret)


def test_last_use_is_still_written_once_a_minute(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, secret = token_create(user=cast.partner_a, name="app")
    start = timezone.now()
    monkeypatch.setattr(accounts.tokens.timezone, "now", lambda: start)
    token_authenticate(secret)
    token_authenticate(secret)
    assert ApiToken.objects.get().last_used_at == start

    later = start + dt.timedelta(minutes=2)
    monkeypatch.setattr(accounts.tokens.timezone, "now", lambda: later)
    token_authenticate(secret)

    assert ApiToken.objects.get().last_used_at == later


def test_each_request_gets_its_own_user(cast: Cast) -> None:
    _, secret = token_create(user=cast.partner_a, name="app")
    first = token_authenticate(secret)
    assert first is not None
    first.user.first_name = "set by one request"

    second = token_authenticate(secret)

    assert second is not None
    assert second.user is not first.user
    assert second.user.first_name != "set by one request"


def test_with_the_memory_off_every_request_looks_the_token_up(cast: Cast, settings: Any) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 0
    _, secret = token_create(user=cast.partner_a, name="app")
    client = machine(secret)
    client.get(ME)

    with CaptureQueriesContext(connection) as queries:
        client.get(ME)

    assert len(token_lookups(queries)) == 1
