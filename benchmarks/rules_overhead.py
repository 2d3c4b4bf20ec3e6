"""What the calendar rules (lunch breaks, customer promises, time grid) cost, used or not.

Issue 20 added rules to the scheduler. Problems that do not use them must plan
exactly as before, as fast as before; problems that do use them pay something,
and this script says how much. It measures two scheduler trees in one run, the
current one and an older checkout (``git worktree add /tmp/base <commit>``),
each in its own process so that each imports its own ``scheduler``:

* **identity**: with the reproducible ``FirstFeasible`` stop and one worker,
  the routes and the objective of Solomon instances and generated ISP weeks,
  hashed: equal hashes mean the plans are identical;
* **time**: the median wall time of those ``FirstFeasible`` solves (model
  build, screening, construction: where an unused rule could still cost);
* **used** (current tree only): a generated week solved for a fixed time
  with and without a lunch on every crew-day, preferred days and AM/PM slots
  on a fifth of the jobs, on a 5-minute grid: jobs planned, km, promises kept.

Usage::

    git worktree add /tmp/base a07f8d1
    .venv/bin/python benchmarks/rules_overhead.py run --base /tmp/base \\
        --solomon ../shared/data/vrptw/solomon --results benchmarks/results/rules_overhead.json
    .venv/bin/python benchmarks/rules_overhead.py report benchmarks/results/rules_overhead.json

Only this file's own standard-library imports run at the top, so the same file
measures any tree put first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SOLOMON = ("C101", "R101", "RC101", "C201", "R201", "RC201")
WEEKS = ((200, 1), (300, 2), (1000, 3))
REPEATS = 3
USED_JOBS = 300
USED_SECONDS = 20.0


def _plan_hash(result: Any) -> str:
    routes = sorted(
        (str(r.crew_id), r.day, tuple(v.job_id for v in r.visits)) for r in result.routes
    )
    text = json.dumps([routes, round(result.cost(), 3)], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _first_feasible(problem: Any) -> tuple[str, float, float]:
    """Plan hash, objective and median seconds of a reproducible first-feasible solve."""
    from scheduler import FirstFeasible, SolveParams, solve

    seconds = []
    result = None
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = solve(problem, FirstFeasible(), SolveParams(seed=1, num_workers=1))
        seconds.append(time.perf_counter() - started)
    assert result is not None
    return _plan_hash(result), round(result.cost(), 1), statistics.median(seconds)


def measure_identity(solomon_dir: Path) -> list[dict[str, Any]]:
    from scheduler.generate import generate_week
    from scheduler.vrptw import parse_solomon, to_problem

    rows = []
    for name in SOLOMON:
        instance = parse_solomon((solomon_dir / f"{name}.txt").read_text())
        plan, cost, seconds = _first_feasible(to_problem(instance))
        rows.append({"problem": name, "hash": plan, "cost": cost, "seconds": seconds})
    for n_jobs, seed in WEEKS:
        plan, cost, seconds = _first_feasible(generate_week(n_jobs, seed=seed))
        rows.append(
            {
                "problem": f"week {n_jobs} (seed {seed})",
                "hash": plan,
                "cost": cost,
                "seconds": seconds,
            }
        )
    return rows


def _with_rules(problem: Any) -> Any:
    """Lunch 60 min starting 11:30-13:30 on every crew-day; promises on a fifth of the jobs."""
    import scheduler as s

    grid = 300
    crew_days = []
    for cd in problem.crew_days:
        midnight = cd.day * s.DAY_S
        earliest = max(midnight + 11 * 3600 + 1800, cd.shift_start_s)
        latest = min(midnight + 13 * 3600 + 1800, cd.shift_end_s - 3600)
        lunch = s.Break(earliest, latest, 3600) if latest >= earliest else None
        crew_days.append(dataclasses.replace(cd, lunch=lunch))
    days = sorted({cd.day for cd in problem.crew_days})
    jobs = []
    for k, job in enumerate(problem.jobs):
        duration = -(-job.duration_s // grid) * grid
        if k % 5 == 0:
            day = days[k % len(days)]
            start, end = (9, 12) if k % 2 else (13, 17)
            slot = s.TimeWindow(day * s.DAY_S + start * 3600, day * s.DAY_S + end * 3600)
            job = dataclasses.replace(
                job,
                duration_s=duration,
                preferred_days=frozenset({day}),
                preferred_windows=(slot,),
                promise_is_hard=k % 10 == 0 and job.day_allowed(day),
            )
        else:
            job = dataclasses.replace(job, duration_s=duration)
        jobs.append(job)
    return dataclasses.replace(
        problem, crew_days=tuple(crew_days), jobs=tuple(jobs), time_grid_s=grid
    )


def measure_used() -> list[dict[str, Any]]:
    from scheduler import MaxRuntime, SolveParams, solve, validate
    from scheduler.generate import generate_week

    base = generate_week(USED_JOBS, seed=4)
    rows = []
    for label, problem in (("rules unused", base), ("rules used", _with_rules(base))):
        started = time.perf_counter()
        result = solve(problem, MaxRuntime(USED_SECONDS), SolveParams(seed=1))
        seconds = time.perf_counter() - started
        preferring = [j for j in problem.jobs if j.preferred_days or j.preferred_windows]
        placed = {v.job_id: (r, v) for r in result.routes for v in r.visits}
        kept = 0
        for job in preferring:
            if job.id not in placed:
                continue
            route, visit = placed[job.id]
            day_ok = not job.preferred_days or route.day in job.preferred_days
            slot_ok = not job.preferred_windows or any(
                w.contains(visit.start_s) for w in job.preferred_windows
            )
            kept += day_ok and slot_ok
        rows.append(
            {
                "setup": label,
                "jobs": len(problem.jobs),
                "assigned": result.kpis.jobs_assigned,
                "km": round(result.kpis.total_km, 1),
                "crew_days_used": result.kpis.crew_days_used,
                "promises": len(preferring),
                "promises_kept": kept,
                "violations": len(validate(problem, result)),
                "seconds": round(seconds, 2),
            }
        )
    return rows


def _measure(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--solomon", type=Path, required=True)
    parser.add_argument("--used", action="store_true")
    args = parser.parse_args(argv)
    out: dict[str, Any] = {"identity": measure_identity(args.solomon)}
    if args.used:
        out["used"] = measure_used()
    json.dump(out, sys.stdout)


def _tree_run(tree: Path, solomon: Path, used: bool) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
    command = [sys.executable, str(Path(__file__).resolve()), "measure", "--solomon", str(solomon)]
    if used:
        command.append("--used")
    done = subprocess.run(command, env=env, cwd=tree, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="rules_overhead run")
    parser.add_argument("--base", type=Path, required=True, help="checkout of the older tree")
    parser.add_argument("--solomon", type=Path, required=True)
    parser.add_argument("--results", type=Path, required=True)
    args = parser.parse_args(argv)
    here = Path(__file__).resolve().parents[1]
    results = {
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "base": _tree_run(args.base, args.solomon.resolve(), used=False),
        "current": _tree_run(here, args.solomon.resolve(), used=True),
    }
    args.results.write_text(json.dumps(results, indent=2) + "\n")
    report([str(args.results)])


def report(argv: list[str]) -> None:
    data = json.loads(Path(argv[0]).read_text())
    print(f"{data['machine']}, {data['when']}\n")
    print("| problem | same plan | cost | base s | current s | time ratio |")
    print("|---|---|---|---|---|---|")
    ratios = []
    for old, new in zip(data["base"]["identity"], data["current"]["identity"], strict=True):
        ratio = new["seconds"] / old["seconds"]
        ratios.append(ratio)
        same = "yes" if old["hash"] == new["hash"] else f"no ({old['cost']} → {new['cost']})"
        print(
            f"| {new['problem']} | {same} | {new['cost']} | {old['seconds']:.3f} | "
            f"{new['seconds']:.3f} | {ratio:.2f}x |"
        )
    print(f"\nmedian time ratio current/base: {statistics.median(ratios):.2f}x\n")
    print("| setup | jobs | assigned | km | crew-days | promises kept | violations | s |")
    print("|---|---|---|---|---|---|---|---|")
    for row in data["current"].get("used", []):
        print(
            f"| {row['setup']} | {row['jobs']} | {row['assigned']} | {row['km']} | "
            f"{row['crew_days_used']} | {row['promises_kept']} / {row['promises']} | "
            f"{row['violations']} | {row['seconds']} |"
        )


if __name__ == "__main__":
    command, rest = sys.argv[1], sys.argv[2:]
    {"run": run, "report": report, "measure": _measure}[command](rest)
