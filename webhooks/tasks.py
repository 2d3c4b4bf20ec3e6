"""Celery tasks: they take ids and call ``webhooks.delivery``, nothing else."""

from __future__ import annotations

from celery import shared_task

from .delivery import deliveries_due, delivery_attempt, enqueue


@shared_task(
    name="webhooks.deliver", acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def deliver(delivery_id: int) -> str:
    """Send one delivery; a failure queues the next try after its backoff.

    A duplicate message finds the delivery claimed or done and sends nothing.
    """
    outcome = delivery_attempt(delivery_id)
    if outcome.retry_in is not None:
        enqueue([delivery_id], countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="webhooks.sweep", ignore_result=True)
def sweep() -> int:
    """Re-queue what a lost message or a broker outage left pending (Celery beat, periodic)."""
    due = deliveries_due()
    enqueue(due)
    return len(due)
