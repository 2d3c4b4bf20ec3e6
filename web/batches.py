"""All regions at once: start a planning batch, follow it, publish all of its plans.

Thin views over :func:`dispatch.batches.planning_batch_start` and
:func:`dispatch.batches.batch_publish`, the same services the API's
``/api/v1/plan-batches/`` calls. Plain forms and a page that refreshes
itself while the regions are optimized: nothing here needs JavaScript.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import roles_required
from accounts.models import Role
from dispatch.batches import batch_plans, batch_publish, planning_batch_start
from dispatch.models import PlanningBatch, PlanStatus
from dispatch.problem import ParameterError
from dispatch.regions import NO_CREW_DAYS
from dispatch.runs import QueueUnavailable
from dispatch.states import PlanningError

coordinators = roles_required(Role.COORDINATOR)


@coordinators
@require_POST
def batch_start(request: HttpRequest) -> HttpResponse:
    """The "Optimize all regions" button: one plan per region, queued at once."""
    try:
        start = dt.date.fromisoformat(request.POST.get("start_date", ""))
        days = int(request.POST.get("days", "5"))
        seconds = int(request.POST.get("time_limit_seconds", "30"))
        batch = planning_batch_start(
            start_date=start,
            end_date=start + dt.timedelta(days=max(days, 1) - 1),
            by=request.user,  # type: ignore[arg-type]
            params={"time_limit_seconds": seconds},
        )
    except ValueError as exc:
        if isinstance(exc, ParameterError):
            messages.error(request, str(exc))
        else:
            messages.error(
                request,
                _("Enter the first day as a date and the number of days as a whole number."),
            )
    except (PlanningError, QueueUnavailable) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("All regions are being optimized: each crew-day was given to one region first."),
        )
        return redirect("web:batch", pk=batch.pk)
    return redirect("web:plans")


@coordinators
@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A batch: its region plans (links to their boards), figures and the "Publish all" button."""
    batch = get_object_or_404(PlanningBatch, pk=pk)
    runs = {run.plan_id: run for run in batch.runs.order_by("id")}
    plans = batch_plans(batch)
    rows = [
        {
            "plan": plan,
            "run": runs.get(plan.pk),
            "crew_days": sum(1 for pair in plan.crew_day_scope if pair not in NO_CREW_DAYS),
        }
        for plan in plans
    ]
    publication = batch.summary.get("publication", {}).get("plans", [])
    return render(
        request,
        "web/batch.html",
        {
            "batch": batch,
            "rows": rows,
            "optimizing": batch.finished_at is None,
            "publishable": batch.finished_at is not None
            and any(plan.status == PlanStatus.PROPOSED for plan in plans),
            "publication": publication,
        },
    )


@coordinators
@require_GET
def batch_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "web/batches.html", {"batches": PlanningBatch.objects.order_by("-id")[:30]}
    )


@coordinators
@require_POST
def batch_publish_all(request: HttpRequest, pk: int) -> HttpResponse:
    """Publish every region plan, each on its own; what was refused is listed on the page."""
    batch = get_object_or_404(PlanningBatch, pk=pk)
    try:
        outcomes = batch_publish(batch=batch, by=request.user)  # type: ignore[arg-type]
    except PlanningError as exc:
        messages.error(request, str(exc))
    else:
        published = sum(row["outcome"] == "published" for row in outcomes)
        refused = sum(row["outcome"] in ("conflict", "refused") for row in outcomes)
        if refused:
            messages.warning(
                request,
                _("Plans published: %(published)d. Not published: %(refused)d (see below).")
                % {"published": published, "refused": refused},
            )
        else:
            messages.success(
                request, _("Plans published: %(published)d.") % {"published": published}
            )
    return redirect("web:batch", pk=batch.pk)
