"""Specification of the benchmark reports: what counts, and what is shown as a problem."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.isp_scale import objective_at
from benchmarks.vrptw_compare import render_report, summarize


def run(instance: str, solver: str, **fields: Any) -> dict[str, Any]:
    record = {
        "instance": instance,
        "solver": solver,
        "status": "ok",
        "feasible": True,
        "distance": 100.0,
        "vehicles": 3,
        "violations": [],
        "bks_distance": 100.0,
        "gap_percent": 0.0,
        "solver_seconds": 5.0,
        "wall_seconds": 5.5,
    }
    record.update(fields)
    return record


def results(*records: dict[str, Any]) -> dict[str, Any]:
    meta = {
        "time_limit": 5.0,
        "seed": 1,
        "scale": 1000,
        "vroom_threads": 1,
        "vroom_exploration_level": 5,
        "pinning": "taskset -c 1",
        "machine": {"cpu_model": "Test CPU", "cpus": 2},
    }
    return {"meta": meta, "runs": {f"{r['instance']}/{r['solver']}": r for r in records}}


def test_mean_gap_counts_feasible_solutions_only_but_feasibility_counts_all_runs() -> None:
    summary = summarize(
        [
            run("A", "ours", gap_percent=1.0),
            run("B", "ours", gap_percent=3.0),
            run("C", "ours", feasible=False, gap_percent=-5.0),
        ]
    )
    assert summary["runs"] == 3
    assert summary["feasible"] == 2
    assert summary["mean_gap"] == pytest.approx(2.0)
    assert summary["max_gap"] == pytest.approx(3.0)


def test_an_infeasible_solution_is_marked_and_its_reasons_are_listed() -> None:
    report = render_report(
        results(
            run("A", "ours", feasible=False, violations=["customer 7 is not visited"]),
            run("A", "pyvrp"),
        ),
        ["A"],
        ["ours", "pyvrp"],
    )
    assert "**INFEASIBLE**" in report
    assert "- A / ours: infeasible: customer 7 is not visited" in report


def test_a_crash_is_reported_with_its_error_and_counts_as_not_feasible() -> None:
    report = render_report(
        results(run("A", "ours", status="error", feasible=False, error="exit 1: boom")),
        ["A"],
        ["ours"],
    )
    assert "ERROR" in report
    assert "- A / ours: error: exit 1: boom" in report
    assert "| ours | 1 | 0 |" in report


def test_ratios_to_peers_use_only_instances_where_both_are_feasible() -> None:
    report = render_report(
        results(
            run("A", "ours", gap_percent=2.0, solver_seconds=10.0),
            run("A", "vroom", gap_percent=1.0, solver_seconds=1.0),
            run("B", "ours", gap_percent=9.0),
            run("B", "vroom", feasible=False),
        ),
        ["A", "B"],
        ["ours", "vroom"],
    )
    assert "ours vs vroom on 1 instances where both are feasible" in report
    assert "mean gap 2.00 % vs 1.00 % (+1.00 points, ratio 2.00x)" in report
    assert "(ratio 10.00x)" in report


def test_objective_at_a_checkpoint_is_the_best_reported_by_then() -> None:
    trajectory = [(1.5, 900.0, 10), (8.0, 700.0, 10), (25.0, 650.0, 10)]
    assert objective_at(trajectory, 1.0) is None
    assert objective_at(trajectory, 10.0) == 700.0
    assert objective_at(trajectory, 60.0) == 650.0


def test_instance_class_groups_solomon_names() -> None:
    """Names map to their Solomon class: series letter(s) and the first digit."""
    from benchmarks.vrptw_compare import instance_class

    assert [instance_class(n) for n in ("C101", "C208", "R112", "R211", "RC105", "RC208")] == [
        "C1",
        "C2",
        "R1",
        "R2",
        "RC1",
        "RC2",
    ]


def test_generated_and_gehring_homberger_names_keep_the_class_before_the_underscore() -> None:
    """``RC2_1000_1`` and ``R1_10_3`` are RC2 and R1, not a class per file."""
    from benchmarks.vrptw_compare import instance_class

    assert [instance_class(n) for n in ("RC2_1000_1", "R1_10_3", "C1_200_1")] == ["RC2", "R1", "C1"]


def test_without_a_bks_the_report_quotes_ours_relative_to_pyvrp_in_the_same_run() -> None:
    """No BKS: no gap, but ours / PyVRP - 1 per instance and its mean; infeasible runs left out."""
    no_bks = {"bks_distance": None, "gap_percent": None}
    report = render_report(
        results(
            run("R1_1000_1", "ours", distance=105.0, vehicles=9, **no_bks),
            run("R1_1000_1", "pyvrp", distance=100.0, vehicles=8, **no_bks),
            run("C1_1000_1", "ours", distance=198.0, **no_bks),
            run("C1_1000_1", "pyvrp", distance=200.0, **no_bks),
            run("R2_1000_1", "ours", feasible=False, violations=["late"], **no_bks),
            run("R2_1000_1", "pyvrp", **no_bks),
        ),
        ["C1_1000_1", "R1_1000_1", "R2_1000_1"],
        ["ours", "pyvrp"],
    )
    assert "| R1_1000_1 | 105.00 | 9 | 100.00 | 8 | +5.00 |" in report
    assert "| C1_1000_1 | 198.00 | 3 | 200.00 | 3 | -1.00 |" in report
    assert "| R2_1000_1 | infeasible | | 100.00 | | — |" in report
    assert "Mean ours vs PyVRP over 2 instances: +2.00 % (max +5.00 %)." in report
    assert "ours vs pyvrp: no BKS" in report
