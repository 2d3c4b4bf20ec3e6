"""Read-only admin: operators look at endpoints and the delivery log, partners change them."""

from __future__ import annotations

from django.contrib import admin

from core.admin_policy import ReadOnlyAdminMixin, ReadOnlyTabularInline

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Endpoints are the partners' to change (their API); the log is history."""


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["url", "company", "is_active", "created_at", "secret_rotated_at"]
    list_filter = ["is_active"]
    exclude = ["secret"]  # signing material: not shown even to operators


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "type", "company", "created_at"]
    list_filter = ["type"]


class AttemptInline(ReadOnlyTabularInline):
    model = WebhookAttempt


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["event", "endpoint", "status", "attempts", "last_status_code", "created_at"]
    list_filter = ["status"]
    inlines = [AttemptInline]
