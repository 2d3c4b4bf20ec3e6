"""Signal receivers that append an AuditEvent for every write to an audited model.

Visits are written in bulk (the planner and manual edits replace a crew-day's
visits with ``bulk_create`` after a queryset ``delete``), which sends no
per-row signals. Every such rewrite is followed, in the same transaction, by
a save of the plan that bumps its version (``dispatch.plans._bump``), so a
plan's entry carries the plan's visits as they stand after the write: the
visit history is the sequence of those lists. Visits get no ``post_delete``
receiver on purpose: one would turn every bulk delete of 1,500 visits into
1,500 fetched rows and signals (Django's fast delete needs no receivers).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.expressions import BaseExpression, Combinable
from django.db.models.fields.files import FieldFile
from django.db.models.signals import post_delete, post_save

from .middleware import current_request
from .models import AuditAction, AuditEvent

AUDITED = (
    "dispatch.Job",
    "dispatch.Plan",
    "dispatch.Visit",
    "sites.Site",
    "sites.ConstructionRecord",
    "sites.SitePhoto",
    "dispatch.CompletionFacts",
)
#: Bookkeeping that changes on every write and says nothing about who did what.
_SKIPPED = {"updated_at", "created_at"}


def _actor() -> tuple[Any, str, str]:
    request = current_request.get()
    if request is None:
        return None, "", "system"
    user = getattr(request, "user", None)
    via = (
        "api"
        if request.path.startswith("/api/")
        else "admin"
        if request.path.startswith("/admin/")
        else "web"
    )
    if user is None or not user.is_authenticated:
        return None, "", via
    return user, user.get_username(), via


def _values(instance: models.Model, update_fields: frozenset[str] | None) -> dict[str, Any]:
    values = {}
    for field in instance._meta.concrete_fields:
        if field.name in _SKIPPED or (update_fields and field.name not in update_fields):
            continue
        value = field.value_from_object(instance)
        if isinstance(value, BaseExpression | Combinable):  # F("version") + 1: read it back below
            continue
        if isinstance(value, FieldFile):  # a stored file is recorded by its name, not its bytes
            value = value.name or ""
        values[field.attname] = value
    return values


def _plan_extras(plan: models.Model) -> dict[str, Any]:
    from dispatch.models import Plan, Visit

    version = Plan.objects.filter(pk=plan.pk).values_list("version", flat=True).first()
    visits = Visit.objects.filter(plan_id=plan.pk).order_by("date", "crew_id", "sequence")
    return {
        "version": version,
        "visits": [
            [job_id, crew_id, date.isoformat(), start.isoformat(timespec="minutes"), locked]
            for job_id, crew_id, date, start, locked in visits.values_list(
                "job_id", "crew_id", "date", "planned_start", "locked"
            )
        ],
    }


def record(instance: models.Model, action: str, changes: dict[str, Any]) -> AuditEvent:
    actor, actor_name, via = _actor()
    return AuditEvent.objects.create(
        actor=actor,
        actor_name=actor_name,
        via=via,
        action=action,
        model=instance._meta.label_lower,
        object_id=str(instance.pk),
        changes=changes,
    )


def _on_save(
    sender: type[models.Model], instance: models.Model, created: bool, raw: bool, **kwargs: Any
) -> None:
    if raw:  # loaddata
        return
    changes = _values(instance, None if created else kwargs.get("update_fields"))
    if sender._meta.label == "dispatch.Plan":
        changes.update(_plan_extras(instance))
    record(instance, AuditAction.CREATE if created else AuditAction.UPDATE, changes)


def _on_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    record(instance, AuditAction.DELETE, {})


def connect() -> None:
    from django.apps import apps

    for label in AUDITED:
        model = apps.get_model(label)
        post_save.connect(_on_save, sender=model, dispatch_uid=f"audit-save-{label}")
        if label != "dispatch.Visit":
            post_delete.connect(_on_delete, sender=model, dispatch_uid=f"audit-delete-{label}")
