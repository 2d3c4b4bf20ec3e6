"""All-region batches: plan a range for several regions at once, finish and publish them."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerError

from accounts.models import User
from sites.models import Region

from .ledger import ScheduleConflict
from .models import ACTIVE_RUN_STATUSES, OptimizationRun, Plan, PlanningBatch, PlanStatus, RunStatus
from .plans import PlanBusy, plan_create, plan_publish
from .problem import PlanParameters
from .regions import NO_CREW_DAYS, regions_to_plan, week_partition
from .runs import (
    _QUEUE_DOWN,
    QueueUnavailable,
    _require_broker,
    _run_finish_unsuccessfully,
    plan_request_optimization,
)
from .states import PlanningError


def planning_batch_start(
    *,
    start_date: dt.date,
    end_date: dt.date,
    regions: list[Region] | None = None,
    by: User | None = None,
    params: dict | None = None,
    enqueue: bool = True,
) -> PlanningBatch:
    """Plan a range for several regions in one action: one plan and one run per region.

    ``regions=None`` means every region with ready jobs or active crews. Before
    anything is queued, the range's free crew-days are shared out
    (:func:`dispatch.regions.week_partition`): each crew-day of a company
    that serves several regions goes to exactly one region plan
    (``Plan.crew_day_scope``). Without that, region plans optimized side by
    side would put the same crew on the road twice the same day, and all
    but the first publication would be refused (a crew-day is one live route).

    The runs fan out as a Celery group after commit: running more ``celery
    worker`` processes (any machine, same broker and database) is all it takes
    to plan more regions at the same time. With ``enqueue=False`` the runs stay
    queued for the caller to execute (``plan_week --all-regions``, benchmarks).

    Raises
    ------
    PlanningError
        Bad dates (``field`` names which) or no region to plan.
    ParameterError
        A bad value in ``params``.
    QueueUnavailable
        When ``enqueue`` and the task broker cannot be reached (nothing is created).
    """
    if end_date < start_date:
        raise PlanningError(_("the range must not end before it starts"), field="end_date")
    if (end_date - start_date).days > 31:
        raise PlanningError(_("a plan covers at most 31 days"), field="end_date")
    checked = PlanParameters.from_dict(params or {})
    if regions is None:
        regions = regions_to_plan(start_date=start_date, end_date=end_date)
        if not regions:
            raise PlanningError(_("no region has ready jobs or active crews"), field="regions")
    if not regions:
        raise PlanningError(_("choose at least one region"), field="regions")
    regions = sorted({region.pk: region for region in regions}.values(), key=lambda r: r.code)
    with transaction.atomic():
        partition = week_partition(
            start_date=start_date,
            end_date=end_date,
            regions=regions,
            max_utilization=checked.max_utilization,
        )
        batch = PlanningBatch.objects.create(
            start_date=start_date,
            end_date=end_date,
            created_by=by,
            summary={"partition": partition.summary()},
        )
        run_ids = []
        for region in regions:
            plan = plan_create(
                name=f"{region.name} {start_date:%Y-%m-%d}",
                start_date=start_date,
                end_date=end_date,
                region=region,
                params=params,
                by=by,
            )
            Plan.objects.filter(pk=plan.pk).update(crew_day_scope=partition.scope(region.code))
            run = plan_request_optimization(plan=plan, by=by, enqueue=False)
            OptimizationRun.objects.filter(pk=run.pk).update(batch=batch)
            run_ids.append(run.pk)
        if enqueue:
            _require_broker()  # raises before commit: the batch and its plans roll back
            batch_id = batch.pk
            transaction.on_commit(lambda: _batch_fan_out(batch_id, run_ids))
    return batch


def _batch_fan_out(batch_id: int, run_ids: list[int]) -> None:
    from celery import group

    from .tasks import optimize_plan

    try:
        group(optimize_plan.si(run_id) for run_id in run_ids).apply_async()
    except (BrokerError, OSError) as exc:
        # As in _enqueue_optimization: close the runs rather than leave them queued.
        for run_id in run_ids:
            _run_finish_unsuccessfully(run_id, RunStatus.FAILED, f"{_QUEUE_DOWN}: {exc}")
        batch_try_finish(batch_id=batch_id)
        raise QueueUnavailable(_(_QUEUE_DOWN)) from exc


def batch_plans(batch: PlanningBatch) -> list[Plan]:
    """The region plans of a batch, by region code."""
    return list(
        Plan.objects.filter(runs__batch=batch)
        .select_related("region")
        .distinct()
        .order_by("region__code", "id")
    )


def _crew_days_given(plan: Plan) -> int:
    return sum(1 for pair in plan.crew_day_scope if pair not in NO_CREW_DAYS)


def batch_try_finish(*, batch_id: int) -> bool:
    """Write the batch summary if every run of it has finished; True when this call wrote it.

    Per region: the run's outcome, the crew-days the partition gave it and
    those its plan uses, jobs and kilometres; then the totals. The partition
    written when the batch started is kept.
    """
    with transaction.atomic():
        batch = PlanningBatch.objects.select_for_update().get(pk=batch_id)
        if batch.finished_at is not None:
            return False
        runs = list(
            batch.runs.select_related("plan", "plan__region").order_by("plan__region__code")
        )
        if any(run.is_active for run in runs):
            return False
        regions = [
            {
                "region": run.plan.region.code if run.plan.region else None,
                "plan_id": run.plan_id,
                "run_id": run.pk,
                "run_status": run.status,
                "crew_days_given": _crew_days_given(run.plan),
                "crew_days_used": run.plan.kpis.get("crew_days_used", 0),
                "jobs_assigned": run.plan.kpis.get("jobs_assigned", 0),
                "jobs_unassigned": run.plan.kpis.get("jobs_unassigned", 0),
                "total_km": run.plan.kpis.get("total_km", 0.0),
                "error": run.error,
            }
            for run in runs
        ]
        assigned = sum(r["jobs_assigned"] for r in regions)
        total_km = round(sum(r["total_km"] for r in regions), 1)
        batch.summary = {
            **batch.summary,
            "regions": regions,
            "jobs_assigned": assigned,
            "jobs_unassigned": sum(r["jobs_unassigned"] for r in regions),
            "total_km": total_km,
            "km_per_job": round(total_km / assigned, 2) if assigned else 0.0,
            "crew_days_used": sum(r["crew_days_used"] for r in regions),
            "failed": [r["region"] for r in regions if r["run_status"] != RunStatus.SUCCEEDED],
        }
        batch.finished_at = timezone.now()
        batch.save(update_fields=["summary", "finished_at"])
        return True


def batch_publish(*, batch: PlanningBatch, by: User | None = None) -> list[dict]:
    """Publish every region plan of a finished batch, each in its own transaction.

    One plan refused does not hold back the others: the answer says, per plan,
    ``published``, ``already_published``, ``conflict`` (another published plan
    holds a job or crew-day, with the conflicts as the 409 of a single
    publication lists them) or ``refused`` (the plan's state does not allow
    it, e.g. its run failed). The outcome is also kept in the batch summary.

    Raises
    ------
    PlanBusy
        While a run of the batch is still queued or running.
    """
    if batch.runs.filter(status__in=ACTIVE_RUN_STATUSES).exists():
        raise PlanBusy(_("the batch is still optimizing; publish when every region has finished"))
    outcomes = []
    for plan in batch_plans(batch):
        row: dict = {"plan_id": plan.pk, "region": plan.region.code if plan.region else None}
        if plan.status == PlanStatus.PUBLISHED:
            row["outcome"] = "already_published"
        else:
            try:
                published = plan_publish(plan=plan, by=by)
            except ScheduleConflict as exc:
                row |= {
                    "outcome": "conflict",
                    "status": 409,
                    "code": exc.code,
                    "message": str(exc),
                    "conflicts": [conflict.as_dict() for conflict in exc.conflicts],
                }
            except PlanningError as exc:
                row |= {"outcome": "refused", "status": 409, "code": exc.code, "message": str(exc)}
            else:
                row |= {"outcome": "published", "version": published.version}
        outcomes.append(row)
    with transaction.atomic():
        locked = PlanningBatch.objects.select_for_update().get(pk=batch.pk)
        locked.summary = {
            **locked.summary,
            "publication": {"at": timezone.now().isoformat(), "plans": outcomes},
        }
        locked.save(update_fields=["summary"])
    batch.refresh_from_db()
    return outcomes
