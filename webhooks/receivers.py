"""Where events come from: dispatch's writes, heard through model signals.

Each receiver runs inside the transaction of the write it hears (``post_save``
is sent from within ``transaction.atomic``), records the event there
(:func:`webhooks.services.event_record`) and leaves the sending to
``on_commit``. A receiver costs one query when no partner has an active endpoint.

- A plan saved as *published*: its ``PlanChange`` rows for that version are
  the per-crew diff; each company hears only its own crews' lines
  (``plan.published``, or ``plan.changed`` for a revision), and each moved
  visit also as ``visit.moved``.
- A job moved to *cancelled*: its live visit, about to leave the schedule in
  the same transaction, is ``visit.cancelled`` for that crew's company.
- An *incomplete* report: the job goes back to the planning queue
  (``job.returned``), told to the company whose crew reported it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models.signals import post_save
from django.utils import timezone

from dispatch.ledger import live_visits
from dispatch.models import (
    ChangeKind,
    Crew,
    Job,
    JobReport,
    JobStatusChange,
    Plan,
    PlanChange,
    PlanStatus,
    ReportKind,
    Visit,
)
from dispatch.states import JobStatus

from .models import EventType, WebhookEndpoint
from .services import event_record


def _listening() -> set[int]:
    """The companies with at least one active endpoint (few: one small query)."""
    return set(WebhookEndpoint.objects.filter(is_active=True).values_list("company_id", flat=True))


def _crew(crew: Crew) -> dict[str, Any]:
    return {"id": crew.pk, "name": crew.name}


def _job(job: Job) -> dict[str, Any]:
    return {"id": job.pk, "reference": job.reference}


def _local(moment: dt.datetime) -> str:
    """ISO 8601 in local time (Asia/Tokyo), as every time the partner API gives."""
    return timezone.localtime(moment).isoformat()


def _visit(visit: Visit) -> dict[str, Any]:
    return {
        "id": visit.pk,
        "plan_id": visit.plan_id,
        "date": visit.date.isoformat(),
        "sequence": visit.sequence,
        "planned_start": _local(visit.planned_start),
        "planned_end": _local(visit.planned_end),
    }


def plan_published(plan_id: int) -> None:
    """Tell each company with changes what the publication of ``plan_id`` changed for it."""
    listening = _listening()
    if not listening:
        return
    plan = Plan.objects.get(pk=plan_id)
    changes = list(
        PlanChange.objects.filter(
            plan=plan, published_version=plan.version, crew__company_id__in=listening
        ).select_related("crew", "job")
    )
    by_company: dict[int, list[PlanChange]] = defaultdict(list)
    for change in changes:
        by_company[change.crew.company_id].append(change)
    summary = {
        "id": plan.pk,
        "name": plan.name,
        "start_date": plan.start_date.isoformat(),
        "end_date": plan.end_date.isoformat(),
        "version": plan.version,
        "revises": plan.revises_id,
        "published_at": _local(plan.published_at) if plan.published_at else None,
    }
    kind = EventType.PLAN_CHANGED if plan.revises_id else EventType.PLAN_PUBLISHED
    for company_id in sorted(by_company):
        lines = [
            {
                "crew": _crew(c.crew),
                "job": _job(c.job),
                "kind": c.kind,
                "before": c.before,
                "after": c.after,
            }
            for c in by_company[company_id]
        ]
        counts = {k.value: sum(1 for line in lines if line["kind"] == k) for k in ChangeKind}
        event_record(
            company_id=company_id,
            type=kind,
            payload={"plan": summary, "counts": counts, "changes": lines},
        )
        for line in lines:
            if line["kind"] == ChangeKind.MOVED:
                event_record(
                    company_id=company_id,
                    type=EventType.VISIT_MOVED,
                    payload={"plan": {"id": plan.pk, "version": plan.version}, **line},
                )


def visit_cancelled(job_id: int) -> None:
    """The job's live visit is leaving the schedule because the job was cancelled."""
    listening = _listening()
    if not listening:
        return
    visit = (
        live_visits()
        .filter(job_id=job_id, crew__company_id__in=listening)
        .select_related("crew", "job")
        .first()
    )
    if visit is None:
        return
    event_record(
        company_id=visit.crew.company_id,
        type=EventType.VISIT_CANCELLED,
        payload={"crew": _crew(visit.crew), "job": _job(visit.job), "visit": _visit(visit)},
    )


def job_returned(report: JobReport) -> None:
    """A crew could not finish the job: it is back in the planning queue."""
    listening = _listening()
    if not listening:
        return
    crew = Crew.objects.get(pk=report.crew_id)
    if crew.company_id not in listening:
        return
    visit = report.visit
    event_record(
        company_id=crew.company_id,
        type=EventType.JOB_RETURNED,
        payload={
            "crew": _crew(crew),
            "job": _job(Job.objects.get(pk=report.job_id)),
            "visit": _visit(visit) if visit is not None else None,
            "reason_code": report.reason_code,
            "report_id": report.pk,
        },
    )


def _on_plan_saved(sender: type, instance: Plan, created: bool, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields") or ()
    if not created and "status" in fields and instance.status == PlanStatus.PUBLISHED:
        plan_published(instance.pk)


def _on_status_change(sender: type, instance: JobStatusChange, created: bool, **_: Any) -> None:
    if created and instance.to_status == JobStatus.CANCELLED:
        visit_cancelled(instance.job_id)


def _on_report(sender: type, instance: JobReport, created: bool, **_: Any) -> None:
    if created and instance.kind == ReportKind.INCOMPLETE:
        job_returned(instance)


def connect() -> None:
    post_save.connect(_on_plan_saved, sender=Plan, dispatch_uid="webhooks-plan-published")
    post_save.connect(
        _on_status_change, sender=JobStatusChange, dispatch_uid="webhooks-job-cancelled"
    )
    post_save.connect(_on_report, sender=JobReport, dispatch_uid="webhooks-job-returned")
