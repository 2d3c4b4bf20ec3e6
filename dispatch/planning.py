"""The plan lifecycle: create, optimize, publish, revise. Every write here is atomic.

States of a plan::

    draft --optimize--> optimizing --> proposed --publish--> published --> superseded
                            |  ^           |                     |
                            |  +--optimize-+                     +--revise--> (new) proposed
                            +--> failed (first run failed) / back to proposed

A run never writes half a plan: the solver works outside any transaction and
its result replaces the plan's visits in one transaction, and only if nobody
edited the plan meanwhile (the plan's version is compared under a row lock).
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
from django.db.models import F, QuerySet
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

import scheduler
from accounts.models import User
from core.errors import UNAVAILABLE, DomainError
from sites.models import Region

from .figures import plan_figures
from .ledger import (
    ScheduleConflict,
    ledger_conflicts,
    ledger_lock,
    ledger_publish,
    live_visits,
)
from .models import (
    ACTIVE_RUN_STATUSES,
    ChangeKind,
    Job,
    OptimizationRun,
    Plan,
    PlanChange,
    PlanningBatch,
    PlanStatus,
    RunDecision,
    RunStatus,
    Visit,
)
from .problem import (
    ParameterError,
    PlanningInput,
    PlanParameters,
    plan_problem,
    result_kpis,
    result_unassigned,
    result_visits,
)
from .regions import NO_CREW_DAYS, regions_to_plan, week_partition
from .selectors import published_plan_for
from .services import job_transition
from .states import FIXED_STATUSES, PLANNABLE_STATUSES, JobStatus

logger = logging.getLogger(__name__)

PROGRESS_WRITE_INTERVAL_S = 0.5
"""How often a running optimization writes its progress row (and reads cancel requests)."""

#: How far back (for the record) and ahead a plan may start.
PLAN_HORIZON_PAST = dt.timedelta(days=366)
PLAN_HORIZON_FUTURE = dt.timedelta(days=2 * 366)

#: Where a plan may be optimized from.
OPTIMIZABLE = (PlanStatus.DRAFT, PlanStatus.PROPOSED, PlanStatus.FAILED)


class PlanningError(DomainError):
    """A request the plan's current state does not allow (HTTP 409 in the API)."""

    code = "plan_state"


class PlanBusy(PlanningError):
    code = "plan_busy"


class QueueUnavailable(DomainError):
    """The task broker cannot be reached (HTTP 503 in the API); no run was left queued."""

    code = "queue_unavailable"
    status = UNAVAILABLE


_QUEUE_DOWN = "the task queue is unavailable; nothing was queued, try again in a minute"


def _require_broker() -> None:
    """Fail fast, inside the caller's transaction, when the broker is down (see settings)."""
    try:
        with current_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1)
    except (BrokerError, OSError) as exc:
        raise QueueUnavailable(_QUEUE_DOWN) from exc


def _enqueue_optimization(run_id: int) -> None:
    from .tasks import optimize_plan

    try:
        optimize_plan.delay(run_id)
    except (BrokerError, OSError) as exc:
        # The broker went away after _require_broker: the run is committed but
        # its task was never sent, so close it rather than leave it queued.
        _run_finish_unsuccessfully(run_id, RunStatus.FAILED, f"{_QUEUE_DOWN}: {exc}")
        raise QueueUnavailable(_QUEUE_DOWN) from exc


class PlanConflict(PlanningError):
    """Someone changed the plan since the caller (or the running optimization) read it."""

    code = "plan_conflict"


def _bump(plan: Plan, **fields: object) -> None:
    """Save ``fields`` on a locked plan and bump its version."""
    for name, value in fields.items():
        setattr(plan, name, value)
    plan.version = F("version") + 1
    plan.save(update_fields=[*fields, "version", "updated_at"])
    plan.refresh_from_db(fields=["version"])


def _locked_plan(plan: Plan, expected_version: int | None = None) -> Plan:
    """Re-read ``plan`` under a row lock; with ``expected_version``, refuse a stale caller."""
    locked = Plan.objects.select_for_update().get(pk=plan.pk)
    if expected_version is not None and locked.version != expected_version:
        raise PlanConflict(
            f"the plan changed since you loaded it (version {expected_version}, now "
            f"{locked.version}); reload and try again",
            field="version",
        )
    return locked


@transaction.atomic
def plan_create(
    *,
    name: str,
    start_date: dt.date,
    end_date: dt.date,
    region: Region | None = None,
    params: dict | None = None,
    by: User | None = None,
) -> Plan:
    """A new draft plan; ``params`` are validated now so a bad value fails here, not in a worker."""
    if end_date < start_date:
        raise PlanningError("the plan must not end before it starts", field="end_date")
    today = timezone.localdate()
    if not today - PLAN_HORIZON_PAST <= start_date <= today + PLAN_HORIZON_FUTURE:
        # A plan for 0001-01-01 or 9999-12-27 is a typo, not a schedule anyone keeps.
        raise ParameterError(
            "start_date",
            f"must be between {today - PLAN_HORIZON_PAST} and {today + PLAN_HORIZON_FUTURE}",
        )
    if (end_date - start_date).days > 31:
        raise PlanningError("a plan covers at most 31 days", field="end_date")
    checked = PlanParameters.from_dict(params or {})
    # A new plan for exactly the dates and region of a published plan is a
    # revision of it: it keeps those jobs in play, weighs against moving them
    # and replaces it when published. A plan for other (even overlapping)
    # dates replaces nothing: it plans around what the live schedule holds.
    published = published_plan_for(region=region, start_date=start_date, end_date=end_date).first()
    return Plan.objects.create(
        name=name,
        start_date=start_date,
        end_date=end_date,
        region=region,
        params=checked.to_dict(),
        created_by=by,
        revises=published,
    )


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
                raise PlanBusy("this plan is already being optimized; wait or cancel that run")
            if locked.status not in OPTIMIZABLE:
                raise PlanningError(
                    f"a {locked.get_status_display().lower()} plan cannot be optimized"
                    + ("; revise it first" if locked.status == PlanStatus.PUBLISHED else ""),
                    field="status",
                )
            params = PlanParameters.from_dict({**locked.params, **overrides})
            _bump(locked, status=PlanStatus.OPTIMIZING)
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
        raise PlanBusy("this plan is already being optimized; wait or cancel that run") from exc
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
        raise PlanningError(f"the run has already {locked.status}", field="status")
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
        _bump(plan, status=after)


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
            _bump(plan, status=_plan_status_after_failure(plan))
        return
    in_play = len(planning.jobs) + len(planning.screened_out)
    before_visits = list(plan.visits.select_related("crew", "job__site"))
    previous = _plan_snapshot(plan, before_visits)
    before = plan_figures(before_visits, in_play - len(before_visits))
    locked_job_ids = {v.job_id for v in before_visits if v.locked}
    plan.visits.all().delete()
    Visit.objects.bulk_create(
        result_visits(plan=plan, planning=planning, result=result, locked_job_ids=locked_job_ids)
    )
    after_visits = list(plan.visits.select_related("crew", "job__site"))
    after = plan_figures(after_visits, in_play - len(after_visits))
    kpis = result_kpis(planning=planning, result=result)
    _bump(
        plan,
        status=PlanStatus.PROPOSED,
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
            }
            for v in visits
        ],
    }


def _undecided_run(run: OptimizationRun) -> OptimizationRun:
    locked = OptimizationRun.objects.select_for_update().get(pk=run.pk)
    if locked.status != RunStatus.SUCCEEDED:
        raise PlanningError(
            f"only a finished run's proposal can be accepted or discarded; this run is "
            f"{locked.get_status_display().lower()}",
            field="status",
        )
    if locked.decision:
        raise PlanningError(
            f"this proposal was already {locked.get_decision_display().lower()}",
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
    if plan.version != locked.plan_version_after or plan.status != PlanStatus.PROPOSED:
        raise PlanConflict(
            "the plan changed after this optimization; its proposal can no longer be "
            "discarded (edit the plan or optimize again)",
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
        )
        for row in previous.get("visits", [])
    )
    _bump(
        plan,
        status=previous.get("status", PlanStatus.DRAFT),
        unassigned=previous.get("unassigned", []),
        kpis=previous.get("kpis", {}),
    )
    locked.decision = RunDecision.DISCARDED
    locked.decided_at = timezone.now()
    locked.save(update_fields=["decision", "decided_at"])
    return locked


def _visit_snapshot(visit: Visit) -> dict:
    return {
        "crew_id": visit.crew_id,
        "date": visit.date.isoformat(),
        "sequence": visit.sequence,
        "planned_start": visit.planned_start.isoformat(),
        "planned_end": visit.planned_end.isoformat(),
    }


Change = tuple[int, int, str, dict | None, dict | None]
"""``(crew_id, job_id, kind, before, after)``: one line of what a crew is told."""


def visits_diff(old: dict[int, Visit], new: dict[int, Visit]) -> list[Change]:
    """What changes for each crew between two versions of a plan (both keyed by job id).

    A job that changes crew is *removed* for the old crew and *added* for the
    new one: each partner hears about its own work only. A job that stays with
    its crew but changes day, time or position is *moved*.
    """
    changes: list[Change] = []
    for job_id, visit in new.items():
        before = old.get(job_id)
        after_snapshot = _visit_snapshot(visit)
        if before is None:
            changes.append((visit.crew_id, job_id, ChangeKind.ADDED, None, after_snapshot))
        elif before.crew_id != visit.crew_id:
            before_snapshot = _visit_snapshot(before)
            changes.append((visit.crew_id, job_id, ChangeKind.ADDED, None, after_snapshot))
            changes.append((before.crew_id, job_id, ChangeKind.REMOVED, before_snapshot, None))
        elif _visit_snapshot(before) != after_snapshot:
            changes.append(
                (visit.crew_id, job_id, ChangeKind.MOVED, _visit_snapshot(before), after_snapshot)
            )
    for job_id, before in old.items():
        if job_id not in new:
            changes.append(
                (before.crew_id, job_id, ChangeKind.REMOVED, _visit_snapshot(before), None)
            )
    return changes


def _published_predecessor(plan: Plan, *, lock: bool = True) -> Plan | None:
    """The published plan that ``plan`` replaces when published: the one it revises."""
    if plan.revises_id is None:
        return None
    plans = Plan.objects.select_for_update() if lock else Plan.objects.all()
    return plans.filter(pk=plan.revises_id).first()


def _live_by_job(visits: QuerySet[Visit]) -> dict[int, Visit]:
    return {v.job_id: v for v in visits.filter(route__isnull=False)}


def _taken_over(plan: Plan, related: tuple[str, ...] = ()) -> dict[int, Visit]:
    """Live visits of other plans whose jobs ``plan`` takes over by hand."""
    taken = plan.visits.filter(takes_over=True).values("job_id")
    own = [plan.pk] if plan.revises_id is None else [plan.pk, plan.revises_id]
    visits = live_visits().filter(job_id__in=taken).exclude(plan_id__in=own)
    return {v.job_id: v for v in visits.select_related(*related)}


def publish_preview(*, plan: Plan) -> list[dict]:
    """What publishing ``plan`` would change, per partner company (nothing is written).

    One entry per company with changes: counts of added, removed and moved
    visits and the lines themselves (crew, job, before, after), in the same
    terms the partners' change feed will use after publication.
    """
    previous = _published_predecessor(plan, lock=False)
    related = ("crew__company", "job__site")
    new = {v.job_id: v for v in plan.visits.select_related(*related)}
    old = _taken_over(plan, related)
    if previous is not None:
        old |= _live_by_job(previous.visits.select_related(*related))
    crews = {v.crew_id: v.crew for v in [*old.values(), *new.values()]}
    jobs = {v.job_id: v.job for v in [*old.values(), *new.values()]}
    companies: dict[int, dict] = {}
    for crew_id, job_id, kind, before, after in visits_diff(old, new):
        crew, job = crews[crew_id], jobs[job_id]
        entry = companies.setdefault(
            crew.company_id,
            {"company": crew.company.name, "added": 0, "removed": 0, "moved": 0, "lines": []},
        )
        entry[kind] += 1
        entry["lines"].append(
            {
                "crew": crew.name,
                "job": job.reference,
                "site": job.site.name,
                "kind": kind,
                "before": before,
                "after": after,
            }
        )
    return sorted(companies.values(), key=lambda entry: entry["company"])


def publish_conflicts(*, plan: Plan) -> list[dict]:
    """The jobs and crew-days other published plans hold that ``plan`` would need."""
    visits = list(plan.visits.select_related("job"))
    return [conflict.as_dict() for conflict in ledger_conflicts(plan, visits)]


@transaction.atomic
def plan_publish(
    *, plan: Plan, by: User | None = None, expected_version: int | None = None
) -> Plan:
    """Put the proposal on the live schedule, and record per crew what changed.

    All or nothing, serialized with every other ledger write: the published
    plan it revises becomes *superseded* and leaves the schedule, jobs
    planned now move to *scheduled*, jobs it no longer holds go back to
    *ready*, jobs taken over by hand leave the plan that had them.

    Raises
    ------
    dispatch.ledger.ScheduleConflict
        When another published plan holds one of its jobs or crew-days (HTTP 409).
    PlanConflict
        When the plan changed since ``expected_version``, or the plan it revises
        was replaced meanwhile.
    """
    ledger_lock()
    locked = _locked_plan(plan, expected_version)
    if locked.status != PlanStatus.PROPOSED:
        raise PlanningError(
            f"only a proposed plan can be published; this one is "
            f"{locked.get_status_display().lower()}",
            field="status",
        )
    previous = _published_predecessor(locked)
    if previous is not None and previous.status != PlanStatus.PUBLISHED:
        newer = previous.revisions.filter(status=PlanStatus.PUBLISHED).first()
        raise PlanConflict(
            f"the plan this revises (plan {previous.pk}) is no longer published"
            + (f"; plan {newer.pk} replaced it: revise that one" if newer else ""),
            field="revises",
        )
    new_visits = {v.job_id: v for v in locked.visits.all()}
    old_visits = _taken_over(locked)
    if previous is not None:
        old_visits |= _live_by_job(previous.visits.all())
    _check_publishable_jobs(locked, new_visits)
    ledger_publish(locked, previous)
    published_version = locked.version + 1
    PlanChange.objects.bulk_create(
        PlanChange(
            plan=locked,
            crew_id=crew_id,
            job_id=job_id,
            kind=kind,
            before=before,
            after=after,
            published_version=published_version,
        )
        for crew_id, job_id, kind, before, after in visits_diff(old_visits, new_visits)
    )

    for job in Job.objects.filter(pk__in=new_visits, status=JobStatus.READY):
        job_transition(job=job, to_status=JobStatus.SCHEDULED, by=by, note=f"plan {locked.pk}")
    dropped = set(old_visits) - set(new_visits)
    for job in Job.objects.filter(
        pk__in=dropped, status__in=[JobStatus.SCHEDULED, JobStatus.DISPATCHED]
    ):
        job_transition(
            job=job, to_status=JobStatus.READY, by=by, note=f"dropped by plan {locked.pk}"
        )
    if previous is not None:
        _bump(previous, status=PlanStatus.SUPERSEDED)
    _bump(locked, status=PlanStatus.PUBLISHED, published_at=timezone.now())
    return locked


def _check_publishable_jobs(plan: Plan, visits: dict[int, Visit]) -> None:
    """Refuse to send a crew to a job that was cancelled, or finished elsewhere meanwhile."""
    allowed = {*PLANNABLE_STATUSES, *FIXED_STATUSES}
    stale = Job.objects.filter(pk__in=visits).exclude(status__in=allowed)
    if stale.exists():
        listed = ", ".join(f"{j.reference} ({j.get_status_display().lower()})" for j in stale[:5])
        raise PlanningError(
            f"these jobs can no longer be scheduled: {listed}; optimize the plan again "
            "or take them out",
            field="visits",
            jobs=[j.pk for j in stale],
        )


#: Plans still being worked on: they hold proposals, not live work.
OPEN_PLAN_STATUSES = (
    PlanStatus.DRAFT,
    PlanStatus.OPTIMIZING,
    PlanStatus.PROPOSED,
    PlanStatus.FAILED,
)


def drafts_forget_failed_visit(*, job: Job, failed_on: dt.date, note: str) -> list[int]:
    """Take a job a crew could not finish out of the open plans that still hold it on that day.

    Those visits are copies of the one that failed (a revision made before
    the report, or a draft planned earlier): publishing them would send a
    crew back to the same slot. Visits on later days stay: they are fresh
    proposals for a job that is ready again. Returns the ids of the plans
    changed; each gets the job in its queue with the reason and a new
    version (a running optimization of it will not overwrite the change).
    """
    changed = []
    stale = Visit.objects.filter(
        job=job, plan__status__in=OPEN_PLAN_STATUSES, date__lte=failed_on, route__isnull=True
    )
    for plan_id in sorted(set(stale.values_list("plan_id", flat=True))):
        plan = Plan.objects.select_for_update().get(pk=plan_id)
        Visit.objects.filter(plan=plan, job=job).delete()
        unassigned = [row for row in plan.unassigned if row.get("job_id") != job.pk]
        unassigned.append(
            {
                "job_id": job.pk,
                "reference": job.reference,
                "reasons": [{"rule": "returned_from_field", "message": note}],
            }
        )
        _bump(plan, unassigned=unassigned)
        changed.append(plan_id)
    return changed


@transaction.atomic
def plan_discard(*, plan: Plan) -> Plan:
    """Throw away a plan that was never published (or a revision): it becomes *cancelled*.

    Its visits are kept for the record but no crew ever sees them; a running
    optimization must be cancelled first so nothing writes into a discarded plan.
    """
    locked = _locked_plan(plan)
    if locked.status in (PlanStatus.PUBLISHED, PlanStatus.SUPERSEDED, PlanStatus.CANCELLED):
        raise PlanningError(
            f"a {locked.get_status_display().lower()} plan cannot be discarded", field="status"
        )
    if locked.runs.filter(status__in=ACTIVE_RUN_STATUSES).exists():
        raise PlanBusy("cancel the running optimization before discarding the plan")
    _bump(locked, status=PlanStatus.CANCELLED)
    return locked


@transaction.atomic
def plan_revise(*, plan: Plan, by: User | None = None) -> Plan:
    """Start changing a published plan: a proposed copy that replaces it when published.

    Crews keep seeing the published plan until then; re-optimizing the copy
    weighs against moving what they already have (minimal disruption).
    """
    locked = _locked_plan(plan)
    if locked.status != PlanStatus.PUBLISHED:
        raise PlanningError("only a published plan can be revised", field="status")
    open_revision = locked.revisions.exclude(
        status__in=[PlanStatus.SUPERSEDED, PlanStatus.CANCELLED, PlanStatus.PUBLISHED]
    ).first()
    if open_revision is not None:
        raise PlanBusy(f"this plan already has an open revision (plan {open_revision.pk})")
    revision = Plan.objects.create(
        name=locked.name,
        start_date=locked.start_date,
        end_date=locked.end_date,
        region=locked.region,
        params=locked.params,
        created_by=by,
        revises=locked,
        status=PlanStatus.PROPOSED,
        unassigned=locked.unassigned,
        kpis=locked.kpis,
    )
    Visit.objects.bulk_create(
        Visit(
            plan=revision,
            job_id=v.job_id,
            crew_id=v.crew_id,
            date=v.date,
            sequence=v.sequence,
            planned_start=v.planned_start,
            planned_end=v.planned_end,
            travel_minutes_from_previous=v.travel_minutes_from_previous,
            travel_m_from_previous=v.travel_m_from_previous,
            locked=v.locked,
        )
        # What is live now: not what crews reported not finished, nor what
        # another plan took over since.
        for v in locked.visits.filter(route__isnull=False)
    )
    return revision


@transaction.atomic
def visit_set_locked(*, visit: Visit, locked: bool, expected_version: int | None = None) -> Visit:
    """Lock or unlock a visit: a manual edit, so it bumps the plan's version.

    The bump is what lets a running optimization notice the edit and refuse
    to overwrite it.
    """
    plan = _locked_plan(visit.plan, expected_version)
    if plan.status in (PlanStatus.SUPERSEDED, PlanStatus.CANCELLED):
        raise PlanningError("this plan can no longer be edited", field="status")
    Visit.objects.filter(pk=visit.pk).update(locked=locked)
    _bump(plan)
    visit.refresh_from_db()
    return visit


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
        raise PlanningError("the range must not end before it starts", field="end_date")
    if (end_date - start_date).days > 31:
        raise PlanningError("a plan covers at most 31 days", field="end_date")
    checked = PlanParameters.from_dict(params or {})
    if regions is None:
        regions = regions_to_plan(start_date=start_date, end_date=end_date)
        if not regions:
            raise PlanningError("no region has ready jobs or active crews", field="regions")
    if not regions:
        raise PlanningError("choose at least one region", field="regions")
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
        raise QueueUnavailable(_QUEUE_DOWN) from exc


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
        raise PlanBusy("the batch is still optimizing; publish when every region has finished")
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


@transaction.atomic
def plan_update(
    *,
    plan: Plan,
    name: str | None = None,
    params: dict | None = None,
    expected_version: int | None = None,
) -> Plan:
    """Rename a plan or change its solver parameters (validated now, used by the next run)."""
    locked = _locked_plan(plan, expected_version)
    if locked.status in (PlanStatus.SUPERSEDED, PlanStatus.CANCELLED):
        raise PlanningError("this plan can no longer be changed", field="status")
    fields: dict[str, object] = {}
    if name is not None:
        fields["name"] = name
    if params is not None:
        fields["params"] = PlanParameters.from_dict({**locked.params, **params}).to_dict()
    _bump(locked, **fields)
    return locked
