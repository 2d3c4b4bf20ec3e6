"""Celery tasks: they load ids and call services, nothing else."""

from __future__ import annotations

from celery import shared_task

from .batches import batch_try_finish
from .models import OptimizationRun
from .parts import part_search
from .runs import run_optimization, runs_fail_stale


@shared_task(name="dispatch.optimize_plan", acks_late=True, reject_on_worker_lost=True)
def optimize_plan(run_id: int) -> str:
    """Run one optimization; a redelivered duplicate finds the run claimed and does nothing."""
    run = run_optimization(run_id=run_id)
    batch_id = OptimizationRun.objects.filter(pk=run_id).values_list("batch_id", flat=True).first()
    if batch_id is not None:
        batch_try_finish(batch_id=batch_id)
    return run.status


@shared_task(name="dispatch.sweep_stale_runs", ignore_result=True)
def sweep_stale_runs() -> int:
    """Fail runs whose worker died, so their plans are free again (Celery beat, periodic)."""
    return runs_fail_stale()


@shared_task(name="dispatch.search_part", ignore_result=True)
def search_part(part_id: int, batch: str, payload: str) -> str:
    """Search one part of a planner's search if nobody has taken it yet (``dispatch.parts``)."""
    return part_search(part_id, batch, payload)
