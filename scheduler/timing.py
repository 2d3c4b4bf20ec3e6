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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scheduler.model import CrewDay, Job, Problem, TimeWindow
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
        still report every other rule for the route.
    """
    jobs = problem.jobs_by_id()
    crew = problem.crew(crew_day.crew_id)
    gap_s = problem.min_gap_s(crew)
    here = travel.index(crew.home)
    clock_s = crew_day.shift_start_s
    visits: list[Visit] = []
    misses: list[str] = []
    for position, job_id in enumerate(job_ids):
        job: Job = jobs[job_id]
        there = travel.index(job.location)
        leg_m = int(travel.distance_m[here, there])
        leg_s = int(travel.duration_s[here, there])
        arrival_s = clock_s + leg_s
        ready_s = arrival_s + (gap_s if position > 0 else 0)
        start_s = earliest_start(job.start_windows(), ready_s)
        if start_s is None:
            misses.append(job_id)
            start_s = ready_s
        visits.append(
            Visit(
                job_id=job_id,
                arrival_s=arrival_s,
                start_s=start_s,
                end_s=start_s + job.duration_s,
                travel_m=leg_m,
                travel_s=leg_s,
                slack_before_s=start_s - arrival_s,
            )
        )
        clock_s = start_s + job.duration_s
        here = there
    home = travel.index(crew.home)
    back_m = int(travel.distance_m[here, home])
    back_s = int(travel.duration_s[here, home])
    depart_s = crew_day.shift_start_s
    if visits:
        # Leave home later instead of waiting in front of the first site.
        first = visits[0]
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
        return_travel_m=back_m,
        return_travel_s=back_s,
        return_s=clock_s + back_s,
        window_misses=tuple(misses),
    )
