"""Brute force: after AXES_FAILURE_LIMIT wrong passwords a username is locked out on this
address, on the web form and the API alike; a successful sign-in resets the count;
token endpoints are throttled; a revoked token stops working on the next request."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from tests.api.conftest import Cast

pytestmark = pytest.mark.django_db

LIMIT = settings.AXES_FAILURE_LIMIT
PASSWORD = "correct horse battery"


@pytest.fixture
def alice(cast: Cast) -> User:
    cast.coordinator.set_password(PASSWORD)
    cast.coordinator.save()
    return cast.coordinator


def _api_login(client: APIClient, password: str) -> tuple[int, dict]:
    response = client.post("/api/v1/auth/login/", {"username": "alice", "password": password})
    return response.status_code, response.json()


def test_the_api_locks_a_username_out_after_the_failure_limit(alice: User) -> None:
    client = APIClient()
    statuses = [_api_login(client, f"guess{i}")[0] for i in range(LIMIT - 1)]
    assert statuses == [401] * (LIMIT - 1)

    status, body = _api_login(client, f"guess{LIMIT}")
    assert status == 429
    assert body["error"]["code"] == "locked_out"
    assert "too many failed sign-ins" in body["error"]["message"]

    # Locked means locked: even the right password is refused now.
    status, body = _api_login(client, PASSWORD)
    assert (status, body["error"]["code"]) == (429, "locked_out")


def test_a_successful_sign_in_resets_the_failure_count(alice: User) -> None:
    client = APIClient()
    for i in range(LIMIT - 1):
        assert _api_login(client, f"guess{i}")[0] == 401
    assert _api_login(client, PASSWORD)[0] == 200
    assert not AccessAttempt.objects.filter(username="alice").exists()
    for i in range(LIMIT - 1):
        assert _api_login(APIClient(), f"again{i}")[0] == 401


def test_another_address_is_not_locked_out_by_someone_elses_guesses(alice: User) -> None:
    attacker = APIClient(REMOTE_ADDR="203.0.113.9")
    for i in range(LIMIT):
        _api_login(attacker, f"guess{i}")
    assert _api_login(attacker, PASSWORD)[0] == 429
    assert _api_login(APIClient(REMOTE_ADDR="198.51.100.7"), PASSWORD)[0] == 200


def test_the_web_login_form_locks_out_too(alice: User) -> None:
    browser = Client()
    for i in range(LIMIT - 1):
        response = browser.post("/login/", {"username": "alice", "password": f"guess{i}"})
        assert response.status_code == 200  # the form again, with its error
    response = browser.post("/login/", {"username": "alice", "password": f"guess{LIMIT}"})
    assert response.status_code == 429
    assert "too many failed sign-ins" in response.content.decode()
    assert response.headers["Retry-After"] == str(round(settings.AXES_COOLOFF_TIME * 3600))
    response = browser.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429


def test_the_token_endpoints_are_throttled(
    cast: Cast, client_for: Callable[[User | None], APIClient]
) -> None:
    client = client_for(cast.partner_a)
    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["tokens"].split("/")[0])
    statuses = [client.get("/api/v1/auth/tokens/").status_code for _ in range(rate + 1)]
    assert statuses[:rate] == [200] * rate
    assert statuses[rate] == 429
    body = client.post("/api/v1/auth/tokens/", {"name": "one more"}).json()
    assert body["error"]["code"] == "throttled"


def test_a_revoked_token_is_refused_on_the_very_next_request(
    cast: Cast, client_for: Callable[[User | None], APIClient]
) -> None:
    owner = client_for(cast.partner_a)
    created = owner.post("/api/v1/auth/tokens/", {"name": "crew app"}).json()
    machine = APIClient()
    machine.credentials(HTTP_AUTHORIZATION=f"Bearer {created['token']}")
    assert machine.get("/api/v1/routes/", {"date": "2026-11-23"}).status_code == 200
    assert owner.delete(f"/api/v1/auth/tokens/{created['details']['id']}/").status_code == 204
    response = machine.get("/api/v1/routes/", {"date": "2026-11-23"})
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "unknown or revoked token"
