"""Solomon VRPTW: our scheduler side by side with PyVRP and VROOM, same run, same limits.

Every solver runs as its own subprocess that prints one JSON object
``{"instance", "distance", "vehicles", "routes", "seconds"}`` (the contract of
``python -m scheduler.vrptw``). The peers are wrapped by this module's
``worker`` sub-command so that all three are treated identically: pinned to
the same CPU core with ``taskset`` (when available), killed if they overrun,
and judged only by :mod:`benchmarks.vrptw_check`, which recomputes the
distance in exact double precision and checks every VRPTW rule. A solver's
own claim of distance or feasibility is recorded but never trusted.

The run is incremental: each finished (instance, solver) pair is written to
the results JSON at once, and a re-run skips pairs already there, so the
hour-long full run can be interrupted and resumed.

Usage (from the repository root, in the benchmark venv ``.venv-bench``)::

    .venv-bench/bin/python -m benchmarks.vrptw_compare run --time-limit 30
    .venv-bench/bin/python -m benchmarks.vrptw_compare run --time-limit 5 \\
        --instances C101 R101 --solvers pyvrp vroom
    .venv-bench/bin/python -m benchmarks.vrptw_compare report \\
        benchmarks/results/vrptw_solomon_30s.json
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import hashlib
import json
import math
import os
import platform
import queue
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.vrptw_check import (
    DISTANCE_REPORT_TOLERANCE,
    SolomonInstance,
    check_solution,
    gap_percent,
    read_bks,
    read_solomon,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "vrptw"
SOLVERS = ("ours", "pyvrp", "vroom", "ortools")
"""``ortools`` is OR-Tools as its VRPTW examples set it up, on our model (``--search
ortools-defaults`` of the CLI): not run unless asked for with ``--solvers``."""
DEFAULT_SOLVERS = ("ours", "pyvrp", "vroom")
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"

# Integer scaling for the peers: cost = round(SCALE * d), travel time =
# ceil(SCALE * d). Rounding the cost up or down is harmless (the checker
# recomputes the true distance); rounding travel *time* up guarantees that
# an integer-feasible schedule is also feasible with exact double times,
# since all Solomon windows and service times are integers.
DEFAULT_SCALE = 1000

# VROOM's strongest preset. It stops by itself (typically within a few
# seconds on Solomon-100); the time limit is passed as a safety timeout.
VROOM_EXPLORATION_LEVEL = 5

# A subprocess that takes this much longer than its time limit is killed
# and recorded as a timeout (model building, imports and output included).
OVERRUN_FACTOR = 2.0
OVERRUN_GRACE_SECONDS = 60.0


# --------------------------------------------------------------------------- workers


def _integer_matrices(instance: SolomonInstance, scale: int) -> tuple[list[list[int]], ...]:
    """Scaled integer distance (rounded) and duration (ceiled) matrices."""
    size = instance.num_customers + 1
    distance = [[0] * size for _ in range(size)]
    duration = [[0] * size for _ in range(size)]
    for i in range(size):
        for j in range(size):
            if i != j:
                d = instance.distance(i, j)
                distance[i][j] = round(scale * d)
                duration[i][j] = math.ceil(scale * d)
    return distance, duration


def solve_with_pyvrp(
    instance: SolomonInstance, time_limit: float, seed: int, scale: int
) -> dict[str, Any]:
    """Solve with PyVRP's iterated local search for ``time_limit`` seconds (single thread)."""
    import pyvrp
    from pyvrp.stop import MaxRuntime

    distance, duration = _integer_matrices(instance, scale)
    model = pyvrp.Model()
    locations = [
        model.add_location(x=instance.x[i], y=instance.y[i])
        for i in range(instance.num_customers + 1)
    ]
    depot = model.add_depot(
        locations[0],
        tw_early=round(scale * instance.ready[0]),
        tw_late=round(scale * instance.due[0]),
    )
    model.add_vehicle_type(
        num_available=instance.fleet_size,
        capacity=[instance.capacity],
        start_depot=depot,
        end_depot=depot,
        tw_early=round(scale * instance.ready[0]),
        tw_late=round(scale * instance.due[0]),
    )
    for customer in range(1, instance.num_customers + 1):
        model.add_client(
            locations[customer],
            delivery=[instance.demand[customer]],
            service_duration=round(scale * instance.service[customer]),
            tw_early=round(scale * instance.ready[customer]),
            tw_late=round(scale * instance.due[customer]),
        )
    for i, frm in enumerate(locations):
        for j, to in enumerate(locations):
            model.add_edge(frm, to, distance=distance[i][j], duration=duration[i][j])

    started = time.perf_counter()
    result = model.solve(stop=MaxRuntime(time_limit), seed=seed, display=False)
    seconds = time.perf_counter() - started
    # Clients were added in Solomon order after the single depot, and PyVRP
    # numbers client activities from 0, so Solomon id = activity index + 1.
    routes = [
        [activity.idx + 1 for activity in route if activity.is_client()]
        for route in result.best.routes()
    ]
    return {
        "instance": instance.name,
        "distance": result.best.distance() / scale,
        "vehicles": len(routes),
        "routes": routes,
        "seconds": seconds,
        "solver_feasible": bool(result.best.is_feasible()),
    }


def solve_with_vroom(
    instance: SolomonInstance, time_limit: float, threads: int, scale: int
) -> dict[str, Any]:
    """Solve with VROOM at exploration level 5 on ``threads`` threads."""
    import vroom

    distance, duration = _integer_matrices(instance, scale)
    problem = vroom.Input()
    problem.set_durations_matrix(profile="car", matrix_input=duration)
    problem.set_costs_matrix(profile="car", matrix_input=distance)
    depot_window = vroom.TimeWindow(
        round(scale * instance.ready[0]), round(scale * instance.due[0])
    )
    problem.add_vehicle(
        [
            vroom.Vehicle(
                vehicle_id,
                start=0,
                end=0,
                capacity=[instance.capacity],
                time_window=depot_window,
            )
            for vehicle_id in range(1, instance.fleet_size + 1)
        ]
    )
    problem.add_job(
        [
            vroom.Job(
                customer,
                location=customer,
                default_service=round(scale * instance.service[customer]),
                delivery=[instance.demand[customer]],
                time_windows=[
                    vroom.TimeWindow(
                        round(scale * instance.ready[customer]),
                        round(scale * instance.due[customer]),
                    )
                ],
            )
            for customer in range(1, instance.num_customers + 1)
        ]
    )
    started = time.perf_counter()
    solution = problem.solve(
        exploration_level=VROOM_EXPLORATION_LEVEL,
        nb_threads=threads,
        timeout=dt.timedelta(seconds=time_limit),
    )
    seconds = time.perf_counter() - started
    steps = solution.routes
    jobs = steps[steps["type"] == "job"]
    routes = [
        [int(job_id) for job_id in group["id"]]
        for _, group in jobs.groupby("vehicle_id", sort=True)
    ]
    return {
        "instance": instance.name,
        "distance": float(solution.summary.cost) / scale,
        "vehicles": len(routes),
        "routes": routes,
        "seconds": seconds,
        # VROOM drops jobs it cannot fit instead of failing; the checker then
        # reports them as not visited, this count only helps reading the JSON.
        "unassigned": int(solution.summary.unassigned),
    }


# --------------------------------------------------------------------------- runner


def machine_description() -> dict[str, Any]:
    """What the numbers were measured on, so a reader can judge them."""
    cpu_model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_model": cpu_model,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def scheduler_fingerprint() -> str:
    """Short hash of ``scheduler/*.py``: which version of our solver produced the numbers.

    The tree is edited while benchmarks run and may have no commit yet, so a
    content hash is the reliable way to tell two runs of different code apart.
    """
    digest = hashlib.sha256()
    for path in sorted((REPO_ROOT / "scheduler").glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def solver_versions() -> dict[str, str]:
    """Versions of the solver packages in the running interpreter."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in ("ortools", "pyvrp", "pyvroom", "numpy"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def pin_prefix(cpu: int | None) -> list[str]:
    """``taskset -c CPU`` when taskset exists and pinning was asked for, else nothing."""
    if cpu is None or shutil.which("taskset") is None:
        return []
    return ["taskset", "-c", str(cpu)]


def solver_command(solver: str, instance_path: Path, args: argparse.Namespace) -> list[str]:
    """The subprocess command line that runs ``solver`` on one instance."""
    if solver in ("ours", "ortools"):
        search = (
            ["--search", "ortools-defaults"]
            if solver == "ortools"
            else ["--search", args.our_search]
            if args.our_search != "auto"
            else []
        )
        return [
            args.our_python,
            "-m",
            "scheduler.vrptw",
            str(instance_path),
            "--time-limit",
            str(args.time_limit),
            "--seed",
            str(args.seed),
            *search,
        ]
    return [
        sys.executable,
        "-m",
        "benchmarks.vrptw_compare",
        "worker",
        solver,
        str(instance_path),
        "--time-limit",
        str(args.time_limit),
        "--seed",
        str(args.seed),
        "--scale",
        str(args.scale),
        "--vroom-threads",
        str(args.vroom_threads),
    ]


def run_one(
    solver: str,
    instance: SolomonInstance,
    instance_path: Path,
    bks_distance: float | None,
    args: argparse.Namespace,
    cpu: int | None = None,
) -> dict[str, Any]:
    """Run one solver on one instance in a subprocess, pinned to ``cpu``, and check its answer."""
    command = pin_prefix(cpu) + solver_command(solver, instance_path, args)
    record: dict[str, Any] = {
        "instance": instance.name,
        "solver": solver,
        "scheduler_fingerprint": (
            scheduler_fingerprint() if solver in ("ours", "ortools") else None
        ),
        "command": " ".join(command),
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "loadavg_1min_before": round(os.getloadavg()[0], 2),
        "bks_distance": bks_distance,
    }
    timeout = args.time_limit * OVERRUN_FACTOR + OVERRUN_GRACE_SECONDS
    started = time.perf_counter()
    try:
        completed = subprocess.run(
            command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        record.update(status="timeout", feasible=False, wall_seconds=timeout)
        record["error"] = f"killed after {timeout:.0f} s"
        return record
    record["wall_seconds"] = round(time.perf_counter() - started, 3)
    if completed.returncode != 0:
        record.update(status="error", feasible=False)
        record["error"] = f"exit {completed.returncode}: {completed.stderr.strip()[-600:]}"
        return record
    try:
        answer = json.loads(completed.stdout.strip().splitlines()[-1])
        routes = [[int(c) for c in route] for route in answer["routes"]]
    except (IndexError, KeyError, TypeError, ValueError) as exc:
        record.update(status="error", feasible=False)
        record["error"] = f"unreadable output ({exc}): {completed.stdout.strip()[-300:]}"
        return record

    check = check_solution(instance, routes)
    record.update(
        status="ok",
        feasible=check.feasible,
        distance=round(check.distance, 4),
        vehicles=check.vehicles,
        violations=check.violations,
        reported_distance=answer.get("distance"),
        reported_vehicles=answer.get("vehicles"),
        solver_seconds=answer.get("seconds"),
        routes=routes,
    )
    # Anything else the solver reports (e.g. our decomposition's counters) is kept as is.
    standard = {"instance", "distance", "vehicles", "routes", "seconds", "solver_feasible"}
    extra = {k: v for k, v in answer.items() if k not in standard}
    if extra:
        record["solver_extra"] = extra
    claimed = answer.get("distance")
    if isinstance(claimed, int | float) and abs(claimed - check.distance) > (
        DISTANCE_REPORT_TOLERANCE
    ):
        record["note"] = f"reported distance {claimed} differs from recomputed {check.distance:.4f}"
    if bks_distance is not None:
        record["gap_percent"] = round(gap_percent(check.distance, bks_distance), 4)
    return record


def load_results(path: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Existing results at ``path``, refusing to mix runs with different settings."""
    if not path.exists():
        return {"meta": meta, "runs": {}}
    results = json.loads(path.read_text())
    for key in ("time_limit", "seed", "scale", "vroom_threads", "cpu"):
        if results["meta"].get(key) != meta[key]:
            raise SystemExit(
                f"{path} was made with {key}={results['meta'].get(key)!r}, this run has "
                f"{meta[key]!r}; use another --results file to keep runs comparable"
            )
    return results


def save_results(path: Path, results: dict[str, Any]) -> None:
    """Write atomically so an interrupted run never leaves a truncated file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(results, indent=1) + "\n")
    temporary.replace(path)


def instance_names(instance_dir: Path, requested: Sequence[str] | None) -> list[str]:
    """The instances to run: ``requested``, or every ``<NAME>.txt`` in ``instance_dir``.

    Checked before anything runs, because the default folder lies beside the
    checkout (``../shared``): from a checkout elsewhere a run used to stop at
    its first instance with a bare ``FileNotFoundError``, or, without
    ``--instances``, run nothing and report an empty table.

    Raises
    ------
    ValueError
        The folder does not exist, holds no instance, or lacks a requested one.
    """
    if not instance_dir.is_dir():
        raise ValueError(
            f"instance folder {instance_dir} does not exist; "
            "pass --data-dir (e.g. benchmarks/data/vrptw_generated)"
        )
    if not requested:
        available = sorted(path.stem for path in instance_dir.glob("*.txt"))
        if not available:
            raise ValueError(f"instance folder {instance_dir} holds no <NAME>.txt instance")
        return available
    missing = [name for name in requested if not (instance_dir / f"{name}.txt").is_file()]
    if missing:
        raise ValueError(f"not in {instance_dir}: {', '.join(missing)}")
    return list(requested)


def command_run(args: argparse.Namespace) -> int:
    """Run the missing (instance, solver) pairs, then print and save the report.

    With several ``--cpu`` values, instances run in parallel, one per core;
    the solvers of one instance always run one after the other on the same
    core, so whatever load that core sees hits the three alike.
    """
    instance_dir: Path = args.instance_dir
    try:
        names = instance_names(instance_dir, args.instances)
    except ValueError as error:
        print(f"vrptw_compare: error: {error}", file=sys.stderr)
        return 2
    # Generated instances have no best-known solution: ``--bks none`` (or a
    # missing file) leaves the gap empty and the report quotes PyVRP's
    # distance in the same run as the reference instead.
    bks = read_bks(args.bks) if args.bks is not None and args.bks.exists() else {}
    cpus: list[int | None] = list(args.cpu) if shutil.which("taskset") else [None]
    meta = {
        "time_limit": args.time_limit,
        "seed": args.seed,
        "scale": args.scale,
        "vroom_threads": args.vroom_threads,
        "vroom_exploration_level": VROOM_EXPLORATION_LEVEL,
        "our_search": args.our_search,
        "cpu": cpus,
        "pinning": (
            " / ".join(f"taskset -c {cpu}" for cpu in cpus)
            if cpus != [None]
            else "none (taskset unavailable)"
        ),
        "machine": machine_description(),
        "versions": solver_versions(),
    }
    path: Path = args.results or RESULTS_DIR / f"vrptw_solomon_{args.time_limit:g}s.json"
    results = load_results(path, meta)
    meta_log = results.setdefault("invocations", [])
    meta_log.append(
        {
            "argv": sys.argv[1:],
            "scheduler_fingerprint": scheduler_fingerprint(),
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "loadavg": [round(v, 2) for v in os.getloadavg()],
        }
    )
    lock = threading.Lock()
    free_cpus: queue.SimpleQueue[int | None] = queue.SimpleQueue()
    for cpu in cpus:
        free_cpus.put(cpu)

    def run_instance(name: str) -> None:
        instance_path = instance_dir / f"{name}.txt"
        instance = read_solomon(instance_path)
        cpu = free_cpus.get()
        try:
            for solver in args.solvers:
                key = f"{name}/{solver}"
                with lock:
                    previous = results["runs"].get(key)
                if previous and not (args.retry_failed and previous["status"] != "ok"):
                    continue
                record = run_one(solver, instance, instance_path, bks.get(name), args, cpu)
                with lock:
                    results["runs"][key] = record
                    save_results(path, results)
                print(_progress_line(record), file=sys.stderr, flush=True)
        finally:
            free_cpus.put(cpu)

    with concurrent.futures.ThreadPoolExecutor(len(cpus)) as pool:
        list(pool.map(run_instance, names))
    report = render_report(results, names, args.solvers)
    print(report)
    path.with_suffix(".md").write_text(report)
    print(f"results: {path}", file=sys.stderr)
    return 0


def _progress_line(record: dict[str, Any]) -> str:
    if record["status"] != "ok":
        return (
            f"{record['instance']:>6} {record['solver']:>5}: {record['status']} {record['error']}"
        )
    gap = record.get("gap_percent")
    return (
        f"{record['instance']:>6} {record['solver']:>5}: feasible={record['feasible']} "
        f"distance={record['distance']:.2f} gap={gap if gap is None else f'{gap:.2f}%'} "
        f"wall={record['wall_seconds']:.1f}s"
    )


# --------------------------------------------------------------------------- report


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    text = f"{value:.{digits}f}"
    # A BKS reached exactly can come out as -0.00 through float noise.
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def summarize(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean/max gap over feasible runs, counts, and mean times of one solver."""
    feasible = [r for r in runs if r.get("feasible")]
    gaps = [r["gap_percent"] for r in feasible if r.get("gap_percent") is not None]
    solver_times = [r["solver_seconds"] for r in runs if r.get("solver_seconds") is not None]
    wall_times = [r["wall_seconds"] for r in runs if r.get("wall_seconds") is not None]
    return {
        "runs": len(runs),
        "feasible": len(feasible),
        "mean_gap": statistics.fmean(gaps) if gaps else None,
        "max_gap": max(gaps) if gaps else None,
        "mean_solver_seconds": statistics.fmean(solver_times) if solver_times else None,
        "mean_wall_seconds": statistics.fmean(wall_times) if wall_times else None,
    }


def render_report(results: dict[str, Any], names: Sequence[str], solvers: Sequence[str]) -> str:
    """Markdown: one row per instance, a per-solver summary and our ratios to the peers."""
    runs = results["runs"]
    meta = results["meta"]
    lines = [
        f"Time limit {meta['time_limit']:g} s per instance and solver; seed {meta['seed']}; "
        f"peers' integer scale {meta['scale']}; VROOM exploration level "
        f"{meta['vroom_exploration_level']}, {meta['vroom_threads']} thread(s); "
        f"pinning: {meta['pinning']}; CPU: {meta['machine']['cpu_model']} "
        f"({meta['machine']['cpus']} cores).",
        "",
    ]
    header = "| instance | BKS (double) |"
    rule = "|---|---|"
    for solver in solvers:
        header += f" {solver} distance | {solver} veh | {solver} gap % | {solver} s |"
        rule += "---|---|---|---|"
    lines += [header, rule]
    problems = []
    for name in names:
        bks = next(
            (runs[f"{name}/{s}"]["bks_distance"] for s in solvers if f"{name}/{s}" in runs), None
        )
        row = f"| {name} | {_fmt(bks)} |"
        for solver in solvers:
            record = runs.get(f"{name}/{solver}")
            if record is None:
                row += " not run | | | |"
                continue
            if record["status"] != "ok":
                row += f" {record['status'].upper()} | | | {_fmt(record.get('wall_seconds'), 1)} |"
                problems.append(f"- {name} / {solver}: {record['status']}: {record['error']}")
                continue
            mark = "" if record["feasible"] else " **INFEASIBLE**"
            seconds = record.get("solver_seconds") or record.get("wall_seconds")
            row += (
                f" {record['distance']:.2f}{mark} | {record['vehicles']} | "
                f"{_fmt(record.get('gap_percent'))} | {_fmt(seconds, 1)} |"
            )
            if not record["feasible"]:
                problems.append(
                    f"- {name} / {solver}: infeasible: " + "; ".join(record["violations"][:5])
                )
            if record.get("note"):
                problems.append(f"- {name} / {solver}: {record['note']}")
        lines.append(row)

    lines += [
        "",
        "| solver | instances run | feasible | mean gap % (feasible) | max gap % | "
        "mean solver s | mean wall s |",
        "|---|---|---|---|---|---|---|",
    ]
    summaries = {}
    for solver in solvers:
        solver_runs = [runs[f"{n}/{solver}"] for n in names if f"{n}/{solver}" in runs]
        summary = summaries[solver] = summarize(solver_runs)
        lines.append(
            f"| {solver} | {summary['runs']} | {summary['feasible']} | "
            f"{_fmt(summary['mean_gap'])} | {_fmt(summary['max_gap'])} | "
            f"{_fmt(summary['mean_solver_seconds'])} | {_fmt(summary['mean_wall_seconds'])} |"
        )

    lines += ["", *_class_lines(runs, names, solvers)]
    if "ours" in solvers and "pyvrp" in solvers:
        lines += ["", *_same_run_lines(runs, names)]
    if "ours" in solvers:
        lines += ["", *_ratio_lines(runs, names, [s for s in solvers if s != "ours"])]
    if problems:
        lines += ["", "Problems:", *problems]
    return "\n".join(lines) + "\n"


def _same_run_lines(runs: dict[str, Any], names: Sequence[str]) -> list[str]:
    """Ours against PyVRP in the same run: the reference when there is no BKS.

    ``ours / pyvrp - 1`` in percent of distance, per instance and as a mean
    over the instances where both are feasible; vehicles side by side.
    """
    lines = [
        "Reference = PyVRP in the same run (distance ratio ours / PyVRP - 1):",
        "",
        "| instance | ours distance | ours veh | PyVRP distance | PyVRP veh | ours vs PyVRP % |",
        "|---|---|---|---|---|---|",
    ]
    ratios = []
    for name in names:
        ours, peer = runs.get(f"{name}/ours"), runs.get(f"{name}/pyvrp")
        if not (ours and peer and ours.get("feasible") and peer.get("feasible")):
            state = [
                "not run"
                if r is None
                else ("infeasible" if r.get("status") == "ok" else r["status"])
                for r in (ours, peer)
            ]
            if ours and ours.get("feasible"):
                state[0] = f"{ours['distance']:.2f}"
            if peer and peer.get("feasible"):
                state[1] = f"{peer['distance']:.2f}"
            lines.append(f"| {name} | {state[0]} | | {state[1]} | | — |")
            continue
        ratio = 100.0 * (ours["distance"] / peer["distance"] - 1.0)
        ratios.append(ratio)
        lines.append(
            f"| {name} | {ours['distance']:.2f} | {ours['vehicles']} | "
            f"{peer['distance']:.2f} | {peer['vehicles']} | {ratio:+.2f} |"
        )
    if ratios:
        lines += [
            "",
            f"Mean ours vs PyVRP over {len(ratios)} instances: "
            f"{statistics.fmean(ratios):+.2f} % (max {max(ratios):+.2f} %).",
        ]
    return lines


def instance_class(name: str) -> str:
    """Solomon class of an instance name: ``C1``, ``C2``, ``R1``, ``R2``, ``RC1``, ``RC2``.

    Gehring-Homberger and generated names (``R1_10_3``, ``RC2_1000_1``) carry
    the class before the first underscore.
    """
    if "_" in name:
        return name.split("_", 1)[0]
    letters = name.rstrip("0123456789")
    digits = name[len(letters) :]
    return letters + digits[:1]


def _class_lines(runs: dict[str, Any], names: Sequence[str], solvers: Sequence[str]) -> list[str]:
    """Mean gap per Solomon class and solver (feasible runs only), to show where gaps sit."""
    classes = sorted({instance_class(n) for n in names})
    lines = [
        "| class | instances | " + " | ".join(f"{s} mean gap %" for s in solvers) + " |",
        "|---|---|" + "---|" * len(solvers),
    ]
    for cls in classes:
        members = [n for n in names if instance_class(n) == cls]
        cells = []
        for solver in solvers:
            summary = summarize([runs[f"{n}/{solver}"] for n in members if f"{n}/{solver}" in runs])
            cells.append(_fmt(summary["mean_gap"]))
        lines.append(f"| {cls} | {len(members)} | " + " | ".join(cells) + " |")
    return lines


def _ratio_lines(runs: dict[str, Any], names: Sequence[str], peers: Sequence[str]) -> list[str]:
    """Ours vs each peer on the instances where both returned a feasible solution."""
    lines = []
    for peer in peers:
        both = [
            n
            for n in names
            if runs.get(f"{n}/ours", {}).get("feasible")
            and runs.get(f"{n}/{peer}", {}).get("feasible")
        ]
        if not both:
            lines.append(f"- ours vs {peer}: no instance where both are feasible")
            continue
        ours = summarize([runs[f"{n}/ours"] for n in both])
        theirs = summarize([runs[f"{n}/{peer}"] for n in both])
        if ours["mean_gap"] is None or theirs["mean_gap"] is None:
            lines.append(f"- ours vs {peer}: no BKS, see the same-run comparison above")
            continue
        gap_ratio = (
            f"{ours['mean_gap'] / theirs['mean_gap']:.2f}x"
            if theirs["mean_gap"] and theirs["mean_gap"] > 0
            else "n/a (peer gap 0)"
        )
        time_ratio = ours["mean_solver_seconds"] / theirs["mean_solver_seconds"]
        lines.append(
            f"- ours vs {peer} on {len(both)} instances where both are feasible: mean gap "
            f"{ours['mean_gap']:.2f} % vs {theirs['mean_gap']:.2f} % "
            f"({ours['mean_gap'] - theirs['mean_gap']:+.2f} points, ratio {gap_ratio}); "
            f"mean solver time {ours['mean_solver_seconds']:.2f} s vs "
            f"{theirs['mean_solver_seconds']:.2f} s (ratio {time_ratio:.2f}x)"
        )
    return lines


def command_report(args: argparse.Namespace) -> int:
    """Re-render the markdown report of an existing results file."""
    results = json.loads(args.results_file.read_text())
    names = sorted({record["instance"] for record in results["runs"].values()})
    present = {record["solver"] for record in results["runs"].values()}
    print(render_report(results, names, [s for s in SOLVERS if s in present]))
    return 0


def command_worker(args: argparse.Namespace) -> int:
    """Solve one instance with one peer solver and print the solver JSON contract."""
    instance = read_solomon(args.instance)
    if args.solver == "pyvrp":
        answer = solve_with_pyvrp(instance, args.time_limit, args.seed, args.scale)
    else:
        answer = solve_with_vroom(instance, args.time_limit, args.vroom_threads, args.scale)
    print(json.dumps(answer))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Command-line interface: ``run``, ``report`` and the internal ``worker``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run missing pairs, then report")
    run.add_argument("--time-limit", type=float, default=30.0, help="seconds per solve")
    run.add_argument("--instances", nargs="*", help="instance names, e.g. C101 R201 (all)")
    run.add_argument("--solvers", nargs="*", default=list(DEFAULT_SOLVERS), choices=SOLVERS)
    run.add_argument("--seed", type=int, default=1)
    run.add_argument("--scale", type=int, default=DEFAULT_SCALE)
    run.add_argument(
        "--vroom-threads", type=int, default=1, help="1 by default: every solver gets one core"
    )
    run.add_argument(
        "--cpu",
        type=int,
        nargs="+",
        default=[(os.cpu_count() or 1) - 1],
        help="cores to pin solver processes to (taskset); several run instances in parallel",
    )
    run.add_argument("--results", type=Path, help="results JSON (default per time limit)")
    run.add_argument(
        "--retry-failed", action="store_true", help="re-run pairs that crashed or timed out"
    )
    run.add_argument(
        "--instance-dir",
        "--data-dir",
        type=Path,
        default=DATA_DIR / "solomon",
        help="folder of <NAME>.txt instances (e.g. benchmarks/data/vrptw_generated)",
    )
    run.add_argument(
        "--bks",
        type=lambda text: None if text.lower() == "none" else Path(text),
        default=DATA_DIR / "bks_double.csv",
        help="BKS CSV; 'none' (or a missing file): gaps relative to PyVRP in the same run",
    )
    run.add_argument(
        "--our-python",
        default=sys.executable,
        help="interpreter for `-m scheduler.vrptw` (default: this one)",
    )
    run.add_argument(
        "--our-search",
        default="auto",
        help="--search of `-m scheduler.vrptw` for ours (e.g. iterated: one model, as before "
        "the decomposition of large instances)",
    )
    run.set_defaults(handler=command_run)

    report = sub.add_parser("report", help="re-print the markdown of a results file")
    report.add_argument("results_file", type=Path)
    report.set_defaults(handler=command_report)

    worker = sub.add_parser("worker", help="internal: one peer solve, JSON on stdout")
    worker.add_argument("solver", choices=("pyvrp", "vroom"))
    worker.add_argument("instance", type=Path)
    worker.add_argument("--time-limit", type=float, required=True)
    worker.add_argument("--seed", type=int, default=1)
    worker.add_argument("--scale", type=int, default=DEFAULT_SCALE)
    worker.add_argument("--vroom-threads", type=int, default=1)
    worker.set_defaults(handler=command_worker)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
