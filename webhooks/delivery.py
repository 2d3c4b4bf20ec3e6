"""Sending one delivery: claim it, sign it, POST it, log it, decide what comes next.

The claim is a conditional UPDATE: only a delivery that is *pending and due*
(or whose previous sender's lease ran out) can be claimed, and only the
holder of the claim can record the outcome. So a retry, a redelivered Celery
message or a second worker finds a succeeded delivery unclaimable and sends
nothing: an event is delivered at least once, never again after a success
(a sender that dies after the receiver's 2xx but before recording it is the
one case of a second send; receivers dedupe on the event id header).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import http.client
import json
import logging
import time
import uuid
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEvent
from .signing import (
    ATTEMPT_HEADER,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_header,
)
from .urls import local_http_allowed, resolves_internally

logger = logging.getLogger(__name__)

#: Bytes of a receiver's answer read into the log's error (the rest is dropped).
ERROR_BODY_BYTES = 200


def timeout_s() -> float:
    return float(getattr(settings, "WEBHOOK_TIMEOUT_S", 10.0))


def max_attempts() -> int:
    return int(getattr(settings, "WEBHOOK_MAX_ATTEMPTS", 8))


def backoff_s(attempt: int) -> float:
    """Seconds before the next try after failed try number ``attempt`` (1-based): doubling."""
    base = float(getattr(settings, "WEBHOOK_BACKOFF_BASE_S", 30.0))
    cap = float(getattr(settings, "WEBHOOK_BACKOFF_MAX_S", 3600.0))
    return min(cap, base * 2 ** max(0, attempt - 1))


def _lease() -> dt.timedelta:
    """How long a claim holds: the request's timeout plus room for the bookkeeping."""
    return dt.timedelta(seconds=timeout_s() * 2 + 30)


def event_body(event: WebhookEvent) -> bytes:
    """The JSON body, the same bytes on every attempt of every endpoint."""
    document = {
        "id": str(event.id),
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "data": event.payload,
    }
    return json.dumps(
        document, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"), sort_keys=True
    ).encode("utf-8")


@dataclasses.dataclass(frozen=True)
class Response:
    status_code: int | None
    error: str


def post(url: str, body: bytes, headers: dict[str, str]) -> Response:
    """POST without following redirects (a redirect could lead anywhere): 2xx is success."""
    parts = urlsplit(url)
    if not local_http_allowed() and resolves_internally((parts.hostname or "").lower()):
        return Response(None, "refused: the host resolves to an internal address")
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname or "", parts.port, timeout=timeout_s())
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection.request("POST", path, body=body, headers=headers)
        answer = connection.getresponse()
        head = answer.read(ERROR_BODY_BYTES)
        if 200 <= answer.status < 300:
            return Response(answer.status, "")
        text = head.decode("utf-8", "replace").strip()
        return Response(answer.status, f"HTTP {answer.status} {answer.reason}: {text}"[:500])
    except TimeoutError:
        return Response(None, f"timed out after {timeout_s():g} s")
    except (OSError, http.client.HTTPException) as exc:
        return Response(None, f"{type(exc).__name__}: {exc}"[:500])
    finally:
        connection.close()


def _claim(delivery_id: int, now: dt.datetime) -> uuid.UUID | None:
    claim = uuid.uuid4()
    due = Q(status=DeliveryStatus.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    abandoned = Q(status=DeliveryStatus.DELIVERING, claimed_until__lt=now)
    won = WebhookDelivery.objects.filter(due | abandoned, pk=delivery_id).update(
        status=DeliveryStatus.DELIVERING,
        claim=claim,
        claimed_until=now + _lease(),
        attempts=F("attempts") + 1,
    )
    return claim if won else None


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one call of :func:`delivery_attempt` did; ``retry_in`` says when to call again."""

    sent: bool
    status: str
    retry_in: float | None = None


def delivery_attempt(delivery_id: int) -> Outcome:
    """Try to send one delivery now, if it is due and nobody else is sending it."""
    now = timezone.now()
    claim = _claim(delivery_id, now)
    if claim is None:
        status = WebhookDelivery.objects.filter(pk=delivery_id).values_list("status", flat=True)
        return Outcome(sent=False, status=status.first() or "missing")
    delivery = WebhookDelivery.objects.select_related("endpoint", "event").get(pk=delivery_id)
    endpoint, event = delivery.endpoint, delivery.event
    number = delivery.attempt_log.count() + 1
    if not endpoint.is_active:
        response = Response(None, "endpoint disabled")
        duration_ms = 0
        final = True
    else:
        body = event_body(event)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "dispatch-webhooks/1",
            EVENT_ID_HEADER: str(event.id),
            EVENT_TYPE_HEADER: event.type,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature_header(endpoint.secret, timestamp, body),
            ATTEMPT_HEADER: str(number),
        }
        started = time.monotonic()
        response = post(endpoint.url, body, headers)
        duration_ms = int((time.monotonic() - started) * 1000)
        final = False
    return _record(delivery, claim, number, now, duration_ms, response, give_up=final)


def _record(
    delivery: WebhookDelivery,
    claim: uuid.UUID,
    number: int,
    started_at: dt.datetime,
    duration_ms: int,
    response: Response,
    *,
    give_up: bool,
) -> Outcome:
    succeeded = not response.error
    now = timezone.now()
    retry_in: float | None = None
    next_at: dt.datetime | None = None
    if succeeded:
        status, delivered_at = DeliveryStatus.SUCCEEDED, now
    elif give_up or delivery.attempts >= max_attempts():
        status, delivered_at = DeliveryStatus.FAILED, None
    else:
        retry_in = backoff_s(delivery.attempts)
        next_at = now + dt.timedelta(seconds=retry_in)
        status, delivered_at = DeliveryStatus.PENDING, None
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=started_at,
            duration_ms=duration_ms,
            status_code=response.status_code,
            error=response.error[:500],
            succeeded=succeeded,
            next_retry_at=next_at,
        )
        recorded = WebhookDelivery.objects.filter(pk=delivery.pk, claim=claim).update(
            status=status,
            next_attempt_at=next_at,
            delivered_at=delivered_at,
            claim=None,
            claimed_until=None,
            last_status_code=response.status_code,
            last_error=response.error[:500],
        )
    if not recorded:
        # The lease ran out and a replay or another sender took over: its outcome counts.
        logger.warning("webhook delivery %s: claim lost before recording", delivery.pk)
        return Outcome(sent=True, status=DeliveryStatus.DELIVERING)
    return Outcome(sent=True, status=str(status), retry_in=retry_in)


def enqueue(delivery_ids: Iterable[int], countdown: float | None = None) -> None:
    """Queue a task per delivery; a broker that is down leaves them pending for the sweep."""
    from .tasks import deliver  # the task module imports this one

    for delivery_id in delivery_ids:
        try:
            deliver.apply_async((delivery_id,), countdown=countdown)
        except Exception:  # any broker failure: the sweep sends it later
            logger.warning("webhook delivery %s not queued; left for the sweep", delivery_id)


def enqueue_on_commit(delivery_ids: list[int]) -> None:
    """Queue the deliveries once the current transaction commits (never if it rolls back)."""
    if delivery_ids:
        transaction.on_commit(lambda: enqueue(delivery_ids), robust=True)


def deliveries_due(now: dt.datetime | None = None) -> list[int]:
    """Deliveries a lost message or a down broker left behind: pending and due, or abandoned."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.DELIVERING, claimed_until__lt=now)
        ).values_list("pk", flat=True)[:1000]
    )
