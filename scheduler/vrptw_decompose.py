"""Large VRPTW instances: a first plan of the whole instance, then route-group sub-problems.

One OR-Tools model of a 1,000-customer instance is slow to improve: each
local-search scan covers the whole instance and iterated local search made
no progress at all for a minute on R1 (issue 24). Here the first plan is
made by polar sectors (:func:`sectors`: about :data:`SUBPROBLEM_CUSTOMERS`
customers consecutive in angle around the depot, each solved on its own by
iterated local search, :data:`SECTOR_SHARE` of the time in all); only when a
sector fails is the whole model searched briefly instead
(:data:`FIRST_SHARE` of the time). The rest of the time goes to
sub-problems: a group of neighbouring routes (about
:data:`SUBPROBLEM_CUSTOMERS` customers) is cut out as a VRPTW instance of its
own (fleet: its routes plus :data:`SPARE_VEHICLES`), solved with the same
product model for :data:`SUBPROBLEM_SECONDS_PER_CUSTOMER` per customer (the
search of :data:`SUBPROBLEM_SEARCHES`, given the current routes as warm
start), and the new routes replace the old ones only when they are feasible
(checked in double precision) and shorter. So the plan is feasible at every
moment and never gets longer.

Measured on one core (``docs/BENCHMARKS.md``, section 1, "Large instances"):
a 1,000-customer instance spends about 4 s in the three constructions and
each step of guided local search on the whole model takes about 0.1 s,
which is why the whole model is only used for the first plan.

Groups are chosen by route centroid: alternately a sector of routes
consecutive in polar angle around the depot and the routes whose centroids
lie nearest a randomly chosen route, starting from a random route each
time (seeded, so a run is reproducible). Every :data:`ELIMINATE_EVERY`-th
group instead tries to do without one of its shortest routes.

No setting depends on the instance's name or class.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from scheduler.model import Plan
from scheduler.params import Metaheuristic, SolveParams

SUBPROBLEM_CUSTOMERS = 80
"""Customers per sub-problem (whole routes are added until this many are reached).

Since the group searches start from the group's current routes, smaller
groups pay: more of them fit in the time. Measured on one core against
groups of 120 (``docs/BENCHMARKS.md``, section 1, "Groups of 80
customers"): 1,000 customers at 120 s, +5.51 % / +5.35 % above PyVRP on
seeds 1 and 2 against +6.03 % / +6.51 % (better on 10 of 12 instance
runs), +6.18 % with PyVRP in the same run (RC2 +11.9 %: its routes of
40-50 customers leave a group only the 3-route minimum); 200 customers at
60 s, +1.39 % against +1.65 % (three seeds).
Before the groups were seeded, 80 and 120 were equal (R1_1000_1 at 60 s:
31,623 and 31,577).
"""

DECOMPOSE_FROM_CUSTOMERS = 180
"""Instances with at least this many customers are improved sub-problem by sub-problem.

Below it a route group would be most of the instance, and the groups are
then little more than restarts of the one model from its best plan.
Measured on one core (``docs/BENCHMARKS.md``, section 1, "200 customers
decomposed", groups of 120 then): the six generated 200-customer instances
at 60 s, three seeds, were +1.65 % above PyVRP decomposed against +2.23 %
as one model (better on R2, RC1 and RC2 in 8 of 9 runs, mixed on C1, R1
and C2). All 56 Solomon instances (100 customers) at 30 s decomposed:
0.80 % above the best known against 0.75 % as one model, no better. The
threshold lies between the two, at one and a half groups of 120. Until
December 2026 it was 400.
"""

SUBPROBLEM_MIN_ROUTES = 3
"""At least this many routes per sub-problem (long routes: fewer customers would be one route)."""

SUBPROBLEM_SECONDS_PER_CUSTOMER = 0.011
"""Search time per sub-problem and customer in it (0.9 s for 80 customers)."""

SUBPROBLEM_SEARCHES = (Metaheuristic.ITERATED_LOCAL_SEARCH,)
"""Searches of successive sub-problems, in turn.

Iterated local search starts from the group's current routes (locks,
:func:`scheduler.ortools_search._iterated_search`); until December 2026 it
could only build its own start, threw the current routes away and had to
beat them in 1.3 s from scratch, and 13-29 of 74-84 sub-problems were
accepted at 120 s; starting from them, 48-62 of 70-83. Before that change,
on a 120-customer group of R1_1000_1 it reached 4,386
at 1.3 s where guided local search from the current routes had 4,544 at
3.8 s; whole runs of 60 s: R1 31,577 vs 33,374 (GLS, 3 s per group). Mixing
in guided local search every third group was better on C1 (34,225 vs
34,665) and worse on R2 (16,076 vs 15,665): not adopted.
"""

FIRST_SHARE = 0.04
"""Share of the time limit for the first plan of the whole instance."""

FIRST_MIN_SECONDS = 5.0
"""At least this long for the first plan (construction plus a short search)."""

MIN_SUBPROBLEM_SECONDS = 0.5
"""No sub-problem is started with less time than this left."""

SPARE_VEHICLES = 1
"""Vehicles a sub-problem may use beyond its current routes (within the fleet)."""

SECTOR_CUSTOMERS = 120
"""Customers per polar sector of the first plan (:func:`sectors`)."""

SECTOR_SHARE = 0.25
"""Share of the time limit for the sectors of the first plan (in proportion to their size).

Measured at 60 s, one run each (R2 / RC2 / R1 / C1 of 1,000 customers):
whole-model first plan 16,392 / 15,642 / 31,632 / 34,586; sectors with
0.15 of the time 15,570 / 14,907 / 31,633 / 34,215; 0.25: 15,384 / 14,697
/ 31,921 / 34,069; 0.4: 15,300 / 14,707 / 31,916 / 34,529. The later
sub-problems rarely beat a sector's plan, so more time here pays on long
routes; beyond a quarter, R1 and C1 lose what type 2 gains.
"""


ELIMINATE_EVERY = 3
"""Every this many sub-problems, one tries to do without a route (0: never).

The group is the shortest routes' neighbourhood (one of the
:data:`ELIMINATE_AMONG` routes with fewest customers, and the routes nearest
it), its fleet one vehicle less than its routes, and the start plan the
group without that route: its customers wait, unplanned, for the search to
insert them. An ordinary sub-problem starts from a plan that already
places everybody and rarely empties a route on its own, so plans of long
routes kept more routes than the best solvers' (26 against 20 on RC2 of
1,000 customers). The answer is accepted like any other: feasible, every
customer placed, and shorter.
"""

ELIMINATE_AMONG = 3
"""The route to do without is drawn from this many routes with the fewest customers."""


Routes = list[list[int]]


def centroid(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Mean position of a route's customers."""
    return (
        sum(p[0] for p in points) / len(points),
        sum(p[1] for p in points) / len(points),
    )


def pick_group(
    routes: Sequence[Sequence[int]],
    xy: dict[int, tuple[float, float]],
    depot: tuple[float, float],
    target: int,
    rng: random.Random,
    by_angle: bool,
    seed_route: int | None = None,
) -> list[int]:
    """Indices of neighbouring routes holding about ``target`` customers (at least 3 routes).

    ``by_angle``: routes consecutive in the polar angle of their centroid
    around the depot, from a random one; else the routes whose centroids are
    nearest a random route's centroid (or ``seed_route``'s).
    """
    centres = [centroid([xy[n] for n in route]) for route in routes]
    seed = rng.randrange(len(routes)) if seed_route is None else seed_route
    if by_angle:
        angle = [math.atan2(c[1] - depot[1], c[0] - depot[0]) for c in centres]
        ordered = sorted(range(len(routes)), key=lambda k: angle[k])
        start = ordered.index(seed)
        order = ordered[start:] + ordered[:start]
    else:
        here = centres[seed]
        order = sorted(range(len(routes)), key=lambda k: math.dist(centres[k], here))
    group: list[int] = []
    size = 0
    for k in order:
        group.append(k)
        size += len(routes[k])
        if size >= target and len(group) >= SUBPROBLEM_MIN_ROUTES:
            break
    return group


def sectors(
    xy: dict[int, tuple[float, float]], depot: tuple[float, float], target: int
) -> list[list[int]]:
    """Customers split into polar sectors around the depot, about ``target`` each.

    Why: the first plan of the whole model is poor on large instances (R2 of
    1,000 customers: 21,000 where the end result is below 16,000), and the
    route groups cut from it hold customers scattered by that poor plan. A
    sector of neighbouring customers solved on its own is what a sub-problem
    solves well, and routes out of the depot are petals, so a plan made of
    sector plans starts near the quality the sub-problems converge to.
    Sectors are consecutive in polar angle and of equal size (the last one
    takes the remainder).
    """
    numbers = sorted(xy, key=lambda n: math.atan2(xy[n][1] - depot[1], xy[n][0] - depot[0]))
    count = max(1, round(len(numbers) / target))
    size = math.ceil(len(numbers) / count)
    return [numbers[k : k + size] for k in range(0, len(numbers), size)]


def improve_by_groups(
    routes: Routes,
    *,
    xy: dict[int, tuple[float, float]],
    depot: tuple[float, float],
    fleet: int,
    deadline: float,
    seed: int,
    solve_group: Callable[[Routes, int, float, int], Routes | None],
    length: Callable[[Sequence[Sequence[int]]], float],
    target: int = SUBPROBLEM_CUSTOMERS,
    seconds_per_customer: float = SUBPROBLEM_SECONDS_PER_CUSTOMER,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[Routes, dict[str, int]]:
    """Improve ``routes`` group by group until ``deadline`` (``time.monotonic()``).

    Parameters
    ----------
    routes
        A feasible plan: customer numbers per route.
    xy, depot
        Positions (for choosing neighbouring routes).
    fleet
        Vehicles available in all.
    solve_group
        ``(group_routes, vehicles, seconds, seed) -> new routes or None``;
        must return only feasible routes over exactly the group's customers.
    length
        Exact length of a list of routes.
    clock
        What ``deadline`` is measured on (``time.monotonic``; tests step it).

    Returns
    -------
    tuple
        The improved plan and counters (sub-problems tried, accepted).
    """
    rng = random.Random(seed)
    stats = {"subproblems": 0, "accepted": 0}
    routes = [list(r) for r in routes if r]
    while routes and deadline - clock() > MIN_SUBPROBLEM_SECONDS:
        turn = stats["subproblems"]
        eliminate = ELIMINATE_EVERY > 0 and turn % ELIMINATE_EVERY == ELIMINATE_EVERY - 1
        if eliminate and len(routes) > SUBPROBLEM_MIN_ROUTES:
            shortest = sorted(range(len(routes)), key=lambda k: len(routes[k]))
            victim = rng.choice(shortest[:ELIMINATE_AMONG])
            group = pick_group(routes, xy, depot, target, rng, False, seed_route=victim)
            group = [k for k in group if k != victim] + [victim]
            vehicles = len(group) - 1
        else:
            group = pick_group(routes, xy, depot, target, rng, by_angle=turn % 2 == 0)
            vehicles = min(len(group) + SPARE_VEHICLES, fleet - (len(routes) - len(group)))
        old = [routes[k] for k in group]
        seconds = seconds_per_customer * sum(len(r) for r in old)
        budget = min(max(seconds, MIN_SUBPROBLEM_SECONDS), deadline - clock())
        stats["subproblems"] += 1
        new = solve_group(old, vehicles, budget, seed + stats["subproblems"])
        if new is None:
            continue
        new = [r for r in new if r]
        if length(new) < length(old) - 1e-7:
            stats["accepted"] += 1
            keep = [r for k, r in enumerate(routes) if k not in set(group)]
            routes = keep + new
    return routes, stats


def group_params(
    params: SolveParams,
    seed: int,
    metaheuristic: Metaheuristic = Metaheuristic.GUIDED_LOCAL_SEARCH,
) -> SolveParams:
    """The search of one sub-problem, one model.

    Both searches continue from the sub-problem's current routes (see
    :func:`scheduler.ortools_search.solve_routing`).
    """
    return replace(
        params,
        seed=seed,
        decompose=False,
        search=replace(params.search, metaheuristic=metaheuristic),
    )


def warm_plan(routes: Sequence[Sequence[int]]) -> Plan:
    """Routes as a warm start on crews ``v0``, ``v1``... (the VRPTW CLI's crew ids)."""
    return Plan({(f"v{k}", 0): tuple(str(n) for n in route) for k, route in enumerate(routes)})


def first_plan_seconds(time_limit_s: float) -> float:
    """Time for the first plan of the whole instance."""
    return min(time_limit_s, max(FIRST_MIN_SECONDS, FIRST_SHARE * time_limit_s))
