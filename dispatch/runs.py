"""Optimization runs: request one, run it, cancel it, accept or discard its proposal.

A run never writes half a plan: the solver works outside any transaction and
its result replaces the plan's visits in one transaction, and only if nobody
edited the plan meanwhile (the plan's version is compared under a row lock).
A worker that dies is noticed by its silence (:func:`runs_fail_stale`).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from kombu.exceptions import OperationalError as BrokerError

import scheduler
from accounts.models import User
from core.errors import UNAVAILABLE, DomainError
from observability import metrics

from .figures import plan_figures
from .models import (
    ACTIVE_RUN_STATUSES,
    OptimizationRun,
    Plan,
    PlannedBreak,
    PlanStatus,
    RunDecision,
    RunStatus,
    Visit,
)
from .parts import CeleryParts
from .plans import PlanBusy, PlanConflict, _locked_plan, _plan_move
from .problem import (
    PlanningInput,
    PlanParameters,
    check_plan_days_open,
    plan_problem,
    result_breaks,
    result_kpis,
    result_unassigned,
    result_visits,
)
from .states import PlanAction, PlanningError, check_plan_action, plan_action_allowed
from .travel import travel_provider

logger = logging.getLogger(__name__)

PROGRESS_WRITE_INTERVAL_S = 0.5
"""How often a running optimization writes its progress row (and reads cancel requests)."""


class QueueUnavailable(DomainError):
    """The task broker cannot be reached (HTTP 503 in the API); no run was left queued."""

    code = "queue_unavailable"
    status = UNAVAILABLE


#: Stored in English on the failed run (no request there); raised in the request's language.
_QUEUE_DOWN = gettext_noop(
    "the task queue is unavailable; nothing was queued, try again in a minute"
)


def _require_broker() -> None:
    """Fail fast, inside the caller's transaction, when the broker is down (see settings)."""
    try:
        with current_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1)
    except (BrokerError, OSError) as exc:
        raise QueueUnavailable(_(_QUEUE_DOWN)) from exc


def _enqueue_optimization(run_id: int) -> None:
    from .tasks import optimize_plan

    try:
        optimize_plan.delay(run_id)
    except (BrokerError, OSError) as exc:
        # The broker went away after _require_broker: the run is committed but
        # its task was never sent, so close it rather than leave it queued.
        _run_finish_unsuccessfully(run_id, RunStatus.FAILED, f"{_QUEUE_DOWN}: {exc}")
        raise QueueUnavailable(_(_QUEUE_DOWN)) from exc


def runs_fail_stale(*, plan: Plan | None = None) -> int:
    """Mark runs whose worker went silent as failed, so a lost worker never blocks a plan.

    A running optimization writes a heartbeat whenever the solver reports
    progress or checks for cancellation (at most every
    ``PROGRESS_WRITE_INTERVAL_S``, in practice every fraction of a second), so
    silence for ``settings.RUN_STALE_AFTER_SECONDS`` means its worker is gone
    (killed, out of memory, machine lost), whatever the run's time limit. The
    periodic sweep (``dispatch.sweep_stale_runs``, every
    ``settings.RUN_SWEEP_INTERVAL_SECONDS``) and every new optimization request
    call this, so a plan is freed within about a minute and the run says why.
    A run never picked up stays queued for an hour (a busy queue is not a death).
    """
    now = timezone.now()
    stale = 0
    runs = OptimizationRun.objects.filter(status__in=ACTIVE_RUN_STATUSES)
    if plan is not None:
        runs = runs.filter(plan=plan)
    for run in runs.select_related("plan"):
        last_sign = run.heartbeat_at or run.created_at
        allowed = dt.timedelta(seconds=settings.RUN_STALE_AFTER_SECONDS)
        if run.status == RunStatus.QUEUED:
            allowed = dt.timedelta(hours=1)
        if now - last_sign > allowed:
            _run_finish_unsuccessfully(
                run.pk,
                RunStatus.FAILED,
                f"the worker stopped reporting for {round((now - last_sign).total_seconds())} s "
                "(lost or killed); the plan kept its previous proposal: optimize again",
            )
            stale += 1
    return stale


def plan_request_optimization(
    *,
    plan: Plan,
    by: User | None = None,
    time_limit_seconds: int | None = None,
    seed: int | None = None,
    enqueue: bool = True,
) -> OptimizationRun:
    """Queue an optimization of ``plan``; the Celery task starts after this transaction commits.

    Raises
    ------
    PlanBusy
        When the plan already has a queued or running optimization.
    PlanningError
        When the plan is published, superseded or cancelled.
    """
    runs_fail_stale(plan=plan)
    overrides = {}
    if time_limit_seconds is not None:
        overrides["time_limit_seconds"] = time_limit_seconds
    if seed is not None:
        overrides["seed"] = seed
    try:
        with transaction.atomic():
            locked = _locked_plan(plan)
            if OptimizationRun.objects.filter(plan=locked, status__in=ACTIVE_RUN_STATUSES).exists():
                raise PlanBusy(_("this plan is already being optimized; wait or cancel that run"))
            check_plan_action(locked, PlanAction.OPTIMIZE)
            check_plan_days_open(locked)
            params = PlanParameters.from_dict({**locked.params, **overrides})
            _plan_move(locked, PlanStatus.OPTIMIZING)
            run = OptimizationRun.objects.create(
                plan=locked,
                params=params.to_dict(),
                seed=params.seed,
                time_limit_seconds=params.time_limit_seconds,
                plan_version_at_start=locked.version,
                created_by=by,
            )
            if enqueue:
                _require_broker()  # raises before commit: the run and the status change roll back
                run_id = run.pk
                transaction.on_commit(lambda: _enqueue_optimization(run_id))
    except IntegrityError as exc:  # the partial unique index: a concurrent request won
        raise PlanBusy(_("this plan is already being optimized; wait or cancel that run")) from exc
    plan.refresh_from_db()
    return run


def run_cancel(*, run: OptimizationRun) -> OptimizationRun:
    """Stop a run: at once if still queued, at the solver's next check if running.

    The plan keeps its previous proposal either way: a cancelled run writes nothing.
    """
    with transaction.atomic():
        locked = OptimizationRun.objects.select_for_update().get(pk=run.pk)
        if locked.status == RunStatus.RUNNING:
            locked.cancel_requested = True
            locked.save(update_fields=["cancel_requested"])
    if locked.status == RunStatus.QUEUED:
        _run_finish_unsuccessfully(locked.pk, RunStatus.CANCELLED, "cancelled before it started")
    elif locked.status != RunStatus.RUNNING:
        raise PlanningError(
            _("the run has already %(status)s") % {"status": locked.get_status_display().lower()},
            field="status",
        )
    run.refresh_from_db()
    return run


def _plan_status_after_failure(plan: Plan) -> str:
    return PlanStatus.PROPOSED if plan.visits.exists() else PlanStatus.FAILED


@transaction.atomic
def _run_finish_unsuccessfully(run_id: int, status: str, error: str) -> None:
    run = OptimizationRun.objects.select_for_update().get(pk=run_id)
    if run.status not in ACTIVE_RUN_STATUSES:
        return
    plan = _locked_plan(run.plan)
    run.status = status
    run.error = error
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    if plan.status == PlanStatus.OPTIMIZING:
        after = _plan_status_after_failure(plan)
        if status == RunStatus.CANCELLED and after == PlanStatus.FAILED:
            after = PlanStatus.DRAFT
        _plan_move(plan, after)


@dataclass
class _Progress:
    """Throttled writer of a run's progress row; also the solver's cancel check."""

    run_id: int
    hook: Callable[[OptimizationRun], None] | None = None
    last_write: float = 0.0
    cancelled: bool = False
    best: float | None = None
    assigned: int = 0
    started: float = 0.0

    def __post_init__(self) -> None:
        self.started = time.monotonic()
        self.lock = threading.Lock()

    def on_improvement(self, elapsed_s: float, best_objective_yen: float, assigned: int) -> None:
        self.best, self.assigned = best_objective_yen, assigned
        self._write(force=False)

    def should_stop(self) -> bool:
        self._write(force=False)
        return self.cancelled

    def _write(self, *, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self.last_write < PROGRESS_WRITE_INTERVAL_S:
            return
        with self.lock:
            self.last_write = now
            fields = {
                "elapsed_seconds": round(now - self.started, 2),
                "jobs_assigned": self.assigned,
                "heartbeat_at": timezone.now(),
            }
            if self.best is not None:
                fields["best_objective_yen"] = round(self.best, 1)
            OptimizationRun.objects.filter(pk=self.run_id).update(**fields)
            self.cancelled = OptimizationRun.objects.filter(
                pk=self.run_id, cancel_requested=True
            ).exists()
            if self.hook is not None:
                self.hook(OptimizationRun.objects.get(pk=self.run_id))


def run_optimization(
    *, run_id: int, progress_hook: Callable[[OptimizationRun], None] | None = None
) -> OptimizationRun:
    """Execute a queued run: claim it, solve outside any transaction, write the proposal atomically.

    Safe to call twice with the same id (a redelivered task): only the call
    that moves the run from *queued* to *running* does anything.
    """
    claimed = OptimizationRun.objects.filter(
        pk=run_id, status=RunStatus.QUEUED, cancel_requested=False
    ).update(status=RunStatus.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now())
    run = OptimizationRun.objects.select_related("plan").get(pk=run_id)
    if claimed != 1:
        # A redelivered task after its worker died: make sure the dead run does
        # not keep holding the plan.
        runs_fail_stale(plan=run.plan)
        run.refresh_from_db()
        logger.info("run %s not claimed (status %s): nothing to do", run_id, run.status)
        return run
    try:
        params = PlanParameters.from_dict(run.params)
        planning = plan_problem(plan=run.plan, params=params)
        OptimizationRun.objects.filter(pk=run_id).update(jobs_total=len(planning.jobs))
        progress = _Progress(run_id=run_id, hook=progress_hook)
        result = scheduler.solve(
            planning.problem,
            scheduler.MaxRuntime(params.time_limit_seconds),
            scheduler.SolveParams(seed=params.seed, num_workers=settings.PLANNER_WORKERS),
            progress=progress.on_improvement,
            warm_start=planning.warm_start,
            cancel=progress.should_stop,
            travel_provider=travel_provider(),  # an OsrmError fails the run, saying why
            part_runner=(
                CeleryParts(settings.PLANNER_WORKERS, run_id=run_id)
                if settings.PLANNER_WORKERS > 1
                else None
            ),
        )
        if progress.cancelled:
            _run_finish_unsuccessfully(run_id, RunStatus.CANCELLED, "cancelled while running")
        elif result.status != "plan_found" and planning.jobs:
            _run_finish_unsuccessfully(run_id, RunStatus.FAILED, f"solver: {result.status}")
        else:
            _run_store_result(run_id=run_id, planning=planning, result=result)
    except Exception as exc:
        logger.exception("optimization run %s failed", run_id)
        _run_finish_unsuccessfully(run_id, RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
    run.refresh_from_db()
    metrics.record_run_finished(run)
    return run


@transaction.atomic
def _run_store_result(*, run_id: int, planning: PlanningInput, result: scheduler.Result) -> None:
    run = OptimizationRun.objects.select_for_update().get(pk=run_id)
    if run.status != RunStatus.RUNNING:
        # The sweep gave this run up for dead while it was still solving: the
        # coordinator was told it failed and may have moved on; write nothing.
        logger.warning("run %s finished after it was marked %s: result dropped", run_id, run.status)
        return
    plan = _locked_plan(run.plan)
    if plan.version != run.plan_version_at_start:
        # A coordinator edited the plan while the solver ran on the old state:
        # writing the result would silently undo that edit.
        run.status = RunStatus.FAILED
        run.error = (
            f"the plan was edited during the optimization (version {run.plan_version_at_start} "
            f"became {plan.version}); its edits are kept, run the optimization again"
        )
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        if plan.status == PlanStatus.OPTIMIZING:
            _plan_move(plan, _plan_status_after_failure(plan))
        return
    in_play = len(planning.jobs) + len(planning.screened_out)
    before_visits = list(plan.visits.select_related("crew", "job__site"))
    previous = _plan_snapshot(plan, before_visits)
    before = plan_figures(before_visits, in_play - len(before_visits))
    locked_job_ids = {v.job_id for v in before_visits if v.locked} | planning.revised_pins
    plan.visits.all().delete()
    plan.breaks.all().delete()
    Visit.objects.bulk_create(
        result_visits(
            plan=plan,
            planning=planning,
            result=result,
            locked_job_ids=locked_job_ids,
            taking_over={v.job_id for v in before_visits if v.takes_over},
        )
    )
    PlannedBreak.objects.bulk_create(result_breaks(plan=plan, planning=planning, result=result))
    after_visits = list(plan.visits.select_related("crew", "job__site"))
    after = plan_figures(after_visits, in_play - len(after_visits))
    kpis = result_kpis(planning=planning, result=result)
    _plan_move(
        plan,
        PlanStatus.PROPOSED,
        unassigned=result_unassigned(planning=planning, result=result),
        kpis=kpis,
    )
    run.status = RunStatus.SUCCEEDED
    run.finished_at = timezone.now()
    run.jobs_assigned = result.kpis.jobs_assigned
    run.best_objective_yen = round(result.cost(), 1)
    run.summary = {
        **{k: v for k, v in kpis.items() if k != "routes"},
        "stop_reason": result.stop_reason,
        "runtime_s": round(result.runtime_s, 2),
        "first_solution_s": result.first_solution_s,
        "parallel": result.extra.parallel,
        "before": before,
        "after": after,
    }
    run.previous = previous
    run.plan_version_after = plan.version
    run.save(
        update_fields=[
            "status",
            "finished_at",
            "jobs_assigned",
            "best_objective_yen",
            "summary",
            "previous",
            "plan_version_after",
        ]
    )


def _plan_snapshot(plan: Plan, visits: list[Visit]) -> dict:
    """What a proposal replaces: enough to put the plan back exactly as it was."""
    return {
        "status": PlanStatus.PROPOSED if visits else PlanStatus.DRAFT,
        "unassigned": plan.unassigned,
        "kpis": plan.kpis,
        "visits": [
            {
                "job_id": v.job_id,
                "crew_id": v.crew_id,
                "date": v.date.isoformat(),
                "sequence": v.sequence,
                "planned_start": v.planned_start.isoformat(),
                "planned_end": v.planned_end.isoformat(),
                "travel_minutes_from_previous": v.travel_minutes_from_previous,
                "travel_m_from_previous": v.travel_m_from_previous,
                "locked": v.locked,
                "takes_over": v.takes_over,
            }
            for v in visits
        ],
        "breaks": [
            {
                "crew_id": b.crew_id,
                "date": b.date.isoformat(),
                "start": b.start.isoformat(),
                "end": b.end.isoformat(),
            }
            for b in plan.breaks.all()
        ],
    }


def _undecided_run(run: OptimizationRun) -> OptimizationRun:
    locked = OptimizationRun.objects.select_for_update().get(pk=run.pk)
    if locked.status != RunStatus.SUCCEEDED:
        raise PlanningError(
            _("only a finished run's proposal can be accepted or discarded; this run is %(status)s")
            % {"status": locked.get_status_display().lower()},
            field="status",
        )
    if locked.decision:
        raise PlanningError(
            _("this proposal was already %(decision)s")
            % {"decision": locked.get_decision_display().lower()},
            field="decision",
        )
    return locked


@transaction.atomic
def run_accept(*, run: OptimizationRun, by: User | None = None) -> OptimizationRun:
    """Keep a run's proposal (it already is the plan); the comparison is closed."""
    locked = _undecided_run(run)
    locked.decision = RunDecision.ACCEPTED
    locked.decided_at = timezone.now()
    locked.save(update_fields=["decision", "decided_at"])
    return locked


@transaction.atomic
def run_discard(*, run: OptimizationRun, by: User | None = None) -> OptimizationRun:
    """Throw a run's proposal away: the plan gets back the visits it had before the run.

    Refused once the plan changed after the run (a manual edit, a newer run,
    a publication): putting the old visits back would undo that work.
    """
    locked = _undecided_run(run)
    plan = _locked_plan(locked.plan)
    if plan.version != locked.plan_version_after or not plan_action_allowed(
        plan.status, PlanAction.DISCARD_RUN
    ):
        raise PlanConflict(
            _(
                "the plan changed after this optimization; its proposal can no longer be "
                "discarded (edit the plan or optimize again)"
            ),
            field="version",
        )
    previous = locked.previous
    plan.visits.all().delete()
    Visit.objects.bulk_create(
        Visit(
            plan=plan,
            job_id=row["job_id"],
            crew_id=row["crew_id"],
            date=dt.date.fromisoformat(row["date"]),
            sequence=row["sequence"],
            planned_start=dt.datetime.fromisoformat(row["planned_start"]),
            planned_end=dt.datetime.fromisoformat(row["planned_end"]),
            travel_minutes_from_previous=row["travel_minutes_from_previous"],
            travel_m_from_previous=row["travel_m_from_previous"],
            locked=row["locked"],
            takes_over=row.get("takes_over", False),  # snapshots from before it was kept
        )
        for row in previous.get("visits", [])
    )
    plan.breaks.all().delete()
    PlannedBreak.objects.bulk_create(
        PlannedBreak(
            plan=plan,
            crew_id=row["crew_id"],
            date=dt.date.fromisoformat(row["date"]),
            start=dt.datetime.fromisoformat(row["start"]),
            end=dt.datetime.fromisoformat(row["end"]),
        )
        for row in previous.get("breaks", [])
    )
    _plan_move(
        plan,
        previous.get("status", PlanStatus.DRAFT),
        unassigned=previous.get("unassigned", []),
        kpis=previous.get("kpis", {}),
    )
    locked.decision = RunDecision.DISCARDED
    locked.decided_at = timezone.now()
    locked.save(update_fields=["decision", "decided_at"])
    return locked
