"""Specification of the independent VRPTW checker (benchmarks/vrptw_check.py).

The checker is the referee of the Solomon comparison, so its own behaviour is
pinned here: real best-known routes pass with the right distance, and each
rule, when broken, is rejected with a reason that names the culprit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.vrptw_check import (
    check_solution,
    gap_percent,
    main,
    read_bks,
    read_solomon,
    read_vrplib_solution,
)

# Shipped with the tests (tests/data/vrptw/SOURCES.md); benchmarks read the full set.
DATA = Path(__file__).resolve().parents[1] / "data" / "vrptw"
C101 = DATA / "solomon" / "C101.txt"
C101_BKS_ROUTES = DATA / "bks_solutions_dimacs" / "solomon" / "C101.sol"


def write_two_customer_instance(
    directory: Path,
    *,
    capacity: int = 20,
    fleet_size: int = 2,
    depot_due: int = 100,
    customer_2_due: int = 18,
) -> Path:
    """A depot at (0, 0) and two customers 5 apart on a line, 3-4-5 triangles.

    Route [1, 2]: arrive at 1 at t=5, wait until ready=10, serve 2, drive 5,
    start at 2 at t=17, serve 1, drive 10 home: back at t=28, distance 20.
    Load 6 + 5 = 11.
    """
    text = (
        "TWO\r\n\r\nVEHICLE\r\nNUMBER     CAPACITY\r\n"
        f"  {fleet_size}         {capacity}\r\n\r\nCUSTOMER\r\n"
        "CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME\r\n"
        " \r\n"
        f"    0      0          0          0          0       {depot_due}          0\r\n"
        "    1      3          4          6         10        20          2\r\n"
        f"    2      6          8          5          0        {customer_2_due}          1\r\n"
    )
    path = directory / "two.txt"
    path.write_text(text, newline="")
    return path


def test_solomon_parser_reads_fleet_capacity_and_all_customers_of_c101() -> None:
    instance = read_solomon(C101)
    assert instance.name == "C101"
    assert (instance.fleet_size, instance.capacity) == (25, 200)
    assert instance.num_customers == 100
    assert (instance.x[0], instance.y[0], instance.due[0]) == (40.0, 50.0, 1236.0)
    assert (instance.demand[1], instance.ready[1], instance.due[1]) == (10, 912.0, 967.0)
    assert instance.service[1] == 90.0


def test_best_known_routes_of_c101_are_feasible_with_exact_distance_828_94() -> None:
    result = check_solution(read_solomon(C101), read_vrplib_solution(C101_BKS_ROUTES))
    assert result.feasible, result.violations
    assert result.vehicles == 10
    assert result.distance == pytest.approx(828.9369, abs=1e-3)
    assert result.distance == pytest.approx(read_bks(DATA / "bks_double.csv")["C101"], abs=1e-3)


def test_reversing_a_best_known_route_is_rejected_for_a_late_service() -> None:
    routes = read_vrplib_solution(C101_BKS_ROUTES)
    routes[0] = list(reversed(routes[0]))
    result = check_solution(read_solomon(C101), routes)
    assert not result.feasible
    assert any(
        v.startswith("route 1: service at customer") and "after its due time" in v
        for v in result.violations
    )


def test_dimacs_truncated_bks_of_rc101_is_late_at_customer_46_in_double_precision() -> None:
    """SOURCES.md: the DIMACS RC101 routes start customer 46 at 143.07 (due 143)."""
    instance = read_solomon(DATA / "solomon" / "RC101.txt")
    routes = read_vrplib_solution(DATA / "bks_solutions_dimacs" / "solomon" / "RC101.sol")
    result = check_solution(instance, routes)
    assert not result.feasible
    assert any("customer 46 starts at 143.07" in v for v in result.violations)


def test_a_dropped_customer_is_reported_as_not_visited() -> None:
    routes = read_vrplib_solution(C101_BKS_ROUTES)
    routes[1].remove(17)
    result = check_solution(read_solomon(C101), routes)
    assert result.violations == ["customer 17 is not visited"]


def test_a_customer_served_twice_is_reported() -> None:
    routes = read_vrplib_solution(C101_BKS_ROUTES)
    routes.append([17])
    result = check_solution(read_solomon(C101), routes)
    assert "customer 17 is visited 2 times" in result.violations


def test_an_id_outside_the_file_is_reported(tmp_path: Path) -> None:
    instance = read_solomon(write_two_customer_instance(tmp_path))
    result = check_solution(instance, [[1, 2, 3]])
    assert result.violations == ["unknown customer id 3 (valid ids are 1..2)"]


def test_waiting_for_the_ready_time_is_allowed_and_distance_is_exact(tmp_path: Path) -> None:
    result = check_solution(read_solomon(write_two_customer_instance(tmp_path)), [[1, 2]])
    assert result.feasible, result.violations
    assert result.distance == pytest.approx(20.0)
    assert result.vehicles == 1


def test_empty_routes_are_vehicles_left_at_the_depot(tmp_path: Path) -> None:
    instance = read_solomon(write_two_customer_instance(tmp_path, fleet_size=1))
    result = check_solution(instance, [[], [1, 2], []])
    assert result.feasible, result.violations
    assert result.vehicles == 1


def test_service_starting_after_the_due_time_is_rejected(tmp_path: Path) -> None:
    instance = read_solomon(write_two_customer_instance(tmp_path, customer_2_due=16))
    result = check_solution(instance, [[1, 2]])
    assert result.violations == [
        "route 1: service at customer 2 starts at 17.0000, after its due time 16"
    ]


def test_returning_after_the_depot_due_time_is_rejected(tmp_path: Path) -> None:
    instance = read_solomon(write_two_customer_instance(tmp_path, depot_due=27))
    result = check_solution(instance, [[1, 2]])
    assert result.violations == [
        "route 1: returns to the depot at 28.0000, after the depot due time 27"
    ]


def test_load_above_capacity_is_rejected(tmp_path: Path) -> None:
    instance = read_solomon(write_two_customer_instance(tmp_path, capacity=10))
    result = check_solution(instance, [[1, 2]])
    assert result.violations == ["route 1: load 11 exceeds capacity 10"]


def test_more_routes_than_the_fleet_is_rejected(tmp_path: Path) -> None:
    instance = read_solomon(write_two_customer_instance(tmp_path, fleet_size=1))
    result = check_solution(instance, [[1], [2]])
    assert result.violations == ["2 routes used but the fleet has 1 vehicles"]


def test_gap_is_relative_to_the_best_known_distance_in_percent() -> None:
    assert gap_percent(102.0, 100.0) == pytest.approx(2.0)
    assert gap_percent(100.0, 100.0) == 0.0


def test_command_line_exits_non_zero_and_prints_reasons_for_an_infeasible_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    instance = write_two_customer_instance(tmp_path, capacity=10)
    solution = tmp_path / "answer.json"
    solution.write_text('{"instance": "TWO", "distance": 19.0, "vehicles": 1, "routes": [[1, 2]]}')
    assert main([str(instance), str(solution)]) == 1
    out = capsys.readouterr().out
    assert "feasible=False" in out
    assert "load 11 exceeds capacity 10" in out
    assert "reported distance 19.0, recomputed 20.0000" in out
