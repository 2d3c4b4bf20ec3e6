"""API tokens expire and are rotated (issue 18, finding 8: tokens never expired).

A token lives ``API_TOKEN_LIFETIME_DAYS`` (or fewer days if its owner asks);
past that it answers 401 ``token_expired``. Rotating a token returns a new
secret with a fresh expiry and revokes the old one at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from accounts.tokens import token_create
from tests.api.conftest import Cast

pytestmark = pytest.mark.django_db

Client = Callable[[User | None], APIClient]
TOKENS = "/api/v1/auth/tokens/"


def _machine(secret: str) -> APIClient:
    """A partner's tool: no session, only the token."""
    machine = APIClient()
    machine.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return machine


def _expire(token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))


def _close_to(moment: str, expected: dt.datetime) -> bool:
    return abs(dt.datetime.fromisoformat(moment) - expected) < dt.timedelta(minutes=1)


# --- expiry -----------------------------------------------------------------------------


def test_a_new_token_expires_after_the_configured_lifetime(cast: Cast, client_for: Client) -> None:
    created = client_for(cast.partner_a).post(TOKENS, {"name": "route app"}).json()
    lifetime = dt.timedelta(days=settings.API_TOKEN_LIFETIME_DAYS)
    assert _close_to(created["details"]["expires_at"], timezone.now() + lifetime)
    assert created["details"]["expired"] is False


def test_the_lifetime_comes_from_the_setting(cast: Cast, client_for: Client, settings: Any) -> None:
    settings.API_TOKEN_LIFETIME_DAYS = 30
    created = client_for(cast.partner_a).post(TOKENS, {"name": "route app"}).json()
    assert _close_to(created["details"]["expires_at"], timezone.now() + dt.timedelta(days=30))


def test_the_owner_may_ask_for_a_shorter_life(cast: Cast, client_for: Client) -> None:
    created = client_for(cast.partner_a).post(
        TOKENS, {"name": "one-week job", "expires_in_days": 7}
    )
    assert created.status_code == 201
    assert _close_to(created.json()["details"]["expires_at"], timezone.now() + dt.timedelta(days=7))


@pytest.mark.parametrize("days", [0, -1, 91, "soon"])
def test_a_life_outside_one_day_to_the_lifetime_is_a_400_naming_the_field(
    cast: Cast, client_for: Client, days: object, settings: Any
) -> None:
    settings.API_TOKEN_LIFETIME_DAYS = 90
    response = client_for(cast.partner_a).post(TOKENS, {"name": "app", "expires_in_days": days})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (400, "invalid")
    assert list(error["fields"]) == ["expires_in_days"]
    assert not ApiToken.objects.exists()


def test_a_token_works_until_its_expiry(cast: Cast) -> None:
    token, secret = token_create(user=cast.partner_a, name="tablet")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() + dt.timedelta(minutes=5))
    assert _machine(secret).get("/api/v1/auth/me/").status_code == 200


def test_an_expired_token_is_a_401_token_expired_that_says_to_rotate(cast: Cast) -> None:
    token, secret = token_create(user=cast.partner_a, name="tablet")
    _expire(token)
    response = _machine(secret).get("/api/v1/routes/", {"date": "2026-11-23"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (401, "token_expired")
    assert f"/api/v1/auth/tokens/{token.pk}/rotate/" in error["message"]
    assert "create a new one" in error["message"]


def test_an_expired_token_is_not_marked_as_used(cast: Cast) -> None:
    token, secret = token_create(user=cast.partner_a, name="tablet")
    _expire(token)
    _machine(secret).get("/api/v1/auth/me/")
    token.refresh_from_db()
    assert token.last_used_at is None


def test_a_revoked_token_keeps_its_answer_even_once_expired(cast: Cast, client_for: Client) -> None:
    token, secret = token_create(user=cast.partner_a, name="tablet")
    client_for(cast.partner_a).delete(f"{TOKENS}{token.pk}/")
    _expire(token)
    error = _machine(secret).get("/api/v1/auth/me/").json()["error"]
    assert (error["code"], error["message"]) == (
        "authentication_failed",
        "unknown or revoked token",
    )


def test_the_token_list_shows_expiry_and_whether_expired(cast: Cast, client_for: Client) -> None:
    fresh, _ = token_create(user=cast.partner_a, name="fresh")
    stale, _ = token_create(user=cast.partner_a, name="stale")
    _expire(stale)
    listed = {t["name"]: t for t in client_for(cast.partner_a).get(TOKENS).json()}
    assert listed["fresh"]["expired"] is False
    assert listed["stale"]["expired"] is True
    fresh.refresh_from_db()
    assert dt.datetime.fromisoformat(listed["fresh"]["expires_at"]) == fresh.expires_at


# --- rotation ---------------------------------------------------------------------------


def test_rotating_returns_a_new_secret_once_and_the_old_one_stops_at_once(
    cast: Cast, client_for: Client
) -> None:
    owner = client_for(cast.partner_a)
    old, old_secret = token_create(user=cast.partner_a, name="tablet")
    assert _machine(old_secret).get("/api/v1/auth/me/").status_code == 200

    rotated = owner.post(f"{TOKENS}{old.pk}/rotate/")
    assert rotated.status_code == 201
    body = rotated.json()
    assert set(body) == {"token", "details"}  # the same shape as creating a token
    new_secret, details = body["token"], body["details"]
    assert new_secret != old_secret
    assert details["id"] != old.pk
    assert details["name"] == "tablet"
    assert details["prefix"] == new_secret[:8]

    refused = _machine(old_secret).get("/api/v1/auth/me/")
    assert (refused.status_code, refused.json()["error"]["code"]) == (
        401,
        "authentication_failed",
    )
    assert _machine(new_secret).get("/api/v1/auth/me/").json()["username"] == "partner_a"
    old.refresh_from_db()
    assert old.revoked_at is not None
    listed = owner.get(TOKENS).json()
    assert all("token" not in t for t in listed)


def test_rotation_gives_a_fresh_full_expiry(cast: Cast, client_for: Client) -> None:
    old, _ = token_create(user=cast.partner_a, name="tablet", expires_in_days=3)
    details = client_for(cast.partner_a).post(f"{TOKENS}{old.pk}/rotate/").json()["details"]
    lifetime = dt.timedelta(days=settings.API_TOKEN_LIFETIME_DAYS)
    assert _close_to(details["expires_at"], timezone.now() + lifetime)


def test_rotation_accepts_a_shorter_life_and_validates_it(cast: Cast, client_for: Client) -> None:
    owner = client_for(cast.partner_a)
    old, _ = token_create(user=cast.partner_a, name="tablet")
    bad = owner.post(f"{TOKENS}{old.pk}/rotate/", {"expires_in_days": 1000})
    assert bad.status_code == 400
    assert list(bad.json()["error"]["fields"]) == ["expires_in_days"]
    old.refresh_from_db()
    assert old.revoked_at is None  # nothing happened

    ok = owner.post(f"{TOKENS}{old.pk}/rotate/", {"expires_in_days": 10})
    assert _close_to(ok.json()["details"]["expires_at"], timezone.now() + dt.timedelta(days=10))


def test_an_expired_token_can_be_rotated_back_to_work(cast: Cast, client_for: Client) -> None:
    old, _ = token_create(user=cast.partner_a, name="tablet")
    _expire(old)
    rotated = client_for(cast.partner_a).post(f"{TOKENS}{old.pk}/rotate/")
    assert rotated.status_code == 201
    assert _machine(rotated.json()["token"]).get("/api/v1/auth/me/").status_code == 200


def test_a_revoked_token_cannot_be_rotated(cast: Cast, client_for: Client) -> None:
    owner = client_for(cast.partner_a)
    old, _ = token_create(user=cast.partner_a, name="tablet")
    assert owner.post(f"{TOKENS}{old.pk}/rotate/").status_code == 201
    again = owner.post(f"{TOKENS}{old.pk}/rotate/")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "token_revoked"
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 1


def test_rotating_someone_elses_token_is_a_404_and_changes_nothing(
    cast: Cast, client_for: Client
) -> None:
    """Partner B must not learn that partner A's token exists, let alone replace it."""
    token, secret = token_create(user=cast.partner_a, name="tablet")
    for intruder in (cast.partner_b, cast.coordinator):
        response = client_for(intruder).post(f"{TOKENS}{token.pk}/rotate/")
        assert response.status_code == 404
        assert response.json()["error"] == {
            "status": 404,
            "code": "not_found",
            "message": "no such token",
        }
    assert ApiToken.objects.count() == 1
    assert _machine(secret).get("/api/v1/auth/me/").status_code == 200


def test_rotating_needs_a_signed_in_caller(cast: Cast) -> None:
    token, _ = token_create(user=cast.partner_a, name="tablet")
    assert APIClient().post(f"{TOKENS}{token.pk}/rotate/").status_code == 401


def test_a_token_may_rotate_itself(cast: Cast) -> None:
    """A tool rotates its own token before it expires, with no person signing in."""
    token, secret = token_create(user=cast.partner_a, name="tablet")
    rotated = _machine(secret).post(f"{TOKENS}{token.pk}/rotate/")
    assert rotated.status_code == 201
    assert _machine(secret).get("/api/v1/auth/me/").status_code == 401
    assert _machine(rotated.json()["token"]).get("/api/v1/auth/me/").status_code == 200
