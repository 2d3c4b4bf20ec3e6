"""The live schedule: one truth for every job and every crew-day, whatever plan it came from.

Plans are proposals; the *ledger* is what partners drive to. It is two
things in the database:

- :class:`~dispatch.models.LiveRoute`: at most one per crew and date, owned
  by the published plan that put the crew on the road that day;
- :attr:`Visit.route <dispatch.models.Visit.route>`: set on the visits that
  are live, at most one per job (a partial unique index).

So a double booking is not a check that a code path could forget: the
database refuses it. This module is the only writer. Publishing a plan moves
its visits onto the ledger in one transaction (:func:`ledger_publish`); a
crew's "not finished" report takes a visit off it at once
(:func:`ledger_release_not_finished`). Its writes are bulk updates, so it
tells the routes' cache itself (:mod:`dispatch.route_stamps`).
Drafts read it to see which jobs and crew-days other plans already hold
(:func:`ledger_holdings`).

Every writer takes :func:`ledger_lock` first, so two publications (or a
publication and a field report) never interleave and never deadlock on row
locks taken in different orders; the unique indexes stay as the referee
should anything bypass the lock.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.errors import DomainError
from observability import metrics

from .models import Crew, Job, LiveRoute, Plan, ReleaseReason, Visit
from .route_stamps import crews_changed, routes_changed

#: Key of the PostgreSQL advisory lock that serializes writes to the ledger.
LEDGER_LOCK_KEY = 0x4C45444745  # "LEDGE"


def ledger_lock() -> None:
    """Serialize ledger writers until the current transaction ends.

    On PostgreSQL a transaction-level advisory lock; SQLite already lets one
    writer at a time in. Must be called inside ``transaction.atomic``.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LEDGER_LOCK_KEY])


def live_visits() -> QuerySet[Visit]:
    """Every visit on the live schedule."""
    return Visit.objects.filter(route__isnull=False)


def live_visits_between(
    first: dt.date, last: dt.date, *, crew_id: int | None = None, company_id: int | None = None
) -> QuerySet[Visit]:
    """The live visits from ``first`` to ``last`` (inclusive): of one crew, one partner, or all.

    Closing days (an absence, a partner's or the company's closure) does not
    touch the published schedule: only a publication tells partners of a
    change. Whoever closes days is shown these instead: the visits a revision
    of their plan must move.
    """
    visits = live_visits().filter(date__range=(first, last))
    if crew_id is not None:
        visits = visits.filter(crew_id=crew_id)
    if company_id is not None:
        visits = visits.filter(crew__company_id=company_id)
    return visits.select_related("job", "crew").order_by("date", "crew__name", "sequence", "pk")


#: Visits that left the schedule but stay on the crew's day as its history.
SHOWN_AFTER_RELEASE = (ReleaseReason.NOT_FINISHED, ReleaseReason.CANCELLED)


Place = tuple[int, int, dt.date]
"""``(job_id, crew_id, date)``: where the live schedule sends a job."""


def live_places(job_ids: Iterable[int], *, first: dt.date, before: dt.date) -> set[Place]:
    """Where the live schedule sent these jobs on the days from ``first`` up to ``before``.

    The days gone by are the field's record: a plan may keep a visit there only
    at one of these places (the optimizer fixes them, publishing and the board
    check against them).
    """
    return set(
        live_visits()
        .filter(job_id__in=list(job_ids), date__gte=first, date__lt=before)
        .values_list("job_id", "crew_id", "date")
    )


def scheduled_or_failed_visits() -> QuerySet[Visit]:
    """What a crew's day shows: its live visits, the ones not finished and the cancelled."""
    return Visit.objects.filter(Q(route__isnull=False) | Q(release_reason__in=SHOWN_AFTER_RELEASE))


@dataclass(frozen=True)
class Holdings:
    """What other published plans hold, as a draft must see it."""

    jobs: dict[int, Visit] = field(default_factory=dict)
    """Job id -> its live visit in another plan."""
    crew_days: dict[tuple[int, dt.date], int] = field(default_factory=dict)
    """(crew id, date) -> id of the plan whose live route it is."""

    def crew_day_owner(self, crew_id: int, date: dt.date) -> int | None:
        return self.crew_days.get((crew_id, date))


def _own_plan_ids(plan: Plan) -> set[int]:
    """The plan and the published plan it will replace: their holdings are its own."""
    return {plan.pk} if plan.revises_id is None else {plan.pk, plan.revises_id}


def ledger_holdings(plan: Plan, *, job_ids: set[int] | None = None) -> Holdings:
    """Jobs and crew-days of ``plan``'s dates that other plans hold live.

    A draft never plans such a job (unless a coordinator takes it over) and
    never uses such a crew-day: a crew-day belongs to exactly one route.
    """
    own = _own_plan_ids(plan)
    routes = LiveRoute.objects.filter(date__range=(plan.start_date, plan.end_date)).exclude(
        plan_id__in=own
    )
    crew_days = {(r.crew_id, r.date): r.plan_id for r in routes}
    visits = live_visits().exclude(route__plan_id__in=own).select_related("crew", "route")
    if job_ids is not None:
        visits = visits.filter(job_id__in=job_ids)
    return Holdings(jobs={v.job_id: v for v in visits}, crew_days=crew_days)


@dataclass(frozen=True)
class Conflict:
    """One reason a plan cannot go live: a job or a crew-day another plan holds."""

    kind: str  # "job" | "crew_day"
    plan_id: int
    crew_id: int
    date: dt.date
    job_id: int | None = None
    job_reference: str = ""
    crew_name: str = ""

    def as_dict(self) -> dict:
        row: dict = {
            "kind": self.kind,
            "held_by_plan": self.plan_id,
            "crew_id": self.crew_id,
            "crew": self.crew_name,
            "date": self.date.isoformat(),
        }
        if self.job_id is not None:
            row["job_id"] = self.job_id
            row["job"] = self.job_reference
        return row

    @property
    def message(self) -> str:
        """The conflict in the active language (the publish summary says the same)."""
        if self.kind == "job":
            return _("%(job)s is already scheduled for %(crew)s on %(date)s in plan %(plan)s") % {
                "job": self.job_reference,
                "crew": self.crew_name,
                "date": self.date.isoformat(),
                "plan": self.plan_id,
            }
        return _("%(crew)s on %(date)s is already on the road for plan %(plan)s") % {
            "crew": self.crew_name,
            "date": self.date.isoformat(),
            "plan": self.plan_id,
        }


class ScheduleConflict(DomainError):
    """Publishing would put a job or a crew-day on the schedule twice (HTTP 409)."""

    code = "schedule_conflict"

    def __init__(self, conflicts: list[Conflict]) -> None:
        metrics.record_publish_conflicts(c.kind for c in conflicts)
        self.conflicts = conflicts
        separator = "、" if (get_language() or "").lower().startswith("ja") else "; "
        shown = separator.join(c.message for c in conflicts[:3])
        if len(conflicts) > 3:
            shown = _("%(conflicts)s (and %(more)s more)") % {
                "conflicts": shown,
                "more": len(conflicts) - 3,
            }
        super().__init__(
            _(
                "another published plan already holds this work: %(conflicts)s. Re-optimize "
                "the plan (it will plan around them) or revise the plan that holds them"
            )
            % {"conflicts": shown},
            conflicts=[conflict.as_dict() for conflict in conflicts],
        )


def ledger_conflicts(plan: Plan, visits: list[Visit]) -> list[Conflict]:
    """What keeps ``visits`` of ``plan`` from going live, read from the committed ledger."""
    holdings = ledger_holdings(plan, job_ids={v.job_id for v in visits})
    conflicts: list[Conflict] = []
    seen_days: set[tuple[int, dt.date]] = set()
    crews = {c.pk: c.name for c in Crew.objects.filter(pk__in={v.crew_id for v in visits})}
    for visit in sorted(visits, key=lambda v: (v.date, v.crew_id, v.sequence)):
        other = holdings.jobs.get(visit.job_id)
        if other is not None and not visit.takes_over:
            conflicts.append(
                Conflict(
                    "job",
                    other.route.plan_id,  # type: ignore[union-attr]
                    other.crew_id,
                    other.date,
                    visit.job_id,
                    visit.job.reference,
                    other.crew.name,
                )
            )
        key = (visit.crew_id, visit.date)
        owner = holdings.crew_day_owner(*key)
        if owner is not None and key not in seen_days:
            seen_days.add(key)
            conflicts.append(
                Conflict("crew_day", owner, visit.crew_id, visit.date, crew_name=crews[key[0]])
            )
    return conflicts


@dataclass(frozen=True)
class Publication:
    """What :func:`ledger_publish` changed: the visits that left the schedule, by cause."""

    replaced: list[Visit]
    """Live visits of the plan that was replaced."""
    taken_over: list[Visit]
    """Live visits of other plans whose job this plan took over by hand."""


def ledger_publish(plan: Plan, previous: Plan | None) -> Publication:
    """Make ``plan``'s visits the live schedule of their crew-days, replacing ``previous``.

    Call inside a transaction, after :func:`ledger_lock`. All or nothing:
    raises :class:`ScheduleConflict` (and writes nothing) when another plan
    holds one of the jobs (not taken over by hand) or crew-days.
    """
    visits = list(plan.visits.select_related("job"))
    conflicts = ledger_conflicts(plan, visits)
    if conflicts:
        raise ScheduleConflict(conflicts)
    now = timezone.now()
    replaced = [] if previous is None else list(live_visits().filter(plan=previous))
    taken_over = list(
        live_visits()
        .filter(job_id__in=[v.job_id for v in visits if v.takes_over])
        .exclude(plan_id__in=_own_plan_ids(plan))
    )
    try:
        with transaction.atomic():
            _release(replaced, ReleaseReason.REPLACED, now)
            _release(taken_over, ReleaseReason.TAKEN_OVER, now)
            if previous is not None:
                LiveRoute.objects.filter(plan=previous).delete()
            _drop_empty_routes({v.route_id for v in taken_over})
            by_day: dict[tuple[int, dt.date], list[Visit]] = defaultdict(list)
            for visit in visits:
                by_day[(visit.crew_id, visit.date)].append(visit)
            for (crew_id, date), day_visits in by_day.items():
                route = LiveRoute.objects.create(crew_id=crew_id, date=date, plan=plan)
                Visit.objects.filter(pk__in=[v.pk for v in day_visits]).update(
                    route=route, takes_over=False
                )
    except IntegrityError as exc:
        # Only reachable if a writer skipped ledger_lock(): the indexes still refuse.
        raise ScheduleConflict(ledger_conflicts(plan, visits)) from exc
    Job.objects.filter(pk__in=[v.job_id for v in visits]).update(returned_from_field_at=None)
    routes_changed(dates={v.date for v in [*visits, *replaced, *taken_over]})
    return Publication(replaced=replaced, taken_over=taken_over)


def _release(visits: list[Visit], reason: str, now: dt.datetime) -> None:
    if visits:
        Visit.objects.filter(pk__in=[v.pk for v in visits]).update(
            route=None, released_at=now, release_reason=reason
        )


def _drop_empty_routes(route_ids: set[int | None]) -> None:
    """A crew-day with nothing left on it is free again for any plan."""
    LiveRoute.objects.filter(pk__in={r for r in route_ids if r is not None}).exclude(
        visits__isnull=False
    ).delete()


def ledger_release_not_finished(visit: Visit) -> None:
    """Take a visit a crew could not finish off the live schedule (kept in history).

    Call inside a transaction, after :func:`ledger_lock`.
    """
    _release_one(visit, ReleaseReason.NOT_FINISHED)


def ledger_release_cancelled(job: Job) -> None:
    """A cancelled job's live visit leaves the schedule: no crew drives to it.

    Call inside a transaction, after :func:`ledger_lock`.
    """
    visit = live_visits().filter(job=job).first()
    if visit is not None:
        _release_one(visit, ReleaseReason.CANCELLED)


def _release_one(visit: Visit, reason: str) -> None:
    route_id = visit.route_id
    if route_id is None:
        return
    Visit.objects.filter(pk=visit.pk).update(
        route=None, released_at=timezone.now(), release_reason=reason
    )
    visit.route_id = None
    _drop_empty_routes({route_id})
    crews_changed([(visit.date, visit.crew_id)])


def ledger_problems() -> list[str]:
    """Every way the live schedule is inconsistent; empty when it is one truth.

    The database guarantees one live visit per job and one route per crew-day;
    this also checks what it cannot express (a live visit agrees with its
    route's crew, date and plan; the plan is published; visits of a route do
    not overlap). Used by tests after every step and by ``check_schedule``.
    """
    problems: list[str] = []
    by_route: dict[int, list[Visit]] = defaultdict(list)
    for visit in live_visits().select_related("route", "plan"):
        route = visit.route
        assert route is not None
        if (visit.crew_id, visit.date, visit.plan_id) != (route.crew_id, route.date, route.plan_id):
            problems.append(f"visit {visit.pk} disagrees with its route {route.pk}")
        if visit.plan.status != "published":
            problems.append(f"visit {visit.pk} is live but plan {visit.plan_id} is not published")
        by_route[route.pk].append(visit)
    for route_id, visits in by_route.items():
        visits.sort(key=lambda v: v.planned_start)
        for before, after in pairwise(visits):
            if after.planned_start < before.planned_end:
                problems.append(
                    f"route {route_id}: visits {before.pk} and {after.pk} overlap "
                    f"({before.planned_end:%H:%M} > {after.planned_start:%H:%M})"
                )
    job_counts: dict[int, int] = defaultdict(int)
    for job_id in live_visits().values_list("job_id", flat=True):
        job_counts[job_id] += 1
    problems += [f"job {j} has {n} live visits" for j, n in job_counts.items() if n > 1]
    return problems
