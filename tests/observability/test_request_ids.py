"""Request ids: kept or made at the door, answered, and carried into Celery tasks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog
from celery.contrib.testing.worker import start_worker
from django.test import Client
from rest_framework.test import APIClient

from config.celery import app
from dispatch.models import OptimizationRun, RunStatus
from observability.request_ids import current_request_id, well_formed
from observability.tasks_context import add_request_id_header
from tests.api.conftest import Cast
from tests.conftest import wait_until

from .conftest import Lines

#: What the test task saw, by the key it was called with (the worker runs in a thread here).
SEEN: dict[str, str | None] = {}


@app.task(name="tests.observability.echo_request_id")
def echo_request_id(key: str) -> None:
    SEEN[key] = current_request_id()


@pytest.fixture
def bound() -> Iterator[str]:
    """A request id bound as the middleware binds it, as if a request were being served."""
    tokens = structlog.contextvars.bind_contextvars(request_id="click-0000-1111")
    try:
        yield "click-0000-1111"
    finally:
        structlog.contextvars.reset_contextvars(**tokens)


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("3f1c9a0e-5b7d-4d2a-9a43-1d2f0c7e8b9a", True),
        ("Root=1-67891233-abcdef012345678912345678", True),
        ("short", False),
        ("x" * 129, False),
        ("has space 1234567", False),
        ('inject"}\n{"level":"error', False),
    ],
)
@pytest.mark.django_db
def test_an_incoming_id_is_kept_only_when_well_formed(incoming: str, kept: bool) -> None:
    response = Client().get("/api/v1/health/", HTTP_X_REQUEST_ID=incoming)
    answered = response["X-Request-ID"]
    assert (answered == incoming) is kept
    assert well_formed(answered)


@pytest.mark.django_db
def test_each_request_without_an_id_gets_a_new_one() -> None:
    client = Client()
    first = client.get("/api/v1/health/")["X-Request-ID"]
    second = client.get("/api/v1/health/")["X-Request-ID"]
    assert first != second
    assert well_formed(first) and well_formed(second)


def test_publishing_a_task_puts_the_request_id_in_its_headers(bound: str) -> None:
    headers: dict[str, object] = {}
    add_request_id_header(headers=headers)
    assert headers == {"request_id": bound}


def test_publishing_outside_a_request_adds_nothing() -> None:
    headers: dict[str, object] = {}
    add_request_id_header(headers=headers)
    assert headers == {}


def test_a_task_binds_the_id_from_its_headers(log_lines: Lines) -> None:
    echo_request_id.apply(args=["from-headers"], headers={"request_id": "queued-by-4242"})
    assert SEEN["from-headers"] == "queued-by-4242"
    started = [line for line in log_lines() if line["event"] == "task started"]
    assert started[-1]["request_id"] == "queued-by-4242"
    assert started[-1]["task"] == "tests.observability.echo_request_id"
    assert current_request_id() is None  # unbound after the task


def test_an_eager_task_keeps_the_callers_id_and_gives_it_back(bound: str) -> None:
    echo_request_id.apply(args=["eager"])
    assert SEEN["eager"] == bound
    assert current_request_id() == bound


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_logs_under_the_id_of_the_request_that_queued_it(
    bound: str, log_lines: Lines
) -> None:
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        echo_request_id.delay("worker")
        assert wait_until(lambda: "worker" in SEEN)
    assert SEEN["worker"] == bound


@pytest.mark.django_db(transaction=True)
def test_an_optimize_click_is_followed_into_the_worker(cast: Cast, log_lines: Lines) -> None:
    client = APIClient()
    client.force_authenticate(user=cast.coordinator)
    body = {
        "name": "Week 48 draft",
        "start_date": "2026-11-30",
        "end_date": "2026-12-04",
        "region": cast.region.code,
        "params": {"time_limit_seconds": 1},
    }
    plan = client.post("/api/v1/plans/", body, format="json").json()
    click = "optimize-click-20261130"
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        response = client.post(f"/api/v1/plans/{plan['id']}/optimize/", HTTP_X_REQUEST_ID=click)
        assert response.status_code == 202
        run_id = response.json()["id"]

        def finished() -> bool:
            status = OptimizationRun.objects.get(pk=run_id).status
            return status not in (RunStatus.QUEUED, RunStatus.RUNNING)

        assert wait_until(finished)
        assert wait_until(lambda: any(line["event"] == "task finished" for line in log_lines()))
    in_worker = [line for line in log_lines() if line.get("task") == "dispatch.optimize_plan"]
    assert [line["event"] for line in in_worker][:1] == ["task started"]
    assert {line["request_id"] for line in in_worker} == {click}
    web = [line for line in log_lines() if line["logger"] == "observability.request"]
    assert web[-1]["request_id"] == click
