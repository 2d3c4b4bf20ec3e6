"""Endpoints partners register, the events recorded for them and each delivery's log.

An event is written in the same transaction as the change it reports (an
outbox): it exists if and only if the change committed. Each event fans out
to one :class:`WebhookDelivery` per active endpoint of its company; the
delivery row is the claim that keeps a retry from sending a delivered event
again (``webhooks.delivery``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dispatch.models import PartnerCompany


class EventType(models.TextChoices):
    PLAN_PUBLISHED = "plan.published", _("Plan published")
    PLAN_CHANGED = "plan.changed", _("Plan changed")
    VISIT_MOVED = "visit.moved", _("Visit moved")
    VISIT_CANCELLED = "visit.cancelled", _("Visit cancelled")
    JOB_RETURNED = "job.returned", _("Job returned to the queue")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERING = "delivering", _("Delivering")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class WebhookEndpoint(models.Model):
    """A partner's HTTPS URL and the secret its deliveries are signed with.

    The secret is kept in clear: signing needs it (unlike API tokens, which
    are only ever compared, so only their hash is stored).
    """

    company = models.ForeignKey(
        PartnerCompany,
        verbose_name=_("partner company"),
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
    )
    url = models.CharField(_("URL"), max_length=500)  # checked by webhooks.urls.check_url
    description = models.CharField(_("description"), max_length=200, blank=True)
    secret = models.CharField(_("secret"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    secret_rotated_at = models.DateTimeField(_("secret rotated at"), null=True, blank=True)

    class Meta:
        ordering = ["company_id", "pk"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url


class WebhookEvent(models.Model):
    """One thing that happened to one partner's crews; its id is the receivers' dedupe key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(
        PartnerCompany,
        verbose_name=_("partner company"),
        on_delete=models.CASCADE,
        related_name="webhook_events",
    )
    type = models.CharField(_("type"), max_length=32, choices=EventType.choices)
    payload = models.JSONField(_("payload"), encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class WebhookDelivery(models.Model):
    """One event to one endpoint: its state is the claim a sender must win to send."""

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("endpoint"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    event = models.ForeignKey(
        WebhookEvent, verbose_name=_("event"), on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(
        _("status"), max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    claim = models.UUIDField(_("claim"), null=True, blank=True)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(
        _("last status code"), null=True, blank=True
    )
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once"),
            models.CheckConstraint(
                name="webhook_delivery_status_valid",
                condition=models.Q(status__in=[s.value for s in DeliveryStatus]),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx")
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery, for the partner's delivery log."""

    delivery = models.ForeignKey(
        WebhookDelivery,
        verbose_name=_("delivery"),
        on_delete=models.CASCADE,
        related_name="attempt_log",
    )
    number = models.PositiveIntegerField(_("number"))
    started_at = models.DateTimeField(_("started at"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    succeeded = models.BooleanField(_("succeeded"), default=False)
    next_retry_at = models.DateTimeField(_("next retry at"), null=True, blank=True)

    class Meta:
        ordering = ["delivery_id", "number", "pk"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")

    def __str__(self) -> str:
        return f"#{self.number} {self.status_code or self.error}"
