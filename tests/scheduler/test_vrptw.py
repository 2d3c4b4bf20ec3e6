"""The VRPTW command: Solomon parsing, mapping onto the scheduler model, the JSON answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scheduler import validate
from scheduler.params import FirstSolution, Metaheuristic
from scheduler.vrptw import (
    ITERATED_SECONDS_PER_CUSTOMER,
    exact_distance,
    exact_violations,
    main,
    parse_solomon,
    search_params,
    to_problem,
)

# Two instances ship with the tests (tests/data/vrptw/SOURCES.md); benchmarks read the full set.
SOLOMON_DIR = Path(__file__).resolve().parents[1] / "data" / "vrptw" / "solomon"

TINY = "\r\n".join(
    [
        "TINY4",
        "",
        "VEHICLE",
        "NUMBER     CAPACITY",
        "  2         10",
        "",
        "CUSTOMER",
        "CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME",
        " ",
        "    0      0          0          0          0        100          0",
        "    1      3          4          4          0         50          1",
        "    2      6          8          4          0         50          1",
        "    3     -3          4          4          0         50          1",
        "    4     -6          8          4         20         30          1",
        "",
    ]
)
"""Depot at the origin, two customers up-right and two up-left, capacity for two each."""


def test_parse_tiny_file_with_crlf() -> None:
    """Vehicles, capacity and customer rows are read as numbered in the file."""
    instance = parse_solomon(TINY)
    assert (instance.name, instance.vehicles, instance.capacity) == ("TINY4", 2, 10)
    assert [c.number for c in instance.customers] == [1, 2, 3, 4]
    assert instance.customers[3].ready == 20


def test_parse_c101_counts() -> None:
    """C101 has 25 vehicles of capacity 200 and 100 customers."""
    instance = parse_solomon((SOLOMON_DIR / "C101.txt").read_text())
    assert (instance.vehicles, instance.capacity, len(instance.customers)) == (25, 200, 100)
    assert instance.depot.due == 1236
    assert instance.customers[0].service == 90


def test_problem_mapping_keeps_windows_and_scaled_travel() -> None:
    """Customers become jobs with demand and a start window; times are scaled by 1000 and
    travel times rounded up so integral schedules stay feasible in exact arithmetic."""
    problem = to_problem(parse_solomon(TINY))
    job = problem.jobs_by_id()["4"]
    assert (job.windows[0].start_s, job.windows[0].end_s, job.demand_units) == (20_000, 30_000, 4)
    assert problem.travel is not None
    assert problem.travel.duration(problem.crews[0].home, problem.jobs[0].location) == 5000


def test_cli_prints_one_feasible_json_answer(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The command prints {instance, distance, vehicles, routes, seconds}; the routes serve
    every customer once and are feasible with exact double-precision times."""
    path = tmp_path / "TINY4.txt"
    path.write_bytes(TINY.encode())
    assert main([str(path), "--time-limit", "0.3", "--seed", "1"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert set(answer) == {"instance", "distance", "vehicles", "routes", "seconds"}
    instance = parse_solomon(TINY)
    assert exact_violations(instance, answer["routes"]) == []
    assert answer["vehicles"] == len(answer["routes"]) == 2
    assert answer["distance"] == pytest.approx(exact_distance(instance, answer["routes"]))
    assert answer["distance"] == pytest.approx(40.0)


def test_c101_solution_is_feasible_in_exact_arithmetic(capsys: pytest.CaptureFixture[str]) -> None:
    """A short run on C101 serves all 100 customers within windows and capacity."""
    assert main([str(SOLOMON_DIR / "C101.txt"), "--time-limit", "1"]) == 0
    answer = json.loads(capsys.readouterr().out)
    instance = parse_solomon((SOLOMON_DIR / "C101.txt").read_text())
    assert exact_violations(instance, answer["routes"]) == []
    assert answer["instance"] == "C101"


def test_scheduler_validator_accepts_vrptw_results() -> None:
    """The benchmark goes through the same model: the product's validator passes too."""
    from scheduler import MaxRuntime, solve

    problem = to_problem(parse_solomon(TINY))
    result = solve(problem, MaxRuntime(0.2))
    assert validate(problem, result) == []


def test_automatic_search_is_iterated_when_the_budget_per_customer_allows() -> None:
    """Iterated local search needs time per customer; with less, guided local search runs."""
    roomy = search_params(100, time_limit_s=100 * ITERATED_SECONDS_PER_CUSTOMER)
    tight = search_params(1000, time_limit_s=999 * ITERATED_SECONDS_PER_CUSTOMER)
    assert roomy.search.metaheuristic == Metaheuristic.ITERATED_LOCAL_SEARCH
    assert tight.search.metaheuristic == Metaheuristic.GUIDED_LOCAL_SEARCH
    assert search_params(1000, 1.0, search="iterated").search.metaheuristic == (
        Metaheuristic.ITERATED_LOCAL_SEARCH
    )
    assert search_params(10, 100.0, search="guided").search.metaheuristic == (
        Metaheuristic.GUIDED_LOCAL_SEARCH
    )


def test_ortools_defaults_search_is_or_tools_as_its_examples_set_it_up() -> None:
    """The comparison column: path-cheapest-arc start, GLS lambda 0.1, every operator."""
    params = search_params(100, 30.0, search="ortools-defaults")
    assert params.start.first_solution == FirstSolution.PATH_CHEAPEST_ARC
    assert params.start.constructions == ()
    assert params.search.metaheuristic == Metaheuristic.GUIDED_LOCAL_SEARCH
    assert params.search.guided_local_search_lambda == 0.1
    assert params.operators.drop_moves and params.operators.insertion_lns


def test_unknown_search_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="search must be one of"):
        search_params(100, 30.0, search="fastest")


def test_cli_runs_the_ortools_defaults_search(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "TINY4.txt"
    path.write_bytes(TINY.encode())
    assert main([str(path), "--time-limit", "0.3", "--search", "ortools-defaults"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert exact_violations(parse_solomon(TINY), answer["routes"]) == []
