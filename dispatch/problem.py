"""Translate between the database and the scheduler library.

The scheduler knows nothing of Django, dates or time zones: it works on one
absolute axis of integer seconds from the start of the horizon, with string
ids. This module is the only place that knows both sides. ``t = 0`` is local
midnight (``settings.TIME_ZONE``) of the plan's first day; every time is
computed through aware local datetimes so the axis stays right even where
clocks change.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _

import scheduler
from core.errors import INVALID_INPUT, DomainError
from sites.access import AccessHours, AccessHoursError
from sites.models import Region, Site

from . import texts
from .calendars import WorkCalendar
from .ledger import Holdings, Place, ledger_holdings, live_places
from .models import Crew, Job, Plan, PlannedBreak, Visit
from .readiness import job_blockers
from .skills import region_skill
from .states import FIXED_STATUSES, JobStatus, PlanningError

TIME_GRID_S = 300
"""Plans run on a 5-minute grid: crews and customers read times like 10:45, not 10:41:56.

Durations, shifts, access hours and lunch breaks are put on the grid here and
the scheduler rounds every drive up to it, so every planned start lands on
the grid and the plan keeps exactly the times it shows.
"""

DEFAULT_TIME_LIMIT_SECONDS = 30
DEFAULT_MIN_GAP_MINUTES = 15
DEFAULT_MAX_UTILIZATION = 0.85


class ParameterError(DomainError, ValueError):
    """A plan parameter that cannot be used; ``field`` names it for the API."""

    code = "invalid"
    status = INVALID_INPUT

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}", field=field_name)


def _check_whole(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ParameterError(
            name,
            _("must be a whole number from %(low)s to %(high)s") % {"low": low, "high": high},
        )


@dataclass(frozen=True)
class PlanParameters:
    """The knobs a coordinator sets on a plan; stored on every run to reproduce it."""

    time_limit_seconds: int = DEFAULT_TIME_LIMIT_SECONDS
    seed: int = 0
    min_gap_minutes: int = DEFAULT_MIN_GAP_MINUTES
    max_utilization: float = DEFAULT_MAX_UTILIZATION
    weights: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: dict) -> PlanParameters:
        """Validate ``raw`` (a plan's ``params``); unknown keys are refused, not ignored."""
        known = {"time_limit_seconds", "seed", "min_gap_minutes", "max_utilization", "weights"}
        for key in raw:
            if key not in known:
                raise ParameterError(key, _("unknown parameter"))
        params = cls(**raw)
        _check_whole("time_limit_seconds", params.time_limit_seconds, 1, 3600)
        _check_whole("seed", params.seed, 0, 2**31 - 1)
        _check_whole("min_gap_minutes", params.min_gap_minutes, 0, 240)
        utilization = params.max_utilization
        if isinstance(utilization, bool) or not isinstance(utilization, int | float):
            raise ParameterError("max_utilization", _("must be a number"))
        if not 0 < utilization <= 1:
            raise ParameterError("max_utilization", _("must be greater than 0 and at most 1"))
        if not isinstance(params.weights, dict):
            raise ParameterError("weights", _("must be an object of yen amounts"))
        allowed_weights = set(scheduler.Weights.__dataclass_fields__)
        for name, value in params.weights.items():
            if name not in allowed_weights:
                raise ParameterError(f"weights.{name}", _("unknown weight"))
            _check_whole(f"weights.{name}", value, 0, 10**9)
        return params

    def to_dict(self) -> dict:
        return {
            "time_limit_seconds": self.time_limit_seconds,
            "seed": self.seed,
            "min_gap_minutes": self.min_gap_minutes,
            "max_utilization": self.max_utilization,
            "weights": dict(self.weights),
        }


@dataclass(frozen=True)
class PlanningInput:
    """A scheduler problem plus what is needed to map its result back to rows."""

    problem: scheduler.Problem
    horizon_start: dt.datetime
    dates: tuple[dt.date, ...]
    jobs: dict[str, Job]
    crews: dict[str, Crew]
    screened_out: tuple[dict, ...]
    """Jobs kept out of the solver with their reasons (same shape as plan.unassigned)."""
    warm_start: scheduler.Plan | None
    revised_pins: frozenset[int] = frozenset()
    """Jobs fixed where the published plan it revises pins them, the draft having no copy.

    Their visits are written pinned, as Revise would have copied them.
    """

    def at(self, t_s: int) -> dt.datetime:
        """The aware datetime of a scheduler time."""
        return self.horizon_start + dt.timedelta(seconds=t_s)

    def date_of(self, day: int) -> dt.date:
        return self.dates[day]


def planning_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def planning_today() -> dt.date:
    """The first day new work may go on: today in the planning time zone.

    Days before it are the field's record: the optimizer puts nothing new on
    them, a drag onto them is refused and a plan that would add to them is not
    published. ``settings.PLANNING_TODAY`` pins the day (tests, a training copy).
    """
    pinned: dt.date | None = settings.PLANNING_TODAY
    return pinned if pinned is not None else dt.datetime.now(planning_tz()).date()


def check_plan_days_open(plan: Plan) -> dt.date:
    """Today, when ``plan`` still has a day to put work on.

    Raises
    ------
    PlanningError
        When every day of the plan has passed (HTTP 409): nothing can be optimized there.
    """
    today = planning_today()
    if plan.end_date < today:
        raise PlanningError(
            _("every day of this plan has passed (today is %(today)s): plan the days ahead")
            % {"today": today.isoformat()},
            field="end_date",
        )
    return today


def _seconds(horizon_start: dt.datetime, day: dt.date, time_of_day: dt.time) -> int:
    moment = dt.datetime.combine(day, time_of_day, tzinfo=horizon_start.tzinfo)
    return int((moment - horizon_start).total_seconds())


def plan_dates(plan: Plan) -> tuple[dt.date, ...]:
    days = (plan.end_date - plan.start_date).days + 1
    return tuple(plan.start_date + dt.timedelta(days=i) for i in range(days))


def plan_crews(plan: Plan) -> list[Crew]:
    """Active crews of the companies that serve the plan's region (all, without a region)."""
    crews = Crew.objects.filter(is_active=True).prefetch_related("skills", "company__regions")
    if plan.region_id is not None:
        crews = crews.filter(company__regions=plan.region_id)
    return list(crews.select_related("company").order_by("id").distinct())


def plan_candidate_jobs(plan: Plan) -> list[Job]:
    """Jobs the plan should place: ready ones allowed in its range, plus those it already holds.

    A job already in the plan (or in the published plan it revises) stays a
    candidate whatever its status, so that re-optimizing never silently drops
    a scheduled or started job.
    """
    held = Visit.objects.filter(
        Q(plan=plan) | Q(plan_id=plan.revises_id, route__isnull=False)
    ).values("job_id")
    jobs = (
        Job.objects.filter(ready_for(plan) | Q(pk__in=held))
        .exclude(status=JobStatus.CANCELLED)
        .select_related("site__region", "survey")
        .prefetch_related("required_skills", "site__surveys", "site__permissions")
        .order_by("id")
    )
    return list(jobs)


def ready_for(plan: Plan) -> Q:
    """Jobs ready to plan that ``plan`` may take: its region, not held back past its end."""
    ready = Q(status=JobStatus.READY) & (
        Q(earliest_date__isnull=True) | Q(earliest_date__lte=plan.end_date)
    )
    if plan.region_id is not None:
        ready &= Q(site__region=plan.region_id)
    return ready


def _routes(visits: Iterable[Visit], dates: tuple[dt.date, ...]) -> scheduler.Plan:
    day_of = {date: i for i, date in enumerate(dates)}
    routes: dict[tuple[str, int], list[str]] = defaultdict(list)
    for visit in sorted(visits, key=lambda v: (v.crew_id, v.date, v.sequence)):
        if visit.date in day_of:
            routes[(str(visit.crew_id), day_of[visit.date])].append(str(visit.job_id))
    return scheduler.Plan(routes={key: tuple(ids) for key, ids in routes.items()})


def _up(seconds: int) -> int:
    """``seconds`` rounded up to the time grid."""
    return -(-seconds // TIME_GRID_S) * TIME_GRID_S


def _down(seconds: int) -> int:
    """``seconds`` rounded down to the time grid."""
    return seconds // TIME_GRID_S * TIME_GRID_S


def _crew_days(
    crews: list[Crew],
    dates: tuple[dt.date, ...],
    horizon_start: dt.datetime,
    calendar: WorkCalendar,
    usable: Callable[[int, dt.date], bool] | None = None,
) -> list[scheduler.CrewDay]:
    """The crew-days the solver may use: open ones (:mod:`dispatch.calendars`) still free.

    A crew-day exists only when the calendar says the crew works (its
    weekdays, national holidays, company and partner closures, absences,
    extra working days), so nobody is ever planned on a closed day.
    """
    crew_days = []
    for crew in crews:
        for day, date in enumerate(dates):
            if calendar.closed(crew.pk, date) is not None:
                continue
            if usable is not None and not usable(crew.pk, date):
                continue
            shift_start_s = _up(_seconds(horizon_start, date, crew.shift_start))
            shift_end_s = _down(_seconds(horizon_start, date, crew.shift_end))
            crew_days.append(
                scheduler.CrewDay(
                    crew_id=str(crew.pk),
                    day=day,
                    shift_start_s=shift_start_s,
                    shift_end_s=shift_end_s,
                    lunch=_lunch(crew, date, horizon_start, shift_start_s, shift_end_s),
                )
            )
    return crew_days


def _lunch(
    crew: Crew, date: dt.date, horizon_start: dt.datetime, shift_start_s: int, shift_end_s: int
) -> scheduler.Break | None:
    """The crew's lunch on ``date``, kept inside its shift; none on a day too short for it.

    A half-day shift (say 13:30-17:30) has no lunch to place: a window that
    no longer fits the shift once clipped means no break, not an impossible day.
    """
    lunch = crew.lunch
    if lunch is None:
        return None
    length_s = _up(lunch.minutes * 60)
    earliest_s = max(_up(_seconds(horizon_start, date, lunch.earliest_start)), shift_start_s)
    latest_s = min(_down(_seconds(horizon_start, date, lunch.latest_start)), shift_end_s - length_s)
    if latest_s < earliest_s:
        return None
    return scheduler.Break(
        earliest_start_s=earliest_s, latest_start_s=latest_s, duration_s=length_s
    )


def _regions_served(crew: Crew) -> frozenset[str]:
    """Pseudo-skills for the regions a crew's company serves; none listed = serves all.

    A plan for one region only takes crews of companies serving it; a plan for
    every region must keep each job to those crews too, and a skill is how
    the solver (and its reasons) already say "only these crews".
    """
    return frozenset(region_skill(region.code) for region in crew.company.regions.all())


def _to_crew(crew: Crew, extra_skills: frozenset[str] = frozenset()) -> scheduler.Crew:
    return scheduler.Crew(
        id=str(crew.pk),
        home=scheduler.Location(crew.home_latitude, crew.home_longitude),
        skills=frozenset(skill.code for skill in crew.skills.all()) | extra_skills,
        members=crew.members,
        cost_per_km_yen=crew.cost_per_km_yen,
        min_gap_s=None if crew.min_gap_minutes is None else crew.min_gap_minutes * 60,
        max_utilization=(
            None if crew.max_utilization_percent is None else crew.max_utilization_percent / 100
        ),
        max_jobs_per_day=crew.max_jobs_per_day,
        capacity_units=crew.capacity_units,
    )


def _day_index(date: dt.date | None, dates: tuple[dt.date, ...]) -> int | None:
    return None if date is None else (date - dates[0]).days


def _days_in_horizon(raw_dates: list | None, dates: tuple[dt.date, ...]) -> frozenset[int]:
    """Day indexes of the ISO dates in ``raw_dates`` that fall inside the plan's dates."""
    days = set()
    for raw in raw_dates or []:
        try:
            date = dt.date.fromisoformat(str(raw))
        except ValueError:
            continue
        if dates[0] <= date <= dates[-1]:
            days.add((date - dates[0]).days)
    return frozenset(days)


def access_of(job: Job) -> AccessHours:
    """The building's access hours (:attr:`sites.models.Site.access_hours`).

    Hours that cannot be read (a row written around the API) count as no
    restriction rather than stopping the whole plan; every writer validates them.
    """
    try:
        return AccessHours.from_json(job.site.access_hours or [])
    except AccessHoursError:
        return AccessHours()


def duration_s(job: Job) -> int:
    """Time on site in the plan: the job's minutes rounded up to the time grid."""
    return _up(job.duration_minutes * 60)


def _windows(
    job: Job,
    dates: tuple[dt.date, ...],
    horizon_start: dt.datetime,
    calendar: WorkCalendar,
) -> tuple[scheduler.TimeWindow, ...] | None:
    """Start windows per day from the building's access hours; ``None`` = it never fits.

    Access hours bound the whole visit, the scheduler's windows bound its
    start: the last start of a range is its closing time minus the duration.
    A national holiday uses the building's holiday hours, whatever its weekday.
    """
    hours = access_of(job)
    if hours.is_unrestricted:
        return ()
    length_s = duration_s(job)
    windows = []
    for date in dates:
        for opens, closes in hours.ranges_on(date.weekday(), calendar.is_holiday(date)):
            open_s = _up(_seconds(horizon_start, date, opens))
            close_s = _seconds(horizon_start, date, closes) if closes != dt.time.max else None
            if close_s is None:
                close_s = _seconds(horizon_start, date + dt.timedelta(days=1), dt.time(0))
            last_start_s = _down(close_s - length_s)
            if last_start_s >= open_s:
                windows.append(scheduler.TimeWindow(open_s, last_start_s))
    if not windows:
        return None
    return tuple(sorted(windows, key=lambda w: w.start_s))


def _promise(
    job: Job, dates: tuple[dt.date, ...], horizon_start: dt.datetime
) -> tuple[frozenset[int], tuple[scheduler.TimeWindow, ...]]:
    """The customer's preferred days in the horizon and the promised arrival slot per day."""
    days = _days_in_horizon(job.preferred_dates, dates)
    slot: list[scheduler.TimeWindow] = []
    if job.window_start is not None and job.window_end is not None:
        for date in dates:
            start_s = _up(_seconds(horizon_start, date, job.window_start))
            end_s = _down(_seconds(horizon_start, date, job.window_end))
            if end_s >= start_s:
                slot.append(scheduler.TimeWindow(start_s, end_s))
    return days, tuple(slot)


def _promise_outside(job: Job, dates: tuple[dt.date, ...]) -> dict | None:
    """Why a hard promise cannot be kept by this plan at all (its dates are elsewhere).

    The params of :data:`texts.PROMISE_OUTSIDE_PLAN`, or ``None`` when it can be kept.
    """
    if not job.promise_is_hard or not job.preferred_dates:
        return None
    promised = sorted(str(raw) for raw in job.preferred_dates)
    if any(dates[0].isoformat() <= day <= dates[-1].isoformat() for day in promised):
        return None
    return {
        "days": [texts.day_param(dt.date.fromisoformat(day)) for day in promised],
        "plan_days": texts.days_param(dates[0], dates[-1]),
    }


def _access_params(job: Job, dates: tuple[dt.date, ...]) -> dict:
    """The params of :data:`texts.ACCESS_TOO_SHORT` (the building's hours in both languages)."""
    access = access_of(job)
    return {
        "minutes": job.duration_minutes,
        "hours": {"en": access.describe("en"), "ja": access.describe("ja")},
        "days": texts.days_param(dates[0], dates[-1]),
    }


def _fixed_of(
    visit: Visit, dates: tuple[dt.date, ...], horizon_start: dt.datetime
) -> scheduler.FixedAssignment:
    """A visit that must not move: the start time pins it, and with it its order."""
    return scheduler.FixedAssignment(
        crew_id=str(visit.crew_id),
        day=(visit.date - dates[0]).days,
        start_s=int((visit.planned_start - horizon_start).total_seconds()),
    )


def _to_job(
    job: Job,
    dates: tuple[dt.date, ...],
    horizon_start: dt.datetime,
    windows: tuple[scheduler.TimeWindow, ...],
    fixed: scheduler.FixedAssignment | None,
    extra_skills: frozenset[str] = frozenset(),
    *,
    first_day: int = 0,
) -> scheduler.Job:
    """The scheduler's job; ``first_day`` is the first day index it may go on (today's)."""
    site = job.site
    preferred_days, preferred_windows = _promise(job, dates, horizon_start)
    earliest_day = _day_index(job.earliest_date, dates)
    if first_day > 0:
        earliest_day = first_day if earliest_day is None else max(earliest_day, first_day)
    return scheduler.Job(
        id=str(job.pk),
        location=scheduler.Location(site.latitude, site.longitude),  # type: ignore[arg-type]
        duration_s=duration_s(job),
        required_skills=frozenset(skill.code for skill in job.required_skills.all()) | extra_skills,
        members_needed=job.members_needed,
        earliest_day=earliest_day,
        due_day=_day_index(job.due_date, dates),
        due_is_hard=job.due_date_is_hard,
        unavailable_days=_days_in_horizon(job.unavailable_dates, dates),
        windows=windows,
        priority=job.priority,
        demand_units=job.capacity_units,
        fixed=fixed,
        preferred_days=preferred_days,
        preferred_windows=preferred_windows,
        promise_is_hard=job.promise_is_hard,
    )


def _first_blocker_message(job: Job, on: dt.date) -> str:
    """What keeps ``job`` from being planned on ``on``, in the active language."""
    return job_blockers(job, on=on)[0].message


def _screened(job: Job, rule: str, template: str, params: dict | None = None) -> dict:
    return {
        "job_id": job.pk,
        "reference": job.reference,
        "reasons": [texts.stored(rule, template, params)],
    }


def plan_problem(*, plan: Plan, params: PlanParameters) -> PlanningInput:
    """Build the scheduler problem for ``plan`` from the current database state.

    Locked visits and visits of jobs already in progress or done become fixed
    assignments; the plan's current visits are the warm start; the published
    plan it revises is the reference for minimal disruption.
    """
    dates = plan_dates(plan)
    horizon_start = dt.datetime.combine(dates[0], dt.time(0), tzinfo=planning_tz())
    today = check_plan_days_open(plan)
    # New work goes on the open days only; the days gone by keep what the field
    # was sent there (fixed below), and crew-days with nothing fixed are dropped.
    open_dates = tuple(date for date in dates if date >= today)
    first_open_day = dates.index(open_dates[0])
    crews = plan_crews(plan)
    crew_ids = {crew.pk for crew in crews}
    candidates = plan_candidate_jobs(plan)
    own_visits = {v.job_id: v for v in Visit.objects.filter(plan=plan).only(*_PLACE_FIELDS)}
    revised_live = _revised_live_visits(plan)
    holdings = ledger_holdings(plan, job_ids={job.pk for job in candidates})
    usable = crew_day_usable(plan, holdings)
    # A visit the field was sent to on a day gone by stays there: it is done, or
    # its report is still to come (a "not finished" report releases it).
    live_gone = live_places((job.pk for job in candidates), first=dates[0], before=today)
    fixed_crew_days_gone: set[tuple[int, dt.date]] = set()
    kept_out = held_out_by_hand(plan)
    back_by_field: set[int] = set()
    revised_pins: set[int] = set()
    # Without a region, every crew is in play: keep each job to the crews of
    # companies that serve its region (a company listing no region serves all).
    by_region = plan.region_id is None
    every_region = frozenset(
        region_skill(code) for code in Region.objects.values_list("code", flat=True)
    )
    calendar = WorkCalendar.load(crews, dates[0], dates[-1])

    jobs: dict[str, Job] = {}
    problem_jobs: list[scheduler.Job] = []
    screened: list[dict] = []
    for job in candidates:
        site: Site = job.site
        if not site.has_coordinates:
            screened.append(_screened(job, "location", texts.NO_COORDINATES))
            continue
        fixed = None
        visit = own_visits.get(job.pk)
        sent = _field_fact(revised_live.get(job.pk), job, live_gone)
        if sent is not None and (visit is None or _place(visit) != _place(sent)):
            # Moved or taken out before the field made it fact: publishing it so is refused.
            visit = sent
            back_by_field.add(job.pk)
        elif visit is None and job.pk not in kept_out:
            visit = _field_record(revised_live.get(job.pk), job, today)
            if visit is not None and visit.locked:
                revised_pins.add(job.pk)
        live_there = visit is not None and (visit.job_id, visit.crew_id, visit.date) in live_gone
        is_fixed = visit is not None and (
            visit.locked or job.status in FIXED_STATUSES or live_there
        )
        if is_fixed and visit is not None and visit.date < today and not live_there:
            # Pinned by hand on a day that passed before it went live: the pin is
            # kept (it is the coordinator's), and the job waits for a new place.
            screened.append(
                _screened(
                    job, "locked", texts.LOCKED_ON_DAY_GONE, {"day": texts.day_param(visit.date)}
                )
            )
            continue
        windows = _windows(job, dates if is_fixed else open_dates, horizon_start, calendar)
        if windows is None and not is_fixed:
            screened.append(
                _screened(job, "access", texts.ACCESS_TOO_SHORT, _access_params(job, open_dates))
            )
            continue
        promise_outside = None if is_fixed else _promise_outside(job, open_dates)
        if promise_outside is not None:
            screened.append(_screened(job, "promise", texts.PROMISE_OUTSIDE_PLAN, promise_outside))
            continue
        if job.pk in kept_out and not live_there and job.pk not in back_by_field:
            screened.append(
                {"job_id": job.pk, "reference": job.reference, "reasons": [kept_out[job.pk]]}
            )
            continue
        elsewhere = holdings.jobs.get(job.pk)
        if elsewhere is not None and not (visit is not None and visit.takes_over):
            # Live in another plan: planning it here too would send two crews.
            screened.append(
                _screened(
                    job,
                    "scheduled_elsewhere",
                    texts.LIVE_ELSEWHERE,
                    {
                        "crew": elsewhere.crew.name,
                        "day": texts.day_param(elsewhere.date),
                        "plan": elsewhere.plan_id,
                    },
                )
            )
            continue
        blockers = [] if is_fixed else job_blockers(job, on=open_dates[0])
        if blockers:
            # Whatever its status says, a job whose permission lapsed is not planned.
            blocker = texts.in_every_language(
                functools.partial(_first_blocker_message, job, open_dates[0])
            )
            screened.append(_screened(job, blockers[0].code, texts.BLOCKED, {"blocker": blocker}))
            continue
        if visit is not None and is_fixed:
            if (
                visit.crew_id not in crew_ids
                or not dates[0] <= visit.date <= dates[-1]
                or not usable(visit.crew_id, visit.date)
            ):
                screened.append(_screened(job, "locked", texts.FIXED_VISIT_OUTSIDE))
                continue
            fixed = _fixed_of(visit, dates, horizon_start)
            if visit.date < today:
                fixed_crew_days_gone.add((visit.crew_id, visit.date))
        jobs[str(job.pk)] = job
        served_by: frozenset[str] = frozenset()
        if by_region and fixed is None and site.region is not None:
            served_by = frozenset({region_skill(site.region.code)})
        problem_jobs.append(
            _to_job(
                job,
                dates,
                horizon_start,
                windows or (),
                fixed,
                served_by,
                first_day=0 if fixed is not None else first_open_day,
            )
        )

    def open_crew_day(crew_id: int, date: dt.date) -> bool:
        return (date >= today or (crew_id, date) in fixed_crew_days_gone) and usable(crew_id, date)

    weights = scheduler.Weights(**params.weights)
    rules = scheduler.Rules(
        min_gap_s=params.min_gap_minutes * 60, max_utilization=params.max_utilization
    )
    reference = None
    if plan.revises_id is not None:
        # What crews have now: not what they reported not finished or lost to another plan.
        live = Visit.objects.filter(plan_id=plan.revises_id, route__isnull=False)
        reference = _routes(live, dates)
    # The draft's own visits on days gone by that are not kept there would only
    # make the warm start infeasible: those jobs start again from the queue.
    fixed_ids = {job.id for job in problem_jobs if job.fixed is not None}
    kept = [
        v
        for v in own_visits.values()
        if v.job_id not in back_by_field and (v.date >= today or str(v.job_id) in fixed_ids)
    ]
    warm_start = _routes(kept, dates) if own_visits else reference
    problem = scheduler.Problem(
        crews=tuple(
            _to_crew(crew, (_regions_served(crew) or every_region) if by_region else frozenset())
            for crew in crews
        ),
        crew_days=tuple(_crew_days(crews, dates, horizon_start, calendar, open_crew_day)),
        jobs=tuple(problem_jobs),
        rules=rules,
        weights=weights,
        reference=reference,
        first_date=dates[0],
        time_grid_s=TIME_GRID_S,
    )
    return PlanningInput(
        problem=problem,
        horizon_start=horizon_start,
        dates=dates,
        jobs=jobs,
        crews={str(crew.pk): crew for crew in crews},
        screened_out=tuple(screened),
        warm_start=warm_start,
        revised_pins=frozenset(revised_pins),
    )


#: What :func:`plan_problem` reads of a visit to place its job.
_PLACE_FIELDS = ("job_id", "crew_id", "date", "sequence", "planned_start", "locked", "takes_over")


def _revised_live_visits(plan: Plan) -> dict[int, Visit]:
    """The live visits of the published plan ``plan`` replaces, by job (none for other plans)."""
    if plan.revises_id is None:
        return {}
    live = Visit.objects.filter(plan_id=plan.revises_id, route__isnull=False)
    return {v.job_id: v for v in live.only(*_PLACE_FIELDS)}


def _place(visit: Visit) -> tuple[int, dt.date]:
    return (visit.crew_id, visit.date)


def _field_fact(live: Visit | None, job: Job, live_gone: set[Place]) -> Visit | None:
    """``live`` when the field made it fact: sent out on a day gone by, or started or done there.

    Done or waiting for its report, or with the crew on site, it stays where
    it is live, and publishing refuses a plan that does not hold it there
    (``plans._check_days_gone_stay``, ``plans._check_worked_visits_stay``): it
    wins over the plan's own copy, moved or taken out by hand before then.
    """
    if live is None:
        return None
    if (live.job_id, live.crew_id, live.date) in live_gone or job.status in FIXED_STATUSES:
        return live
    return None


def _field_record(live: Visit | None, job: Job, today: dt.date) -> Visit | None:
    """``live`` when the plan must keep it: the field made it fact, or a coordinator pinned it.

    Fact: its day has gone by, or its job was started or done. A plan holds
    such a visit where it is live whether or not it copied it: "start a new
    plan" for exactly a published week revises it as Revise does (which
    copies the pins), but begins with no visits, and the optimizer would plan
    the job again from today on, or move a hand placement without telling
    anyone. Only the coordinator taking the job out by hand (checked by the
    caller) keeps it out.
    """
    if live is not None and (live.date < today or job.status in FIXED_STATUSES or live.locked):
        return live
    return None


def crew_day_usable(plan: Plan, holdings: Holdings | None = None) -> Callable[[int, dt.date], bool]:
    """Whether ``plan`` may put work on a crew-day.

    Not when another published plan's live route holds it (a crew-day is one
    route), nor, for a region plan of an all-regions week, when the week's
    partition gave it to another region.
    """
    taken = (holdings or ledger_holdings(plan, job_ids=set())).crew_days
    scope = {(int(crew_id), dt.date.fromisoformat(day)) for crew_id, day in plan.crew_day_scope}

    def usable(crew_id: int, date: dt.date) -> bool:
        if (crew_id, date) in taken:
            return False
        return not scope or (crew_id, date) in scope

    return usable


def held_out_by_hand(plan: Plan) -> dict[int, dict]:
    """Jobs taken out of ``plan`` by hand, with that reason: optimizing leaves them out."""
    return {
        row["job_id"]: row["reasons"][0]
        for row in plan.unassigned
        if row.get("reasons") and row["reasons"][0].get("rule") == "manual"
    }


def route_problem(
    *, plan: Plan, crew: Crew, date: dt.date, jobs: list[Job], fixed_visits: dict[int, Visit]
) -> tuple[PlanningInput, list[scheduler.Violation]]:
    """A one-route problem for checking a manual edit: one crew-day and the jobs on it.

    Small on purpose: a drag in the week board must be checked in milliseconds,
    without loading the whole week. Returns the problem and the violations
    found while building it (a site without coordinates, access hours shorter
    than the job) that the scheduler's validator cannot see.
    """
    params = PlanParameters.from_dict(plan.params)
    dates = plan_dates(plan)
    horizon_start = dt.datetime.combine(dates[0], dt.time(0), tzinfo=planning_tz())
    calendar = WorkCalendar.load([crew], dates[0], dates[-1])
    problems: list[scheduler.Violation] = []
    closed = calendar.closed(crew.pk, date)
    if closed is not None:
        problems.append(
            texts.violation(
                "closed_day",
                texts.CREW_CLOSED,
                {"crew": crew.name, "day": texts.day_param(date), "closure": str(closed.label)},
            )
        )
    problem_jobs = []
    for job in jobs:
        if not job.site.has_coordinates:
            problems.append(texts.violation("location", texts.NO_COORDINATES, job_id=str(job.pk)))
            continue
        visit = fixed_visits.get(job.pk)
        fixed = None if visit is None else _fixed_of(visit, dates, horizon_start)
        windows = _windows(job, dates, horizon_start, calendar)
        if windows is None and fixed is None:
            problems.append(
                texts.violation(
                    "access", texts.ACCESS_TOO_SHORT, _access_params(job, dates), str(job.pk)
                )
            )
            continue
        promise_outside = None if fixed is not None else _promise_outside(job, dates)
        if promise_outside is not None:
            problems.append(
                texts.violation("promise", texts.PROMISE_OUTSIDE_PLAN, promise_outside, str(job.pk))
            )
            continue
        problem_jobs.append(_to_job(job, dates, horizon_start, windows or (), fixed))
    crew_days = [
        cd for cd in _crew_days([crew], dates, horizon_start, calendar) if dates[cd.day] == date
    ]
    problem = scheduler.Problem(
        crews=(_to_crew(crew),),
        crew_days=tuple(crew_days),
        jobs=tuple(problem_jobs),
        rules=scheduler.Rules(
            min_gap_s=params.min_gap_minutes * 60, max_utilization=params.max_utilization
        ),
        weights=scheduler.Weights(**params.weights),
        first_date=dates[0],
        time_grid_s=TIME_GRID_S,
    )
    planning = PlanningInput(
        problem=problem,
        horizon_start=horizon_start,
        dates=dates,
        jobs={str(job.pk): job for job in jobs},
        crews={str(crew.pk): crew},
        screened_out=(),
        warm_start=None,
    )
    return planning, problems


def result_visits(
    *,
    plan: Plan,
    planning: PlanningInput,
    result: scheduler.Result,
    locked_job_ids: set[int],
    taking_over: Collection[int] = (),
) -> list[Visit]:
    """Unsaved :class:`Visit` rows for every stop of ``result``.

    ``taking_over`` are the jobs the coordinator took over by hand from another
    published plan: their new visits keep saying so, or publishing would
    refuse them as live elsewhere and the next optimization would drop them.
    """
    visits = []
    for route in result.routes:
        crew = planning.crews[route.crew_id]
        date = planning.date_of(route.day)
        for sequence, stop in enumerate(route.visits, start=1):
            job = planning.jobs[stop.job_id]
            visits.append(
                Visit(
                    plan=plan,
                    job=job,
                    crew=crew,
                    date=date,
                    sequence=sequence,
                    planned_start=planning.at(stop.start_s),
                    planned_end=planning.at(stop.end_s),
                    travel_minutes_from_previous=math.ceil(stop.travel_s / 60),
                    travel_m_from_previous=stop.travel_m,
                    locked=job.pk in locked_job_ids,
                    takes_over=job.pk in taking_over,
                )
            )
    return visits


def result_breaks(
    *, plan: Plan, planning: PlanningInput, result: scheduler.Result
) -> list[PlannedBreak]:
    """Unsaved :class:`PlannedBreak` rows: the lunch the solver placed on each used crew-day."""
    return [
        PlannedBreak(
            plan=plan,
            crew=planning.crews[route.crew_id],
            date=planning.date_of(route.day),
            start=planning.at(route.lunch_start_s),
            end=planning.at(route.lunch_end_s),
        )
        for route in result.routes
        if route.lunch_start_s is not None and route.lunch_end_s is not None
    ]


def result_unassigned(*, planning: PlanningInput, result: scheduler.Result) -> list[dict]:
    """The plan's unassigned list: screened-out jobs first, then the solver's, with reasons."""
    rows = list(planning.screened_out)
    for item in result.unassigned:
        job = planning.jobs[item.job_id]
        rows.append(
            {
                "job_id": job.pk,
                "reference": job.reference,
                "reasons": [
                    texts.as_json(r, **_crew_names(planning, r.params)) for r in item.reasons
                ],
            }
        )
    return rows


def _crew_names(planning: PlanningInput, params: Mapping[str, object]) -> dict[str, str]:
    """``crew_name`` (and ``planned_crew_name``) for the solver's crew ids in ``params``."""
    names = {}
    for key in texts.CREW_PARAMS:
        crew_id = params.get(key)
        crew = planning.crews.get(str(crew_id)) if crew_id is not None else None
        if crew is not None:
            names[f"{key}_name"] = crew.name
    return names


def result_kpis(*, planning: PlanningInput, result: scheduler.Result) -> dict:
    kpis = result.kpis
    routes = [
        {
            "crew_id": int(route.crew_id),
            "date": planning.date_of(route.day).isoformat(),
            "km": round(route.distance_m / 1000, 1),
            "drive_minutes": round(route.drive_s / 60),
            "work_minutes": round(route.work_s / 60),
            "slack_minutes": round(route.slack_s / 60),
            "utilization": round(route.utilization, 3),
            "jobs": len(route.visits),
        }
        for route in result.routes
    ]
    return {
        "jobs_assigned": kpis.jobs_assigned,
        "jobs_unassigned": kpis.jobs_unassigned + len(planning.screened_out),
        "total_km": round(kpis.total_km, 1),
        "drive_hours": round(kpis.drive_hours, 2),
        "work_hours": round(kpis.work_hours, 2),
        "crew_days_used": kpis.crew_days_used,
        "mean_utilization": round(kpis.mean_utilization, 3),
        "mean_slack_minutes": round(kpis.mean_slack_s / 60, 1),
        "km_per_job": round(kpis.km_per_job, 2),
        "promises_kept": kpis.promises_kept,
        "promises_broken": kpis.promises_broken,
        "objective_yen": {name: round(value, 1) for name, value in result.objective_yen.items()},
        "routes": routes,
    }


__all__ = [
    "ParameterError",
    "PlanParameters",
    "PlanningInput",
    "plan_problem",
    "result_breaks",
    "result_kpis",
    "result_unassigned",
    "result_visits",
]
