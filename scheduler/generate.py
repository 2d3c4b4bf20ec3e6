"""Seeded generator of realistic ISP installation weeks, for benchmarks and tests.

A generated week looks like the Tokyo metro work of a fibre ISP's partner
crews: job sites cluster around the 23 wards' centres (more sites where more
people live), crews drive from home bases spread over the same area, and the
work mix (home installs, fibre drops, riser cabling in apartment buildings,
aerial repairs, business installs) decides skills, crew size, duration and
access windows. Dates follow how orders arrive: most jobs can start on day
0, some wait for a permit, some have a promised (hard) due day, a few
customers refuse a day.

The number of crews is derived from the work, not fixed: enough crew-days so
that the jobs fill about ``target_load`` of the time a crew-day can really
use (shift x max utilization, minus the drive from and back home). That keeps
a week feasible but not trivial at every size, so solver time and quality
can be compared across 200, 1,000 and 3,000 jobs.

Everything comes from one :class:`random.Random` seeded by ``seed``: the same
arguments always give the same :class:`~scheduler.model.Problem`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import TypeVar

from scheduler.model import (
    DAY_S,
    Crew,
    CrewDay,
    Job,
    Location,
    Problem,
    Rules,
    TimeWindow,
    daily_windows,
)

HOUR_S = 3_600
MINUTE_S = 60

# Bounding box of the generated area (degrees), the 23 special wards of Tokyo.
LAT_RANGE = (35.55, 35.80)
LON_RANGE = (139.55, 139.90)

# Ward centres (approximate ward offices) and population in thousands, which
# weights how many job sites a ward gets.
WARD_CENTRES: tuple[tuple[str, float, float, int], ...] = (
    ("Chiyoda", 35.694, 139.754, 67),
    ("Chuo", 35.671, 139.772, 170),
    ("Minato", 35.658, 139.751, 260),
    ("Shinjuku", 35.694, 139.703, 350),
    ("Bunkyo", 35.708, 139.752, 240),
    ("Taito", 35.713, 139.780, 210),
    ("Sumida", 35.711, 139.801, 270),
    ("Koto", 35.673, 139.817, 520),
    ("Shinagawa", 35.609, 139.730, 420),
    ("Meguro", 35.641, 139.698, 280),
    ("Ota", 35.561, 139.716, 730),
    ("Setagaya", 35.646, 139.653, 940),
    ("Shibuya", 35.664, 139.698, 230),
    ("Nakano", 35.708, 139.664, 340),
    ("Suginami", 35.699, 139.636, 570),
    ("Toshima", 35.726, 139.716, 300),
    ("Kita", 35.753, 139.734, 350),
    ("Arakawa", 35.736, 139.783, 220),
    ("Itabashi", 35.751, 139.709, 570),
    ("Nerima", 35.736, 139.652, 740),
    ("Adachi", 35.775, 139.805, 690),
    ("Katsushika", 35.743, 139.847, 460),
    ("Edogawa", 35.707, 139.868, 690),
)

# Spread of sites around a ward centre (about 1.3 km north-south), and of
# crew home bases around theirs (wider: partner depots sit between wards).
SITE_SPREAD_DEG = 0.012
HOME_SPREAD_DEG = 0.025

SKILLS = ("fibre_splicing", "aerial", "riser_cabling", "indoor", "mc_install")


@dataclass(frozen=True)
class JobKind:
    """A kind of work order: what it needs and how long it takes.

    ``window_hours`` is the time-of-day interval in which the visit may start
    (``None`` = any time in the crew's shift). ``demand_units`` is equipment
    (an ONU / media converter) taken from the crew-day's stock.
    """

    name: str
    share: float
    skills: frozenset[str]
    members: tuple[int, ...]
    durations_min: tuple[int, ...]
    window_hours: tuple[float, float] | None
    demand_units: int


JOB_KINDS: tuple[JobKind, ...] = (
    JobKind(
        "home_install",
        0.45,
        frozenset({"indoor", "mc_install"}),
        (1,),
        (60, 75, 90, 120),
        None,
        1,
    ),
    JobKind(
        "fibre_drop",
        0.20,
        frozenset({"fibre_splicing", "aerial"}),
        (2,),
        (120, 150, 180),
        (8.5, 15.0),
        0,
    ),
    JobKind(
        "riser_cabling",
        0.15,
        frozenset({"riser_cabling", "indoor"}),
        (2,),
        (150, 180, 210, 240),
        (9.0, 14.0),
        0,
    ),
    JobKind("aerial_repair", 0.10, frozenset({"aerial"}), (2,), (60, 90, 120), None, 0),
    JobKind(
        "business_install",
        0.10,
        frozenset({"fibre_splicing", "indoor", "mc_install"}),
        (2, 3),
        (120, 180, 240),
        (9.0, 15.0),
        1,
    ),
)

# Home installs are booked in a morning or afternoon slot, or "any time".
HOME_SLOTS: tuple[tuple[float, float] | None, ...] = ((9.0, 11.5), (13.0, 16.0), None)


@dataclass(frozen=True)
class CrewKind:
    """A kind of crew: its skills, members and share of the fleet."""

    name: str
    share: float
    skills: frozenset[str]
    members: int


CREW_KINDS: tuple[CrewKind, ...] = (
    CrewKind("indoor", 0.25, frozenset({"indoor", "mc_install"}), 1),
    CrewKind("fibre", 0.35, frozenset({"fibre_splicing", "aerial", "indoor", "mc_install"}), 2),
    CrewKind("riser", 0.20, frozenset({"riser_cabling", "indoor", "mc_install"}), 2),
    CrewKind("full", 0.20, frozenset(SKILLS), 3),
)

# Shifts: (start hour, end hour) and how often each occurs.
SHIFTS: tuple[tuple[float, float, float], ...] = (
    (8.0, 18.0, 0.6),
    (8.5, 17.5, 0.2),
    (9.0, 18.0, 0.2),
)

DEFAULT_MIN_GAP_S = 15 * MINUTE_S
DEFAULT_MAX_UTILIZATION = 0.85

# Assumed drive per crew-day (out and back home) and per job (between sites)
# when sizing the fleet; only used to pick the number of crews.
ASSUMED_HOME_LEGS_S = 60 * MINUTE_S
ASSUMED_TRAVEL_PER_JOB_S = 15 * MINUTE_S
CREW_CAPACITY_UNITS = 6


def generate_week(
    n_jobs: int,
    *,
    seed: int = 0,
    n_days: int = 5,
    target_load: float = 0.8,
    min_gap_s: int = DEFAULT_MIN_GAP_S,
    max_utilization: float = DEFAULT_MAX_UTILIZATION,
) -> Problem:
    """Generate one planning week of ``n_jobs`` jobs and a proportional crew fleet.

    Parameters
    ----------
    n_jobs
        Number of jobs (> 0).
    seed
        Seed of the only random generator used; same arguments, same problem.
    n_days
        Working days in the horizon (day indexes ``0 .. n_days - 1``).
    target_load
        Share of the usable crew-day time the jobs are expected to fill; the
        number of crews is chosen from it (about 0.8 keeps a week feasible
        without making it trivial).
    min_gap_s, max_utilization
        The problem-wide slack rules (:class:`~scheduler.model.Rules`). A few
        crews get a larger personal minimum gap, as some partners ask for.

    Returns
    -------
    Problem
        Crews, their crew-days (every crew works every day), jobs, and rules;
        no travel matrix (the default haversine estimate applies).
    """
    if n_jobs <= 0:
        raise ValueError("n_jobs must be > 0")
    if n_days <= 0:
        raise ValueError("n_days must be > 0")
    if not 0 < target_load <= 1:
        raise ValueError("target_load must be in (0, 1]")
    rng = random.Random(seed)
    jobs = tuple(_job(rng, index, n_days) for index in range(n_jobs))
    n_crews = crews_needed(jobs, n_days, target_load, max_utilization)
    crews = tuple(_crew(rng, index, min_gap_s) for index in range(n_crews))
    crew_days = tuple(_crew_days(rng, crew, n_days) for crew in crews)
    return Problem(
        crews=crews,
        crew_days=tuple(cd for days in crew_days for cd in days),
        jobs=jobs,
        rules=Rules(min_gap_s=min_gap_s, max_utilization=max_utilization),
    )


def crews_needed(
    jobs: tuple[Job, ...], n_days: int, target_load: float, max_utilization: float
) -> int:
    """Crews such that the jobs fill ``target_load`` of the usable crew-day time.

    Usable time per crew-day is a 10-hour shift times ``max_utilization``,
    minus an assumed drive from and back home; each job uses its duration
    plus an assumed drive from the previous site.
    """
    usable_s = 10 * HOUR_S * max_utilization - ASSUMED_HOME_LEGS_S
    work_s = sum(job.duration_s + ASSUMED_TRAVEL_PER_JOB_S for job in jobs)
    return max(len(CREW_KINDS), math.ceil(work_s / (n_days * usable_s * target_load)))


T = TypeVar("T")


def _weighted(rng: random.Random, items: tuple[T, ...], weights: tuple[float, ...]) -> T:
    return rng.choices(items, weights=weights, k=1)[0]


def _point_near(rng: random.Random, lat: float, lon: float, spread_deg: float) -> Location:
    """A Gaussian point around (lat, lon), clipped to the area, rounded to ~0.1 m."""
    # A degree of longitude is shorter than one of latitude at 35.7 N; scale
    # so the cluster is round on the ground, not stretched east-west.
    lat_out = min(max(rng.gauss(lat, spread_deg), LAT_RANGE[0]), LAT_RANGE[1])
    lon_spread = spread_deg / math.cos(math.radians(lat))
    lon_out = min(max(rng.gauss(lon, lon_spread), LON_RANGE[0]), LON_RANGE[1])
    return Location(round(lat_out, 6), round(lon_out, 6))


def _ward_site(rng: random.Random, spread_deg: float) -> Location:
    weights = tuple(float(w[3]) for w in WARD_CENTRES)
    _, lat, lon, _ = _weighted(rng, WARD_CENTRES, weights)
    return _point_near(rng, lat, lon, spread_deg)


def _job(rng: random.Random, index: int, n_days: int) -> Job:
    kind = _weighted(rng, JOB_KINDS, tuple(k.share for k in JOB_KINDS))
    duration_s = rng.choice(kind.durations_min) * MINUTE_S
    window_hours = rng.choice(HOME_SLOTS) if kind.name == "home_install" else kind.window_hours

    # Most orders are ready now; some wait for a building permit or material.
    earliest_day = 0 if rng.random() < 0.7 else rng.randrange(min(3, n_days))
    due_day = min(n_days - 1, earliest_day + rng.randrange(1, n_days + 1))
    due_is_hard = rng.random() < 0.3
    unavailable: frozenset[int] = frozenset()
    if rng.random() < 0.1 and due_day > earliest_day:
        # A refused day never removes the last allowed day before a hard due day.
        unavailable = frozenset({rng.randrange(earliest_day, due_day)})

    windows: tuple[TimeWindow, ...] = ()
    if window_hours is not None:
        open_s, close_s = (round(h * HOUR_S) for h in window_hours)
        # Windows only on days the job may be done: no dead windows to mislead.
        last_day = due_day if due_is_hard else n_days - 1
        allowed = [d for d in range(earliest_day, last_day + 1) if d not in unavailable]
        windows = daily_windows(allowed, open_s, close_s)
    return Job(
        id=f"J{index:05d}",
        location=_ward_site(rng, SITE_SPREAD_DEG),
        duration_s=duration_s,
        required_skills=kind.skills,
        members_needed=rng.choice(kind.members),
        earliest_day=earliest_day,
        due_day=due_day,
        due_is_hard=due_is_hard,
        unavailable_days=unavailable,
        windows=windows,
        priority=_weighted(rng, (1, 2, 3, 4, 5), (1.0, 2.0, 4.0, 2.0, 1.0)),
        demand_units=kind.demand_units,
        fixed=None,
    )


def _crew(rng: random.Random, index: int, min_gap_s: int) -> Crew:
    kind = _weighted(rng, CREW_KINDS, tuple(k.share for k in CREW_KINDS))
    # Every seventh partner asks for more slack than the company rule.
    personal_gap = min_gap_s + 5 * MINUTE_S if index % 7 == 6 else None
    return Crew(
        id=f"C{index:03d}",
        home=_ward_site(rng, HOME_SPREAD_DEG),
        skills=kind.skills,
        members=kind.members,
        cost_per_km_yen=rng.choice((25, 30, 35, 40)),
        min_gap_s=personal_gap,
        max_jobs_per_day=6,
        capacity_units=CREW_CAPACITY_UNITS,
    )


def _crew_days(rng: random.Random, crew: Crew, n_days: int) -> tuple[CrewDay, ...]:
    start_h, end_h, _ = _weighted(rng, SHIFTS, tuple(s[2] for s in SHIFTS))
    return tuple(
        CrewDay(
            crew_id=crew.id,
            day=day,
            shift_start_s=day * DAY_S + round(start_h * HOUR_S),
            shift_end_s=day * DAY_S + round(end_h * HOUR_S),
        )
        for day in range(n_days)
    )
