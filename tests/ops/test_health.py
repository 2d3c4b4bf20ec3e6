"""Liveness and readiness probes (config/health.py): each dependency down is named.

Each failure is real, not mocked: a broker URL at a closed port, a Redis cache at a
closed port, no worker started, a disk threshold no disk meets.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from django.test import Client, override_settings

from config.celery import app

READY = "/api/v1/health/ready/"
LIVE = "/api/v1/health/live/"


def closed_port() -> int:
    """A local port nothing listens on: bound, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def worker() -> Iterator[None]:
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


def checks_of(body: dict[str, object]) -> dict[str, dict[str, str]]:
    checks = body["checks"]
    assert isinstance(checks, list)
    return {check["name"]: check for check in checks}


def test_liveness_answers_without_touching_any_dependency() -> None:
    """No db fixture: any query would raise here, so 200 proves none was made."""
    response = Client().get(LIVE)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": []}
    assert "no-cache" in response["Cache-Control"]
    assert Client().head(LIVE).status_code == 200  # some load balancers probe with HEAD
    assert Client().post(LIVE).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_readiness_is_green_on_the_embedded_defaults_with_a_worker(worker: None) -> None:
    response = Client().get(READY)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in checks_of(body).items()} == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "worker": "ok",
        "disk": "ok",
    }


@pytest.mark.django_db(transaction=True)
def test_no_worker_answering_fails_the_worker_check_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # A control namespace of our own: a worker of another test session sharing the
    # Redis database (or `make run`'s) must not answer for the worker that is missing.
    mailbox = app.control.mailbox
    namespace = f"nobody-{uuid.uuid4().hex}"
    monkeypatch.setattr(mailbox, "namespace", namespace)
    monkeypatch.setattr(mailbox, "exchange", mailbox._get_exchange(namespace, mailbox.type))
    with override_settings(HEALTH_WORKER_PING_TIMEOUT_SECONDS=1):
        response = Client().get(READY)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    checks = checks_of(body)
    assert checks["worker"]["status"] == "fail"
    assert checks["worker"]["message"] == "no Celery worker answered a ping within 1 s"
    assert [name for name, check in checks.items() if check["status"] == "fail"] == ["worker"]


@pytest.mark.django_db(transaction=True)
def test_a_disk_below_the_threshold_fails_the_disk_check(worker: None) -> None:
    with override_settings(HEALTH_DISK_MIN_FREE_MB=10**12):
        response = Client().get(READY)

    assert response.status_code == 503
    disk = checks_of(response.json())["disk"]
    assert disk["status"] == "fail"
    assert "MB free for uploads, below HEALTH_DISK_MIN_FREE_MB=1000000000000" in disk["message"]


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_cache_fails_the_cache_check() -> None:
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        }
    }
    with override_settings(CACHES=unreachable, HEALTH_WORKER_PING_TIMEOUT_SECONDS=1):
        response = Client().get(READY)

    assert response.status_code == 503
    cache = checks_of(response.json())["cache"]
    assert cache["status"] == "fail"
    assert cache["message"] == "Connection Error"


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_broker_fails_the_broker_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed = f"redis://127.0.0.1:{closed_port()}/0"
    # Celery reads the variable before the setting (``Settings.broker_url``).
    monkeypatch.setenv("CELERY_BROKER_URL", closed)
    monkeypatch.setitem(app.conf, "broker_url", closed)
    monkeypatch.setitem(app.conf, "broker_transport_options", {"socket_connect_timeout": 1})
    with override_settings(HEALTH_WORKER_PING_TIMEOUT_SECONDS=1):
        response = Client().get(READY)

    assert response.status_code == 503
    checks = checks_of(response.json())
    assert checks["broker"]["status"] == "fail"
    assert checks["broker"]["message"].startswith("cannot connect to the Celery broker")
    assert checks["database"]["status"] == "ok"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_readiness_checks_a_real_redis_cache_and_broker(worker: None) -> None:
    """Production's shape: the cache and the broker on Redis, both answering."""
    redis_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["CELERY_BROKER_URL"],
        }
    }
    with override_settings(CACHES=redis_cache):
        response = Client().get(READY)

    assert response.status_code == 200, response.json()
    assert app.conf.broker_url.startswith("redis://")
