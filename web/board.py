"""The coordinators' planning pages: plan list, week board and its fragments.

Thin views: the board's data comes from :mod:`dispatch.board`; every change
(optimize, move, lock, publish…) goes through the REST API the page calls
with the session, so the browser and API clients hit the same rules.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import roles_required
from accounts.models import Role
from dispatch import board as boards
from dispatch.editing import visit_is_held
from dispatch.models import (
    Job,
    JobReport,
    OptimizationRun,
    Plan,
    PlanStatus,
    ReleaseReason,
    ReportKind,
    Visit,
)
from dispatch.plans import plan_create, publish_conflicts, publish_preview
from dispatch.problem import ParameterError, plan_crews, plan_dates, planning_tz
from dispatch.promises import slot_name
from dispatch.routes import Feature, Properties, crew_day_features, point_feature
from dispatch.slots import pending_slots
from dispatch.states import PlanningError
from sites.models import Region
from sites.photos import site_photos
from support.inbox import open_handoff_count
from support.models import HandoffTeam

coordinators = roles_required(Role.COORDINATOR)


def _next_monday() -> dt.date:
    today = timezone.localdate(timezone=planning_tz())
    return today + dt.timedelta(days=(7 - today.weekday()) % 7 or 7)


@coordinators
@require_http_methods(["GET", "POST"])
def plans(request: HttpRequest) -> HttpResponse:
    """Recent plans, and a form to start a week."""
    error = ""
    if request.method == "POST":
        try:
            start = dt.date.fromisoformat(request.POST.get("start_date", ""))
            days = int(request.POST.get("days", "5"))
            region_code = request.POST.get("region", "")
            region = Region.objects.filter(code=region_code).first() if region_code else None
            if region_code and region is None:
                raise PlanningError(_("Unknown region."), field="region")
            plan = plan_create(
                name=request.POST.get("name", "").strip()
                or f"{region.name if region else _('All regions')} {start:%Y-%m-%d}",
                start_date=start,
                end_date=start + dt.timedelta(days=max(days, 1) - 1),
                region=region,
                by=request.user,  # type: ignore[arg-type]
            )
        except ValueError:
            error = _("Enter the first day as a date and the number of days as a whole number.")
        except (PlanningError, ParameterError) as exc:
            error = str(exc)
        else:
            messages.success(request, _("Plan created. Optimize it or drag jobs onto the board."))
            return redirect("web:board", pk=plan.pk)
    recent = (
        Plan.objects.exclude(status=PlanStatus.CANCELLED)
        .select_related("region")
        .order_by("-start_date", "-id")[:40]
    )
    return render(
        request,
        "web/plans.html",
        {
            "plans": recent,
            "regions": Region.objects.order_by("code"),
            "next_monday": _next_monday(),
            "error": error,
        },
        status=400 if error else 200,
    )


@coordinators
@require_GET
def board(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(Plan.objects.select_related("region", "revises"), pk=pk)
    data = boards.board_for(plan, boards.QueueFilters.from_query(request.GET))
    return render(
        request,
        "web/board.html",
        {
            "board": data,
            "choices": boards.filter_choices(plan),
            "map_tiles": settings.MAP_TILE_URL,
            "map_attribution": settings.MAP_TILE_ATTRIBUTION,
            # Calls support handed off to delivery that nobody acknowledged yet.
            "delivery_handoffs": open_handoff_count(HandoffTeam.DELIVERY),
            # Visit slots support booked during calls, waiting for a coordinator.
            "booked_slots": pending_slots(start=plan.start_date, end=plan.end_date),
            "revision": plan.revisions.exclude(
                status__in=[PlanStatus.CANCELLED, PlanStatus.SUPERSEDED]
            ).first()
            if plan.status == PlanStatus.PUBLISHED
            else None,
        },
    )


@coordinators
@require_GET
def board_fragment(request: HttpRequest, pk: int) -> HttpResponse:
    """Fresh copies of some cells, the plan header and, on request, the queue."""
    plan = get_object_or_404(Plan.objects.select_related("region"), pk=pk)
    keys = request.GET.getlist("cell")[:50]
    cells = boards.cells_for(plan, keys)
    filters = boards.QueueFilters.from_query(request.GET)
    context: dict = {"plan": plan, "cells": cells, "editable": plan.status in boards.EDITABLE}
    queue = boards.queue_jobs(plan, filters)
    if request.GET.get("queue"):
        context["queue"] = queue
    context["totals"] = boards.plan_totals(plan, len(queue))
    return render(request, "web/board/fragment.html", context)


@coordinators
@require_GET
def queue(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=pk)
    filters = boards.QueueFilters.from_query(request.GET)
    return render(
        request,
        "web/board/queue.html",
        {
            "plan": plan,
            "queue": boards.queue_jobs(plan, filters),
            "editable": plan.status in boards.EDITABLE,
        },
    )


@coordinators
@require_GET
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar while a run works; the before/after comparison once it is done."""
    run = get_object_or_404(OptimizationRun.objects.select_related("plan"), pk=pk)
    return render(request, "web/board/progress.html", {"run": run, "plan": run.plan})


@coordinators
@require_GET
def publish_summary(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=pk)
    return render(
        request,
        "web/board/publish.html",
        {
            "plan": plan,
            "companies": publish_preview(plan=plan),
            # Up front: what another published plan holds makes publishing fail (409).
            "conflicts": publish_conflicts(plan=plan),
        },
    )


@coordinators
@require_GET
def job_drawer(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's site, survey, permissions, instructions, parking and history."""
    job = get_object_or_404(
        Job.objects.select_related("site__region", "contract__customer", "survey").prefetch_related(
            "required_skills",
            "site__permissions",
            "status_changes__changed_by",
            Prefetch("reports", queryset=JobReport.objects.select_related("crew", "visit")),
        ),
        pk=pk,
    )
    plan = None
    visit = None
    plan_id = request.GET.get("plan", "")
    if plan_id.isdigit():
        plan = Plan.objects.filter(pk=int(plan_id)).first()
        if plan is not None:
            visit = Visit.objects.filter(plan=plan, job=job).select_related("crew").first()
    failures = [r for r in job.reports.all() if r.kind == ReportKind.INCOMPLETE]
    # The plan's visit of this job, if a crew reported it not finished, and that report.
    failure: JobReport | None = None
    not_finished = visit is not None and visit.release_reason == ReleaseReason.NOT_FINISHED
    if visit is not None and not_finished:
        candidates = [r for r in failures if r.visit_id == visit.pk] or failures
        failure = candidates[-1] if candidates else None
    survey = job.survey or job.site.surveys.order_by("-surveyed_on").first()
    crews: list = []
    dates: tuple = ()
    if plan is not None and plan.status in boards.EDITABLE:
        crews = plan_crews(plan)
        dates = plan_dates(plan)
    return render(
        request,
        "web/board/drawer.html",
        {
            "job": job,
            "survey": survey,
            # The customer's promised arrival slot, named when it is AM or PM.
            "time_slot": slot_name(job.window_start, job.window_end),
            "plan": plan,
            "visit": visit,
            "visit_held": visit is not None and visit_is_held(visit, job),
            "visit_not_finished": not_finished,
            "visit_failure": failure,
            "failures": failures,
            "attempt": boards.attempt_label(job.failed_attempts + 1)
            if job.is_returned_from_field
            else "",
            "crews": crews,
            "dates": dates,
            "records": job.site.construction_records.filter(archived_at__isnull=True),
            "photos": site_photos(job.site_id),  # the site's photos, this job's marked
        },
    )


@coordinators
@require_GET
def map_data(request: HttpRequest, pk: int) -> JsonResponse:
    """GeoJSON of one crew-day's route (``crew``, ``date``) or of the unplanned queue."""
    plan = get_object_or_404(Plan, pk=pk)
    features: list[Feature] = []
    crew = request.GET.get("crew", "")
    day = request.GET.get("date", "")
    if crew.isdigit() and day:
        try:
            date = dt.date.fromisoformat(day)
        except ValueError:
            return JsonResponse(
                {
                    "error": {
                        "status": 400,
                        "code": "invalid",
                        "message": "date must be YYYY-MM-DD",
                        "fields": {"date": [day]},
                    }
                },
                status=400,
            )
        visits = list(
            Visit.objects.filter(plan=plan, crew_id=int(crew), date=date)
            .select_related("job__site", "crew")
            .order_by("sequence")
        )
        if visits:
            features = crew_day_features(
                visits[0].crew,
                visits,
                home_properties={"label": _("Home base"), "kind": "home"},
                stop_properties=_visit_properties,
                route_properties={"kind": "route"},
            )
    else:
        for item in boards.queue_jobs(plan, boards.QueueFilters.from_query(request.GET)):
            site = item.job.site
            if site.latitude is None or site.longitude is None:
                continue
            label = f"{item.job.reference} {site.name}"
            features.append(
                point_feature(site.longitude, site.latitude, {"label": label, "kind": "unplanned"})
            )
    return JsonResponse({"type": "FeatureCollection", "features": features})


def _visit_properties(visit: Visit) -> Properties:
    """The tooltip of a stop on the board's map (the page puts it in a text node)."""
    start = timezone.localtime(visit.planned_start, planning_tz()).strftime("%H:%M")
    label = f"{visit.sequence}. {start} {visit.job.reference} {visit.job.site.name}"
    return {"label": label, "kind": "visit"}


@roles_required(Role.COORDINATOR, Role.SUPPORT, Role.PARTNER)
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands where its work is: coordinators on this or next week's board,
    support operators on the support desk, partners on the crews' phone page."""
    role = getattr(request.user, "role", "")
    if role == Role.COORDINATOR:
        today = timezone.localdate(timezone=planning_tz())
        current = (
            Plan.objects.filter(end_date__gte=today)
            .exclude(status__in=[PlanStatus.CANCELLED, PlanStatus.SUPERSEDED])
            .order_by("start_date", "-id")
            .first()
        )
        return redirect("web:board", pk=current.pk) if current else redirect("web:plans")
    if role == Role.PARTNER:
        return redirect("web:crew")
    return redirect("support:desk")
