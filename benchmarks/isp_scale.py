"""ISP week at scale: our solver against the greedy baseline on generated weeks.

For each size (jobs over 5 days, crews proportional, see
:mod:`scheduler.generate`) this measures, on the same problem:

- **greedy** (:func:`scheduler.greedy.solve_greedy`): time, cost, km, slack;
- **first plan**: ``solve(problem, FirstFeasible() | MaxRuntime(cap))``, i.e.
  the time until the solver has a complete plan (by default the greedy plan,
  verified by the OR-Tools model), both as the solver reports it (search
  only) and as wall time around the whole call (travel matrix, screening,
  greedy start, model build);
- **first plan from greedy**: the greedy plan as warm start, stopped at the
  first plan; wall time includes the greedy;
- **time-limited search**: one ``solve(problem, MaxRuntime(T))`` run whose
  progress callback records the best objective over time, read at each
  checkpoint (10/30/60 s by default), plus the final plan's figures; and, for
  weeks large enough to be searched region by region
  (:mod:`scheduler.decompose`), the same limit on one OR-Tools model
  (``SolveParams(decompose=False)``), to show what the regions are worth.

Every plan, greedy included, is checked by :func:`scheduler.validate.validate`
and its violations are counted in the report (they must be 0). Both planners
use the same hard rules (the generated week's minimum gap and maximum
utilization), so their kilometres compare at equal slack rules.

Results are written per size to ``benchmarks/results/isp_scale.json`` as soon
as a size is done; a re-run skips sizes already there (``--force`` redoes
them). Pin it to one core from the command line, e.g.::

    taskset -c 1 .venv/bin/python -m benchmarks.isp_scale run --sizes 200 1000
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.vrptw_compare import machine_description, save_results, scheduler_fingerprint
from scheduler.decompose import should_decompose
from scheduler.generate import generate_week
from scheduler.greedy import solve_greedy
from scheduler.params import FirstFeasible, MaxRuntime, SolveParams
from scheduler.result import Result
from scheduler.solve import solve
from scheduler.validate import validate

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RESULTS = REPO_ROOT / "benchmarks" / "results" / "isp_scale.json"
N_DAYS = 5


def plan_figures(problem_jobs: int, result: Result, violations: int) -> dict[str, Any]:
    """The figures reported for any plan, greedy or optimized."""
    kpis = result.kpis
    return {
        "status": result.status,
        "stop_reason": result.stop_reason,
        "cost_yen": round(result.cost(), 1),
        "objective_yen": {k: round(v, 1) for k, v in result.objective_yen.items()},
        "jobs": problem_jobs,
        "assigned": kpis.jobs_assigned,
        "unassigned": kpis.jobs_unassigned,
        "unassigned_rules": sorted({r.rule for u in result.unassigned for r in u.reasons}),
        "crew_days_used": kpis.crew_days_used,
        "total_km": round(kpis.total_km, 1),
        "km_per_job": round(kpis.km_per_job, 3),
        "mean_slack_min": round(kpis.mean_slack_s / 60, 1),
        "mean_utilization": round(kpis.mean_utilization, 4),
        "runtime_s": round(result.runtime_s, 3),
        "first_solution_s": (
            None if result.first_solution_s is None else round(result.first_solution_s, 3)
        ),
        "violations": violations,
    }


def objective_at(trajectory: Sequence[Sequence[float]], seconds: float) -> float | None:
    """Best objective reported at or before ``seconds`` (``None`` if nothing yet)."""
    seen = [objective for elapsed, objective, _ in trajectory if elapsed <= seconds]
    return seen[-1] if seen else None


def measure_size(
    n_jobs: int,
    seed: int,
    time_limit: float,
    checkpoints: Sequence[float],
    workers: int,
    first_plan_cap: float,
) -> dict[str, Any]:
    """Generate one week and measure greedy, first plan and time-limited search on it."""
    problem = generate_week(n_jobs, seed=seed, n_days=N_DAYS)
    record: dict[str, Any] = {
        "n_jobs": n_jobs,
        "n_crews": len(problem.crews),
        "n_crew_days": len(problem.crew_days),
        "seed": seed,
        "scheduler_fingerprint": scheduler_fingerprint(),
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "loadavg_1min_before": round(os.getloadavg()[0], 2),
    }
    params = SolveParams(seed=seed, num_workers=workers)

    started = time.perf_counter()
    greedy = solve_greedy(problem)
    greedy_wall = time.perf_counter() - started
    record["greedy"] = plan_figures(n_jobs, greedy, len(validate(problem, greedy)))
    record["greedy"]["wall_s"] = round(greedy_wall, 3)
    print(f"{n_jobs}: greedy done in {greedy_wall:.2f} s", file=sys.stderr, flush=True)

    started = time.perf_counter()
    first = solve(problem, FirstFeasible() | MaxRuntime(first_plan_cap), params)
    first_wall = time.perf_counter() - started
    record["first_plan"] = plan_figures(n_jobs, first, len(validate(problem, first)))
    record["first_plan"]["wall_s"] = round(first_wall, 3)
    print(f"{n_jobs}: first plan in {first_wall:.2f} s wall", file=sys.stderr, flush=True)

    # What the product can return quickly: the greedy plan handed to the solver
    # as a warm start, stopped at the first plan (timed from before the greedy).
    started = time.perf_counter()
    seeded = solve(problem, FirstFeasible(), params, warm_start=solve_greedy(problem).to_plan())
    seeded_wall = time.perf_counter() - started
    record["first_plan_from_greedy"] = plan_figures(n_jobs, seeded, len(validate(problem, seeded)))
    record["first_plan_from_greedy"]["wall_s"] = round(seeded_wall, 3)

    trajectory: list[tuple[float, float, int]] = []

    def progress(elapsed_s: float, best_objective_yen: float, assigned_count: int) -> None:
        trajectory.append((elapsed_s, best_objective_yen, assigned_count))

    started = time.perf_counter()
    searched = solve(problem, MaxRuntime(time_limit), params, progress=progress)
    search_wall = time.perf_counter() - started
    record["search"] = plan_figures(n_jobs, searched, len(validate(problem, searched)))
    record["search"]["wall_s"] = round(search_wall, 3)
    record["search"]["time_limit_s"] = time_limit
    record["search"]["first_progress_s"] = round(trajectory[0][0], 3) if trajectory else None
    record["search"]["objective_at"] = {
        f"{t:g}": objective_at(trajectory, t) for t in checkpoints if t <= time_limit
    }
    record["search"]["improvements"] = len(trajectory)
    print(f"{n_jobs}: search done in {search_wall:.2f} s wall", file=sys.stderr, flush=True)

    # What the region-by-region search is worth: the same limit on one OR-Tools model.
    if should_decompose(problem, params):
        one_trajectory: list[tuple[float, float, int]] = []

        def one_progress(elapsed_s: float, best_objective_yen: float, assigned_count: int) -> None:
            one_trajectory.append((elapsed_s, best_objective_yen, assigned_count))

        started = time.perf_counter()
        one = solve(
            problem,
            MaxRuntime(time_limit),
            replace(params, decompose=False),
            progress=one_progress,
        )
        one_wall = time.perf_counter() - started
        record["one_model"] = plan_figures(n_jobs, one, len(validate(problem, one)))
        record["one_model"]["wall_s"] = round(one_wall, 3)
        record["one_model"]["time_limit_s"] = time_limit
        record["one_model"]["objective_at"] = {
            f"{t:g}": objective_at(one_trajectory, t) for t in checkpoints if t <= time_limit
        }
        record["one_model"]["improvements"] = len(one_trajectory)
        print(f"{n_jobs}: one-model search done in {one_wall:.2f} s", file=sys.stderr, flush=True)
    record["loadavg_1min_after"] = round(os.getloadavg()[0], 2)
    return record


def _percent_fewer(ours: float, baseline: float) -> str:
    """``"23.1 % fewer"`` or ``"12.0 % more"`` than the baseline."""
    if baseline <= 0 or ours <= 0:
        return "—"
    change = 100 * (1 - ours / baseline)
    return f"{change:.1f} % fewer" if change >= 0 else f"{-change:.1f} % more"


def render_report(results: dict[str, Any]) -> str:
    """Markdown tables: one per planner stage, then savings vs greedy and growth."""
    meta = results["meta"]
    sizes = sorted(results["sizes"].values(), key=lambda r: r["n_jobs"])
    checkpoints = [f"{t:g}" for t in meta["checkpoints"] if t <= meta["time_limit"]]
    lines = [
        f"Seed {meta['seed']}, {N_DAYS} days, search limit {meta['time_limit']:g} s, "
        f"{meta['workers']} worker(s); CPU {meta['machine']['cpu_model']} "
        f"({meta['machine']['cpus']} cores).",
        "",
        "| jobs | crews | crew-days | planner | wall s | first plan s | cost yen | "
        "unassigned | km | km/job | mean slack min/crew-day | mean util. | violations |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in sizes:
        for label, key in (
            ("greedy", "greedy"),
            ("solver: first plan", "first_plan"),
            ("greedy + solver first plan", "first_plan_from_greedy"),
            (f"solver: {size['search']['time_limit_s']:g} s", "search"),
            (f"solver: {size['search']['time_limit_s']:g} s, one model", "one_model"),
        ):
            plan = size.get(key)
            if plan is None:
                continue
            lines.append(
                f"| {size['n_jobs']} | {size['n_crews']} | {size['n_crew_days']} | {label} | "
                f"{plan['wall_s']:.2f} | {_seconds(plan['first_solution_s'])} | "
                f"{plan['cost_yen']:,.0f} | {plan['unassigned']} | {plan['total_km']:.1f} | "
                f"{plan['km_per_job']:.2f} | {plan['mean_slack_min']:.0f} | "
                f"{plan['mean_utilization']:.0%} | {plan['violations']} |"
            )
    lines += [
        "",
        "| jobs | search | objective yen at "
        + " | ".join(f"{t} s" for t in checkpoints)
        + " | improvements | km vs greedy | km/job vs greedy | assigned (greedy → solver) |",
        "|---|---|" + "---|" * len(checkpoints) + "---|---|---|---|",
    ]
    for size in sizes:
        greedy = size["greedy"]
        for label, key in (("default", "search"), ("one model", "one_model")):
            search = size.get(key)
            if search is None:
                continue
            at = [search["objective_at"].get(t) for t in checkpoints]
            lines.append(
                f"| {size['n_jobs']} | {label} | "
                + " | ".join("—" if v is None else f"{v:,.0f}" for v in at)
                + f" | {search['improvements']} | "
                f"{_percent_fewer(search['total_km'], greedy['total_km'])} | "
                f"{_percent_fewer(search['km_per_job'], greedy['km_per_job'])} | "
                f"{greedy['assigned']} → {search['assigned']} |"
            )
    # A "plan" with every job unassigned is no plan: leave it out of the growth.
    timed = [s for s in sizes if s["first_plan"]["assigned"] > 0]
    untimed = [s["n_jobs"] for s in sizes if s["first_plan"]["assigned"] == 0]
    if untimed:
        lines += ["", f"No first plan from scratch (every job unassigned) for: {untimed} jobs."]
    if len(timed) >= 2:
        lines += ["", "Growth of the time to a first plan (wall, whole call):"]
        for small, large in itertools.pairwise(timed):
            exponent = math.log(large["first_plan"]["wall_s"] / small["first_plan"]["wall_s"]) / (
                math.log(large["n_jobs"] / small["n_jobs"])
            )
            lines.append(
                f"- {small['n_jobs']} → {large['n_jobs']} jobs: "
                f"{small['first_plan']['wall_s']:.1f} s → {large['first_plan']['wall_s']:.1f} s "
                f"(~ n^{exponent:.2f})"
            )
    return "\n".join(lines) + "\n"


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def command_run(args: argparse.Namespace) -> int:
    """Measure the sizes not yet in the results file, then print and save the report."""
    meta = {
        "seed": args.seed,
        "time_limit": args.time_limit,
        "checkpoints": args.checkpoints,
        "workers": args.workers,
        "first_plan_cap": args.first_plan_cap,
        "machine": machine_description(),
        "cpu_affinity": sorted(os.sched_getaffinity(0)),
    }
    path: Path = args.results
    results: dict[str, Any] = {"meta": meta, "sizes": {}}
    if path.exists():
        results = json.loads(path.read_text())
        for key in ("seed", "time_limit", "workers"):
            if results["meta"][key] != meta[key]:
                raise SystemExit(f"{path} has {key}={results['meta'][key]}; use --results")
    for n_jobs in args.sizes:
        if str(n_jobs) in results["sizes"] and not args.force:
            continue
        record = measure_size(
            n_jobs, args.seed, args.time_limit, args.checkpoints, args.workers, args.first_plan_cap
        )
        record["cpu_affinity"] = meta["cpu_affinity"]
        results["sizes"][str(n_jobs)] = record
        save_results(path, results)
    report = render_report(results)
    print(report)
    path.with_suffix(".md").write_text(report)
    return 0


def command_report(args: argparse.Namespace) -> int:
    """Re-print the markdown of a results file."""
    print(render_report(json.loads(args.results.read_text())))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ``run`` or ``report``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="measure missing sizes, then report")
    run.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 3000])
    run.add_argument("--seed", type=int, default=1)
    run.add_argument("--time-limit", type=float, default=60.0)
    run.add_argument("--checkpoints", type=float, nargs="+", default=[10.0, 30.0, 60.0])
    run.add_argument("--workers", type=int, default=1, help="solver workers (processes)")
    run.add_argument(
        "--first-plan-cap",
        type=float,
        default=300.0,
        help="give up on the first plan after this many seconds of search",
    )
    run.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    run.add_argument("--force", action="store_true", help="re-measure sizes already done")
    run.set_defaults(handler=command_run)
    report = sub.add_parser("report", help="re-print the markdown of a results file")
    report.add_argument("results", type=Path)
    report.set_defaults(handler=command_report)
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
