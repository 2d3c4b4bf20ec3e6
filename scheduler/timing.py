"""Times of a route from its order alone: the earliest feasible schedule.

Given a crew-day and an ordered list of jobs, every visit starts as early as the
rules allow: after the previous visit's end plus the travel plus the minimum
gap, and inside one of the job's start windows. Starting early never hurts
feasibility (windows only constrain starts, waiting is allowed), so *a route is
feasible if and only if its earliest schedule is*. That is why the solver's
result, the greedy baseline and the validator can all derive times the same way
from the order, and why a manual move in the web UI only needs the new order.

The crew leaves home as late as possible without delaying the first visit, so
no slack is wasted sitting at home on the clock.

A crew-day with a lunch (:class:`~scheduler.model.Break`) places it exactly:
every position is tried (at home before leaving, on each leg between two
stops, at home after the return) with the break as early as its window and
the previous stop allow, and the feasible schedule that is back home first
wins (ties: the earlier position). Each position is monotone like the
schedule itself (an earlier previous end never hurts), so a route with a
lunch is still feasible if and only if its computed schedule is. On a leg,
the crew drives first and eats on arrival when the window allows, otherwise
eats first (the break starts at the end of the previous visit, and the
drive, perhaps split around it, follows): this is OR-Tools' own rule, in
which driving and the gap only have to fit between the two visits beside
the break (``tests/scheduler/test_calendar_rules.py`` checks that OR-Tools
accepts a route with a lunch exactly when the validator does).

A visit with a soft promised slot (``Job.preferred_windows``) waits for the
slot's opening when the route stays feasible and the promise costs less
(:func:`_wait_for_promised_slots`): the only exception to "as early as
possible", and one that never changes whether a route is feasible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from scheduler.model import DAY_S, Break, CrewDay, Job, Problem, TimeWindow
from scheduler.travel import TravelMatrix


@dataclass(frozen=True)
class Visit:
    """One stop of a scheduled route (all times absolute seconds).

    ``slack_before_s`` is planned free time right before the visit: waiting
    after arriving, which includes the required minimum gap.
    """

    job_id: str
    arrival_s: int
    start_s: int
    end_s: int
    travel_m: int
    travel_s: int
    slack_before_s: int


@dataclass(frozen=True)
class RouteSchedule:
    """The earliest schedule of one crew-day and the window misses it ran into."""

    crew_id: str
    day: int
    depart_s: int
    visits: tuple[Visit, ...]
    return_travel_m: int
    return_travel_s: int
    return_s: int
    window_misses: tuple[str, ...]
    """Job ids whose start windows were all already closed on arrival."""
    lunch_start_s: int | None = None
    """When the planned lunch starts; ``None`` without a lunch or when none could be placed."""
    lunch_s: int = 0
    """Duration of the planned lunch (0 without one)."""

    @property
    def lunch_end_s(self) -> int | None:
        """When the planned lunch ends (``None`` without one)."""
        return None if self.lunch_start_s is None else self.lunch_start_s + self.lunch_s


def earliest_start(windows: Sequence[TimeWindow], ready_s: int) -> int | None:
    """The first allowed start at or after ``ready_s`` (``None`` if every window is closed).

    An empty window list means "any time".
    """
    if not windows:
        return ready_s
    for window in windows:
        if ready_s <= window.end_s:
            return max(ready_s, window.start_s)
    return None


def schedule_route(
    problem: Problem, travel: TravelMatrix, crew_day: CrewDay, job_ids: Sequence[str]
) -> RouteSchedule:
    """Compute the earliest schedule of ``job_ids`` visited in order on ``crew_day``.

    Parameters
    ----------
    problem
        The problem that defines the jobs, the crew and its minimum gap.
    travel
        Matrix covering the crew's home and the jobs' locations.
    crew_day
        The route's crew-day; the crew leaves home at the shift start at the earliest.
    job_ids
        Jobs in visit order (unknown ids raise ``KeyError``).

    Returns
    -------
    RouteSchedule
        Times of every visit. When no window is reachable any more, the visit is
        recorded in ``window_misses`` and starts on arrival, so the caller can
        still report every other rule for the route. On a crew-day with a lunch,
        the feasible placement that is home first; when no placement is
        feasible, the schedule without it and ``lunch_start_s = None``.
    """
    legs = _Legs(problem, travel, crew_day, job_ids)
    schedule = _best_schedule(legs, crew_day, {})
    if not any(job.has_soft_promise and job.preferred_windows for job in legs.jobs):
        return schedule
    return _wait_for_promised_slots(problem, legs, crew_day, schedule)


def _best_schedule(legs: _Legs, crew_day: CrewDay, not_before: dict[int, int]) -> RouteSchedule:
    """The earliest schedule, with the lunch at its best feasible position (if any)."""
    lunch = crew_day.lunch
    if lunch is None or not legs.jobs:
        return _schedule(legs, crew_day, None, None, not_before)
    best: RouteSchedule | None = None
    for position in range(-1, len(legs.jobs) + 2):
        candidate = _schedule(legs, crew_day, lunch, position, not_before)
        if (
            candidate.lunch_start_s is None
            or candidate.window_misses
            or candidate.return_s > crew_day.shift_end_s
        ):
            continue
        if best is None or candidate.return_s < best.return_s:
            best = candidate
    return best or _schedule(legs, crew_day, None, None, not_before)


def is_feasible(schedule: RouteSchedule, crew_day: CrewDay) -> bool:
    """Every window reached, home in time, and the lunch (if any) placed.

    The timing rules only: a route that fails them fails the validator too,
    so callers that try many routes (inserting a dropped job) skip those
    before asking the validator, whose messages cost more to write.
    """
    return (
        not schedule.window_misses
        and schedule.return_s <= crew_day.shift_end_s
        and (crew_day.lunch is None or schedule.lunch_start_s is not None)
    )


def _wait_for_promised_slots(
    problem: Problem, legs: _Legs, crew_day: CrewDay, schedule: RouteSchedule
) -> RouteSchedule:
    """Let visits with a soft promised slot wait for it when that is feasible and cheaper.

    The earliest schedule would start a job promised for 13:00-14:00 at 9:00
    if the crew could be there then. Visit by visit, in route order, the
    start is held back to the slot's opening on the route's day; the change
    is kept when the route stays feasible and the promise costs (of all its
    visits, :func:`preference_seconds`) go down. Waiting never makes a route
    infeasible that was feasible, so feasibility is still that of the
    earliest schedule.
    """
    if not is_feasible(schedule, crew_day):
        return schedule
    weights = problem.weights
    midnight = crew_day.day * DAY_S

    def cost(s: RouteSchedule) -> int:
        return sum(
            preference_seconds(job, crew_day.day, v.start_s)
            * weights.preferred_window_milli_per_s(job.priority)
            for job, v in zip(legs.jobs, s.visits, strict=True)
        )

    not_before: dict[int, int] = {}
    best_cost = cost(schedule)
    for k, (job, visit) in enumerate(zip(legs.jobs, schedule.visits, strict=True)):
        slot = job.preferred_slot_s() if job.has_soft_promise else None
        if slot is None or visit.start_s >= midnight + slot[0]:
            continue
        trial = {**not_before, k: midnight + slot[0]}
        candidate = _best_schedule(legs, crew_day, trial)
        candidate_cost = cost(candidate)
        if is_feasible(candidate, crew_day) and candidate_cost < best_cost:
            schedule, best_cost, not_before = candidate, candidate_cost, trial
    return schedule


def preference_seconds(job: Job, day: int, start_s: int) -> int:
    """Seconds a start on ``day`` lies outside the job's soft promised slot (0 without one)."""
    slot = job.preferred_slot_s() if job.has_soft_promise else None
    if slot is None:
        return 0
    time_of_day = start_s - day * DAY_S
    return max(0, slot[0] - time_of_day) + max(0, time_of_day - slot[1])


class _Legs:
    """A route's jobs and legs, looked up once for every lunch position tried."""

    def __init__(
        self, problem: Problem, travel: TravelMatrix, crew_day: CrewDay, job_ids: Sequence[str]
    ) -> None:
        by_id = problem.jobs_by_id()
        crew = problem.crew(crew_day.crew_id)
        self.jobs: tuple[Job, ...] = tuple(by_id[j] for j in job_ids)
        stops = [travel.index(crew.home)] + [travel.index(j.location) for j in self.jobs]
        self.leg_m = [int(travel.distance_m[a, b]) for a, b in pairwise(stops)]
        self.leg_s = [int(travel.duration_s[a, b]) for a, b in pairwise(stops)]
        self.back_m = int(travel.distance_m[stops[-1], stops[0]])
        self.back_s = int(travel.duration_s[stops[-1], stops[0]])
        self.gap_s = problem.min_gap_s(crew)


def _schedule(
    legs: _Legs,
    crew_day: CrewDay,
    lunch: Break | None,
    position: int | None,
    not_before: dict[int, int],
) -> RouteSchedule:
    """The earliest schedule with the lunch at ``position`` (``None``: no lunch).

    Positions: ``-1`` at home before leaving, ``k`` on the leg to visit ``k``
    (``0`` = from home), ``n`` on the leg home, ``n + 1`` at home after the
    return. A position where the lunch cannot start inside its window gives a
    schedule with ``lunch_start_s = None``.
    """
    n = len(legs.jobs)
    duration = 0 if lunch is None else lunch.duration_s
    clock_s = crew_day.shift_start_s
    lunch_start: int | None = None
    placed = lunch is None
    if lunch is not None and position == -1:
        lunch_start = max(lunch.earliest_start_s, clock_s)
        placed = lunch_start <= lunch.latest_start_s
        clock_s = lunch_start + duration
    visits: list[Visit] = []
    misses: list[str] = []
    for k, job in enumerate(legs.jobs):
        leg_s = legs.leg_s[k]
        gap_s = legs.gap_s if k > 0 else 0
        ready_s = clock_s + leg_s + gap_s
        here_lunch = lunch is not None and position == k
        if here_lunch:
            assert lunch is not None
            lowest = max(lunch.earliest_start_s, clock_s)
            placed = lowest <= lunch.latest_start_s
            ready_s = max(ready_s + duration, lowest + duration)
        start_s = earliest_start(job.start_windows(), max(ready_s, not_before.get(k, ready_s)))
        if start_s is None:
            misses.append(job.id)
            start_s = ready_s
        arrival_s = clock_s + leg_s
        slack_s = start_s - arrival_s
        if here_lunch and lunch is not None:
            lunch_start, arrival_s = _lunch_on_leg(lunch, clock_s, leg_s, start_s)
            slack_s = start_s - clock_s - leg_s - duration
        visits.append(
            Visit(
                job_id=job.id,
                arrival_s=arrival_s,
                start_s=start_s,
                end_s=start_s + job.duration_s,
                travel_m=legs.leg_m[k],
                travel_s=leg_s,
                slack_before_s=slack_s,
            )
        )
        clock_s = start_s + job.duration_s
    return_s = clock_s + legs.back_s
    if lunch is not None and position == n and n > 0:
        lowest = max(lunch.earliest_start_s, clock_s)
        placed = lowest <= lunch.latest_start_s
        lunch_start = lowest
        return_s = max(return_s + duration, lowest + duration)
    if lunch is not None and position == n + 1:
        lunch_start = max(lunch.earliest_start_s, return_s)
        placed = lunch_start <= lunch.latest_start_s
    depart_s = crew_day.shift_start_s
    if visits:
        first = visits[0]
        if lunch is not None and position == 0 and placed:
            depart_s, lunch_start, arrival_s = _leave_with_lunch_on_first_leg(
                lunch, crew_day.shift_start_s, first.travel_s, first.start_s
            )
            visits[0] = Visit(
                job_id=first.job_id,
                arrival_s=arrival_s,
                start_s=first.start_s,
                end_s=first.end_s,
                travel_m=first.travel_m,
                travel_s=first.travel_s,
                slack_before_s=first.start_s - depart_s - first.travel_s - duration,
            )
        else:
            # Leave home later instead of waiting in front of the first site.
            depart_s = first.start_s - first.travel_s
            visits[0] = Visit(
                job_id=first.job_id,
                arrival_s=first.start_s,
                start_s=first.start_s,
                end_s=first.end_s,
                travel_m=first.travel_m,
                travel_s=first.travel_s,
                slack_before_s=0,
            )
    return RouteSchedule(
        crew_id=crew_day.crew_id,
        day=crew_day.day,
        depart_s=depart_s,
        visits=tuple(visits),
        return_travel_m=legs.back_m,
        return_travel_s=legs.back_s,
        return_s=return_s,
        window_misses=tuple(misses),
        lunch_start_s=lunch_start if placed and lunch is not None else None,
        lunch_s=duration if placed and lunch is not None else 0,
    )


def _lunch_on_leg(lunch: Break, from_s: int, leg_s: int, start_s: int) -> tuple[int, int]:
    """Lunch start and arrival on a leg leaving at ``from_s`` towards a visit at ``start_s``.

    Drive first and eat on arrival when the window allows it; otherwise eat
    when the previous visit ends (at the window's opening at the latest) and
    arrive after the break.
    """
    on_arrival = max(lunch.earliest_start_s, from_s + leg_s)
    if on_arrival <= lunch.latest_start_s and on_arrival + lunch.duration_s <= start_s:
        return on_arrival, from_s + leg_s
    return max(lunch.earliest_start_s, from_s), from_s + leg_s + lunch.duration_s


def _leave_with_lunch_on_first_leg(
    lunch: Break, shift_start_s: int, leg_s: int, start_s: int
) -> tuple[int, int, int]:
    """Departure, lunch start and arrival when the lunch is on the way to the first visit.

    The crew leaves as late as it can and still eat inside the window and
    start the first visit on time; if even leaving at the shift start the
    window closes before it arrives, it eats first.
    """
    depart_s = min(start_s - leg_s - lunch.duration_s, lunch.latest_start_s - leg_s)
    if depart_s < shift_start_s:
        lunch_start, arrival_s = _lunch_on_leg(lunch, shift_start_s, leg_s, start_s)
        return shift_start_s, lunch_start, arrival_s
    return depart_s, max(lunch.earliest_start_s, depart_s + leg_s), depart_s + leg_s
