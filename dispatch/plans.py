"""Plans: create, update, revise, discard, publish (and what publishing would change).

States of a plan (the table is ``dispatch.states.PLAN_TRANSITIONS``)::

    draft --optimize--> optimizing --> proposed --publish--> published --> superseded
                            |  ^           |                     |
                            |  +--optimize-+                     +--revise--> (new) proposed
                            +--> failed (first run failed) / back to proposed

Optimizing is ``dispatch.runs``; planning several regions at once is
``dispatch.batches``. Every write here is atomic, and every status change goes
through :func:`_plan_move`, which asks the state table first.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.models import User
from sites.models import Region

from . import texts
from .ledger import ledger_conflicts, ledger_lock, ledger_publish, live_places, live_visits
from .models import (
    ACTIVE_RUN_STATUSES,
    ChangeKind,
    IncompleteReason,
    Job,
    Plan,
    PlanChange,
    PlannedBreak,
    PlanStatus,
    SlotBooking,
    SlotBookingStatus,
    Visit,
)
from .problem import ParameterError, PlanParameters, planning_today
from .selectors import published_plan_for
from .services import job_transition
from .states import (
    FIXED_STATUSES,
    OPEN_PLAN_STATUSES,
    PLANNABLE_STATUSES,
    JobStatus,
    PlanAction,
    PlanningError,
    check_plan_action,
    check_plan_transition,
    plan_transition_allowed,
)

#: How far back (for the record) and ahead a plan may start.
PLAN_HORIZON_PAST = dt.timedelta(days=366)
PLAN_HORIZON_FUTURE = dt.timedelta(days=2 * 366)


class PlanBusy(PlanningError):
    code = "plan_busy"


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
            _(
                "the plan changed since you loaded it (version %(expected)s, now "
                "%(current)s); reload and try again"
            )
            % {"expected": expected_version, "current": locked.version},
            field="version",
        )
    return locked


def _plan_move(plan: Plan, status: str, **fields: object) -> None:
    """Save ``status`` and ``fields`` on a locked plan; a change of status must be in the table.

    The one writer of a plan's status after creation, as ``job_transition`` is
    for jobs. Keeping the same status (a discarded proposal that puts back an
    earlier proposal) is no transition.
    """
    if status != plan.status:
        check_plan_transition(plan.status, status)
    _bump(plan, status=status, **fields)


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
        raise PlanningError(_("the plan must not end before it starts"), field="end_date")
    today = timezone.localdate()
    if not today - PLAN_HORIZON_PAST <= start_date <= today + PLAN_HORIZON_FUTURE:
        # A plan for 0001-01-01 or 9999-12-27 is a typo, not a schedule anyone keeps.
        raise ParameterError(
            "start_date",
            _("must be between %(first)s and %(last)s")
            % {
                "first": (today - PLAN_HORIZON_PAST).isoformat(),
                "last": (today + PLAN_HORIZON_FUTURE).isoformat(),
            },
        )
    if (end_date - start_date).days > 31:
        raise PlanningError(_("a plan covers at most 31 days"), field="end_date")
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
    check_plan_action(locked, PlanAction.UPDATE)
    fields: dict[str, object] = {}
    if name is not None:
        fields["name"] = name
    if params is not None:
        fields["params"] = PlanParameters.from_dict({**locked.params, **params}).to_dict()
    _bump(locked, **fields)
    return locked


@transaction.atomic
def plan_discard(*, plan: Plan) -> Plan:
    """Throw away a plan that was never published (or a revision): it becomes *cancelled*.

    Its visits are kept for the record but no crew ever sees them; a running
    optimization must be cancelled first so nothing writes into a discarded plan.
    """
    locked = _locked_plan(plan)
    check_plan_action(locked, PlanAction.DISCARD)
    if locked.runs.filter(status__in=ACTIVE_RUN_STATUSES).exists():
        raise PlanBusy(_("cancel the running optimization before discarding the plan"))
    _plan_move(locked, PlanStatus.CANCELLED)
    return locked


@transaction.atomic
def plan_revise(*, plan: Plan, by: User | None = None) -> Plan:
    """Start changing a published plan: a proposed copy that replaces it when published.

    Crews keep seeing the published plan until then; re-optimizing the copy
    weighs against moving what they already have (minimal disruption).
    """
    locked = _locked_plan(plan)
    check_plan_action(locked, PlanAction.REVISE)
    open_revision = locked.revisions.filter(status__in=OPEN_PLAN_STATUSES).first()
    if open_revision is not None:
        raise PlanBusy(
            _("this plan already has an open revision (plan %(plan)s)") % {"plan": open_revision.pk}
        )
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
    PlannedBreak.objects.bulk_create(
        PlannedBreak(plan=revision, crew_id=b.crew_id, date=b.date, start=b.start, end=b.end)
        for b in locked.breaks.all()
    )
    return revision


def drafts_forget_failed_visit(*, job: Job, failed_on: dt.date, reason_code: str) -> list[int]:
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
                "reasons": [
                    texts.stored(
                        "returned_from_field",
                        texts.NOT_FINISHED_ON,
                        {
                            "day": texts.day_param(failed_on),
                            "reason": texts.in_every_language(
                                lambda: str(IncompleteReason(reason_code).label)
                            ),
                        },
                    )
                ],
            }
        )
        _bump(plan, unassigned=unassigned)
        changed.append(plan_id)
    return changed


def revisions_take_live_visit(visit: Visit) -> list[int]:
    """Copy a visit that went live outside a publication into the open revisions of its plan.

    A slot booked during a call goes straight onto the live route
    (``slots.slot_confirm``). A revision copied the plan before that: without
    the copy, publishing it would take the customer's promised visit off the
    schedule and send the job back to the queue, and nobody would be told.
    The copy is pinned at the same crew, day and time, in time order on its
    crew-day (a visit of the job the revision had elsewhere, and the
    revision's visits overlapping it, give way to it: :func:`_give_way_to`);
    each revision gets a new version (a running optimization of it will not
    overwrite the change) and loses the job from its queue. Returns the ids of
    the revisions changed.
    """
    changed = []
    revisions = Plan.objects.select_for_update().filter(
        revises_id=visit.plan_id, status__in=OPEN_PLAN_STATUSES
    )
    for revision in revisions.order_by("pk"):
        Visit.objects.filter(plan=revision, job_id=visit.job_id).delete()
        gave_way = _give_way_to(revision, visit)
        later = Visit.objects.filter(
            plan=revision,
            crew_id=visit.crew_id,
            date=visit.date,
            planned_start__gte=visit.planned_start,
        )
        for pk, sequence in later.order_by("-sequence").values_list("pk", "sequence"):
            Visit.objects.filter(pk=pk).update(sequence=sequence + 1)  # last first: no collision
        earlier = Visit.objects.filter(
            plan=revision,
            crew_id=visit.crew_id,
            date=visit.date,
            planned_start__lt=visit.planned_start,
        ).count()
        Visit.objects.create(
            plan=revision,
            job_id=visit.job_id,
            crew_id=visit.crew_id,
            date=visit.date,
            sequence=earlier + 1,
            planned_start=visit.planned_start,
            planned_end=visit.planned_end,
            travel_minutes_from_previous=visit.travel_minutes_from_previous,
            travel_m_from_previous=visit.travel_m_from_previous,
            locked=True,
        )
        gone = {visit.job_id} | {row["job_id"] for row in gave_way}
        _bump(
            revision,
            unassigned=[row for row in revision.unassigned if row.get("job_id") not in gone]
            + gave_way,
        )
        changed.append(revision.pk)
    return changed


def _give_way_to(revision: Plan, visit: Visit) -> list[dict]:
    """Take the revision's visits that overlap ``visit`` on its crew-day out, to its queue.

    The slot was found free on the live schedule, not in the revision: a
    re-optimized revision may propose other work at that time. Kept, both
    went live on top of each other when the revision was published; the
    customer's promised visit keeps its time, and the proposals come back to
    the revision's queue saying why. Returns their rows for ``unassigned``.
    """
    overlapping = list(
        Visit.objects.filter(
            plan=revision,
            crew_id=visit.crew_id,
            date=visit.date,
            planned_start__lt=visit.planned_end,
            planned_end__gt=visit.planned_start,
        ).select_related("job", "crew")
    )
    if not overlapping:
        return []
    Visit.objects.filter(pk__in=[v.pk for v in overlapping]).delete()
    start = timezone.localtime(visit.planned_start)
    reason = texts.stored(
        "promise",
        texts.SLOT_GAVE_WAY,
        {
            "crew": visit.crew_id,
            "crew_name": overlapping[0].crew.name,
            "when": {**texts.day_param(visit.date), "time": start.strftime("%H:%M")},
        },
    )
    return [
        {"job_id": v.job_id, "reference": v.job.reference, "reasons": [reason]} for v in overlapping
    ]


def _visit_snapshot(visit: Visit) -> dict:
    """The visit as a crew is told of it; times in local time, as the routes give them.

    A visit read back from the database holds UTC: without ``localtime`` a
    partner read ``00:00+00:00`` here for the visit its route calls ``09:00+09:00``.
    """
    return {
        "crew_id": visit.crew_id,
        "date": visit.date.isoformat(),
        "sequence": visit.sequence,
        "planned_start": timezone.localtime(visit.planned_start).isoformat(),
        "planned_end": timezone.localtime(visit.planned_end).isoformat(),
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
    check_plan_action(locked, PlanAction.PUBLISH)
    previous = _published_predecessor(locked)
    if previous is not None and not plan_transition_allowed(previous.status, PlanStatus.SUPERSEDED):
        newer = previous.revisions.filter(status=PlanStatus.PUBLISHED).first()
        raise PlanConflict(
            (
                _(
                    "the plan this revises (plan %(plan)s) is no longer published; "
                    "plan %(newer)s replaced it: revise that one"
                )
                if newer
                else _("the plan this revises (plan %(plan)s) is no longer published")
            )
            % {"plan": previous.pk, "newer": newer.pk if newer else None},
            field="revises",
        )
    new_visits = {v.job_id: v for v in locked.visits.select_related("job", "crew")}
    old_visits = _taken_over(locked)
    if previous is not None:
        old_visits |= _live_by_job(previous.visits.all())
    _check_publishable_jobs(locked, new_visits)
    _check_worked_visits_stay(new_visits, dropped=set(old_visits) - set(new_visits))
    _check_days_gone_kept(new_visits)
    _check_days_gone_stay(old_visits, new_visits)
    ledger_publish(locked, previous)
    _held_slots_went_live(new_visits, by=by)
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
        _plan_move(previous, PlanStatus.SUPERSEDED)
    _plan_move(locked, PlanStatus.PUBLISHED, published_at=timezone.now())
    return locked


def _held_slots_went_live(visits: dict[int, Visit], *, by: User | None) -> None:
    """Slots booked from calls whose jobs this publication put live are held no more.

    A held slot's job is ready, so optimizing the week plans it (its date and
    window are a hard promise, its crew may change). Left *pending*, the slot
    kept its first crew-day for later callers (offered free, refused as taken
    when booked), and after a "not finished" report it came back on the board,
    to be confirmed onto the day that had just failed.
    """
    now = timezone.now()
    for booking in SlotBooking.objects.filter(job_id__in=visits, status=SlotBookingStatus.PENDING):
        booking.status = SlotBookingStatus.LIVE
        booking.visit = visits[booking.job_id]
        booking.confirmed_by = by
        booking.confirmed_at = now
        booking.save(update_fields=["status", "visit", "confirmed_by", "confirmed_at"])


def _refuse_jobs(message: str, entries: list[tuple[int, str]], **params: str) -> None:
    """Refuse a publication for these jobs: (job id, how it is listed), the first five named.

    ``message`` has a ``%(jobs)s`` for the list (and ``params``); the body's
    ``jobs`` holds every id.
    """
    listed = pgettext("list separator", ", ").join(text for _, text in entries[:5])
    raise PlanningError(
        message % {"jobs": listed, **params},
        field="visits",
        jobs=[job_id for job_id, _ in entries],
    )


def _check_worked_visits_stay(visits: dict[int, Visit], *, dropped: set[int]) -> None:
    """Refuse to move a job a crew already started or finished off the crew-day it was worked on.

    A revision copies the published visits and may be edited for days; if the
    crew starts or finishes a job meanwhile, the revision's copy (dragged to
    another day or crew, or placed anew) would send a crew back to work that
    is done. The job's live visit is where it was worked: it must stay there.
    A job the revision took out (``dropped``, live in the plan it replaces) is
    refused too: publishing would release the stop under the crew's feet and
    leave the job started with no visit to report it finished on.
    """
    worked = list(Job.objects.filter(pk__in={*visits, *dropped}, status__in=FIXED_STATUSES))
    held = {v.job_id: v for v in live_visits().filter(job__in=worked).select_related("crew")}
    moved = [
        (
            job.pk,
            f"{job.reference} ({held[job.pk].crew.name}, {held[job.pk].date.isoformat()})"
            if job.pk in held
            else job.reference,
        )
        for job in worked
        if job.pk not in held
        or job.pk not in visits
        or (held[job.pk].crew_id, held[job.pk].date)
        != (visits[job.pk].crew_id, visits[job.pk].date)
    ]
    if moved:
        _refuse_jobs(
            _(
                "these jobs were already started or finished where they were published: "
                "%(jobs)s; put their visits back there before publishing"
            ),
            moved,
        )


def _check_days_gone_kept(visits: dict[int, Visit]) -> None:
    """Refuse to put work on a day gone by: only what the field was sent there may stay.

    A draft optimized last week, or a visit dragged before midnight, would
    send a crew to a day that is over. A revision keeps the live visits of the
    days gone by as they are (done, or waiting for their report).
    """
    today = planning_today()
    gone = {job_id: v for job_id, v in visits.items() if v.date < today}
    if not gone:
        return
    live = live_places(gone, first=min(v.date for v in gone.values()), before=today)
    added = [
        (v.job_id, f"{v.job.reference} ({v.crew.name}, {v.date.isoformat()})")
        for v in sorted(gone.values(), key=lambda v: (v.date, v.crew_id, v.sequence))
        if (v.job_id, v.crew_id, v.date) not in live
    ]
    if added:
        _refuse_jobs(
            _(
                "these visits are on days that have passed (today is %(today)s): %(jobs)s; "
                "move them to today or later, or optimize the plan again"
            ),
            added,
            today=today.isoformat(),
        )


def _check_days_gone_stay(old: dict[int, Visit], new: dict[int, Visit]) -> None:
    """Refuse to take a live visit off a day gone by, or to move it: the field was sent there.

    Such a visit is done or waiting for its report (a "not finished" report has
    released it already, so it is not in ``old``). A revision edited while its
    day was still ahead would release it as *replaced*: the crew's late report
    would be refused and the job planned again. It stays on its crew-day.
    """
    today = planning_today()
    off = [
        v.pk
        for v in old.values()
        if v.date < today
        and (
            v.job_id not in new
            or (new[v.job_id].crew_id, new[v.job_id].date) != (v.crew_id, v.date)
        )
    ]
    if not off:
        return
    visits = Visit.objects.filter(pk__in=off).select_related("job", "crew")
    _refuse_jobs(
        _(
            "these visits were sent to crews on days that have passed (today is %(today)s) "
            "and stay there until their report comes: %(jobs)s; put them back there before "
            "publishing"
        ),
        [
            (v.job_id, f"{v.job.reference} ({v.crew.name}, {v.date.isoformat()})")
            for v in sorted(visits, key=lambda v: (v.date, v.crew_id, v.sequence))
        ],
        today=today.isoformat(),
    )


def _check_publishable_jobs(plan: Plan, visits: dict[int, Visit]) -> None:
    """Refuse to send a crew to a job that was cancelled, or finished elsewhere meanwhile."""
    allowed = {*PLANNABLE_STATUSES, *FIXED_STATUSES}
    stale = Job.objects.filter(pk__in=visits).exclude(status__in=allowed)
    if stale.exists():
        _refuse_jobs(
            _(
                "these jobs can no longer be scheduled: %(jobs)s; optimize the plan again "
                "or take them out"
            ),
            [(j.pk, f"{j.reference} ({j.get_status_display().lower()})") for j in stale],
        )
