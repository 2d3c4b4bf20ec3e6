"""Tiny named worlds around Tokyo station and the helpers every solver test uses.

Distances: the default travel model (haversine x 1.3 at 25 km/h) makes one
kilometre east or north about 1.3 road-km and 187 s of driving.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from scheduler import (
    Crew,
    CrewDay,
    Job,
    Location,
    MaxRuntime,
    Problem,
    Result,
    Rules,
    Weights,
    validate,
)

H = 3_600
DAY_S = 86_400
TOKYO = Location(35.681, 139.767)
QUICK = MaxRuntime(0.3)
"""Search time for tiny instances: they settle in milliseconds."""


def at(km_east: float, km_north: float) -> Location:
    """A location this many kilometres east and north of Tokyo station."""
    lat = TOKYO.lat + km_north / 111.2
    lon = TOKYO.lon + km_east / (111.32 * math.cos(math.radians(TOKYO.lat)))
    return Location(round(lat, 6), round(lon, 6))


def crew(crew_id: str, home: Location = TOKYO, **kwargs: object) -> Crew:
    """A crew; keyword arguments override the defaults."""
    return Crew(id=crew_id, home=home, **kwargs)  # type: ignore[arg-type]


def crew_days(
    crew_ids: Iterable[str], days: Iterable[int] = (0,), start_h: float = 8, end_h: float = 18
) -> tuple[CrewDay, ...]:
    """One crew-day per crew and day, with the same shift hours."""
    return tuple(
        CrewDay(cid, d, d * DAY_S + int(start_h * H), d * DAY_S + int(end_h * H))
        for d in days
        for cid in crew_ids
    )


def job(job_id: str, location: Location, minutes: int = 60, **kwargs: object) -> Job:
    """A job of ``minutes`` on site; keyword arguments override the defaults."""
    return Job(id=job_id, location=location, duration_s=minutes * 60, **kwargs)  # type: ignore[arg-type]


def problem(
    crews: Iterable[Crew],
    days: Iterable[CrewDay],
    jobs: Iterable[Job],
    rules: Rules | None = None,
    weights: Weights | None = None,
    **kwargs: object,
) -> Problem:
    """A problem with default rules and prices unless given."""
    return Problem(
        crews=tuple(crews),
        crew_days=tuple(days),
        jobs=tuple(jobs),
        rules=rules or Rules(),
        weights=weights or Weights(),
        **kwargs,  # type: ignore[arg-type]
    )


def assert_valid(p: Problem, result: Result) -> None:
    """The independent validator finds nothing, and every job is accounted for once.

    Every job is either on exactly one route or unassigned with at least one
    reason; the plan was found.
    """
    violations = validate(p, result)
    assert violations == [], "\n".join(f"{v.rule}: {v.message} ({v.job_id})" for v in violations)
    assert result.status == "plan_found"
    planned = [v.job_id for r in result.routes for v in r.visits]
    unassigned = [u.job_id for u in result.unassigned]
    assert sorted(planned + unassigned) == sorted(j.id for j in p.jobs)
    assert all(u.reasons for u in result.unassigned)


def reason_rules(result: Result, job_id: str) -> list[str]:
    """The rule codes of an unassigned job's reasons (empty if it is planned)."""
    for u in result.unassigned:
        if u.job_id == job_id:
            return [r.rule for r in u.reasons]
    return []
