"""Solomon / Gehring-Homberger VRPTW instances through the product's own model.

``python -m scheduler.vrptw INSTANCE_FILE --time-limit SECONDS [--seed N] [--search S]``
prints one JSON object::

    {"instance": "C101", "distance": 828.94, "vehicles": 10,
     "routes": [[5, 3, 7, ...], ...], "seconds": 30.0}

How the literature problem maps onto :class:`scheduler.model.Problem`:

* each vehicle of the fleet is a crew with one crew-day (day 0) whose shift is
  the depot's time window, home at the depot, ``capacity_units`` = capacity;
  the fleet size is therefore an upper bound, unused crew-days cost nothing;
* each customer is a job with its demand, service time and one start window;
* distance-only objective: 1 yen per "km", no drive-time or fixed cost, no
  minimum gap, utilization 1.0.

Solomon times and coordinates are doubles, the solver is integral, so every
value is scaled by :data:`SCALE` (1 unit = 1000 "seconds"/"metres"): travel
*times* are rounded **up** (``ceil(1000 d)``), so a schedule the solver finds
feasible is also feasible with exact Euclidean times; travel *costs* are
rounded to nearest (``round(1000 d)``). The reported distance is recomputed in
double precision.

Search settings
---------------
The search starts from the cheapest of :data:`CONSTRUCTIONS` and runs
OR-Tools' iterated local search (ruin and recreate) when the time limit
allows :data:`ITERATED_SECONDS_PER_CUSTOMER`, guided local search otherwise.

From :data:`~scheduler.vrptw_decompose.DECOMPOSE_FROM_CUSTOMERS` customers (180)
up (``--search auto`` only), :func:`solve_large` is used instead: a first plan
made sector by sector (customers split by polar angle around the depot into
groups of about 120, each solved with the shortest route of the sector
before when that one had few routes; the whole model only when a sector fails), then sub-problems of
about 80 customers in neighbouring routes, each solved by the same model
from its current routes for about a second (every third one with a route
fewer) and accepted only when feasible (exact double check) and shorter
(:mod:`scheduler.vrptw_decompose`). The answer then also carries
``first_seconds``, ``first_distance``, ``subproblems`` and ``accepted``.
``--search iterated`` keeps one model at any size.

The settings were chosen on all 56 Solomon instances; the measurements are in
``docs/BENCHMARKS.md``, "Why the solver defaults are what they are". No
setting depends on the instance's name or class.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from scheduler.model import Crew, CrewDay, Job, Location, Problem, Rules, TimeWindow, Weights
from scheduler.params import (
    FirstSolution,
    MaxRuntime,
    Metaheuristic,
    OperatorParams,
    SearchParams,
    SolveParams,
    StartParams,
)
from scheduler.result import Result
from scheduler.solve import ITERATED_SECONDS_PER_JOB, solve
from scheduler.travel import TravelMatrix
from scheduler.vrptw_decompose import (
    DECOMPOSE_FROM_CUSTOMERS,
    SECTOR_CUSTOMERS,
    SECTOR_SHARE,
    SUBPROBLEM_CUSTOMERS,
    SUBPROBLEM_SEARCHES,
    SUBPROBLEM_SECONDS_PER_CUSTOMER,
    first_plan_seconds,
    group_params,
    improve_by_groups,
    sectors,
    warm_plan,
)

SCALE = 1000
"""Instance units -> integer solver units."""

CONSTRUCTIONS = (
    FirstSolution.SAVINGS,
    FirstSolution.PARALLEL_CHEAPEST_INSERTION,
    FirstSolution.LOCAL_CHEAPEST_INSERTION,
)
"""First plans tried; the search starts from the cheapest.

Which one is best differs from instance to instance, and on large instances
the start decides much of the result (``docs/BENCHMARKS.md``, "Why the
solver defaults are what they are").
"""

ITERATED_SECONDS_PER_CUSTOMER = ITERATED_SECONDS_PER_JOB
"""Iterated local search when the time limit gives at least this much per customer.

The same budget as ``Metaheuristic.AUTO`` uses for ISP weeks (one constant,
:data:`scheduler.solve.ITERATED_SECONDS_PER_JOB`). Iterated local search
needs hundreds of iterations, each costing time in proportion to the
instance; below this budget guided local search makes more of the time.
The crossover was measured on 200-1,000 customers on this machine
(``docs/BENCHMARKS.md``, "Why the solver defaults are what they are").
"""

UNASSIGNED_YEN = 100_000
"""Per dropped customer: far above any detour (coordinates span ~100 units)."""

TOLERANCE = 1e-9
"""Slack for comparing exact double times to integral windows."""


@dataclass(frozen=True)
class Customer:
    """One row of a Solomon file (``number`` 0 is the depot)."""

    number: int
    x: float
    y: float
    demand: int
    ready: float
    due: float
    service: float


@dataclass(frozen=True)
class Instance:
    """A parsed VRPTW instance."""

    name: str
    vehicles: int
    capacity: int
    depot: Customer
    customers: tuple[Customer, ...]

    def distance(self, a: Customer, b: Customer) -> float:
        """Exact Euclidean distance (also the travel time)."""
        return math.hypot(a.x - b.x, a.y - b.y)


def parse_solomon(text: str) -> Instance:
    """Parse the Solomon text format (any line endings, blank lines ignored).

    Parameters
    ----------
    text
        File content: name, ``VEHICLE`` block with number and capacity,
        ``CUSTOMER`` block with one row per node, depot first.

    Returns
    -------
    Instance
        Depot and customers as numbered in the file.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    name = lines[0]
    numbers_at = next(i for i, line in enumerate(lines) if line.upper().startswith("NUMBER"))
    vehicles, capacity = (int(v) for v in lines[numbers_at + 1].split()[:2])
    rows: list[Customer] = []
    for line in lines[numbers_at + 2 :]:
        fields = line.split()
        if len(fields) < 7 or not fields[0].isdigit():
            continue  # the CUSTOMER and column header lines
        number, x, y, demand, ready, due, service = fields[:7]
        rows.append(
            Customer(
                int(number),
                float(x),
                float(y),
                int(float(demand)),
                float(ready),
                float(due),
                float(service),
            )
        )
    depot = next(r for r in rows if r.number == 0)
    customers = tuple(r for r in rows if r.number != 0)
    return Instance(
        name=name, vehicles=vehicles, capacity=capacity, depot=depot, customers=customers
    )


def _scaled(value: float) -> int:
    """An instance time as integer solver units (exact for the usual integral data)."""
    return round(value * SCALE)


def to_problem(instance: Instance) -> Problem:
    """Express the instance as a scheduler :class:`Problem` (see the module docstring)."""
    nodes = (instance.depot, *instance.customers)
    # Coordinates are only keys here: the matrix below is Euclidean, not haversine.
    locations = tuple(Location(lat=c.y, lon=c.x) for c in nodes)
    xy = np.asarray([(c.x, c.y) for c in nodes], dtype=np.float64)
    exact = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    travel = TravelMatrix(
        locations=locations,
        distance_m=np.rint(exact * SCALE).astype(np.int64),
        duration_s=np.ceil(exact * SCALE - 1e-6).astype(np.int64),
    )
    depot_location = locations[0]
    crews = tuple(
        Crew(id=f"v{k}", home=depot_location, cost_per_km_yen=1, capacity_units=instance.capacity)
        for k in range(instance.vehicles)
    )
    crew_days = tuple(
        CrewDay(
            crew_id=c.id,
            day=0,
            shift_start_s=_scaled(instance.depot.ready),
            shift_end_s=_scaled(instance.depot.due),
        )
        for c in crews
    )
    jobs = tuple(
        Job(
            id=str(c.number),
            location=locations[k + 1],
            duration_s=_scaled(c.service),
            windows=(TimeWindow(_scaled(c.ready), _scaled(c.due)),),
            demand_units=c.demand,
        )
        for k, c in enumerate(instance.customers)
    )
    return Problem(
        crews=crews,
        crew_days=crew_days,
        jobs=jobs,
        rules=Rules(min_gap_s=0, max_utilization=1.0),
        weights=Weights(
            drive_yen_per_hour=0,
            crew_day_fixed_yen=0,
            lateness_yen_per_day=0,
            unassigned_yen=UNASSIGNED_YEN,
            disruption_yen=0,
        ),
        travel=travel,
    )


def routes_of(result: Result) -> list[list[int]]:
    """Customer numbers per used vehicle, in visit order."""
    return [[int(v.job_id) for v in route.visits] for route in result.routes]


def exact_distance(instance: Instance, routes: Sequence[Sequence[int]]) -> float:
    """Total route length in double precision, depot legs included."""
    by_number = {c.number: c for c in instance.customers}
    total = 0.0
    for route in routes:
        stops = [instance.depot, *(by_number[n] for n in route), instance.depot]
        total += sum(instance.distance(a, b) for a, b in pairwise(stops))
    return total


def exact_violations(instance: Instance, routes: Sequence[Sequence[int]]) -> list[str]:
    """Check a solution with exact double times: coverage, fleet, capacity, windows.

    Independent of the scheduler's integral model, so tests can show the
    scaling keeps solutions feasible.
    """
    problems: list[str] = []
    by_number = {c.number: c for c in instance.customers}
    visited = [n for route in routes for n in route]
    if sorted(visited) != sorted(by_number):
        problems.append("customers not visited exactly once")
    if len([r for r in routes if r]) > instance.vehicles:
        problems.append("more routes than vehicles")
    for route in routes:
        if sum(by_number[n].demand for n in route) > instance.capacity:
            problems.append(f"capacity exceeded on route {route}")
        clock, here = instance.depot.ready, instance.depot
        for n in route:
            customer = by_number[n]
            clock = max(clock + instance.distance(here, customer), customer.ready)
            if clock > customer.due + TOLERANCE:
                problems.append(f"customer {n} starts at {clock:.4f} after due {customer.due}")
            clock += customer.service
            here = customer
        back = clock + instance.distance(here, instance.depot)
        if back > instance.depot.due + TOLERANCE:
            problems.append(f"route {route} returns at {back:.4f} after {instance.depot.due}")
    return problems


SEARCHES = ("auto", "iterated", "guided", "ortools-defaults")
"""Values of ``--search``: ``auto`` is the CLI's choice (:func:`search_params`);
``iterated`` and ``guided`` force one metaheuristic with the CLI's other
settings; ``ortools-defaults`` is OR-Tools as its own VRPTW examples set it up
(path-cheapest-arc construction, guided local search with lambda 0.1, every
operator on), kept to show how far those defaults are from the tuned search."""


def search_params(
    customers: int, time_limit_s: float, seed: int = 0, search: str = "auto"
) -> SolveParams:
    """The search for an instance of this size and time limit (see the constants above)."""
    if search not in SEARCHES:
        raise ValueError(f"search must be one of {', '.join(SEARCHES)}, not {search!r}")
    if search == "ortools-defaults":
        return SolveParams(
            seed=seed,
            start=StartParams(first_solution=FirstSolution.PATH_CHEAPEST_ARC, greedy_start=False),
            search=SearchParams(
                metaheuristic=Metaheuristic.GUIDED_LOCAL_SEARCH, guided_local_search_lambda=0.1
            ),
        )
    iterated = search == "iterated" or (
        search == "auto" and time_limit_s >= ITERATED_SECONDS_PER_CUSTOMER * customers
    )
    return SolveParams(
        seed=seed,
        # The greedy start appends at route ends only: a poor start on tight windows.
        start=StartParams(constructions=CONSTRUCTIONS, greedy_start=False),
        search=SearchParams(
            metaheuristic=(
                Metaheuristic.ITERATED_LOCAL_SEARCH
                if iterated
                else Metaheuristic.GUIDED_LOCAL_SEARCH
            ),
            # Guided local search only (measured in the previous round, docs/BENCHMARKS.md).
            guided_local_search_lambda=0.2,
        ),
        # Every customer must be served and the construction places all of them.
        operators=OperatorParams(
            drop_moves=False, insertion_lns=False, penalties_in_operators=True
        ),
    )


def solve_instance(
    instance: Instance, time_limit_s: float, seed: int = 0, search: str = "auto"
) -> dict[str, object]:
    """Solve one instance and return the JSON-ready answer.

    With ``search="auto"`` an instance of :data:`DECOMPOSE_FROM_CUSTOMERS` or
    more customers is solved by :func:`solve_large` (a first plan, then
    sub-problems of neighbouring routes); smaller ones by one model.
    """
    started = time.monotonic()
    extra: dict[str, object] = {}
    if search == "auto" and len(instance.customers) >= DECOMPOSE_FROM_CUSTOMERS:
        routes, extra = solve_large(instance, time_limit_s, seed, started)
    else:
        params = search_params(len(instance.customers), time_limit_s, seed, search)
        result = solve(to_problem(instance), MaxRuntime(time_limit_s), params)
        routes = routes_of(result)
    return {
        "instance": instance.name,
        "distance": exact_distance(instance, routes),
        "vehicles": len(routes),
        "routes": routes,
        "seconds": time.monotonic() - started,
        **extra,
    }


FINISH_RESERVE_S = 0.5
"""Kept back from the time limit of :func:`solve_large` for writing the answer."""


def solve_large(
    instance: Instance,
    time_limit_s: float,
    seed: int,
    started: float,
    *,
    group_customers: int = SUBPROBLEM_CUSTOMERS,
    group_seconds: float = SUBPROBLEM_SECONDS_PER_CUSTOMER,
    group_searches: Sequence[Metaheuristic] = SUBPROBLEM_SEARCHES,
    first_s: float | None = None,
    sector_share: float = SECTOR_SHARE,
) -> tuple[list[list[int]], dict[str, object]]:
    """A first plan by polar sectors, then route-group sub-problems until the limit.

    See :mod:`scheduler.vrptw_decompose`. The sectors get ``sector_share`` of
    the limit; if one of them cannot place all its customers (or the fleet
    runs out), the first plan is made by the whole model as before. Every
    accepted change is checked with :func:`exact_violations`, so the plan
    stays feasible; a sub-problem whose answer is not feasible or not
    shorter is discarded.
    """
    deadline = started + time_limit_s - FINISH_RESERVE_S
    first_s = first_plan_seconds(time_limit_s) if first_s is None else first_s
    params = search_params(len(instance.customers), first_s, seed, "auto")
    by_number = {c.number: c for c in instance.customers}
    xy = {c.number: (c.x, c.y) for c in instance.customers}
    depot_xy = (instance.depot.x, instance.depot.y)
    routes: list[list[int]] | None = None
    sector_rate = sector_share * time_limit_s / len(instance.customers)
    if sector_rate > 0:
        routes = _sector_plan(
            instance, by_number, sectors(xy, depot_xy, SECTOR_CUSTOMERS), params, sector_rate
        )
    if routes is None:
        first = solve(to_problem(instance), MaxRuntime(first_s), params)
        routes = routes_of(first)
        if first.unassigned:
            # Not every customer placed: give the whole model the time left instead.
            left_s = max(0.1, deadline - time.monotonic())
            result = solve(
                to_problem(instance), MaxRuntime(left_s), params, warm_start=first.to_plan()
            )
            return routes_of(result), {"first_seconds": round(time.monotonic() - started, 2)}
    first_distance = exact_distance(instance, routes)
    first_seconds = time.monotonic() - started

    def solve_group(
        group: list[list[int]], vehicles: int, seconds: float, group_seed: int
    ) -> list[list[int]] | None:
        # Sub-problems are numbered from seed + 1 (improve_by_groups).
        search = group_searches[(group_seed - seed - 1) % len(group_searches)]
        sub = Instance(
            name=f"{instance.name}-group",
            vehicles=vehicles,
            capacity=instance.capacity,
            depot=instance.depot,
            customers=tuple(by_number[n] for route in group for n in route),
        )
        result = solve(
            to_problem(sub),
            MaxRuntime(seconds),
            group_params(params, group_seed, search),
            warm_start=warm_plan(group),
        )
        new = routes_of(result)
        if result.unassigned or exact_violations(sub, new):
            return None
        return new

    routes, stats = improve_by_groups(
        routes,
        xy=xy,
        depot=depot_xy,
        fleet=instance.vehicles,
        deadline=deadline,
        seed=seed,
        solve_group=solve_group,
        length=lambda rs: exact_distance(instance, rs),
        target=group_customers,
        seconds_per_customer=group_seconds,
    )
    return routes, {
        "first_seconds": round(first_seconds, 2),
        "first_distance": round(first_distance, 4),
        **stats,
    }


CARRY_UP_TO_ROUTES = 8
"""A sector planned with at most this many routes hands its shortest one to the next sector.

Each sector's plan ends with a route only partly filled (its leftovers).
Where routes are long (type 2: about 3 routes per sector of 120), one such
route per sector is a large share of the fleet: a plan of 1,000 customers
ended with 25 routes where PyVRP needs 20. Carrying that route's customers
into the next sector lets them fill a route there. Where a sector has many
short routes it did not pay: on RC1 (about 11 routes per sector) every
first plan with the carry was 2.3 % longer (33,005-33,262 in four runs
against 32,367-32,394 in two without) and the final plan 1-2 % longer;
RC2 gained 1.5 % on the first plan (``docs/BENCHMARKS.md``, "Large
instances: iterated local search from the current routes").
"""


def _sector_plan(
    instance: Instance,
    by_number: dict[int, Customer],
    groups: Sequence[Sequence[int]],
    params: SolveParams,
    seconds_per_customer: float,
) -> list[list[int]] | None:
    """A first plan made of one iterated local search per polar sector (see :func:`sectors`).

    Each sector may use the vehicles the earlier sectors left; ``None`` when a
    sector leaves a customer out or breaks a window (exact check), and the
    caller then plans the whole instance as one model.
    """
    routes: list[list[int]] = []
    carried: list[int] = []
    for k, group in enumerate(groups):
        numbers = [*carried, *group]
        sub = Instance(
            name=f"{instance.name}-sector",
            vehicles=instance.vehicles - len(routes),
            capacity=instance.capacity,
            depot=instance.depot,
            customers=tuple(by_number[n] for n in numbers),
        )
        if sub.vehicles < 1:
            return None
        result = solve(
            to_problem(sub),
            MaxRuntime(seconds_per_customer * len(numbers)),
            group_params(params, params.seed + 1000 + k, Metaheuristic.ITERATED_LOCAL_SEARCH),
        )
        new = [r for r in routes_of(result) if r]
        if result.unassigned or exact_violations(sub, new):
            return None
        carried = []
        if k + 1 < len(groups) and 1 < len(new) <= CARRY_UP_TO_ROUTES:
            carried = new.pop(min(range(len(new)), key=lambda r: len(new[r])))
        routes.extend(new)
    return routes


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m scheduler.vrptw", description=__doc__.splitlines()[0]
    )
    parser.add_argument("instance_file", type=Path)
    parser.add_argument("--time-limit", type=float, required=True, help="seconds of search")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--search", choices=SEARCHES, default="auto", help="search settings (see SEARCHES)"
    )
    args = parser.parse_args(argv)
    instance = parse_solomon(args.instance_file.read_text())
    answer = solve_instance(instance, args.time_limit, args.seed, args.search)
    json.dump(answer, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
