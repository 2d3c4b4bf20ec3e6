"""Redis (the task broker) unavailable: crews still get their routes, and an optimize
request fails within seconds with a 503 in the one error shape, leaving no queued run."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from celery import current_app
from rest_framework.test import APIClient

from accounts.models import User
from dispatch import runs
from dispatch.models import OptimizationRun, Plan, PlanStatus, RunStatus
from tests.api.conftest import MONDAY, Cast

pytestmark = pytest.mark.django_db(transaction=True)  # on_commit runs for real

Client = Callable[[User | None], APIClient]
CLOSED_PORT_BROKER = "redis://127.0.0.1:1/5"


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    conf = current_app.conf
    saved = conf.broker_url, conf.broker_transport_options
    monkeypatch.setenv("CELERY_BROKER_URL", CLOSED_PORT_BROKER)  # Celery reads it over conf
    conf.broker_url = CLOSED_PORT_BROKER
    conf.broker_transport_options = {"socket_connect_timeout": 3}
    current_app._pool = None
    current_app.amqp._producer_pool = None
    yield
    conf.broker_url, conf.broker_transport_options = saved
    current_app._pool = None
    current_app.amqp._producer_pool = None


@pytest.fixture
def draft(cast: Cast) -> Plan:
    return Plan.objects.create(
        name="w48", start_date=MONDAY, end_date=MONDAY, region=cast.region, params={}
    )


def test_routes_are_still_served(cast: Cast, client_for: Client, broker_down: None) -> None:
    response = client_for(cast.partner_a).get("/api/v1/routes/", {"date": str(MONDAY)})
    assert response.status_code == 200
    assert response.json()


def test_optimize_fails_fast_with_a_503_and_rolls_back(
    cast: Cast, client_for: Client, draft: Plan, broker_down: None
) -> None:
    response = client_for(cast.coordinator).post(f"/api/v1/plans/{draft.pk}/optimize/")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "queue_unavailable"
    assert "nothing was queued" in response.json()["error"]["message"]
    assert not OptimizationRun.objects.exists()
    draft.refresh_from_db()
    assert (draft.status, draft.version) == (PlanStatus.DRAFT, 1)


def test_a_broker_lost_between_check_and_send_leaves_no_queued_run(
    cast: Cast,
    client_for: Client,
    draft: Plan,
    broker_down: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runs, "_require_broker", lambda: None)
    response = client_for(cast.coordinator).post(f"/api/v1/plans/{draft.pk}/optimize/")
    assert response.status_code == 503
    run = OptimizationRun.objects.get()
    assert run.status == RunStatus.FAILED and "task queue is unavailable" in run.error
    draft.refresh_from_db()
    assert draft.status != PlanStatus.OPTIMIZING
    # and the plan can be optimized again once the broker is back
    assert not OptimizationRun.objects.filter(status__in=[RunStatus.QUEUED]).exists()


def test_a_dead_broker_is_given_up_on_quickly_not_waited_for(settings: object) -> None:
    """What makes the 503 fast, checked on the configuration rather than the clock:
    a bounded connect timeout and a bounded number of publish retries."""
    assert 0 < current_app.conf.broker_connection_timeout <= 5
    policy = current_app.conf.task_publish_retry_policy
    assert policy["max_retries"] <= 3 and policy["interval_start"] + policy["interval_step"] < 2
