"""Independent feasibility checker for Solomon VRPTW solutions.

Every solution in the VRPTW comparison goes through this module, whichever
solver produced it. It deliberately shares no code with ``scheduler/`` nor
with the peer solvers: it has its own Solomon parser and recomputes the
distance with exact double-precision Euclidean distances (no rounding, no
truncation), so a solver that scales, rounds or truncates internally cannot
make its solution look shorter or more feasible than it is.

Rules checked (the usual VRPTW semantics of the Solomon set):

- every customer is visited exactly once, and no unknown id appears;
- the load of each route is within the vehicle capacity;
- the number of non-empty routes is within the fleet size of the file;
- service at a customer starts within ``[ready, due]``; arriving early and
  waiting until ``ready`` is allowed;
- the vehicle is back at the depot no later than the depot's due time.

Run it alone with ``python -m benchmarks.vrptw_check INSTANCE SOLUTION``,
where SOLUTION is a VRPLIB ``.sol`` file or the JSON printed by a solver.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Exact doubles can land a hair past an integer due time purely through
# summation order (e.g. 967.0000000000001). A solver that schedules with
# ceil-rounded integer times never comes close to this, while the DIMACS
# truncation errors we want to catch are of order 0.01..1 time units.
TIME_TOLERANCE = 1e-9

# A reported distance that differs from ours by more than this is noted:
# it means the solver computed its objective on a different metric.
DISTANCE_REPORT_TOLERANCE = 0.01


@dataclass(frozen=True)
class SolomonInstance:
    """One Solomon-format instance; index 0 of every list is the depot."""

    name: str
    fleet_size: int
    capacity: int
    x: tuple[float, ...]
    y: tuple[float, ...]
    demand: tuple[int, ...]
    ready: tuple[float, ...]
    due: tuple[float, ...]
    service: tuple[float, ...]

    @property
    def num_customers(self) -> int:
        """Number of customers, the depot excluded."""
        return len(self.x) - 1

    def distance(self, i: int, j: int) -> float:
        """Exact Euclidean distance between nodes ``i`` and ``j`` (also the travel time)."""
        return math.hypot(self.x[i] - self.x[j], self.y[i] - self.y[j])


@dataclass
class CheckResult:
    """Outcome of checking one solution.

    ``distance`` is always recomputed here, even for an infeasible solution,
    so that a report can show how far off an infeasible answer was.
    """

    feasible: bool
    distance: float
    vehicles: int
    violations: list[str] = field(default_factory=list)


def read_solomon(path: str | Path) -> SolomonInstance:
    """Parse a Solomon text instance (CRLF or LF line endings).

    The format is: instance name; a ``VEHICLE`` section whose data line holds
    fleet size and capacity; a ``CUSTOMER`` section whose data lines hold
    ``id x y demand ready due service``, the depot being id 0. Customer ids
    must be 0..n in order, which the Solomon and Gehring-Homberger files
    satisfy; anything else is rejected rather than silently renumbered.
    """
    path = Path(path)
    lines = [line.strip() for line in path.read_text().splitlines()]
    lines = [line for line in lines if line]
    name = lines[0]
    upper = [line.upper() for line in lines]
    vehicle_at = upper.index("VEHICLE")
    fleet_size, capacity = (int(v) for v in lines[vehicle_at + 2].split()[:2])
    customer_at = upper.index("CUSTOMER")
    rows = [line.split() for line in lines[customer_at + 2 :]]
    x, y, demand, ready, due, service = [], [], [], [], [], []
    for expected_id, row in enumerate(rows):
        if len(row) < 7:
            raise ValueError(f"{path}: malformed customer line {' '.join(row)!r}")
        if int(row[0]) != expected_id:
            raise ValueError(f"{path}: expected customer id {expected_id}, got {row[0]}")
        x.append(float(row[1]))
        y.append(float(row[2]))
        demand.append(int(float(row[3])))
        ready.append(float(row[4]))
        due.append(float(row[5]))
        service.append(float(row[6]))
    return SolomonInstance(
        name=name,
        fleet_size=fleet_size,
        capacity=capacity,
        x=tuple(x),
        y=tuple(y),
        demand=tuple(demand),
        ready=tuple(ready),
        due=tuple(due),
        service=tuple(service),
    )


def read_vrplib_solution(path: str | Path) -> list[list[int]]:
    """Read the routes of a VRPLIB ``.sol`` file (``Route #k: c1 c2 ...`` lines)."""
    routes = []
    for line in Path(path).read_text().splitlines():
        if line.strip().lower().startswith("route"):
            _, _, visits = line.partition(":")
            routes.append([int(token) for token in visits.split()])
    return routes


def read_bks(path: str | Path) -> dict[str, float]:
    """Read ``instance -> distance`` from a BKS CSV with ``instance`` and ``distance`` columns."""
    with Path(path).open(newline="") as handle:
        return {row["instance"]: float(row["distance"]) for row in csv.DictReader(handle)}


def check_solution(instance: SolomonInstance, routes: Sequence[Sequence[int]]) -> CheckResult:
    """Check ``routes`` against ``instance`` and recompute their total distance.

    Parameters
    ----------
    instance
        The parsed Solomon instance.
    routes
        One list of customer ids per vehicle, in visit order, depot excluded
        (ids as numbered in the file). Empty routes are allowed and ignored:
        they correspond to vehicles left at the depot.

    Returns
    -------
    CheckResult
        ``feasible`` is true only if no rule is broken; ``violations`` lists
        every broken rule in words, so a report can say why a solution failed.
    """
    violations: list[str] = []
    used_routes = [list(route) for route in routes if len(route) > 0]
    n = instance.num_customers

    visits = Counter(customer for route in used_routes for customer in route)
    unknown = sorted(c for c in visits if not 1 <= c <= n)
    for customer in unknown:
        violations.append(f"unknown customer id {customer} (valid ids are 1..{n})")
    for customer in range(1, n + 1):
        count = visits.get(customer, 0)
        if count == 0:
            violations.append(f"customer {customer} is not visited")
        elif count > 1:
            violations.append(f"customer {customer} is visited {count} times")

    if len(used_routes) > instance.fleet_size:
        violations.append(
            f"{len(used_routes)} routes used but the fleet has {instance.fleet_size} vehicles"
        )

    total_distance = 0.0
    for route_number, route in enumerate(used_routes, start=1):
        valid = [c for c in route if 1 <= c <= n]
        load = sum(instance.demand[c] for c in valid)
        if load > instance.capacity:
            violations.append(
                f"route {route_number}: load {load} exceeds capacity {instance.capacity}"
            )
        previous = 0
        time = instance.ready[0]
        for customer in valid:
            leg = instance.distance(previous, customer)
            total_distance += leg
            arrival = time + leg
            start = max(arrival, instance.ready[customer])
            if start > instance.due[customer] + TIME_TOLERANCE:
                violations.append(
                    f"route {route_number}: service at customer {customer} starts at "
                    f"{start:.4f}, after its due time {instance.due[customer]:g}"
                )
            time = start + instance.service[customer]
            previous = customer
        leg = instance.distance(previous, 0)
        total_distance += leg
        back_at_depot = time + leg
        if back_at_depot > instance.due[0] + TIME_TOLERANCE:
            violations.append(
                f"route {route_number}: returns to the depot at {back_at_depot:.4f}, "
                f"after the depot due time {instance.due[0]:g}"
            )

    return CheckResult(
        feasible=not violations,
        distance=total_distance,
        vehicles=len(used_routes),
        violations=violations,
    )


def gap_percent(distance: float, bks_distance: float) -> float:
    """Relative gap of ``distance`` to a best-known distance, in percent."""
    return 100.0 * (distance - bks_distance) / bks_distance


def _load_routes(path: Path) -> tuple[list[list[int]], float | None]:
    """Routes (and the distance the solver claims, if any) from a .sol or solver JSON file."""
    if path.suffix == ".json":
        payload = json.loads(path.read_text())
        return [list(map(int, route)) for route in payload["routes"]], payload.get("distance")
    return read_vrplib_solution(path), None


def main(argv: Sequence[str] | None = None) -> int:
    """Check one solution file; exit status 0 if feasible, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instance", type=Path, help="Solomon instance file")
    parser.add_argument("solution", type=Path, help="VRPLIB .sol file or solver JSON output")
    args = parser.parse_args(argv)
    instance = read_solomon(args.instance)
    routes, claimed = _load_routes(args.solution)
    result = check_solution(instance, routes)
    print(
        f"{instance.name}: feasible={result.feasible} vehicles={result.vehicles} "
        f"distance={result.distance:.4f}"
    )
    if claimed is not None and abs(claimed - result.distance) > DISTANCE_REPORT_TOLERANCE:
        print(f"note: the solver reported distance {claimed}, recomputed {result.distance:.4f}")
    for violation in result.violations:
        print(f"  - {violation}")
    return 0 if result.feasible else 1


if __name__ == "__main__":
    sys.exit(main())
