"""Share the week's crew-days among region plans before they are optimized side by side.

Why: partner companies serve several regions (``PartnerCompany.regions``),
so the region plans of one all-regions week would each see the same crew on
the same day. Optimized in parallel, two of them would both put that crew on
the road, and since a crew-day is one live route (:mod:`dispatch.ledger`),
the second publication would be refused (409). Giving every crew-day to
exactly one region *before* the fan-out removes the conflict at its source:
each region plan gets its share in ``Plan.crew_day_scope`` and never looks
at the others' crew-days (:func:`dispatch.problem.crew_day_usable`).

The rule, in plain words (:func:`partition_crew_days`):

1. A crew that serves one region (of those planned) keeps all its days
   there; so does a crew-day the published plan a region plan revises
   already holds.
2. The days of a crew serving several regions are shared day by day. Each
   region is owed a *fair share* of the capacity seen so far in the range,
   in proportion to its ready work (job minutes plus an allowance for the
   drive between jobs); when the week has more capacity than work, the fair
   share is simply the region's work, spread over the days. Work that only
   some crews can do (a skill, a crew size) is owed capacity of crews that
   can do it, on its own account.
3. Each shared crew-day goes to the region where it is worth most: the work
   the region still lacks capacity for (and the work needing what this crew
   has that still lacks crews who have it), weighed against the extra drive
   from the crew's home base to that region's nearest jobs (compared with
   the crew's nearest region). Work nobody covers costs far more than
   driving (an unplanned job is priced at 200,000 yen, a minute of driving
   at some 60), so a region that is behind pulls crews in; once every region
   has its share, crews stay in the region nearest their home.
4. Within a day, the crew-day that would lose most by not getting its best
   region is decided first (regret order), so crews with a clear home region
   are placed before crews that do not care.

A region without ready work gets no shared crew-day (it would stand idle)
unless none of the crew's regions has any.

Everything is deterministic: the same input in any order gives the same
partition. The core works on plain values (no database), so it can be tested
and reasoned about on its own; :func:`week_partition` feeds it from the
database.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby

from django.db.models import Q

from sites.models import Region

from .calendars import WorkCalendar
from .ledger import live_visits
from .models import Crew, Job, LiveRoute, PartnerCompany, Plan, PlanStatus
from .problem import ready_for
from .selectors import published_plan_for
from .states import JobStatus

CrewDayKey = tuple[int, dt.date]
"""``(crew id, date)``: one crew on one day."""

TRAVEL_ALLOWANCE = 0.25
"""A minute of work needs this much more crew-day time for the drive to and between jobs.

Measured on the demo week (``seed_demo``, region plans of 3 s): 0.12 to 0.39
hours of driving per hour of work by region, 0.21 over all four.
"""

UNCOVERED_WORK_WEIGHT = 10.0
"""A minute of work a region lacks capacity for weighs as much as this many minutes of
extra driving. The objective prices an unplanned job at 200,000 yen and a minute of
driving at some 60; ten keeps the estimate of "lacking" from overruling distance when
it is only a few minutes off."""

NEAREST_JOBS = 4
"""How many of a region's jobs, nearest the crew's home, tell how far its work is: a day's worth."""

DRIVE_SPEED_KMH = 25.0
DETOUR_FACTOR = 1.3
"""The scheduler's straight-line travel estimate (``scheduler.travel.HaversineTravel``)."""

NO_CREW_DAYS: list[list[int | str]] = [[0, "0001-01-01"]]
"""The scope of a region plan that got no crew-day: a pair that matches no crew.

An empty ``crew_day_scope`` means "every free crew-day", so a region left
without crew-days needs a scope that allows nothing rather than an empty one.
"""


@dataclass(frozen=True)
class CrewInfo:
    """What the partition needs to know about a crew."""

    id: int
    regions: tuple[str, ...]
    """Codes of the planned regions its company serves."""
    home: tuple[float, float]
    """Home base, (latitude, longitude)."""
    working_weekdays: frozenset[int] = frozenset(range(5))
    """Weekdays it works, Monday = 0."""
    skills: frozenset[str] = frozenset()
    members: int = 2


@dataclass(frozen=True)
class Requirement:
    """What a job asks of its crew: skills and a crew size."""

    skills: frozenset[str] = frozenset()
    members: int = 1

    def met_by(self, crew: CrewInfo) -> bool:
        return self.skills <= crew.skills and self.members <= crew.members


@dataclass(frozen=True)
class CrewDaySlot:
    """A free crew-day and the minutes of work and driving it can hold."""

    crew_id: int
    date: dt.date
    capacity_minutes: float

    @property
    def key(self) -> CrewDayKey:
        return (self.crew_id, self.date)


@dataclass(frozen=True)
class RegionDemand:
    """A region's ready work for the range: its job minutes and where the jobs are."""

    code: str
    demand_minutes: float
    job_locations: tuple[tuple[float, float], ...] = ()
    """Where its jobs are, (latitude, longitude) each."""
    minutes_by_requirement: Mapping[Requirement, float] = field(default_factory=dict)
    """Its job minutes by what the jobs ask of the crew (skills, crew size)."""

    def reach_km(self, home: tuple[float, float]) -> float | None:
        """How far the region's work is from ``home``: mean distance to its nearest jobs.

        The nearest few jobs, not the centre of all of them: a region may
        straddle the city (Kanagawa and Saitama), and a crew-day there only
        needs a day's worth of jobs near the crew. ``None`` without jobs.
        """
        if not self.job_locations:
            return None
        nearest = sorted(haversine_km(home, where) for where in self.job_locations)
        day = nearest[:NEAREST_JOBS]
        return sum(day) / len(day)

    @property
    def need_minutes(self) -> float:
        """Crew-day minutes the work takes, driving included."""
        return self.demand_minutes * (1 + TRAVEL_ALLOWANCE)


@dataclass(frozen=True)
class RegionShare:
    """What one region got: reported per region plan and in the batch summary."""

    code: str
    crew_days: int
    shared_crew_days: int
    """Of those, crew-days of crews that serve several regions."""
    capacity_minutes: float
    demand_minutes: float

    def as_dict(self) -> dict[str, object]:
        return {
            "region": self.code,
            "crew_days": self.crew_days,
            "shared_crew_days": self.shared_crew_days,
            "capacity_hours": round(self.capacity_minutes / 60, 1),
            "demand_hours": round(self.demand_minutes / 60, 1),
        }


@dataclass(frozen=True)
class WeekPartition:
    """Every free crew-day of the range given to one region, with each region's figures."""

    assignment: dict[CrewDayKey, str]
    shares: dict[str, RegionShare] = field(default_factory=dict)
    excluded_held: int = 0
    """Crew-days left out because another published plan already holds them."""

    def scope(self, code: str) -> list[list[int | str]]:
        """The ``Plan.crew_day_scope`` of region ``code``: its crew-days, sorted."""
        return crew_day_scope(self.assignment, code)

    def summary(self) -> dict[str, object]:
        return {
            "regions": [self.shares[code].as_dict() for code in sorted(self.shares)],
            "crew_days": len(self.assignment),
            "excluded_held": self.excluded_held,
        }


Balance = tuple[str, Requirement | None]
"""What a region is owed capacity for: all its work (``None``) or work with a requirement."""


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle kilometres between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = (math.radians(x) for x in (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371.0088 * math.asin(math.sqrt(min(1.0, h)))


def drive_minutes(km: float) -> float:
    """Minutes to drive ``km`` of straight line, as the scheduler estimates it."""
    return km * DETOUR_FACTOR / DRIVE_SPEED_KMH * 60


def free_crew_days(
    crews: Iterable[CrewInfo],
    dates: Sequence[dt.date],
    *,
    off: Mapping[int, Sequence[tuple[dt.date, dt.date]]] | None = None,
    held: Collection[CrewDayKey] = (),
    closed: Callable[[int, dt.date], bool] | None = None,
) -> list[CrewDayKey]:
    """Crew-days there are to share: working days, minus time off, minus what the ledger holds.

    ``off`` maps a crew to its unavailable (first, last) ranges; ``held`` are
    crew-days another published plan already has on the road: they belong
    to that plan, not to this week's region plans. ``closed`` (the work
    calendar, :mod:`dispatch.calendars`) replaces the weekday and ``off``
    checks when given: it knows holidays, closures and extra working days too.
    """
    off = off or {}
    days = []
    for crew in sorted(crews, key=lambda c: c.id):
        for date in dates:
            if closed is not None:
                if closed(crew.id, date):
                    continue
            elif date.weekday() not in crew.working_weekdays or any(
                first <= date <= last for first, last in off.get(crew.id, ())
            ):
                continue
            if (crew.id, date) in held:
                continue
            days.append((crew.id, date))
    return days


def partition_crew_days(
    crews: Sequence[CrewInfo],
    crew_days: Sequence[CrewDaySlot],
    regions: Sequence[RegionDemand],
    *,
    pinned: Mapping[CrewDayKey, str] | None = None,
) -> dict[CrewDayKey, str]:
    """Give every crew-day to exactly one region (see the module's docstring for the rule).

    Parameters
    ----------
    crews
        Every crew that owns a crew-day; its ``regions`` must name at least
        one of ``regions``.
    crew_days
        The free crew-days (unique), with their capacity.
    regions
        The regions planned, with their ready work.
    pinned
        Crew-days that must go to a given region (those the published plan
        a region plan revises already holds).

    Returns
    -------
    dict
        ``(crew id, date) -> region code`` for every crew-day of ``crew_days``.
    """
    pinned = pinned or {}
    by_code = {region.code: region for region in regions}
    codes = sorted(by_code)
    crew_by_id = {crew.id: crew for crew in crews}
    slots = sorted(crew_days, key=lambda slot: (slot.date, slot.crew_id))
    if len({slot.key for slot in slots}) != len(slots):
        raise ValueError("a crew-day is listed twice")
    for key, code in pinned.items():
        if code not in by_code:
            raise ValueError(f"crew-day {key} is pinned to unknown region {code!r}")
    served: dict[int, list[str]] = {}
    for slot in slots:
        crew = crew_by_id.get(slot.crew_id)
        if crew is None:
            raise ValueError(f"crew-day {slot.key} belongs to an unknown crew")
        served[crew.id] = sorted(code for code in set(crew.regions) if code in by_code)
        if not served[crew.id]:
            raise ValueError(f"crew {crew.id} serves none of the regions planned")

    # What each region is owed, as a whole and, for work only some crews can do,
    # per requirement: capacity of crews that meet it counts there too.
    demanding = _special_requirements(regions, [crew_by_id[crew_id] for crew_id in served])
    need: dict[Balance, float] = {}
    for code in codes:
        need[(code, None)] = by_code[code].need_minutes
        for requirement in demanding[code]:
            minutes = by_code[code].minutes_by_requirement[requirement]
            need[(code, requirement)] = minutes * (1 + TRAVEL_ALLOWANCE)
    counts_for = {
        (crew_id, code): [(code, None)]
        + [(code, r) for r in demanding[code] if r.met_by(crew_by_id[crew_id])]
        for crew_id, choices in served.items()
        for code in choices
    }
    total_capacity = sum(slot.capacity_minutes for slot in slots)
    # More capacity than work: each region is owed its work. Less: each is owed
    # its proportional part of the capacity there is.
    denominator = max(total_capacity, sum(need[(code, None)] for code in codes))
    extra_drive = {
        crew_id: _extra_drive(crew_by_id[crew_id], choices, by_code)
        for crew_id, choices in served.items()
    }

    given: dict[Balance, float] = dict.fromkeys(need, 0.0)
    capacity_so_far = 0.0
    assignment: dict[CrewDayKey, str] = {}

    def give(slot: CrewDaySlot, code: str) -> None:
        assignment[slot.key] = code
        for balance in counts_for[(slot.crew_id, code)]:
            given[balance] += slot.capacity_minutes

    for _date, day in groupby(slots, key=lambda slot: slot.date):
        day_slots = list(day)
        capacity_so_far += sum(slot.capacity_minutes for slot in day_slots)
        owed = {
            balance: minutes * capacity_so_far / denominator if denominator else 0.0
            for balance, minutes in need.items()
        }
        shared: list[CrewDaySlot] = []
        for slot in day_slots:
            choices = served[slot.crew_id]
            if slot.key in pinned:
                give(slot, pinned[slot.key])
            elif len(choices) == 1:
                give(slot, choices[0])
            else:
                shared.append(slot)
        while shared:
            # Decide first the crew-day that loses most by not getting its best region.
            ranked = []
            for slot in shared:
                options = []
                for code in served[slot.crew_id]:
                    if need[(code, None)] <= 0:
                        continue  # a crew-day there would stand idle
                    lacking = sum(
                        max(owed[balance] - given[balance], 0.0)
                        for balance in counts_for[(slot.crew_id, code)]
                    )
                    drive = extra_drive[slot.crew_id][code]
                    options.append((UNCOVERED_WORK_WEIGHT * lacking - drive, drive, code))
                if not options:  # no work in any of its regions: the nearest
                    options = [(0.0, extra_drive[slot.crew_id][c], c) for c in served[slot.crew_id]]
                options.sort(key=lambda option: (-option[0], option[1], option[2]))
                regret = options[0][0] - options[1][0] if len(options) > 1 else math.inf
                ranked.append((-regret, slot.crew_id, options[0][2], slot))
            ranked.sort(key=lambda row: (row[0], row[1]))
            _, _, code, slot = ranked[0]
            give(slot, code)
            shared.remove(slot)
    return assignment


def _special_requirements(
    regions: Sequence[RegionDemand], crews: Sequence[CrewInfo]
) -> dict[str, list[Requirement]]:
    """Per region, the requirements of its work that some crew does not meet, in a fixed order.

    Work every crew can do is already counted in the region as a whole.
    """
    special = {}
    for region in regions:
        special[region.code] = sorted(
            (
                requirement
                for requirement, minutes in region.minutes_by_requirement.items()
                if minutes > 0 and not all(requirement.met_by(crew) for crew in crews)
            ),
            key=lambda r: (sorted(r.skills), r.members),
        )
    return special


def _extra_drive(
    crew: CrewInfo, codes: list[str], by_code: Mapping[str, RegionDemand]
) -> dict[str, float]:
    """Round-trip minutes from the crew's home to each region's work, beyond its nearest region."""
    km = {code: by_code[code].reach_km(crew.home) for code in codes}
    known = [value for value in km.values() if value is not None]
    nearest = min(known) if known else 0.0
    return {
        code: 0.0 if value is None else 2 * drive_minutes(value - nearest)
        for code, value in km.items()
    }


def crew_day_scope(assignment: Mapping[CrewDayKey, str], code: str) -> list[list[int | str]]:
    """Region ``code``'s crew-days as ``Plan.crew_day_scope`` stores them (or no crew-day)."""
    scope: list[list[int | str]] = [
        [crew_id, date.isoformat()]
        for (crew_id, date), owner in sorted(assignment.items())
        if owner == code
    ]
    return scope or [list(pair) for pair in NO_CREW_DAYS]


def region_shares(
    assignment: Mapping[CrewDayKey, str],
    crew_days: Sequence[CrewDaySlot],
    crews: Sequence[CrewInfo],
    regions: Sequence[RegionDemand],
) -> dict[str, RegionShare]:
    """Per region: crew-days given (and how many of them shared), capacity and demand."""
    capacity = {slot.key: slot.capacity_minutes for slot in crew_days}
    codes = {region.code for region in regions}
    several = {crew.id for crew in crews if len(codes.intersection(crew.regions)) > 1}
    days: dict[str, int] = defaultdict(int)
    shared: dict[str, int] = defaultdict(int)
    minutes: dict[str, float] = defaultdict(float)
    for key, code in assignment.items():
        days[code] += 1
        shared[code] += key[0] in several
        minutes[code] += capacity[key]
    return {
        region.code: RegionShare(
            code=region.code,
            crew_days=days[region.code],
            shared_crew_days=shared[region.code],
            capacity_minutes=minutes[region.code],
            demand_minutes=region.demand_minutes,
        )
        for region in regions
    }


# --- From the database ----------------------------------------------------------------


def regions_to_plan(*, start_date: dt.date, end_date: dt.date) -> list[Region]:
    """All regions with something to plan: ready jobs for the range, or active crews."""
    ready = Job.objects.filter(ready_for(_range_plan(start_date, end_date)))
    with_jobs = Region.objects.filter(sites__jobs__in=ready)
    with_crews = Region.objects.filter(partner_companies__crews__is_active=True)
    return list((with_jobs | with_crews).distinct().order_by("code"))


def _range_plan(start_date: dt.date, end_date: dt.date, region: Region | None = None) -> Plan:
    """An unsaved plan for the range, to ask :func:`dispatch.problem.ready_for` what it may take."""
    return Plan(start_date=start_date, end_date=end_date, region=region)


def week_partition(
    *,
    start_date: dt.date,
    end_date: dt.date,
    regions: Sequence[Region],
    max_utilization: float,
) -> WeekPartition:
    """The partition of the range's free crew-days among ``regions``, read from the database.

    Capacity of a crew-day: its shift times the maximum utilization (the
    crew's own or ``max_utilization``), and no more than its job limit at the
    mean job length. Demand of a region: the minutes of the ready jobs its
    plan would take (:func:`dispatch.problem.ready_for`, sites with
    coordinates), plus the jobs live in the published plan it will revise.
    """
    codes = {region.pk: region.code for region in regions}
    dates = [start_date + dt.timedelta(days=i) for i in range((end_date - start_date).days + 1)]
    demands, mean_job_minutes = _demands(start_date, end_date, regions)

    company_regions: dict[int, set[str]] = defaultdict(set)
    through = PartnerCompany.regions.through
    for company_id, region_id in through.objects.filter(region_id__in=codes).values_list(
        "partnercompany_id", "region_id"
    ):
        company_regions[company_id].add(codes[region_id])
    crews = list(
        Crew.objects.filter(is_active=True, company_id__in=company_regions)
        .select_related("company")
        .order_by("id")
    )
    infos = [
        CrewInfo(
            id=crew.pk,
            regions=tuple(sorted(company_regions[crew.company_id])),
            home=(crew.home_latitude, crew.home_longitude),
            working_weekdays=frozenset(crew.working_weekday_numbers),
            skills=frozenset(skill.code for skill in crew.skills.all()),
            members=crew.members,
        )
        for crew in crews
    ]
    calendar = WorkCalendar.load(crews, start_date, end_date)

    # A region plan revises the published plan of exactly its region and dates
    # (dispatch.plans.plan_create): that plan's crew-days stay with it.
    revised = {
        plan.pk: plan.region.code  # type: ignore[union-attr]
        for plan in Plan.objects.filter(
            region__in=regions,
            status=PlanStatus.PUBLISHED,
            start_date=start_date,
            end_date=end_date,
        ).select_related("region")
    }
    pinned: dict[CrewDayKey, str] = {}
    held: set[CrewDayKey] = set()
    for route in LiveRoute.objects.filter(date__range=(start_date, end_date)):
        key = (route.crew_id, route.date)
        if route.plan_id in revised:
            pinned[key] = revised[route.plan_id]
        else:
            held.add(key)

    by_id = {crew.pk: crew for crew in crews}
    slots = [
        CrewDaySlot(
            crew_id, date, _capacity_minutes(by_id[crew_id], max_utilization, mean_job_minutes)
        )
        for crew_id, date in free_crew_days(
            infos,
            dates,
            held=held,
            closed=lambda crew_id, date: calendar.closed(crew_id, date) is not None,
        )
    ]
    pinned = {key: code for key, code in pinned.items() if key in {s.key for s in slots}}
    assignment = partition_crew_days(infos, slots, demands, pinned=pinned)
    return WeekPartition(
        assignment=assignment,
        shares=region_shares(assignment, slots, infos, demands),
        excluded_held=len(
            {key for key in held if key[0] in by_id and start_date <= key[1] <= end_date}
        ),
    )


def _capacity_minutes(crew: Crew, max_utilization: float, mean_job_minutes: float) -> float:
    shift = dt.datetime.combine(dt.date.min, crew.shift_end) - dt.datetime.combine(
        dt.date.min, crew.shift_start
    )
    utilization = (
        max_utilization
        if crew.max_utilization_percent is None
        else crew.max_utilization_percent / 100
    )
    lunch = crew.lunch
    working_minutes = shift.total_seconds() / 60 - (lunch.minutes if lunch else 0)
    by_shift = working_minutes * utilization
    by_jobs = crew.max_jobs_per_day * mean_job_minutes * (1 + TRAVEL_ALLOWANCE)
    return min(by_shift, by_jobs)


def _demands(
    start_date: dt.date, end_date: dt.date, regions: Sequence[Region]
) -> tuple[list[RegionDemand], float]:
    """Each region's ready work and where its jobs are; and the mean job length over all."""
    demands = []
    all_minutes: list[int] = []
    for region in sorted(regions, key=lambda r: r.code):
        plan = _range_plan(start_date, end_date, region)
        revised = published_plan_for(
            region=region, start_date=start_date, end_date=end_date
        ).values("pk")
        live = live_visits().filter(plan_id__in=revised).values("job_id")
        jobs = (
            Job.objects.filter(ready_for(plan) | Q(pk__in=live))
            .exclude(status=JobStatus.CANCELLED)
            .select_related("site")
            .prefetch_related("required_skills")
            .order_by("id")
        )
        minutes = 0.0
        locations = []
        by_requirement: dict[Requirement, float] = defaultdict(float)
        for job in jobs:
            site = job.site
            if site.latitude is None or site.longitude is None:
                continue  # the planner screens it out: no crew time goes to it
            minutes += job.duration_minutes
            locations.append((site.latitude, site.longitude))
            requirement = Requirement(
                frozenset(skill.code for skill in job.required_skills.all()), job.members_needed
            )
            by_requirement[requirement] += job.duration_minutes
            all_minutes.append(job.duration_minutes)
        demands.append(RegionDemand(region.code, minutes, tuple(locations), dict(by_requirement)))
    mean = sum(all_minutes) / len(all_minutes) if all_minutes else 120.0
    return demands, mean
