"""Large weeks with one and two planner workers: first plan, cost and jobs at equal wall time.

What is measured, per generated week (:func:`scheduler.generate.generate_week`,
5 days) and per setup, on the same problem and seed:

- **1 worker**: the planner process alone (``PLANNER_WORKERS=1``: regions
  searched one after the other);
- **2 workers**: the app's Celery path (``PLANNER_WORKERS=2``,
  :class:`dispatch.parts.CeleryParts`): the planner process plus one real
  ``celery worker --pool=prefork --concurrency=1`` started by this script,
  through the broker and database the environment names;
- optionally (``--forked``) **2 forked children**: the library's own runner,
  as a reference for the cost of going through Celery.

For each: the wall time until the first complete plan (the first progress
report: travel matrix, screening, greedy start), and after the same wall-time
limit the plan's cost, jobs planned, how many parts ran and where, and how many
at once. Every plan is checked by :func:`scheduler.validate.validate`.

Needs PostgreSQL and Redis (the parts are claimed in the database, sent through
the broker)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dispatch_dev \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \\
    .venv/bin/python -m benchmarks.worker_scaling --sizes 3000 10000 --limits 60 120

Run it alone on the machine: both workers need a core each.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RESULTS = REPO_ROOT / "benchmarks" / "results" / "worker_scaling.json"


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")
    import django

    django.setup()


@contextmanager
def celery_worker() -> Iterator[None]:
    """One prefork worker process with one slot: the planner's second worker."""
    from config.celery import app

    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "LOG_LEVEL": "WARNING"},  # not a line per part on the console
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if time.monotonic() > deadline:
                raise RuntimeError("the Celery worker did not answer within 60 s")
        yield
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def measure(n_jobs: int, limit_s: float, setup: str, seed: int) -> dict[str, Any]:
    """One solve of the generated week under ``setup``; what it reports and how long it took."""
    from dispatch.parts import CeleryParts
    from scheduler import MaxRuntime, SolveParams, solve, validate
    from scheduler.generate import generate_week
    from scheduler.parts import ForkedParts, OneByOne, PartRunner

    problem = generate_week(n_jobs, seed=seed, target_load=1.0)
    runners: dict[str, Callable[[], PartRunner]] = {
        "1 worker": lambda: OneByOne(),
        "2 workers (Celery)": lambda: CeleryParts(2),
        "2 forked children": lambda: ForkedParts(2),
    }
    runner = runners[setup]()
    first: list[float] = []
    started = time.monotonic()

    def progress(elapsed_s: float, objective_yen: float, assigned: int) -> None:
        if not first:
            first.append(time.monotonic() - started)

    result = solve(
        problem, MaxRuntime(limit_s), SolveParams(seed=1), progress=progress, part_runner=runner
    )
    wall_s = time.monotonic() - started
    parallel = result.extra.parallel or {}
    return {
        "jobs": n_jobs,
        "crews": len(problem.crews),
        "crew_days": len(problem.crew_days),
        "limit_s": limit_s,
        "setup": setup,
        "first_plan_s": round(first[0], 1) if first else None,
        "wall_s": round(wall_s, 1),
        "cost_yen": round(result.cost()),
        "jobs_planned": result.kpis.jobs_assigned,
        "repaired": result.extra.repaired_jobs,
        "search_labelled": sum(
            1 for u in result.unassigned for r in u.reasons if r.rule == "search"
        ),
        "violations": len(validate(problem, result)),
        "parts": parallel.get("parts"),
        "parts_elsewhere": parallel.get("elsewhere"),
        "max_concurrent": parallel.get("max_concurrent"),
        "notes": parallel.get("notes", []),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3000, 10000])
    parser.add_argument(
        "--limits", type=float, nargs="+", default=[60, 120], help="seconds, one per size"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--forked", action="store_true", help="also 2 forked children")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    args = parser.parse_args(argv)
    if len(args.limits) != len(args.sizes):
        parser.error("give one --limits value per --sizes value")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        parser.error("set DATABASE_URL to PostgreSQL and CELERY_BROKER_URL to Redis")
    _django()
    rows: list[dict[str, Any]] = []
    setups = ["1 worker", "2 workers (Celery)"] + (["2 forked children"] if args.forked else [])
    with celery_worker():
        for n_jobs, limit_s in zip(args.sizes, args.limits, strict=True):
            for setup in setups:
                row = measure(n_jobs, limit_s, setup, args.seed)
                print(json.dumps(row, ensure_ascii=False), flush=True)
                rows.append(row)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    machine = {"cpus": os.cpu_count(), "python": sys.version.split()[0], "when": time.ctime()}
    args.results.write_text(json.dumps({"machine": machine, "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
