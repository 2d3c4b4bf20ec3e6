"""Writes to dispatch data. Every multi-row change happens here, atomically."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import DomainError

from .ledger import (
    ledger_lock,
    ledger_release_cancelled,
    ledger_release_not_finished,
    live_visits,
)
from .models import Crew, Job, JobReport, JobStatusChange, ReportKind, Visit
from .problem import planning_today
from .readiness import JobBlocked, job_blockers
from .states import JobStatus, check_transition
from .texts import day_label

#: The coordinators' queue: a job in one of these is not on any crew's route.
QUEUE_STATUSES: frozenset[str] = frozenset({JobStatus.READY, JobStatus.AWAITING_PERMISSION})


class JobOnLiveSchedule(DomainError):
    """A job cannot go back to the queue while a published visit still sends a crew to it."""

    code = "on_live_schedule"

    def __init__(self, job: Job, visit: Visit, *, field: str = "status") -> None:
        super().__init__(
            _(
                "%(job)s is on the live schedule (plan %(plan)s, %(date)s): revise that plan "
                "and take the visit out, or cancel the job"
            )
            % {"job": job.reference, "plan": visit.plan_id, "date": visit.date.isoformat()},
            field=field,
            job_id=job.pk,
            plan_id=visit.plan_id,
            visit_id=visit.pk,
        )


class ReportNotFinishedInstead(DomainError):
    """'Not finished' by hand on a live job: the crew's report is the way, it frees the stop."""

    code = "on_live_schedule"

    def __init__(self, job: Job, visit: Visit) -> None:
        super().__init__(
            _(
                "%(job)s is on the live schedule (plan %(plan)s, %(date)s): report the visit "
                "not finished (POST /api/v1/jobs/%(id)s/reports/, kind 'incomplete'), which "
                "takes it off the crew's route and sends the job back to the queue"
            )
            % {
                "job": job.reference,
                "plan": visit.plan_id,
                "date": visit.date.isoformat(),
                "id": job.pk,
            },
            field="status",
            job_id=job.pk,
            plan_id=visit.plan_id,
            visit_id=visit.pk,
        )


def job_check_off_schedule(job: Job, *, field: str) -> None:
    """Refuse a change (to ``field``) that a job live on the published schedule cannot take.

    Changing a published route outside a publication would tell no partner:
    the way is a revision that takes the visit out, or cancelling the job.
    """
    visit = live_visits().filter(job=job).first()
    if visit is not None:
        raise JobOnLiveSchedule(job, visit, field=field)


def _check_off_schedule(job: Job, to_status: str) -> None:
    """Refuse a move to the queue, or to *not finished*, while the job is live.

    Queued and routed at once would send a crew to a job being planned again;
    *not finished* on a live visit would keep the stop on the crew's route with
    a job no report fits any more. Publishing and a not-finished report
    release the visit first and then move the job; a transition by hand has
    no visit of its own to release.
    """
    if to_status in QUEUE_STATUSES:
        job_check_off_schedule(job, field="status")
    elif to_status == JobStatus.INCOMPLETE:
        visit = live_visits().filter(job=job).first()
        if visit is not None:
            raise ReportNotFinishedInstead(job, visit)


@transaction.atomic
def job_transition(
    *,
    job: Job,
    to_status: str,
    by: User | None = None,
    note: str = "",
    precondition: Callable[[Job], None] | None = None,
) -> Job:
    """Move ``job`` to ``to_status`` if the state machine allows it, recording the step.

    The row is re-read under ``select_for_update`` so that two concurrent
    requests (a crew's report and a coordinator's cancel, say) cannot both
    validate against the same old status and both win. ``precondition`` is
    called with that locked row before anything else is checked, and refuses
    by raising: the API's ``If-Match`` check, made under the same lock as the
    write so that two clients holding the same read cannot both move the job.

    Raises
    ------
    dispatch.states.TransitionError
        When the move is not allowed from the job's current status.
    dispatch.readiness.JobBlocked
        When moving to *ready* while the survey or a permission is missing.
    JobOnLiveSchedule
        When moving to the queue while a published visit still holds the job.
    """
    if to_status in (JobStatus.CANCELLED, JobStatus.INCOMPLETE) or to_status in QUEUE_STATUSES:
        ledger_lock()  # before the job's row lock, in the same order as publishing
    locked = Job.objects.select_for_update().get(pk=job.pk)
    if precondition is not None:
        precondition(locked)
    check_transition(locked.status, to_status, kind=locked.kind)
    if to_status == JobStatus.READY:
        # The gate: survey done and every needed permission granted, checked
        # here so no path (API, admin action, import) can skip it.
        blockers = job_blockers(locked)
        if blockers:
            raise JobBlocked(locked, blockers)
    _check_off_schedule(locked, to_status)
    now = timezone.now()
    JobStatusChange.objects.create(
        job=locked,
        from_status=locked.status,
        to_status=to_status,
        changed_by=by,
        note=note,
        changed_at=now,
    )
    if to_status == JobStatus.CANCELLED:
        ledger_release_cancelled(locked)
    locked.status = to_status
    locked.status_changed_at = now
    locked.version += 1
    locked.save(update_fields=["status", "status_changed_at", "version", "updated_at"])
    job.status, job.status_changed_at, job.version = locked.status, now, locked.version
    return locked


@transaction.atomic
def job_report_incomplete(
    *,
    job: Job,
    crew: Crew,
    reason_code: str,
    reason_text: str = "",
    by: User | None = None,
    visit: Visit | None = None,
) -> JobReport:
    """Record an unfinished visit and send the job back to the planning queue.

    The report, both status steps (→ incomplete → ready) and the visit
    leaving the live schedule commit together: the job is never left
    "incomplete" with nobody planning it, never stays on a crew's route after
    it failed, and its history shows why it came back. It is flagged as
    returned from the field with its count of failed visits.
    """
    ledger_lock()
    report = JobReport.objects.create(
        job=job,
        crew=crew,
        visit=visit,
        kind=ReportKind.INCOMPLETE,
        reason_code=reason_code,
        reason_text=reason_text,
        reported_by=by,
    )
    note = f"{reason_code}: {reason_text}"[:500]
    # Off the route first: a job not finished (or queued) is never live.
    live = visit if visit is not None and visit.is_live else live_visits().filter(job=job).first()
    if live is not None:
        ledger_release_not_finished(live)
    job_transition(job=job, to_status=JobStatus.INCOMPLETE, by=by, note=note)
    # Back to the queue; or to the permission round if a permission lapsed meanwhile.
    with translation.override(settings.LANGUAGE_CODE):  # history notes: one language
        blocked = job_blockers(job)
    job_transition(
        job=job,
        to_status=JobStatus.AWAITING_PERMISSION if blocked else JobStatus.READY,
        by=by,
        note="back to the planning queue" if not blocked else blocked[0].message,
    )
    lapsed = _lapsed_promises(job, failed_on=live.date if live is not None else None)
    Job.objects.filter(pk=job.pk).update(
        failed_attempts=F("failed_attempts") + 1,
        returned_from_field_at=report.occurred_at,
        **lapsed,
    )
    job.refresh_from_db(fields=["failed_attempts", "returned_from_field_at", *lapsed])
    return report


def _lapsed_promises(job: Job, *, failed_on: dt.date | None) -> dict[str, object]:
    """The firm promises the failed visit was the last chance to keep, undone; noted in history.

    A slot promised on the phone or a hard due date ties the job to days that
    have now gone by: left firm, the planner screens the job out of every
    later plan ("promised for Mon 11/30") and refuses every placement, and the
    job the field sent back waits in the queue for good. The promise lapses
    with the visit: the job is planned again like any ready job (a due date
    stays, as a wish whose lateness costs), and the job's history says what
    was promised, for whoever calls the customer for a new appointment. A
    promise with a day still ahead of the failed one stands.
    """
    if failed_on is None:
        return {}
    after = max(failed_on + dt.timedelta(days=1), planning_today())
    changes: dict[str, object] = {}
    notes: list[str] = []
    with translation.override(settings.LANGUAGE_CODE):  # history notes: one language
        dates = sorted(dt.date.fromisoformat(str(day)) for day in job.preferred_dates or ())
        if job.promise_is_hard and dates and dates[-1] < after:
            slot = (
                f" {job.window_start:%H:%M}–{job.window_end:%H:%M}"
                if job.window_start and job.window_end
                else ""
            )
            days = ", ".join(day_label(day) for day in dates)
            notes.append(f"the promise of {days}{slot} lapsed with the visit not finished")
            changes.update(
                preferred_dates=[], promise_is_hard=False, window_start=None, window_end=None
            )
        if job.due_date_is_hard and job.due_date is not None and job.due_date < after:
            notes.append(
                f"the due date {day_label(job.due_date)} is no longer a promise: "
                "it passed with the visit not finished"
            )
            changes["due_date_is_hard"] = False
    if notes:
        latest = JobStatusChange.objects.filter(job=job).latest("pk")
        latest.note = "; ".join([latest.note, *notes])[:500] if latest.note else "; ".join(notes)
        latest.save(update_fields=["note"])
    return changes
