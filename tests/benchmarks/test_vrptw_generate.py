"""The generator of Gehring-Homberger-style instances (benchmarks/vrptw_generate.py)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmarks.vrptw_check import check_solution, read_solomon
from benchmarks.vrptw_generate import KINDS, first_fit_routes, generate, main, render
from scheduler.vrptw import parse_solomon


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_parses_and_each_customer_fits_a_direct_trip(kind: str, tmp_path: Path) -> None:
    """Both parsers read the file; a direct trip meets every window and gets home in time."""
    name, nodes, vehicles, capacity = generate(kind, customers=120, seed=3)
    path = tmp_path / f"{name}.txt"
    path.write_text(render(name, nodes, vehicles, capacity))
    ours = parse_solomon(path.read_text())
    checked = read_solomon(path)
    assert (ours.name, len(ours.customers), ours.vehicles, ours.capacity) == (
        name,
        120,
        vehicles,
        capacity,
    )
    assert checked.num_customers == 120
    depot = ours.depot
    for c in ours.customers:
        arrival = max(math.hypot(c.x - depot.x, c.y - depot.y), c.ready)
        assert arrival <= c.due
        assert arrival + c.service + math.hypot(c.x - depot.x, c.y - depot.y) <= depot.due
        assert 0 < c.demand <= ours.capacity


@pytest.mark.parametrize("kind", ["C1", "R2", "RC1"])
def test_the_fleet_covers_a_solution_the_independent_checker_accepts(
    kind: str, tmp_path: Path
) -> None:
    """The first-fit routes the fleet size is based on are feasible with exact times."""
    name, nodes, vehicles, capacity = generate(kind, customers=200, seed=1)
    path = tmp_path / f"{name}.txt"
    path.write_text(render(name, nodes, vehicles, capacity))
    check = check_solution(read_solomon(path), first_fit_routes(nodes, capacity))
    assert check.feasible, check.violations
    assert check.vehicles <= vehicles


def test_the_same_seed_gives_the_same_file_and_another_seed_another(tmp_path: Path) -> None:
    """Deterministic from (kind, size, seed); the CLI writes one file per kind."""
    assert render(*generate("RC2", 150, 5)) == render(*generate("RC2", 150, 5))
    assert render(*generate("RC2", 150, 5)) != render(*generate("RC2", 150, 6))
    assert main(["--customers", "50", "--kinds", "R1", "C2", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["C2_50_1.txt", "R1_50_1.txt"]
    assert (tmp_path / "R1_50_1.txt").read_text() == render(*generate("R1", 50, 1))


def test_type_1_is_tighter_than_type_2() -> None:
    """Type 1: shorter horizon, smaller capacity, narrower windows than type 2."""
    _, short, _, small = generate("R1", 300, 2)
    _, long, _, large = generate("R2", 300, 2)
    width = lambda nodes: sum(c.due - c.ready for c in nodes[1:]) / (len(nodes) - 1)  # noqa: E731
    assert short[0].due < long[0].due
    assert small < large
    assert width(short) < width(long)


def test_unknown_kind_is_refused() -> None:
    """Only the six Solomon classes exist."""
    with pytest.raises(ValueError, match="kind must be one of"):
        generate("X1")
