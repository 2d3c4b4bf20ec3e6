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
import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy

from accounts.models import User
from core.errors import INVALID_INPUT, DomainError
from observability import metrics

from .ledger import ledger_lock
from .models import CompletionFacts, Crew, Job, JobReport, ReportKind, Visit
from .plans import drafts_forget_failed_visit
from .problem import planning_tz
from .services import job_report_incomplete, job_transition
from .states import JobStatus, PlanningError, TransitionError, check_transition

S = JobStatus


class ReportRefused(PlanningError):
    """A report the visit cannot take now, said in report kinds (HTTP 409 in the API).

    ``accepted`` lists the report kinds the visit would take at this moment,
    so a crew's app can offer the right buttons.
    """

    code = "report_refused"

    def __init__(self, message: str, *, kind: str, accepted: list[str], **extra: object) -> None:
        super().__init__(message, field="kind", report_kind=kind, accepted=accepted, **extra)


KIND_WORDS: dict[str, str | Promise] = {
    ReportKind.EN_ROUTE.value: pgettext_lazy("crew report", "en route"),
    ReportKind.ARRIVED.value: pgettext_lazy("crew report", "arrived"),
    ReportKind.STARTED.value: pgettext_lazy("crew report", "started"),
    ReportKind.COMPLETED.value: pgettext_lazy("crew report", "completed"),
    ReportKind.INCOMPLETE.value: pgettext_lazy("crew report", "not finished"),
}


def _kind_word(kind: str) -> str:
    return str(KIND_WORDS.get(kind, kind))


def accepted_reports(status: str) -> list[str]:
    """The report kinds a job in ``status`` takes (crews think in reports, not statuses)."""
    accepted = []
    for kind in ReportKind:
        try:
            _walk(kind, status)
        except TransitionError:
            continue
        accepted.append(kind.value)
    return accepted


def _walk(kind: str, status: str) -> None:
    """Raise ``TransitionError`` unless a ``kind`` report is possible from ``status``."""
    current = status
    for step in _steps(kind, current):
        check_transition(current, step)
        current = step
    if kind == ReportKind.INCOMPLETE:
        check_transition(current, S.INCOMPLETE)


def _refusal(kind: str, status: str) -> ReportRefused:
    """Why a ``kind`` report does not fit a job in ``status``, in the crew's words."""
    values = {"kind": _kind_word(kind), "started": _kind_word(ReportKind.STARTED)}
    accepted = accepted_reports(status)
    if status in (S.COMPLETED, S.HANDED_OVER):
        message = _("the job is already completed; '%(kind)s' cannot be reported any more")
    elif status == S.CANCELLED:
        message = _("the job was cancelled; do not go there")
    elif kind == ReportKind.COMPLETED:
        message = _("report '%(started)s' before '%(kind)s'")
    elif status == S.IN_PROGRESS:
        message = _("the work has already started; '%(kind)s' no longer applies")
    else:
        message = _("'%(kind)s' cannot be reported on this visit now")
    message = message % values
    if accepted:
        listed = pgettext("list separator", ", ").join(f"'{_kind_word(k)}'" for k in accepted)
        message = _("%(refusal)s; accepted now: %(accepted)s") % {
            "refusal": message,
            "accepted": listed,
        }
    return ReportRefused(message, kind=kind, accepted=accepted)


class IdempotencyKeyReused(PlanningError):
    code = "idempotency_key_reused"

    def __init__(self, report: JobReport) -> None:
        super().__init__(
            _(
                "this Idempotency-Key was already used for a different report; "
                "use a new key for a new report"
            ),
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


# --- completion facts ------------------------------------------------------------------

#: What a crew may record on 'done' for support, in the order people read them.
FACT_FIELDS = ("mc_serial", "port", "light_level_dbm", "note")


def normalise_serial(value: str) -> str:
    """A media converter's serial as printed: NFKC (full-width to ASCII), upper case, trimmed."""
    return unicodedata.normalize("NFKC", value).strip().upper()


def normalise_facts(facts: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The facts as stored, or None when nothing was recorded (every field blank)."""
    if not facts:
        return None
    light = facts.get("light_level_dbm")
    clean = {
        "mc_serial": normalise_serial(facts.get("mc_serial") or ""),
        "port": unicodedata.normalize("NFKC", facts.get("port") or "").strip(),
        "light_level_dbm": None if light is None else Decimal(light).quantize(Decimal("0.1")),
        "note": (facts.get("note") or "").strip(),
    }
    if not any(value not in ("", None) for value in clean.values()):
        return None
    return clean


def stored_facts(report: JobReport) -> dict[str, Any] | None:
    """The facts recorded with ``report`` (in :func:`normalise_facts`'s shape), or None."""
    try:
        facts = report.completion_facts
    except CompletionFacts.DoesNotExist:
        return None
    return {name: getattr(facts, name) for name in FACT_FIELDS}


class FactsRefused(DomainError):
    """Completion facts sent with a report that cannot carry them (HTTP 400 naming ``facts``)."""

    code = "invalid"
    status = INVALID_INPUT

    def __init__(self, message: str) -> None:
        super().__init__(message, field="facts")


class OccurredAtRefused(DomainError):
    """A report's ``occurred_at`` that cannot be when it happened (HTTP 400 naming it)."""

    code = "invalid"
    status = INVALID_INPUT

    def __init__(self, message: str) -> None:
        super().__init__(message, field="occurred_at")


#: A phone's clock may run a little fast; a report further in the future is a bug.
OCCURRED_AT_FUTURE_TOLERANCE = dt.timedelta(minutes=5)


def check_occurred_at(occurred_at: dt.datetime | None, visit: Visit) -> None:
    """Refuse a field time before the visit's day (in ``TIME_ZONE``) or in the future.

    It is stored as said, and a "not finished" one becomes the job's
    ``returned_from_field_at``: the queue's order, support's "returned on"
    and the attempt history would all tell a day nobody was on site.
    """
    if occurred_at is None:
        return
    zone = planning_tz()
    values = {
        "time": occurred_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        "date": visit.date.isoformat(),
        "zone": str(zone),
    }
    if occurred_at.astimezone(zone).date() < visit.date:
        raise OccurredAtRefused(
            _(
                "%(time)s is before this visit's day (%(date)s, %(zone)s): "
                "send the time it happened on site"
            )
            % values
        )
    if occurred_at > timezone.now() + OCCURRED_AT_FUTURE_TOLERANCE:
        raise OccurredAtRefused(
            _("%(time)s (%(zone)s) is in the future: send the time it happened on site") % values
        )


def _matches(
    report: JobReport,
    *,
    job: Job,
    kind: str,
    reason_code: str,
    reason_text: str,
    occurred_at: dt.datetime | None,
    facts: dict[str, Any] | None = None,
) -> bool:
    """Whether a retry asks for exactly what the stored report records."""
    return (
        report.job_id == job.pk
        and report.kind == kind
        and report.reason_code == reason_code
        and report.reason_text == reason_text
        # Without occurred_at the first request used its arrival time: any retry matches.
        and (occurred_at is None or report.occurred_at == occurred_at)
        and stored_facts(report) == facts
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
    facts: Mapping[str, Any] | None = None,
) -> tuple[JobReport, bool]:
    """Record a crew's report on ``job`` and apply its status change.

    Returns the report and whether it was created now (False: a retry of an
    earlier request with the same ``idempotency_key``, answered with the
    original report and without writing anything).

    ``facts`` (``mc_serial``, ``port``, ``light_level_dbm``, ``note``; only on
    a ``completed`` report) are stored with the report as a
    :class:`~dispatch.models.CompletionFacts` proposal that delivery confirms
    into the as-built record at handover (``delivery.handover``). They are
    part of the report: a retry with other facts is a different report.

    Raises
    ------
    FactsRefused
        Facts on another kind of report (HTTP 400 naming ``facts``).
    OccurredAtRefused
        ``occurred_at`` before the visit's day or in the future (HTTP 400 naming it).
    IdempotencyKeyReused
        When the key was already used for another report (HTTP 409).
    dispatch.states.TransitionError
        When the job's status does not allow the report.
    """
    crew = visit.crew
    today = timezone.localdate()
    clean_facts = normalise_facts(facts)
    if clean_facts is not None and kind != ReportKind.COMPLETED:
        raise FactsRefused(
            _("completion facts go with a '%(completed)s' report only, not with '%(kind)s'")
            % {"completed": _kind_word(ReportKind.COMPLETED), "kind": _kind_word(kind)}
        )
    check_occurred_at(occurred_at, visit)
    request = {
        "job": job,
        "kind": kind,
        "reason_code": reason_code,
        "reason_text": reason_text,
        "occurred_at": occurred_at,
        "facts": clean_facts,
    }

    try:
        with transaction.atomic():
            if kind == ReportKind.INCOMPLETE:
                # Takes the visit off the live schedule: the ledger's lock comes
                # first, as in publishing, so the two never wait on each other.
                ledger_lock()
            # The job's row lock serializes reports on one job, so a concurrent
            # retry waits here and then finds the first request's committed row
            # below instead of failing on the job's new status.
            locked = Job.objects.select_for_update().get(pk=job.pk)
            found = earlier_report(crew=crew, idempotency_key=idempotency_key)
            if found is not None:
                return _replay(found, **request), False
            visit.refresh_from_db(fields=["route", "release_reason"])
            if not visit.is_live:
                why = visit.get_release_reason_display() or _("it was never published")
                raise ReportRefused(
                    _(
                        "this visit is not on the schedule (%(why)s); nothing more can be "
                        "reported on it"
                    )
                    % {"why": why},
                    kind=kind,
                    accepted=[],
                )
            if visit.date > today:
                raise ReportRefused(
                    _(
                        "this visit is planned for %(date)s; "
                        "'%(kind)s' can be reported from that day on"
                    )
                    % {"date": visit.date.isoformat(), "kind": _kind_word(kind)},
                    kind=kind,
                    accepted=[],
                    visit_date=visit.date.isoformat(),
                )
            try:
                _walk(kind, locked.status)
            except TransitionError as exc:
                raise _refusal(kind, locked.status) from exc
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
                # The job came back when the crew says it failed, not when the
                # phone found a signal to send it.
                Job.objects.filter(pk=locked.pk).update(returned_from_field_at=report.occurred_at)
                drafts_forget_failed_visit(
                    job=locked,
                    failed_on=visit.date,
                    reason_code=reason_code,
                )
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
                if clean_facts is not None:
                    CompletionFacts.objects.create(
                        report=report,
                        job=locked,
                        site_id=locked.site_id,
                        crew=crew,
                        company_id=crew.company_id,
                        proposed_at=report.occurred_at,
                        **clean_facts,
                    )
    except (IntegrityError, TransitionError, ReportRefused):
        # Same key sent concurrently for two different jobs of the crew (two
        # job locks, so the unique index is the referee): the loser gets the
        # winner's report or a 409, like a late retry would.
        found = earlier_report(crew=crew, idempotency_key=idempotency_key)
        if found is None:
            raise
        return _replay(found, **request), False
    metrics.record_field_report(kind)
    return report, True
