"""Key figures of crew-days and plans, computed from the visits as they are now.

The solver reports its own figures when it finishes, but a coordinator edits
the plan afterwards: drags, locks, unassignments. The board and the proposal
comparison therefore recompute from the stored visits, so "before" and
"after" are always measured the same way:

* work = the visits' planned durations;
* drive = the travel legs stored on the visits plus the leg back to the
  crew's home base (:func:`dispatch.routes.legs_home`: the planner's travel
  model, the same estimate the partner routes API returns; left out, with a
  warning in the log, while the routing service fails);
* slack = shift length - work - drive: the free time the crew keeps;
* utilization = (work + drive) / shift length.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from scheduler.travel import OsrmError

from .models import Crew, Visit
from .routes import AtSite, legs_home

logger = logging.getLogger(__name__)


class RouteStop(AtSite, Protocol):
    """What the figures read of a visit: a :class:`Visit` or the board's lighter row."""

    @property
    def crew_id(self) -> int: ...
    @property
    def date(self) -> dt.date: ...
    @property
    def sequence(self) -> int: ...
    @property
    def planned_start(self) -> dt.datetime: ...
    @property
    def planned_end(self) -> dt.datetime: ...
    @property
    def travel_minutes_from_previous(self) -> int: ...
    @property
    def travel_m_from_previous(self) -> int: ...


@dataclass(frozen=True)
class DayFigures:
    """One crew-day's figures, in whole minutes and kilometres."""

    jobs: int
    shift_minutes: int
    work_minutes: int
    drive_minutes: int
    km: float
    return_minutes: int

    @property
    def slack_minutes(self) -> int:
        return self.shift_minutes - self.work_minutes - self.drive_minutes

    @property
    def utilization(self) -> float:
        if self.shift_minutes <= 0:
            return 0.0
        return (self.work_minutes + self.drive_minutes) / self.shift_minutes


def shift_minutes(crew: Crew) -> int:
    start = dt.datetime.combine(dt.date(2000, 1, 1), crew.shift_start)
    end = dt.datetime.combine(dt.date(2000, 1, 1), crew.shift_end)
    return int((end - start).total_seconds() // 60)


def return_legs(routes: Sequence[tuple[Crew, RouteStop]]) -> list[tuple[int, int]]:
    """``(metres, minutes)`` home from each route's last visit (:func:`~dispatch.routes.legs_home`).

    A site without coordinates counts as zero: the figure is a display, not a
    rule. So does every leg while the routing service fails: the board and
    the proposal comparison still open, their drive and kilometres without
    the way home, and the log says why (a coordinator can still plan; a
    broken page would help nobody).
    """
    try:
        found = legs_home(routes)
    except OsrmError as exc:
        logger.warning("figures without the leg home: %s", exc)
        return [(0, 0)] * len(routes)
    return [leg or (0, 0) for leg in found]


def day_figures(crew: Crew, visits: Sequence[RouteStop], back_home: tuple[int, int]) -> DayFigures:
    """Figures of one crew-day from its ordered visits and the leg home (metres, minutes)."""
    work = sum(int((v.planned_end - v.planned_start).total_seconds() // 60) for v in visits)
    drive = sum(v.travel_minutes_from_previous for v in visits) + back_home[1]
    metres = sum(v.travel_m_from_previous for v in visits) + back_home[0]
    return DayFigures(
        jobs=len(visits),
        shift_minutes=shift_minutes(crew),
        work_minutes=work,
        drive_minutes=drive,
        km=round(metres / 1000, 1),
        return_minutes=back_home[1],
    )


def routes_of(visits: Iterable[Visit]) -> dict[tuple[int, dt.date], list[Visit]]:
    """Visits grouped by (crew id, date), each route in its planned order."""
    routes: dict[tuple[int, dt.date], list[Visit]] = {}
    for visit in sorted(visits, key=lambda v: (v.crew_id, v.date, v.sequence)):
        routes.setdefault((visit.crew_id, visit.date), []).append(visit)
    return routes


def figures_by_day(
    routes: dict[tuple[int, dt.date], list[Visit]], crews: dict[int, Crew]
) -> dict[tuple[int, dt.date], DayFigures]:
    keys = list(routes)
    legs = return_legs([(crews[crew_id], routes[(crew_id, day)][-1]) for crew_id, day in keys])
    return {
        key: day_figures(crews[key[0]], routes[key], leg)
        for key, leg in zip(keys, legs, strict=True)
    }


def totals(days: Iterable[DayFigures], jobs_unplanned: int) -> dict:
    """Plan-level figures: what the proposal comparison shows side by side."""
    days = [d for d in days if d.jobs]
    count = len(days)
    jobs = sum(d.jobs for d in days)
    km = sum(d.km for d in days)
    return {
        "jobs_planned": jobs,
        "jobs_unplanned": jobs_unplanned,
        "crew_days_used": count,
        "total_km": round(km, 1),
        "km_per_job": round(km / jobs, 2) if jobs else 0.0,
        "drive_hours": round(sum(d.drive_minutes for d in days) / 60, 2),
        "work_hours": round(sum(d.work_minutes for d in days) / 60, 2),
        "mean_slack_minutes": round(sum(d.slack_minutes for d in days) / count, 1) if count else 0,
        "mean_utilization": round(sum(d.utilization for d in days) / count, 3) if count else 0,
    }


def plan_figures(plan_visits: Iterable[Visit], jobs_unplanned: int) -> dict:
    """Totals of a plan's visits (load them with ``select_related("crew", "job__site")``)."""
    visits = list(plan_visits)
    crews = {v.crew_id: v.crew for v in visits}
    return totals(figures_by_day(routes_of(visits), crews).values(), jobs_unplanned)
