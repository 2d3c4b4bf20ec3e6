"""Webhooks through a real Celery worker: queued on commit, retried after a 500, sent once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app
from dispatch.services import job_transition
from dispatch.states import JobStatus
from tests.api.conftest import Cast
from tests.conftest import wait_until
from webhooks.models import DeliveryStatus, WebhookDelivery
from webhooks.services import endpoint_create

from .conftest import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker() -> Iterator[None]:
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield


def test_the_worker_retries_a_failed_delivery_and_sends_it_once(
    cast: Cast, receiver: Receiver, worker: None
) -> None:
    endpoint_create(company=cast.company_a, url=receiver.url)
    receiver.script = ["fail"]
    job_transition(job=cast.job_a, to_status=JobStatus.CANCELLED)  # commits: queued now
    delivery = WebhookDelivery.objects.get()

    def succeeded() -> bool:
        return WebhookDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SUCCEEDED

    assert wait_until(succeeded)
    assert [r.answered for r in receiver.received] == [500, 200]
    assert Counter(r.event_id for r in receiver.delivered()) == {str(delivery.event_id): 1}
    assert WebhookDelivery.objects.get(pk=delivery.pk).attempt_log.count() == 2
