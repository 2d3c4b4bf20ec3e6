"""Generate Gehring-Homberger-style VRPTW instances (Solomon text format) from a seed.

There is no public best-known solution for these instances: they are for
comparing solvers in the same run (``benchmarks/vrptw_compare.py`` quotes our
distance relative to PyVRP's), at sizes the shipped Solomon set lacks.

Construction (in the spirit of Solomon 1987 and Gehring & Homberger 1999):

* square ``[0, side]`` with the depot in the middle, ``side`` growing with the
  square root of the size so the density stays Solomon's (100 at 100
  customers, 316 at 1,000);
* positions: ``C`` clustered (Gaussian clusters), ``R`` uniform, ``RC`` half
  of each;
* type ``1``: short horizon, tight windows, capacity 200 (many short routes);
  type ``2``: long horizon, wide windows, capacity 1,000 (few long routes);
* every customer gets an integral window around an arrival time that a
  *direct trip* from the depot can meet: ``ceil(d0i) <= due`` and
  ``due + service + d0i <= horizon``; so each customer can be served alone;
* the fleet is at least the number of routes of a simple first-fit
  construction made here (checked with exact double times), so the instance
  as a whole is feasible.

Usage::

    python -m benchmarks.vrptw_generate --out benchmarks/data/vrptw_generated
    python -m benchmarks.vrptw_generate --customers 200 --seed 7 --kinds R1 C2 --out DIR
"""

from __future__ import annotations

import argparse
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

KINDS = ("C1", "C2", "R1", "R2", "RC1", "RC2")
"""Instance kinds: position pattern (C, R, RC) and horizon type (1, 2)."""

DEFAULT_OUT = Path(__file__).resolve().parent / "data" / "vrptw_generated"


@dataclass(frozen=True)
class Node:
    """One row of the file (number 0 is the depot)."""

    number: int
    x: int
    y: int
    demand: int
    ready: int
    due: int
    service: int


def _positions(kind: str, n: int, side: int, rng: random.Random) -> list[tuple[int, int]]:
    """Integral customer coordinates in ``[0, side]`` for the position pattern of ``kind``."""
    pattern = kind.rstrip("12")

    def uniform() -> tuple[int, int]:
        return rng.randint(0, side), rng.randint(0, side)

    clustered_count = {"C": n, "R": 0, "RC": n // 2}[pattern]
    points: list[tuple[int, int]] = []
    if clustered_count:
        clusters = max(2, clustered_count // 10)
        centres = [uniform() for _ in range(clusters)]
        spread = side / 40
        for k in range(clustered_count):
            cx, cy = centres[k % clusters]
            x = min(side, max(0, round(rng.gauss(cx, spread))))
            y = min(side, max(0, round(rng.gauss(cy, spread))))
            points.append((x, y))
    points += [uniform() for _ in range(n - clustered_count)]
    rng.shuffle(points)
    return points


def generate(kind: str, customers: int = 1000, seed: int = 1) -> tuple[str, list[Node], int, int]:
    """Name, nodes (depot first), fleet size and capacity of one instance.

    Deterministic: the same ``(kind, customers, seed)`` gives the same instance.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    rng = random.Random(f"{kind}-{customers}-{seed}")
    side = max(100, round(100 * math.sqrt(customers / 100)))
    depot_xy = (side // 2, side // 2)
    short = kind.endswith("1")
    clustered = kind.startswith("C")
    service = 90 if clustered else 10
    capacity = 200 if short else 1000
    points = _positions(kind, customers, side, rng)
    far = [math.dist(depot_xy, p) for p in points]
    longest_direct = 2 * max(far) + service
    if short:
        # Enough for about a dozen visits on a route (as Solomon type 1).
        horizon = math.ceil(max(1.3 * longest_direct, 2 * max(far) + 12 * service))
    else:
        horizon = math.ceil(4 * longest_direct)
    nodes = [Node(0, depot_xy[0], depot_xy[1], 0, 0, horizon, 0)]
    for number, ((x, y), d0) in enumerate(zip(points, far, strict=True), start=1):
        earliest = math.ceil(d0)  # arrival on a direct trip
        latest = math.floor(horizon - service - d0)  # latest start that still gets home
        demand = rng.choice((10, 20, 30)) if clustered else rng.randint(1, 30)
        if short:
            width = round(horizon * rng.uniform(0.02, 0.10))
        else:
            width = round(horizon * rng.uniform(0.10, 0.50))
        if rng.random() < 0.25:
            ready, due = 0, latest  # a quarter without a real window, as in Solomon
        else:
            centre = rng.uniform(earliest, latest)
            ready = max(0, math.floor(centre - width / 2))
            due = min(latest, math.ceil(centre + width / 2))
            due = max(due, earliest)
        nodes.append(Node(number, x, y, demand, ready, due, service))
    routes = first_fit_routes(nodes, capacity)
    vehicles = max(customers // 4, len(routes))
    name = f"{kind}_{customers}_{seed}"
    return name, nodes, vehicles, capacity


def first_fit_routes(nodes: Sequence[Node], capacity: int) -> list[list[int]]:
    """A feasible (poor) solution: customers by due time, each on the first route that fits.

    Uses exact double travel times, so it proves the instance feasible for the
    checker in ``benchmarks/vrptw_check.py``.
    """
    depot = nodes[0]

    def dist(a: Node, b: Node) -> float:
        return math.hypot(a.x - b.x, a.y - b.y)

    routes: list[list[int]] = []
    state: list[tuple[float, int, int]] = []  # (finish time, last node, load)
    for node in sorted(nodes[1:], key=lambda c: (c.due, c.ready, c.number)):
        for k, (clock, last, load) in enumerate(state):
            if load + node.demand > capacity:
                continue
            start = max(clock + dist(nodes[last], node), node.ready)
            if start > node.due:
                continue
            if start + node.service + dist(node, depot) > depot.due:
                continue
            routes[k].append(node.number)
            state[k] = (start + node.service, node.number, load + node.demand)
            break
        else:
            start = max(depot.ready + dist(depot, node), node.ready)
            if start > node.due or start + node.service + dist(node, depot) > depot.due:
                raise AssertionError(f"customer {node.number} cannot be served by a direct trip")
            routes.append([node.number])
            state.append((start + node.service, node.number, node.demand))
    return routes


def render(name: str, nodes: Sequence[Node], vehicles: int, capacity: int) -> str:
    """The instance in the Solomon / Gehring-Homberger text format."""
    lines = [
        name,
        "",
        "VEHICLE",
        "NUMBER     CAPACITY",
        f"{vehicles:>5}{capacity:>13}",
        "",
        "CUSTOMER",
        "CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE TIME",
        "",
    ]
    lines += [
        f"{c.number:>5}{c.x:>9}{c.y:>11}{c.demand:>11}{c.ready:>11}{c.due:>11}{c.service:>11}"
        for c in nodes
    ]
    return "\n".join(lines) + "\n"


def write_set(out: Path, kinds: Sequence[str], customers: int, seed: int) -> list[Path]:
    """Write one file per kind into ``out``; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind in kinds:
        name, nodes, vehicles, capacity = generate(kind, customers, seed)
        path = out / f"{name}.txt"
        path.write_text(render(name, nodes, vehicles, capacity))
        paths.append(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    for path in write_set(args.out, args.kinds, args.customers, args.seed):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
