"""One row per write to an audited record; never updated, never deleted by the app."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class AuditAction(models.TextChoices):
    CREATE = "create", "created"
    UPDATE = "update", "updated"
    DELETE = "delete", "deleted"


class AuditEvent(models.Model):
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Kept as text too, so the trail outlives the user row.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    #: "api", "web", "admin" for requests; "system" for workers and commands.
    via = models.CharField(max_length=20)
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    model = models.CharField(max_length=60, help_text="app_label.model, e.g. dispatch.job")
    object_id = models.CharField(max_length=40)
    #: The fields written (all of them on create) with their new values. A plan's
    #: entry also lists its visits as they stand after the write.
    changes = models.JSONField(default=dict, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["model", "object_id", "-at"], name="audit_object_idx")]

    def __str__(self) -> str:
        who = self.actor_name or self.via
        return f"{self.at:%Y-%m-%d %H:%M} {who} {self.action} {self.model} {self.object_id}"
