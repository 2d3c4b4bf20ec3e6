"""Crew reports from the field, safe to retry.

A crew's phone on a flaky mobile network sends "started" and never sees the
answer, so it sends it again. Each request carries an ``Idempotency-Key``;
the database holds at most one report per (crew, key), and a retry gets the
report the first request created instead of a second one (or a 409 because
the first request already moved the job on).

The report row and the job's status steps commit together or not at all.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User

from .models import Crew, Job, JobReport, ReportKind, Visit
from .planning import PlanningError
from .services import job_report_incomplete, job_transition
from .states import JobStatus, TransitionError

S = JobStatus


class IdempotencyKeyReused(PlanningError):
    code = "idempotency_key_reused"

    def __init__(self, report: JobReport) -> None:
        super().__init__(
            "this Idempotency-Key was already used for a different report; "
            "use a new key for a new report",
            report_id=report.pk,
        )


def _steps(kind: str, current: str) -> list[str]:
    """The status changes a report of ``kind`` makes from ``current``, in order.

    A crew that forgets to send "en route" still gets its "started" or "not
    finished" accepted from *scheduled*: we walk through *dispatched*, which is
    what happened on the ground. Anything the state machine refuses raises
    ``TransitionError`` (409 with the current status).
    """
    if kind in (ReportKind.EN_ROUTE, ReportKind.ARRIVED):
        if current == S.SCHEDULED:
            return [S.DISPATCHED]
        if current == S.DISPATCHED:
            return []  # already on its way: the report is recorded, the status stays
        raise TransitionError(current, S.DISPATCHED)
    if kind == ReportKind.STARTED:
        return [S.DISPATCHED, S.IN_PROGRESS] if current == S.SCHEDULED else [S.IN_PROGRESS]
    if kind == ReportKind.COMPLETED:
        return [S.COMPLETED]
    # incomplete: job_report_incomplete takes it from dispatched / in progress.
    return [S.DISPATCHED] if current == S.SCHEDULED else []


def _matches(
    report: JobReport,
    *,
    job: Job,
    kind: str,
    reason_code: str,
    reason_text: str,
    occurred_at: dt.datetime | None,
) -> bool:
    """Whether a retry asks for exactly what the stored report records."""
    return (
        report.job_id == job.pk
        and report.kind == kind
        and report.reason_code == reason_code
        and report.reason_text == reason_text
        # Without occurred_at the first request used its arrival time: any retry matches.
        and (occurred_at is None or report.occurred_at == occurred_at)
    )


def _replay(report: JobReport, **request: object) -> JobReport:
    if not _matches(report, **request):  # type: ignore[arg-type]
        raise IdempotencyKeyReused(report)
    return report


def earlier_report(*, crew: Crew, idempotency_key: str | None) -> JobReport | None:
    """The crew's report already stored under this key, if any."""
    if not idempotency_key:
        return None
    return JobReport.objects.filter(crew=crew, idempotency_key=idempotency_key).first()


def job_report_record(
    *,
    job: Job,
    visit: Visit,
    kind: str,
    reason_code: str = "",
    reason_text: str = "",
    occurred_at: dt.datetime | None = None,
    idempotency_key: str | None = None,
    by: User | None = None,
) -> tuple[JobReport, bool]:
    """Record a crew's report on ``job`` and apply its status change.

    Returns the report and whether it was created now (False: a retry of an
    earlier request with the same ``idempotency_key``, answered with the
    original report and without writing anything).

    Raises
    ------
    IdempotencyKeyReused
        When the key was already used for another report (HTTP 409).
    dispatch.states.TransitionError
        When the job's status does not allow the report.
    """
    crew = visit.crew
    request = {
        "job": job,
        "kind": kind,
        "reason_code": reason_code,
        "reason_text": reason_text,
        "occurred_at": occurred_at,
    }

    try:
        with transaction.atomic():
            # The job's row lock serializes reports on one job, so a concurrent
            # retry waits here and then finds the first request's committed row
            # below instead of failing on the job's new status.
            locked = Job.objects.select_for_update().get(pk=job.pk)
            found = earlier_report(crew=crew, idempotency_key=idempotency_key)
            if found is not None:
                return _replay(found, **request), False
            for step in _steps(kind, locked.status):
                job_transition(job=locked, to_status=step, by=by, note=f"crew report: {kind}")
            if kind == ReportKind.INCOMPLETE:
                report = job_report_incomplete(
                    job=locked,
                    crew=crew,
                    visit=visit,
                    reason_code=reason_code,
                    reason_text=reason_text,
                    by=by,
                )
                # The service does not take the key or the field's time: set
                # them on its fresh row in the same transaction.
                report.idempotency_key = idempotency_key
                report.occurred_at = occurred_at or report.occurred_at
                report.save(update_fields=["idempotency_key", "occurred_at"])
            else:
                report = JobReport.objects.create(
                    job=locked,
                    crew=crew,
                    visit=visit,
                    kind=kind,
                    reason_text=reason_text,
                    occurred_at=occurred_at or timezone.now(),
                    reported_by=by,
                    idempotency_key=idempotency_key,
                )
    except (IntegrityError, TransitionError):
        # Same key sent concurrently for two different jobs of the crew (two
        # job locks, so the unique index is the referee): the loser gets the
        # winner's report or a 409, like a late retry would.
        found = earlier_report(crew=crew, idempotency_key=idempotency_key)
        if found is None:
            raise
        return _replay(found, **request), False
    return report, True
