"""The planning problem as frozen dataclasses: what goes into the solver.

Units convention (one for the whole package)
--------------------------------------------
* **Time** is an integer number of **seconds** on one absolute axis that starts
  at the beginning of the planning horizon (``t = 0`` is midnight of day 0 in
  the product; :data:`DAY_S` seconds per day). Fields end in ``_s``.
* **Days** are integer **day indexes** from the horizon start (``day = 0`` is
  the first planned day). Converting to calendar dates is the caller's job, so
  the library never handles naive or aware datetimes.
* **Distance** is an integer number of **metres** (fields end in ``_m``).
* **Money** is integer **yen** (fields end in ``_yen``). The solver works in
  milli-yen internally so that costs per metre stay exact.

A benchmark with fractional units (Solomon VRPTW) scales its numbers to
integers before building a :class:`Problem`, e.g. ``1 time unit = 1000 s``,
and passes an explicit :class:`~scheduler.travel.TravelMatrix`.

Why integers: OR-Tools' routing solver only handles integer cumuls and costs;
keeping the model integral means the validator, the result and the solver all
compute exactly the same numbers.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from scheduler.phrases import Day, DayRange, Listing, When, Window

if TYPE_CHECKING:
    from scheduler.travel import TravelMatrix

DAY_S = 86_400
"""Seconds per day on the absolute time axis (day ``d`` starts at ``d * DAY_S``)."""

MIN_PRIORITY = 1
MAX_PRIORITY = 5

NEVER_S = 2**62
"""A start no shift reaches: the window of a job whose hard promise and access windows
do not overlap (an empty tuple of windows would mean "any time")."""


def time_of_day_s(t_s: int) -> int:
    """Seconds since midnight of the day ``t_s`` falls on (``t - day * DAY_S``)."""
    return t_s - (t_s // DAY_S) * DAY_S


def clock_label(t_s: int) -> str:
    """``"HH:MM"`` of an absolute time, as crews read it (the time of day of ``t_s``)."""
    seconds = time_of_day_s(t_s)
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


@dataclass(frozen=True)
class Location:
    """A point on the map, in WGS84 degrees.

    Locations are value objects: two jobs at the same coordinates share one row
    of the travel matrix. When an explicit travel matrix is given (benchmarks,
    OSRM) the coordinates only serve as keys and need not be geographic.
    """

    lat: float
    lon: float


@dataclass(frozen=True)
class TimeWindow:
    """A closed interval ``[start_s, end_s]`` in which a visit may **start**.

    Windows constrain the start of service (as in the VRPTW literature). To make
    a visit also *finish* before a building closes, pass
    ``end_s = closing_s - duration_s``.
    """

    start_s: int
    end_s: int

    def __post_init__(self) -> None:
        if self.end_s < self.start_s:
            raise ValueError(f"time window ends before it starts: {self}")

    def contains(self, t_s: int) -> bool:
        """Whether a visit may start at ``t_s``."""
        return self.start_s <= t_s <= self.end_s


def daily_windows(days: Iterable[int], open_s: int, close_s: int) -> tuple[TimeWindow, ...]:
    """Build one start window per day from a time-of-day interval.

    Parameters
    ----------
    days
        Day indexes on which the job may be visited.
    open_s, close_s
        Seconds after midnight of each day (e.g. ``9 * 3600``, ``17 * 3600``).

    Returns
    -------
    tuple[TimeWindow, ...]
        Absolute windows ``[d * DAY_S + open_s, d * DAY_S + close_s]``, sorted.
    """
    return tuple(TimeWindow(d * DAY_S + open_s, d * DAY_S + close_s) for d in sorted(set(days)))


@dataclass(frozen=True)
class Crew:
    """A team of a partner company that drives from its home base to the sites.

    Attributes
    ----------
    id
        Stable identifier (the product uses the database primary key as text).
    home
        Where every crew-day starts and ends.
    skills
        What the crew can do; a job's ``required_skills`` must be a subset.
    members
        Number of workers; a job needing more members cannot go to this crew.
    cost_per_km_yen
        What a kilometre costs this crew (fuel, tolls): the main reason to batch
        nearby jobs on one day.
    min_gap_s, max_utilization
        Per-crew overrides of the problem-wide :class:`Rules` (``None`` = use
        the problem's rule). Some partners want more slack than others.
    max_jobs_per_day
        Upper bound on visits per crew-day (``None`` = no bound).
    capacity_units
        What the crew can carry per day (equipment units); a crew-day's job
        ``demand_units`` must sum to at most this (``None`` = unlimited).
    """

    id: str
    home: Location
    skills: frozenset[str] = frozenset()
    members: int = 1
    cost_per_km_yen: int = 30
    min_gap_s: int | None = None
    max_utilization: float | None = None
    max_jobs_per_day: int | None = None
    capacity_units: int | None = None

    def __post_init__(self) -> None:
        if self.members < 1:
            raise ValueError(f"crew {self.id}: members must be >= 1")
        if self.cost_per_km_yen < 0:
            raise ValueError(f"crew {self.id}: cost_per_km_yen must be >= 0")
        if self.min_gap_s is not None and self.min_gap_s < 0:
            raise ValueError(f"crew {self.id}: min_gap_s must be >= 0")
        if self.max_utilization is not None and not 0 < self.max_utilization <= 1:
            raise ValueError(f"crew {self.id}: max_utilization must be in (0, 1]")
        if self.max_jobs_per_day is not None and self.max_jobs_per_day < 0:
            raise ValueError(f"crew {self.id}: max_jobs_per_day must be >= 0")
        if self.capacity_units is not None and self.capacity_units < 0:
            raise ValueError(f"crew {self.id}: capacity_units must be >= 0")


@dataclass(frozen=True)
class Break:
    """One uninterrupted break (lunch) of a crew-day, on the absolute time axis.

    The crew takes it once, for ``duration_s``, starting anywhere in
    ``[earliest_start_s, latest_start_s]``. It never overlaps on-site work, and
    neither driving nor the minimum gap between jobs happens during it: between
    two visits ``i`` and ``j`` with the break in between,
    ``start(j) >= end(i) + travel + min_gap + duration_s``. It may also fall
    before the crew leaves home or after it is back (still inside its window).
    """

    earliest_start_s: int
    latest_start_s: int
    duration_s: int

    def __post_init__(self) -> None:
        if self.latest_start_s < self.earliest_start_s:
            raise ValueError(f"break window ends before it starts: {self}")
        if self.duration_s <= 0:
            raise ValueError(f"break duration must be > 0: {self}")


@dataclass(frozen=True)
class CrewDay:
    """A crew working on one day: one route from home back to home.

    Only days on which the crew works (minus holidays and unavailability) exist
    as crew-days; the solver never invents one. The whole route, travel home
    included, must lie inside ``[shift_start_s, shift_end_s]``.

    ``lunch`` is the crew-day's break (``None`` = no break is planned). Its
    whole window must lie in the shift (``shift_start_s <= earliest_start_s``
    and ``latest_start_s + duration_s <= shift_end_s``), so that a break before
    departure or after the return is still working time of the day.
    """

    crew_id: str
    day: int
    shift_start_s: int
    shift_end_s: int
    lunch: Break | None = None

    def __post_init__(self) -> None:
        if self.shift_end_s < self.shift_start_s:
            raise ValueError(f"crew-day {self.key}: shift ends before it starts")
        lunch = self.lunch
        if lunch is not None and (
            lunch.earliest_start_s < self.shift_start_s
            or lunch.latest_start_s + lunch.duration_s > self.shift_end_s
        ):
            raise ValueError(f"crew-day {self.key}: the lunch window must lie inside the shift")

    @property
    def key(self) -> tuple[str, int]:
        """``(crew_id, day)``: how routes, plans and results refer to a crew-day."""
        return (self.crew_id, self.day)

    @property
    def shift_s(self) -> int:
        """Length of the shift in seconds."""
        return self.shift_end_s - self.shift_start_s

    @property
    def lunch_s(self) -> int:
        """Duration of the lunch break (0 without one)."""
        return 0 if self.lunch is None else self.lunch.duration_s

    @property
    def working_s(self) -> int:
        """Shift minus lunch: the time work and travel can fill at most."""
        return self.shift_s - self.lunch_s


@dataclass(frozen=True)
class FixedAssignment:
    """A visit that must stay where it is: locked by a coordinator, or in progress/done.

    Attributes
    ----------
    crew_id, day
        The crew-day the job must stay on.
    start_s
        When given, the visit starts exactly then (this replaces the job's
        windows: an in-progress job started when it started).
    sequence
        When given, the 0-based position of the visit in its route
        (``0`` = first visit of the day).
    """

    crew_id: str
    day: int
    start_s: int | None = None
    sequence: int | None = None

    def __post_init__(self) -> None:
        if self.sequence is not None and self.sequence < 0:
            raise ValueError("sequence must be >= 0")


@dataclass(frozen=True)
class Job:
    """One visit of work at a site.

    Attributes
    ----------
    id
        Stable identifier.
    location
        Where the work happens.
    duration_s
        Time on site.
    required_skills, members_needed
        What the crew must bring (hard rules).
    earliest_day
        First day the job may be done (permissions granted, material ready).
    due_day
        Promised day. Hard when ``due_is_hard`` (the job may not be planned
        later); otherwise each day late costs ``Weights.lateness_yen_per_day``
        times the priority.
    unavailable_days
        Days the customer refused.
    windows
        Access windows in which the visit may **start**. Empty means "any time
        inside the crew's shift" (the default whole-day window).
    priority
        1 (low) .. 5 (high). Higher priority costs more when unassigned or late,
        so the solver drops low-priority work first when capacity runs out.
    demand_units
        Equipment the job uses up from the crew-day's ``capacity_units``.
    fixed
        Locked or in-progress/done assignment (see :class:`FixedAssignment`).
    preferred_days, preferred_windows
        What the customer was promised: days (empty = no promised day) and
        absolute **start** windows (like ``windows``; usually one per day;
        empty = no promised time slot).
    promise_is_hard
        Hard: the job may only be planned on a promised day and must start
        inside a preferred window *and* an access window (see
        :meth:`day_allowed`, :meth:`start_windows`). Soft: a day not promised
        costs ``Weights.preferred_day_yen x priority``; a start outside the
        slot costs ``Weights.preferred_window_yen_per_hour x priority`` per
        hour (see :meth:`preferred_slot_s`). The promised days are
        ``preferred_days``, or else the days of ``preferred_windows``
        (:attr:`promised_days`).
    """

    id: str
    location: Location
    duration_s: int
    required_skills: frozenset[str] = frozenset()
    members_needed: int = 1
    earliest_day: int | None = None
    due_day: int | None = None
    due_is_hard: bool = False
    unavailable_days: frozenset[int] = frozenset()
    windows: tuple[TimeWindow, ...] = ()
    priority: int = 3
    demand_units: int = 0
    fixed: FixedAssignment | None = None
    preferred_days: frozenset[int] = frozenset()
    preferred_windows: tuple[TimeWindow, ...] = ()
    promise_is_hard: bool = False

    def __post_init__(self) -> None:
        if self.duration_s < 0:
            raise ValueError(f"job {self.id}: duration_s must be >= 0")
        if self.members_needed < 1:
            raise ValueError(f"job {self.id}: members_needed must be >= 1")
        if not MIN_PRIORITY <= self.priority <= MAX_PRIORITY:
            raise ValueError(f"job {self.id}: priority must be in 1..5")
        if self.demand_units < 0:
            raise ValueError(f"job {self.id}: demand_units must be >= 0")
        for name in ("windows", "preferred_windows"):
            windows = getattr(self, name)
            if list(windows) != sorted(windows, key=lambda w: w.start_s):
                raise ValueError(f"job {self.id}: {name} must be sorted by start")

    @property
    def has_soft_promise(self) -> bool:
        """Whether the job carries a promise that is priced rather than enforced."""
        return not self.promise_is_hard and bool(self.preferred_days or self.preferred_windows)

    @cached_property
    def promised_days(self) -> frozenset[int]:
        """The promised days: ``preferred_days``, else the days of the preferred windows.

        "Promised 12/07 09:00-12:00" promises the day too, so a soft promise
        given as windows alone also prices a visit on another day.
        """
        if self.preferred_days:
            return self.preferred_days
        return frozenset(w.start_s // DAY_S for w in self.preferred_windows)

    def day_allowed(self, day: int) -> bool:
        """Whether the job's dates allow a visit on ``day`` (hard rules only).

        A hard promise allows only its promised days (:attr:`promised_days`).
        """
        if self.earliest_day is not None and day < self.earliest_day:
            return False
        if self.due_is_hard and self.due_day is not None and day > self.due_day:
            return False
        if self.promise_is_hard and self.promised_days and day not in self.promised_days:
            return False
        return day not in self.unavailable_days

    def start_allowed(self, t_s: int) -> bool:
        """Whether the visit may start at ``t_s`` (locked start, else windows)."""
        windows = self.start_windows()
        return not windows or any(w.contains(t_s) for w in windows)

    def start_windows(self) -> tuple[TimeWindow, ...]:
        """The effective start windows: the locked start, the windows, or ``()`` = any.

        With a hard promise the windows are the intersection of the access
        windows and the preferred windows, so every consumer (timing,
        screening, the solver, the validator) sees the promise. An empty
        intersection is one window at :data:`NEVER_S` (not ``()``, which would
        mean "any time"): screening reports such a job before the solver.
        """
        if self.fixed is not None and self.fixed.start_s is not None:
            return (TimeWindow(self.fixed.start_s, self.fixed.start_s),)
        return self._effective_windows

    @cached_property
    def _effective_windows(self) -> tuple[TimeWindow, ...]:
        # Cached on the (frozen) instance: the timing asks for it at every visit.
        if not (self.promise_is_hard and self.preferred_windows):
            return self.windows
        if not self.windows:
            return self.preferred_windows
        both = sorted(
            (max(w.start_s, p.start_s), min(w.end_s, p.end_s))
            for w in self.windows
            for p in self.preferred_windows
            if max(w.start_s, p.start_s) <= min(w.end_s, p.end_s)
        )
        if not both:
            return (TimeWindow(NEVER_S, NEVER_S),)
        return tuple(TimeWindow(start_s, end_s) for start_s, end_s in both)

    def preferred_slot_s(self) -> tuple[int, int] | None:
        """The promised start slot as a time-of-day interval, or ``None`` without one.

        The hull of the preferred windows' times of day: a start is priced by
        its distance to one interval per job, so a promise whose windows
        differ in time of day from day to day is priced against their hull
        (documented approximation; the day itself is priced separately, and a
        hard promise uses the exact windows).
        """
        if not self.preferred_windows:
            return None
        starts, ends = [], []
        for w in self.preferred_windows:
            midnight = (w.start_s // DAY_S) * DAY_S
            starts.append(w.start_s - midnight)
            ends.append(w.end_s - midnight)
        return (min(starts), max(ends))


@dataclass(frozen=True)
class Rules:
    """Problem-wide hard rules that crews may override (see :class:`Crew`).

    Attributes
    ----------
    min_gap_s
        Planned free time between two consecutive jobs of a crew-day, on top
        of the travel between them. A crew under time pressure makes mistakes;
        this is the slack the coordinator asks for.
    max_utilization
        Upper bound on (work + travel) / shift length of every crew-day, so a
        day is never packed to the minute.
    """

    min_gap_s: int = 0
    max_utilization: float = 1.0

    def __post_init__(self) -> None:
        if self.min_gap_s < 0:
            raise ValueError("min_gap_s must be >= 0")
        if not 0 < self.max_utilization <= 1:
            raise ValueError("max_utilization must be in (0, 1]")


@dataclass(frozen=True)
class Weights:
    """Prices of the soft goals, in yen, so every term of the objective is money.

    Attributes
    ----------
    drive_yen_per_hour
        Cost of a crew's driving time (wages), on top of the crew's per-km cost.
    crew_day_fixed_yen
        Cost of using a crew-day at all: pushes work onto fewer, fuller days.
    lateness_yen_per_day
        Per day past a soft due date, multiplied by the job's priority.
    unassigned_yen
        Per unassigned job, multiplied by its priority. Must dominate travel
        costs so the solver only drops work it cannot fit.
    disruption_yen
        Per job planned on another crew-day than in the reference plan.
    preferred_day_yen
        Per job with a soft promised day planned on another day, multiplied
        by its priority (a broken day promise costs as much as four days late).
    preferred_window_yen_per_hour
        Per hour a soft-promised job starts outside its promised slot,
        multiplied by its priority, pro rata per second (3,600 yen an hour is
        exactly 1 yen a second, so the solver's coefficient stays integral).
    """

    drive_yen_per_hour: int = 2_000
    crew_day_fixed_yen: int = 5_000
    lateness_yen_per_day: int = 5_000
    unassigned_yen: int = 200_000
    disruption_yen: int = 20_000
    preferred_day_yen: int = 20_000
    preferred_window_yen_per_hour: int = 3_600

    def __post_init__(self) -> None:
        for name in (
            "drive_yen_per_hour",
            "crew_day_fixed_yen",
            "lateness_yen_per_day",
            "unassigned_yen",
            "disruption_yen",
            "preferred_day_yen",
            "preferred_window_yen_per_hour",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")

    def preferred_window_milli_per_s(self, priority: int) -> int:
        """Milli-yen per second outside a soft promised slot (integer, rounded half up)."""
        return (self.preferred_window_yen_per_hour * priority * 1000 + 1800) // 3600


@dataclass(frozen=True)
class Plan:
    """Ordered job ids per crew-day: a reference plan or a warm start.

    ``routes`` maps ``(crew_id, day)`` to job ids in visit order. A
    :class:`~scheduler.result.Result` converts to a plan with ``to_plan()``.
    """

    routes: Mapping[tuple[str, int], tuple[str, ...]] = field(default_factory=dict)

    def assignment(self) -> dict[str, tuple[str, int]]:
        """``job_id -> (crew_id, day)`` for every planned job."""
        return {job_id: key for key, job_ids in self.routes.items() for job_id in job_ids}


@dataclass(frozen=True, eq=False)
class Problem:
    """Everything the solver needs: crews, their working days, jobs, rules, prices.

    Attributes
    ----------
    crews, crew_days, jobs
        The planning data. Every crew-day must reference a crew.
    rules
        Problem-wide hard rules (slack, utilization), overridable per crew.
    weights
        Prices of the soft goals.
    travel
        Distance and duration between all locations. ``None`` builds the
        default haversine estimate (:func:`scheduler.travel.travel_for`).
    reference
        A published plan to stay close to (minimal disruption), or ``None``.
    first_date
        The calendar date of day 0, used **only** to label days in messages
        (``"12/07"``); the scheduler computes on day indexes alone.
    time_grid_s
        When > 1, travel durations are rounded up to this grid in the matrix
        used for planning (:func:`scheduler.travel.travel_for`), so with
        grid-aligned shift starts, durations, gaps, windows and lunches every
        planned start lands on the grid (e.g. ``300``: a 5-minute grid).
    """

    crews: tuple[Crew, ...]
    crew_days: tuple[CrewDay, ...]
    jobs: tuple[Job, ...]
    rules: Rules = Rules()
    weights: Weights = Weights()
    travel: TravelMatrix | None = None
    reference: Plan | None = None
    first_date: datetime.date | None = None
    time_grid_s: int = 1

    def __post_init__(self) -> None:
        if self.time_grid_s < 1:
            raise ValueError("time_grid_s must be >= 1")
        crew_ids = [c.id for c in self.crews]
        if len(set(crew_ids)) != len(crew_ids):
            raise ValueError("crew ids must be unique")
        job_ids = [j.id for j in self.jobs]
        if len(set(job_ids)) != len(job_ids):
            raise ValueError("job ids must be unique")
        keys = [cd.key for cd in self.crew_days]
        if len(set(keys)) != len(keys):
            raise ValueError("crew-days must be unique per (crew_id, day)")
        known = set(crew_ids)
        for cd in self.crew_days:
            if cd.crew_id not in known:
                raise ValueError(f"crew-day {cd.key} references unknown crew")

    def crew(self, crew_id: str) -> Crew:
        """The crew with this id (``KeyError`` if unknown)."""
        return self._crews_by_id[crew_id]

    def crews_by_id(self) -> Mapping[str, Crew]:
        """``crew_id -> Crew`` (built once; do not mutate)."""
        return self._crews_by_id

    def jobs_by_id(self) -> Mapping[str, Job]:
        """``job_id -> Job`` (built once; do not mutate)."""
        return self._jobs_by_id

    def crew_days_by_key(self) -> Mapping[tuple[str, int], CrewDay]:
        """``(crew_id, day) -> CrewDay`` (built once; do not mutate)."""
        return self._crew_days_by_key

    # Lookups are cached because validators and reason checks call them per
    # route and per insertion; the problem is immutable, so they never go stale.
    @cached_property
    def _crews_by_id(self) -> Mapping[str, Crew]:
        return {c.id: c for c in self.crews}

    @cached_property
    def _jobs_by_id(self) -> Mapping[str, Job]:
        return {j.id: j for j in self.jobs}

    @cached_property
    def _crew_days_by_key(self) -> Mapping[tuple[str, int], CrewDay]:
        return {cd.key: cd for cd in self.crew_days}

    def min_gap_s(self, crew: Crew) -> int:
        """The effective minimum gap between consecutive jobs of this crew."""
        return self.rules.min_gap_s if crew.min_gap_s is None else crew.min_gap_s

    def max_utilization(self, crew: Crew) -> float:
        """The effective maximum utilization of this crew's days."""
        if crew.max_utilization is None:
            return self.rules.max_utilization
        return crew.max_utilization

    def busy_cap_s(self, crew_day: CrewDay) -> int:
        """Maximum work + travel seconds on a crew-day.

        floor(max_utilization x (shift - lunch)): the lunch is not working
        time, so a crew with a lunch break is never planned fuller than one
        without.
        """
        crew = self.crew(crew_day.crew_id)
        # The small epsilon keeps 0.85 * 36000 = 30600 from flooring to 30599.
        return int(self.max_utilization(crew) * crew_day.working_s + 1e-9)

    def day_ref(self, day: int) -> Day:
        """A day as a message parameter: its index and ISO date (formats as :meth:`day_label`)."""
        if self.first_date is None:
            return Day(day)
        return Day(day, (self.first_date + datetime.timedelta(days=day)).isoformat())

    def days_ref(self, first: int, last: int) -> DayRange:
        """A day range as a message parameter (formats as :meth:`days_label`)."""
        return DayRange(self.day_ref(first), self.day_ref(last))

    def when_ref(self, t_s: int) -> When:
        """An absolute time as a message parameter (formats as :meth:`when_label`)."""
        return When(self.day_ref(t_s // DAY_S), clock_label(t_s))

    def window_ref(self, start_s: int, end_s: int) -> Window:
        """A start window as a message parameter (formats as :meth:`window_label`)."""
        return Window(self.when_ref(start_s), self.when_ref(end_s))

    def windows_ref(self, windows: Iterable[TimeWindow]) -> Listing:
        """Start windows as a message parameter (``"12/07 09:00–12:00, 12/08 09:00–12:00"``)."""
        return Listing(self.window_ref(w.start_s, w.end_s) for w in windows)

    def day_label(self, day: int) -> str:
        """How people read a day: ``"12/07"`` (month/day from ``first_date``), else ``"day 3"``."""
        if self.first_date is None:
            return f"day {day}"
        date = self.first_date + datetime.timedelta(days=day)
        return f"{date.month:02d}/{date.day:02d}"

    def days_label(self, first: int, last: int) -> str:
        """A day range: ``"12/03–12/07"`` (one label when ``first == last``)."""
        if first == last:
            return self.day_label(first)
        return f"{self.day_label(first)}–{self.day_label(last)}"

    def when_label(self, t_s: int) -> str:
        """An absolute time as ``"12/07 09:00"`` (``"day 3 09:00"`` without a first date)."""
        return f"{self.day_label(t_s // DAY_S)} {clock_label(t_s)}"

    def window_label(self, start_s: int, end_s: int) -> str:
        """A start window as ``"12/07 09:00–12:00"`` (both ends on the start's day label)."""
        if start_s // DAY_S == end_s // DAY_S:
            return f"{self.when_label(start_s)}–{clock_label(end_s)}"
        return f"{self.when_label(start_s)}–{self.when_label(end_s)}"

    def locations(self) -> tuple[Location, ...]:
        """All distinct locations (crew homes first, then jobs), in a stable order."""
        seen: dict[Location, None] = {}
        for c in self.crews:
            seen.setdefault(c.home, None)
        for j in self.jobs:
            seen.setdefault(j.location, None)
        return tuple(seen)
