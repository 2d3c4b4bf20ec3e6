"""Visit slots offered during a call: the earliest gaps of the live schedule for one new job.

The live schedule (:mod:`dispatch.ledger`) is a promise to crews and
customers, so a slot is found by *inserting* the new job into it without
moving anything: :func:`scheduler.insertion.find_insertions` keeps every live
visit's crew, day, order and start and checks every hard rule of the route
with the scheduler's validator. This module builds that problem from the
database (the open crew-days of the next ``SLOT_OFFER_DAYS`` days from the
work calendar, the live visits and the slots already booked but not yet
confirmed as fixed stops, the building's access hours, the crews of the
companies serving the site's region) and turns insertions into offers people
read: a date, an arrival window, the partner company and the crew.

A booked slot (:class:`~dispatch.models.SlotBooking`) is *held*: later offers
plan around it exactly like around a published visit. A coordinator confirms
it onto the live schedule (:func:`slot_confirm`), or, with
``SLOT_BOOKING_PUBLISHES``, the booking does so at once.

**Arrival window.** The customer is promised ``planned start ±
SLOT_WINDOW_MINUTES`` (default 30): the crew is planned at the start, and
the job carries the window as a hard promise (``Job.promise_is_hard``), so
any later re-planning keeps the crew's arrival inside what was said.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import scheduler
from accounts.models import User
from core.errors import INVALID_INPUT, DomainError
from observability import metrics
from scheduler.insertion import Insertion, find_insertions, no_slot_reasons
from sites.models import Site

from . import texts
from .calendars import WorkCalendar
from .ledger import ledger_lock, live_visits
from .models import (
    CURRENT_SLOT_STATUSES,
    ChangeKind,
    Crew,
    Job,
    LiveRoute,
    Plan,
    PlanChange,
    PlannedBreak,
    PlanStatus,
    Skill,
    SlotBooking,
    SlotBookingStatus,
    Visit,
)
from .plans import revisions_take_live_visit
from .problem import (
    DEFAULT_MAX_UTILIZATION,
    DEFAULT_MIN_GAP_MINUTES,
    TIME_GRID_S,
    _access_params,
    _crew_days,
    _to_crew,
    _up,
    _windows,
    planning_today,
    planning_tz,
)
from .states import JobKind, JobStatus
from .travel import routing_required, travel_provider

NEW_JOB = "new"
MIN_MINUTES, MAX_MINUTES = 5, 8 * 60
MAX_DAYS = 60


class SlotInputError(DomainError, ValueError):
    """A slot request that cannot be answered as sent; ``field`` names the input."""

    code = "invalid"
    status = INVALID_INPUT

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message, field=field_name)


class SlotTaken(DomainError):
    """The slot is no longer free: another booking or a publication took it meanwhile."""

    code = "slot_taken"

    def __init__(self, message: str, offers: list[dict[str, Any]]) -> None:
        super().__init__(message, offers=offers)


@dataclass(frozen=True)
class SlotRequest:
    """What the operator asks for: where, which skills, how long, how many workers."""

    site: Site
    skills: tuple[str, ...]
    duration_minutes: int
    members: int = 1
    days: int = 14
    first_date: dt.date | None = None


@dataclass(frozen=True)
class SlotOffer:
    """One slot: a crew-day and the arrival window promised to the customer."""

    date: dt.date
    planned_start: dt.datetime
    planned_end: dt.datetime
    window_start: dt.time
    window_end: dt.time
    crew: Crew
    position: int

    def as_dict(self) -> dict[str, Any]:
        tz = planning_tz()
        return {
            "date": self.date.isoformat(),
            "window_start": self.window_start.strftime("%H:%M"),
            "window_end": self.window_end.strftime("%H:%M"),
            "planned_start": self.planned_start.astimezone(tz).isoformat(),
            "planned_end": self.planned_end.astimezone(tz).isoformat(),
            "crew": {"id": self.crew.pk, "name": self.crew.name},
            "company": {"id": self.crew.company_id, "name": self.crew.company.name},
            "start": self.planned_start.astimezone(tz).strftime("%H:%M"),
        }


@dataclass(frozen=True)
class SlotOffers:
    """The earliest slots, or why there is none."""

    request: SlotRequest
    first_date: dt.date
    last_date: dt.date
    offers: tuple[SlotOffer, ...]
    reasons: tuple[dict[str, Any], ...] = ()
    """Why there is no slot: stored rows (``rule``, ``message``, ``template``, ``params``)."""
    searched: dict[str, int] = field(default_factory=dict)

    def reason_texts(self) -> list[str]:
        """Why there is no slot, in the active language."""
        return [texts.render_row(row) for row in self.reasons]

    def summary(self) -> str:
        if self.offers:
            return ""
        return _("No free slot from %(first)s to %(last)s.") % {
            "first": texts.day_label(self.first_date),
            "last": texts.day_label(self.last_date),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "first_date": self.first_date.isoformat(),
            "last_date": self.last_date.isoformat(),
            "skills": list(self.request.skills),
            "duration_minutes": self.request.duration_minutes,
            "members": self.request.members,
            "offers": [offer.as_dict() for offer in self.offers],
            "summary": self.summary(),
            "reasons": [texts.localized_row(row) for row in self.reasons],
        }


def offer_days() -> int:
    return int(getattr(settings, "SLOT_OFFER_DAYS", 14))


def window_minutes() -> int:
    return int(getattr(settings, "SLOT_WINDOW_MINUTES", 30))


def slot_request(
    *,
    site: Site,
    skills: list[str] | tuple[str, ...] | None,
    duration_minutes: Any,
    members: Any = 1,
    days: Any = None,
    first_date: dt.date | None = None,
) -> SlotRequest:
    """Check the operator's input; a wrong value raises :class:`SlotInputError` naming it."""
    codes = tuple(sorted({str(code).strip() for code in skills or [] if str(code).strip()}))
    known = set(Skill.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise SlotInputError(
            "skills", _("unknown skill(s): %(codes)s") % {"codes": ", ".join(unknown)}
        )
    duration = _whole("duration_minutes", duration_minutes, MIN_MINUTES, MAX_MINUTES)
    crew_members = _whole("members", members, 1, 20)
    horizon = offer_days() if days in (None, "") else _whole("days", days, 1, MAX_DAYS)
    return SlotRequest(
        site=site,
        skills=codes,
        duration_minutes=duration,
        members=crew_members,
        days=horizon,
        first_date=first_date,
    )


def _whole(name: str, value: Any, low: int, high: int) -> int:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    if number is None or not low <= number <= high:
        raise SlotInputError(
            name,
            _("must be a whole number from %(low)s to %(high)s") % {"low": low, "high": high},
        )
    return number


def _serving_crews(site: Site, crew_id: int | None = None) -> list[Crew]:
    """Active crews of companies serving the site's region (a company listing none serves all)."""
    crews = (
        Crew.objects.filter(is_active=True)
        .select_related("company")
        .prefetch_related("skills", "company__regions")
        .order_by("id")
    )
    if crew_id is not None:
        crews = crews.filter(pk=crew_id)
    region = site.region_id
    return [
        crew
        for crew in crews
        if region is None
        or not crew.company.regions.all()
        or any(r.pk == region for r in crew.company.regions.all())
    ]


@dataclass
class _World:
    problem: scheduler.Problem
    routes: dict[tuple[str, int], tuple[str, ...]]
    dates: tuple[dt.date, ...]
    horizon_start: dt.datetime
    crews: dict[str, Crew]
    screened: list[dict[str, Any]]


def _published_lunches_kept(
    crew_days: list[scheduler.CrewDay],
    crew_ids: list[int],
    dates: tuple[dt.date, ...],
    horizon_start: dt.datetime,
) -> list[scheduler.CrewDay]:
    """Crew-days whose published lunch stays where the crew was told it is.

    The lunch is on the partner's route and calendar like the visits: a slot
    offered during a call may use the gaps around it, never move it. Days
    without a published lunch keep their window (the planner places it).
    """
    published = {
        (str(b.crew_id), (b.date - dates[0]).days): b
        for b in PlannedBreak.objects.filter(
            plan__status=PlanStatus.PUBLISHED,
            crew_id__in=crew_ids,
            date__range=(dates[0], dates[-1]),
        )
    }
    kept = []
    for crew_day in crew_days:
        lunch = published.get(crew_day.key)
        if lunch is not None and crew_day.lunch is not None:
            start_s = int((lunch.start - horizon_start).total_seconds())
            duration_s = int((lunch.end - lunch.start).total_seconds())
            if duration_s > 0:
                crew_day = dataclasses.replace(
                    crew_day, lunch=scheduler.Break(start_s, start_s, duration_s)
                )
        kept.append(crew_day)
    return kept


def _world(
    request: SlotRequest,
    *,
    crews: list[Crew],
    dates: tuple[dt.date, ...],
    exclude_booking: int | None = None,
) -> _World:
    """The scheduler problem: open crew-days, live and held visits fixed, the new job free."""
    tz = planning_tz()
    horizon_start = dt.datetime.combine(dates[0], dt.time(0), tzinfo=tz)
    calendar = WorkCalendar.load(crews, dates[0], dates[-1])
    crew_ids = [crew.pk for crew in crews]
    crew_days = _published_lunches_kept(
        _crew_days(crews, dates, horizon_start, calendar), crew_ids, dates, horizon_start
    )
    keys = {cd.key for cd in crew_days}
    stops: dict[tuple[str, int], list[tuple[int, scheduler.Job]]] = defaultdict(list)

    def add(
        prefix: str,
        pk: int,
        crew_id: int,
        date: dt.date,
        start: dt.datetime,
        end: dt.datetime,
        job: Job,
    ) -> None:
        key = (str(crew_id), (date - dates[0]).days)
        site = job.site
        if key not in keys or not site.has_coordinates:
            return
        start_s = int((start - horizon_start).total_seconds())
        fixed = scheduler.FixedAssignment(crew_id=key[0], day=key[1], start_s=start_s)
        stops[key].append(
            (
                start_s,
                scheduler.Job(
                    id=f"{prefix}{pk}",
                    location=scheduler.Location(site.latitude, site.longitude),  # type: ignore[arg-type]
                    duration_s=max(0, int((end - start).total_seconds())),
                    demand_units=job.capacity_units,
                    fixed=fixed,
                ),
            )
        )

    live = live_visits().filter(date__range=(dates[0], dates[-1]), crew_id__in=crew_ids)
    live_jobs = set()
    for visit in live.select_related("job__site").only(
        "pk",
        "crew_id",
        "date",
        "planned_start",
        "planned_end",
        "job__capacity_units",
        "job__site__latitude",
        "job__site__longitude",
    ):
        live_jobs.add(visit.job_id)
        add(
            "v",
            visit.pk,
            visit.crew_id,
            visit.date,
            visit.planned_start,
            visit.planned_end,
            visit.job,
        )
    held = (
        SlotBooking.objects.filter(
            status=SlotBookingStatus.PENDING,
            date__range=(dates[0], dates[-1]),
            crew_id__in=crew_ids,
        )
        .exclude(job__status=JobStatus.CANCELLED)  # a cancelled job holds nothing
        .exclude(job__visits__route__isnull=False)  # live elsewhere: that visit counts
        .select_related("job__site")
    )
    for booking in held:
        if booking.pk == exclude_booking or booking.job_id in live_jobs:
            continue
        add(
            "b",
            booking.pk,
            booking.crew_id,
            booking.date,
            booking.planned_start,
            booking.planned_end,
            booking.job,
        )

    screened: list[dict[str, Any]] = []
    site = request.site
    new_jobs: list[scheduler.Job] = []
    if not site.has_coordinates:
        screened.append(texts.stored("location", texts.NO_COORDINATES))
    else:
        probe = Job(site=site, duration_minutes=request.duration_minutes)
        windows = _windows(probe, dates, horizon_start, calendar)
        if windows is None:
            screened.append(
                texts.stored("access", texts.ACCESS_TOO_SHORT, _access_params(probe, dates))
            )
        else:
            new_jobs.append(
                scheduler.Job(
                    id=NEW_JOB,
                    location=scheduler.Location(site.latitude, site.longitude),  # type: ignore[arg-type]
                    duration_s=_up(request.duration_minutes * 60),
                    required_skills=frozenset(request.skills),
                    members_needed=request.members,
                    windows=windows,
                )
            )
    routes = {
        key: tuple(job.id for _start, job in sorted(items, key=lambda item: item[0]))
        for key, items in stops.items()
    }
    problem = scheduler.Problem(
        crews=tuple(_to_crew(crew) for crew in crews),
        crew_days=tuple(crew_days),
        jobs=tuple(job for items in stops.values() for _start, job in items) + tuple(new_jobs),
        rules=scheduler.Rules(
            min_gap_s=DEFAULT_MIN_GAP_MINUTES * 60, max_utilization=DEFAULT_MAX_UTILIZATION
        ),
        first_date=dates[0],
        time_grid_s=TIME_GRID_S,
    )
    return _World(
        problem=problem,
        routes=routes,
        dates=dates,
        horizon_start=horizon_start,
        crews={str(crew.pk): crew for crew in crews},
        screened=screened,
    )


def _offer(world: _World, insertion: Insertion) -> SlotOffer:
    start = world.horizon_start + dt.timedelta(seconds=insertion.start_s)
    end = world.horizon_start + dt.timedelta(seconds=insertion.end_s)
    tz = planning_tz()
    local = start.astimezone(tz)
    date = world.dates[insertion.day]
    margin = dt.timedelta(minutes=window_minutes())
    midnight = dt.datetime.combine(date, dt.time(0), tzinfo=tz)
    low = max(local - margin, midnight)
    high = min(local + margin, midnight + dt.timedelta(hours=23, minutes=55))
    if high <= low:
        high = low + dt.timedelta(minutes=5)
    return SlotOffer(
        date=date,
        planned_start=start,
        planned_end=end,
        window_start=low.time().replace(second=0, microsecond=0),
        window_end=high.time().replace(second=0, microsecond=0),
        crew=world.crews[insertion.crew_id],
        position=insertion.position,
    )


def first_slot_date(today: dt.date | None = None) -> dt.date:
    """Tomorrow: the first day a slot is offered or booked on (today's crews are already out)."""
    return (today or timezone.localdate()) + dt.timedelta(days=1)


def check_slot_date(date: dt.date, *, today: dt.date | None = None) -> None:
    """Refuse a booking for today or a day gone: no offer is ever made for it.

    Without this a slot "still free" on such a day (its crew-day has room) was
    booked, and the customer promised a window that may already be over.
    """
    first = first_slot_date(today)
    if date < first:
        raise SlotInputError(
            "date",
            _("slots are booked from %(first)s on: today's crews are already out")
            % {"first": first.isoformat()},
        )


def _dates(request: SlotRequest) -> tuple[dt.date, ...]:
    first = request.first_date or first_slot_date()
    return tuple(first + dt.timedelta(days=i) for i in range(request.days))


@metrics.SLOT_OFFER_DURATION.time()
def slot_offers(
    request: SlotRequest, *, limit: int = 3, exclude_booking: int | None = None
) -> SlotOffers:
    """The ``limit`` earliest slots (one per crew-day) for ``request`` in the live schedule.

    Tomorrow is the first day by default (today's crews are already out).
    Nothing live moves; every hard rule holds (see
    :mod:`scheduler.insertion`). With no slot, ``reasons`` says why.
    ``exclude_booking`` is a held slot that does not count (the job's own,
    when it is booked again).
    """
    dates = _dates(request)
    crews = _serving_crews(request.site)
    world = _world(request, crews=crews, dates=dates, exclude_booking=exclude_booking)
    if world.screened:
        return SlotOffers(request, dates[0], dates[-1], (), tuple(world.screened))
    with routing_required():
        travel = scheduler.travel_for(world.problem, travel_provider())
    search = find_insertions(world.problem, world.routes, NEW_JOB, limit=limit, travel=travel)
    offers = tuple(_offer(world, insertion) for insertion in search.insertions)
    reasons: tuple[dict[str, Any], ...] = ()
    if not offers:
        reasons = tuple(
            texts.as_json(reason)
            for reason in no_slot_reasons(world.problem, NEW_JOB, travel=travel)
        )
    searched = {
        "crew_days": len(world.problem.crew_days),
        "gaps": search.gaps,
        "checked": search.checked,
        "live_visits": len(world.problem.jobs) - 1,
    }
    return SlotOffers(request, dates[0], dates[-1], offers, reasons, searched)


def slot_still_free(
    request: SlotRequest,
    *,
    crew_id: int,
    date: dt.date,
    window_start: dt.time,
    window_end: dt.time,
    exclude_booking: int | None = None,
) -> SlotOffer | None:
    """The slot on ``crew_id``'s ``date`` whose start lies in the promised window, if still free.

    Call under :func:`dispatch.ledger.ledger_lock` before writing, so nobody
    takes it between the check and the write.
    """
    crews = _serving_crews(request.site, crew_id=crew_id)
    if not crews:
        return None
    world = _world(request, crews=crews, dates=(date,), exclude_booking=exclude_booking)
    if world.screened:
        return None
    tz = planning_tz()
    low = dt.datetime.combine(date, window_start, tzinfo=tz)
    high = dt.datetime.combine(date, window_end, tzinfo=tz)
    low_s = int((low - world.horizon_start).total_seconds())
    high_s = int((high - world.horizon_start).total_seconds())
    # Every position of the one crew-day, not only its earliest: the earliest
    # may now lie before the window (a visit left), a later gap may keep it.
    jobs = world.problem.jobs_by_id()
    new = jobs[NEW_JOB]
    windowed = scheduler.Job(
        id=new.id,
        location=new.location,
        duration_s=new.duration_s,
        required_skills=new.required_skills,
        members_needed=new.members_needed,
        windows=_intersect(new.windows, low_s, high_s),
    )
    if not windowed.windows:
        return None
    problem = scheduler.Problem(
        crews=world.problem.crews,
        crew_days=world.problem.crew_days,
        jobs=(*(j for j in world.problem.jobs if j.id != NEW_JOB), windowed),
        rules=world.problem.rules,
        first_date=world.problem.first_date,
        time_grid_s=world.problem.time_grid_s,
    )
    with routing_required():
        travel = scheduler.travel_for(problem, travel_provider())
    found = find_insertions(problem, world.routes, NEW_JOB, limit=1, travel=travel).insertions
    return _offer(world, found[0]) if found else None


def _intersect(
    windows: tuple[scheduler.TimeWindow, ...], low_s: int, high_s: int
) -> tuple[scheduler.TimeWindow, ...]:
    if not windows:
        return (scheduler.TimeWindow(low_s, high_s),)
    both = [
        scheduler.TimeWindow(max(w.start_s, low_s), min(w.end_s, high_s))
        for w in windows
        if max(w.start_s, low_s) <= min(w.end_s, high_s)
    ]
    return tuple(both)


def slot_hold(
    *,
    job: Job,
    offer: SlotOffer,
    request: SlotRequest,
    by: User,
) -> SlotBooking:
    """Hold ``offer`` for ``job``: the promise on the job, the slot on the schedule.

    Call inside the booking's transaction, after :func:`ledger_lock` and
    :func:`slot_still_free`. The job gets the skills, members and the promise
    (the date and the arrival window, hard); the slot is pending for the
    coordinator, or confirmed at once with ``SLOT_BOOKING_PUBLISHES``.
    """
    job.members_needed = request.members
    job.preferred_dates = [offer.date.isoformat()]
    job.window_start = offer.window_start
    job.window_end = offer.window_end
    job.promise_is_hard = True
    job.save(
        update_fields=[
            "members_needed",
            "preferred_dates",
            "window_start",
            "window_end",
            "promise_is_hard",
            "updated_at",
        ]
    )
    job.required_skills.set(Skill.objects.filter(code__in=request.skills))
    booking = SlotBooking.objects.create(
        job=job,
        crew=offer.crew,
        date=offer.date,
        planned_start=offer.planned_start,
        planned_end=offer.planned_end,
        window_start=offer.window_start,
        window_end=offer.window_end,
        booked_by=by,
    )
    if getattr(settings, "SLOT_BOOKING_PUBLISHES", False):
        _publish(booking, by=by)
    return booking


# --- A new slot for a job already in the queue ----------------------------------------


class JobNotRebookable(DomainError):
    """Only a job waiting in the coordinators' queue (*ready*) may get a new slot.

    A job on the live schedule has its promise already (a coordinator moves
    it), one in progress or done needs no visit, a cancelled one none at all,
    and one still in survey or permissions cannot be promised a date yet.
    """

    code = "job_not_rebookable"

    def __init__(self, job: Job) -> None:
        super().__init__(
            _rebook_refusal(job), field="job", current_status=job.status, job_id=job.pk
        )


def _rebook_refusal(job: Job) -> str:
    """Why ``job`` cannot be booked again, in the reader's language."""
    values = {"job": job.reference, "status": job.get_status_display().lower()}
    if job.status in (JobStatus.SCHEDULED, JobStatus.DISPATCHED):
        text = _(
            "%(job)s cannot get a new slot: it is on the live schedule already; "
            "ask the coordinators to move its visit"
        )
    elif job.status == JobStatus.IN_PROGRESS:
        text = _("%(job)s cannot get a new slot: the crew's work on it is in progress")
    elif job.status in (JobStatus.COMPLETED, JobStatus.HANDED_OVER):
        text = _("%(job)s cannot get a new slot: its work is done")
    elif job.status == JobStatus.CANCELLED:
        text = _("%(job)s cannot get a new slot: it was cancelled")
    else:
        text = _(
            "%(job)s cannot get a new slot: it is not waiting in the coordinators' "
            "queue (%(status)s)"
        )
    return text % values


class SlotRebookedMeanwhile(DomainError):
    """The job's current slot is not the one the operator saw: a colleague booked it meanwhile."""

    code = "rebooked_meanwhile"

    def __init__(self, job: Job, current: SlotBooking | None) -> None:
        if current is None:
            message = _("%(job)s has no current slot any more: look at its card again") % {
                "job": job.reference
            }
        else:
            message = _(
                "%(job)s was given a new slot meanwhile (%(day)s, %(start)s–%(end)s): "
                "look at its card again before booking another"
            ) % {
                "job": job.reference,
                "day": texts.day_label(current.date),
                "start": current.window_start.strftime("%H:%M"),
                "end": current.window_end.strftime("%H:%M"),
            }
        super().__init__(
            message, field="replaces", current_slot=current.pk if current is not None else None
        )


def current_slot_booking(job: Job | int) -> SlotBooking | None:
    """The job's current slot (pending or live): what the customer was promised last.

    Earlier bookings of the job are kept, *replaced*, as history; at most one
    is current (constraint ``slot_booking_one_current_per_job``).
    """
    job_id = job if isinstance(job, int) else job.pk
    return (
        SlotBooking.objects.filter(job_id=job_id, status__in=CURRENT_SLOT_STATUSES)
        .select_related("crew__company", "job")
        .first()
    )


def check_rebookable(job: Job) -> None:
    """Refuse a job that is not waiting in the queue, or that is live somewhere anyway."""
    if job.status != JobStatus.READY or live_visits().filter(job=job).exists():
        raise JobNotRebookable(job)


def job_slot_request(job: Job, *, days: Any = None) -> SlotRequest:
    """What the job itself needs: its site, skills, members, time on site and first day."""
    return slot_request(
        site=job.site,
        skills=list(job.required_skills.values_list("code", flat=True)),
        duration_minutes=job.duration_minutes,
        members=job.members_needed,
        days=days,
        first_date=_first_day_for(job),
    )


def _first_day_for(job: Job) -> dt.date | None:
    """The job's own first day for slots when it is later than tomorrow, else ``None``.

    An installation's earliest date is the coordinators' (the line or the
    materials are not there before it) and holds. A maintenance job booked on
    a call got its first slot's day as its earliest date: that one moves with
    the new promise (:func:`_make_room_for`).
    """
    if job.kind == JobKind.MAINTENANCE or job.earliest_date is None:
        return None
    return job.earliest_date if job.earliest_date > first_slot_date() else None


def job_slot_offers(job: Job, *, days: Any = None, limit: int = 3) -> SlotOffers:
    """The earliest slots for a job already in the queue; its own held slot does not count.

    Raises :class:`JobNotRebookable` for a job that is not waiting (asking
    for slots nobody may book would only mislead the caller).
    """
    check_rebookable(job)
    current = current_slot_booking(job)
    held = (
        current.pk if current is not None and current.status == SlotBookingStatus.PENDING else None
    )
    return slot_offers(job_slot_request(job, days=days), limit=limit, exclude_booking=held)


def slot_replace(
    *,
    job: Job,
    by: User,
    crew_id: int,
    date: dt.date,
    window_start: dt.time,
    window_end: dt.time,
    replaces: int | None,
    today: dt.date | None = None,
) -> SlotBooking:
    """Book a new slot for ``job``: the new promise current, the earlier one kept as history.

    Call inside a transaction. Under the ledger lock and the job's row lock:
    the job must still wait in the queue (:class:`JobNotRebookable`), its
    current slot must be the one the operator saw (``replaces``; else
    :class:`SlotRebookedMeanwhile`: two operators on one job, one wins), and
    the slot must still be free (:class:`SlotTaken` with fresh offers). The
    current booking becomes *replaced* (its date, window and who said it
    stay), a held one stops holding its crew-day, and the new one is held
    like a booking from a call (:func:`slot_hold`).
    """
    check_slot_date(date, today=today)
    ledger_lock()
    locked = Job.objects.select_for_update().select_related("site").get(pk=job.pk)
    check_rebookable(locked)
    first = _first_day_for(locked)
    if first is not None and date < first:
        raise SlotInputError(
            "date",
            _("%(job)s cannot be visited before %(day)s (its earliest date)")
            % {"job": locked.reference, "day": texts.day_label(first)},
        )
    current = (
        SlotBooking.objects.select_for_update()
        .filter(job=locked, status__in=CURRENT_SLOT_STATUSES)
        .first()
    )
    if (current.pk if current is not None else None) != replaces:
        raise SlotRebookedMeanwhile(locked, current)
    held = (
        current.pk if current is not None and current.status == SlotBookingStatus.PENDING else None
    )
    request = job_slot_request(locked, days=1)
    offer = slot_still_free(
        request,
        crew_id=crew_id,
        date=date,
        window_start=window_start,
        window_end=window_end,
        exclude_booking=held,
    )
    if offer is None:
        fresh = slot_offers(job_slot_request(locked), exclude_booking=held)
        raise SlotTaken(
            _("this slot was taken meanwhile: offer one of the slots still free"),
            [o.as_dict() for o in fresh.offers],
        )
    if current is not None:
        current.status = SlotBookingStatus.REPLACED
        current.save(update_fields=["status"])
    _make_room_for(locked, offer.date)
    booking = slot_hold(job=locked, offer=offer, request=request, by=by)
    job.refresh_from_db()
    return booking


def _make_room_for(job: Job, date: dt.date) -> None:
    """Dates of the job that would make the new promise impossible give way to it.

    A maintenance job booked on a call starts on its first slot's day
    (``earliest_date``); an earlier new day would leave the job unplannable.
    A hard due date before the new day the customer agreed to becomes a
    soft one (its lateness still costs), as when a promise lapses.
    """
    fields = []
    if job.earliest_date is not None and job.earliest_date > date:
        job.earliest_date = date
        fields.append("earliest_date")
    if job.due_date_is_hard and job.due_date is not None and job.due_date < date:
        job.due_date_is_hard = False
        fields.append("due_date_is_hard")
    if fields:
        job.save(update_fields=[*fields, "updated_at"])


class SlotNotConfirmable(DomainError):
    """A booked slot that cannot go live now (already live, withdrawn, no published plan)."""

    code = "slot_not_confirmable"


def slot_confirm(*, booking: SlotBooking, by: User) -> SlotBooking:
    """A coordinator puts a held slot on the live schedule, in one transaction.

    Re-checks that it still fits (409 ``slot_taken`` otherwise), then adds the
    visit to the crew-day's live route (owned by its published plan; an empty
    crew-day joins the published plan covering that date), pinned, and the
    job becomes *scheduled*.
    """
    with transaction.atomic():
        ledger_lock()
        locked = (
            SlotBooking.objects.select_for_update()
            .select_related("job__site", "crew")
            .get(pk=booking.pk)
        )
        _publish(locked, by=by)
    return locked


def _publish(booking: SlotBooking, *, by: User) -> None:
    from .services import job_transition

    if booking.status != SlotBookingStatus.PENDING:
        raise SlotNotConfirmable(_("this slot is not waiting for confirmation"))
    job = booking.job
    if live_visits().filter(job=job).exists():
        raise SlotNotConfirmable(_("the job is already on the live schedule"))
    _check_confirmable(booking, job)
    request = SlotRequest(
        site=job.site,
        skills=tuple(job.required_skills.values_list("code", flat=True)),
        duration_minutes=job.duration_minutes,
        members=job.members_needed,
        days=1,
    )
    offer = slot_still_free(
        request,
        crew_id=booking.crew_id,
        date=booking.date,
        window_start=booking.window_start,
        window_end=booking.window_end,
        exclude_booking=booking.pk,
    )
    if offer is None:
        raise SlotTaken(_("the slot is no longer free"), offers=[])
    route = LiveRoute.objects.filter(crew_id=booking.crew_id, date=booking.date).first()
    if route is None:
        plan = _covering_plan(booking)
        if plan is None:
            raise SlotNotConfirmable(
                _("no published plan covers %(day)s: plan the job from the queue")
                % {"day": texts.day_label(booking.date)}
            )
        route = LiveRoute.objects.create(crew_id=booking.crew_id, date=booking.date, plan=plan)
    plan = route.plan
    if Visit.objects.filter(plan=plan, job=job).exists():
        # A plan holds one visit per job: the one the crew could not finish
        # stays in it as the field's record. A revision of the plan places the
        # job (its promise is hard) and publishing it settles this slot.
        raise SlotNotConfirmable(
            _(
                "%(job)s already has a visit in plan %(plan)s, which holds %(day)s: "
                "revise that plan to put the job on the promised day"
            )
            % {"job": job.reference, "plan": plan.name, "day": texts.day_label(booking.date)}
        )
    day_visits = list(
        Visit.objects.filter(plan=plan, crew_id=booking.crew_id, date=booking.date).order_by(
            "-sequence"
        )
    )
    sequence = 1 + sum(1 for v in day_visits if v.planned_start < offer.planned_start)
    for visit in day_visits:  # last first, so positions never collide
        if visit.sequence >= sequence:
            Visit.objects.filter(pk=visit.pk).update(sequence=visit.sequence + 1)
    visit = Visit.objects.create(
        plan=plan,
        job=job,
        crew_id=booking.crew_id,
        date=booking.date,
        sequence=sequence,
        planned_start=offer.planned_start,
        planned_end=offer.planned_end,
        locked=True,
        route=route,
    )
    revisions_take_live_visit(visit)  # a revision of the plan copied it before: keep the slot
    PlanChange.objects.get_or_create(
        plan=plan,
        crew_id=booking.crew_id,
        job=job,
        published_version=plan.version,
        defaults={
            "kind": ChangeKind.ADDED,
            "after": {
                "date": booking.date.isoformat(),
                "start": offer.planned_start.astimezone(planning_tz()).strftime("%H:%M"),
                "sequence": sequence,
            },
        },
    )
    if job.status == JobStatus.READY:
        job_transition(job=job, to_status=JobStatus.SCHEDULED, by=by, note=f"slot {booking.pk}")
    booking.status = SlotBookingStatus.LIVE
    booking.visit = visit
    booking.planned_start = offer.planned_start
    booking.planned_end = offer.planned_end
    booking.confirmed_by = by
    booking.confirmed_at = timezone.now()
    booking.save()


def _check_confirmable(booking: SlotBooking, job: Job) -> None:
    """Refuse a held slot whose job left the queue or whose day has passed.

    The board lists the slot until it is reloaded: a customer who called back
    to cancel, or a coordinator confirming after the day, would otherwise send
    a crew to a cancelled job, or write a visit nobody made into the field's
    record (the days gone by, :func:`dispatch.problem.planning_today`).
    """
    if job.status != JobStatus.READY:
        raise SlotNotConfirmable(
            _("%(job)s is no longer waiting to be scheduled (%(status)s)")
            % {"job": job.reference, "status": job.get_status_display().lower()}
        )
    today = planning_today()
    if booking.date < today:
        raise SlotNotConfirmable(
            _("%(day)s has passed (today is %(today)s): plan the job from the queue")
            % {"day": texts.day_label(booking.date), "today": texts.day_label(today)}
        )


def _covering_plan(booking: SlotBooking) -> Plan | None:
    """The published plan whose dates cover the slot's and whose region is the site's (or all)."""
    region = booking.job.site.region_id
    plans = Plan.objects.filter(
        status=PlanStatus.PUBLISHED, start_date__lte=booking.date, end_date__gte=booking.date
    ).order_by("-id")
    for plan in plans:
        if plan.region_id is None or plan.region_id == region:
            return plan
    return None


def pending_slots(*, start: dt.date, end: dt.date) -> list[SlotBooking]:
    """Slots booked from calls that wait for a coordinator, in date order."""
    return list(
        SlotBooking.objects.filter(status=SlotBookingStatus.PENDING, date__range=(start, end))
        .exclude(job__status=JobStatus.CANCELLED)
        .exclude(job__visits__route__isnull=False)  # planned and published another way
        .select_related("job__site", "crew__company", "booked_by")
        .order_by("date", "planned_start")
    )


def minutes_of(offer: SlotOffer) -> int:
    return math.ceil((offer.planned_end - offer.planned_start).total_seconds() / 60)
