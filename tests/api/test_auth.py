"""Sign-in, API tokens (hashed, shown once, revocable at once) and login throttling."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from tests.api.conftest import Cast

pytestmark = pytest.mark.django_db

Client = Callable[[User | None], APIClient]


@pytest.fixture(autouse=True)
def fresh_throttle_counters() -> None:
    cache.clear()


def test_a_partner_creates_a_token_that_is_shown_once_and_stored_hashed(
    cast: Cast, client_for: Client
) -> None:
    client = client_for(cast.partner_a)
    created = client.post("/api/v1/auth/tokens/", {"name": "route app"})
    assert created.status_code == 201
    secret = created.json()["token"]
    row = ApiToken.objects.get()
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiToken.objects.values_list())
    listed = client.get("/api/v1/auth/tokens/").json()
    assert [t["prefix"] for t in listed] == [secret[:8]]
    assert "token" not in listed[0]


def test_a_token_authenticates_until_it_is_revoked(cast: Cast, client_for: Client) -> None:
    secret = client_for(cast.partner_a).post("/api/v1/auth/tokens/", {"name": "app"}).json()
    machine = APIClient()
    machine.credentials(HTTP_AUTHORIZATION=f"Bearer {secret['token']}")
    assert machine.get("/api/v1/auth/me/").json()["username"] == "partner_a"

    revoked = client_for(cast.partner_a).delete(f"/api/v1/auth/tokens/{secret['details']['id']}/")
    assert revoked.status_code == 204
    response = machine.get("/api/v1/auth/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_nobody_can_revoke_someone_elses_token(cast: Cast, client_for: Client) -> None:
    token = client_for(cast.partner_a).post("/api/v1/auth/tokens/", {"name": "app"}).json()
    response = client_for(cast.partner_b).delete(f"/api/v1/auth/tokens/{token['details']['id']}/")
    assert response.status_code == 404
    assert ApiToken.objects.get().revoked_at is None


def test_a_garbage_token_is_a_401(db: None) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert client.get("/api/v1/auth/me/").status_code == 401


def test_session_login_and_logout(cast: Cast) -> None:
    """The browser flow, CSRF checks on: fetch the cookie, sign in, work, sign out."""
    cast.coordinator.set_password("correct horse")
    cast.coordinator.save()
    client = APIClient(enforce_csrf_checks=True)
    client.get("/api/v1/auth/login/")
    ok = client.post(
        "/api/v1/auth/login/",
        {"username": "alice", "password": "correct horse"},
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert ok.status_code == 200 and ok.json()["role"] == "coordinator"
    assert client.get("/api/v1/plans/").status_code == 200
    logout = client.post("/api/v1/auth/logout/", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert logout.status_code == 204
    assert client.get("/api/v1/plans/").status_code in (401, 403)


def test_wrong_passwords_are_refused_and_throttled(cast: Cast) -> None:
    client = APIClient()
    statuses = [
        client.post(
            "/api/v1/auth/login/", {"username": "alice", "password": f"guess{i}"}
        ).status_code
        for i in range(12)
    ]
    assert statuses[0] == 401
    assert statuses[-1] == 429
    assert set(statuses) <= {401, 429}


def test_login_input_is_validated(db: None) -> None:
    response = APIClient().post("/api/v1/auth/login/", {"username": ""})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"username", "password"}


def test_a_forged_forwarded_for_header_does_not_escape_the_login_limit(cast: Cast) -> None:
    """Issue 18, finding 4: rotating X-Forwarded-For gave 25 logins a minute, none throttled."""
    client = APIClient()
    statuses = [
        client.post(
            "/api/v1/auth/login/",
            {"username": "alice", "password": f"guess{i}"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{i}",
        ).status_code
        for i in range(12)
    ]
    assert statuses[-1] == 429


def test_behind_one_trusted_proxy_the_proxys_last_hop_is_the_client(
    cast: Cast, settings: Any
) -> None:
    """With TRUSTED_PROXIES=1 the address our proxy appended identifies the client."""
    from rest_framework.settings import api_settings

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    api_settings.reload()
    try:
        client = APIClient()

        def login(forwarded: str, username: str = "alice") -> int:
            return client.post(
                "/api/v1/auth/login/",
                {"username": username, "password": "wrong"},
                HTTP_X_FORWARDED_FOR=forwarded,
            ).status_code

        # The client forges the first part; our proxy appends the real address.
        blocked = [login(f"10.0.0.{i}, 198.51.100.7") for i in range(12)]
        assert blocked[-1] == 429
        # Another real client is not blocked (another user: alice is locked out by now).
        assert login("198.51.100.8", username="bob") == 401
    finally:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
        api_settings.reload()
