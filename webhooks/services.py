"""Writes of the webhooks app: endpoints, events (the outbox) and replays.

Views call these and nothing else; every function that writes is atomic.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from core.errors import DomainError
from dispatch.models import PartnerCompany

from .delivery import enqueue_on_commit
from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from .signing import new_secret
from .urls import check_url


class DeliveryBusy(DomainError):
    """A replay while the delivery is being sent: the attempt under way decides first."""

    code = "delivery_in_progress"


def endpoints_visible_to(user: User) -> QuerySet[WebhookEndpoint]:
    """A partner's own company's endpoints; every endpoint for a coordinator (support).

    Anyone else sees none, so another company's endpoint is *not found*.
    """
    if user.role == Role.COORDINATOR:
        return WebhookEndpoint.objects.all()
    if user.role == Role.PARTNER:
        return WebhookEndpoint.objects.filter(company_id=user.partner_company_id or 0)
    return WebhookEndpoint.objects.none()


def deliveries_visible_to(user: User) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(endpoint__in=endpoints_visible_to(user))


@transaction.atomic
def endpoint_create(
    *, company: PartnerCompany, url: str, description: str = "", by: User | None = None
) -> WebhookEndpoint:
    """A new endpoint with a fresh secret (the caller shows it once)."""
    return WebhookEndpoint.objects.create(
        company=company,
        url=check_url(url),
        description=description,
        secret=new_secret(),
        created_by=by,
    )


@transaction.atomic
def endpoint_update(*, endpoint: WebhookEndpoint, **fields: Any) -> WebhookEndpoint:
    """Change the URL, description or active flag (the secret only by rotating)."""
    if "url" in fields:
        fields["url"] = check_url(fields["url"])
    for name, value in fields.items():
        setattr(endpoint, name, value)
    endpoint.save(update_fields=list(fields))
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret from now on: every attempt after this is signed with it."""
    endpoint.secret = new_secret()
    endpoint.secret_rotated_at = timezone.now()
    endpoint.save(update_fields=["secret", "secret_rotated_at"])
    return endpoint


def event_record(*, company_id: int, type: str, payload: dict[str, Any]) -> WebhookEvent | None:
    """Record an event for ``company_id``'s active endpoints, sent once the caller commits.

    Call inside the transaction that makes the change: the event and its
    deliveries commit or roll back with it, and the tasks are queued only
    after the commit (a rolled-back change sends nothing). None when the
    company has no active endpoint.
    """
    endpoints = list(
        WebhookEndpoint.objects.filter(company_id=company_id, is_active=True).values_list(
            "pk", flat=True
        )
    )
    if not endpoints:
        return None
    event = WebhookEvent.objects.create(company_id=company_id, type=type, payload=payload)
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint_id=pk, event=event, next_attempt_at=event.created_at)
        for pk in endpoints
    )
    enqueue_on_commit([d.pk for d in deliveries])
    return event


@transaction.atomic
def delivery_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a logged delivery again, on the partner's request (same event id).

    A delivery may be replayed whatever its outcome (a receiver that lost
    what it got asks for it again), but not while an attempt is under way.
    The attempt budget starts over.
    """
    locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    now = timezone.now()
    if locked.status == DeliveryStatus.DELIVERING and (
        locked.claimed_until is None or locked.claimed_until > now
    ):
        raise DeliveryBusy(_("this delivery is being sent right now; try again shortly"))
    locked.status = DeliveryStatus.PENDING
    locked.attempts = 0
    locked.next_attempt_at = now
    locked.claim = None
    locked.claimed_until = None
    locked.save(update_fields=["status", "attempts", "next_attempt_at", "claim", "claimed_until"])
    enqueue_on_commit([locked.pk])
    return locked
