"""All regions at once: what the crew-day partition costs against one model for the whole week.

Issue 17 plans a week for all regions as one action: the crew-days of crews
that serve several regions are shared out first (:mod:`dispatch.regions`),
then each region plan is optimized on its own (in production, side by side
on as many Celery workers as there are). This measures what that costs on
the demo week (``seed_demo``), at the same total search time:

- **partitioned**: ``planning_batch_start(regions=None)``, the region plans
  optimized here one after the other (``budget / regions`` seconds each);
- **one model**: one plan without region for the same week (``budget``
  seconds), the whole week searched as one model.

For each: jobs planned and unassigned, total km, km per job, crew-days used,
violations found by the scheduler's validator on every stored plan, crew-days
that two plans use, and, after publishing every plan of the variant, the
publications refused and :func:`dispatch.ledger.ledger_problems`. Each
variant starts from the same freshly seeded database (a copy kept after
seeding). Run it alone, pinned to one core::

    taskset -c 1 .venv/bin/python -m benchmarks.all_regions --budgets 60 120

The database is a throwaway SQLite file under ``var/``; results go to
``benchmarks/results/all_regions.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "var" / "bench_regions.sqlite3"
DEFAULT_RESULTS = ROOT / "benchmarks" / "results" / "all_regions.json"
WEEK = dt.date(2026, 11, 23)


def _configure(db: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["DEBUG"] = "0"  # no query log growing for the whole run
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-0123456789abcdef")
    # The measured week is fixed: plan it as seen from the Friday before, whatever today is.
    os.environ["DISPATCH_PLANNING_TODAY"] = (WEEK - dt.timedelta(days=3)).isoformat()
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def seed(db: Path, seed_copy: Path) -> None:
    """A fresh demo week, kept as a copy every variant starts from."""
    from io import StringIO

    from django.core.management import call_command
    from django.db import connections

    connections.close_all()
    db.unlink(missing_ok=True)
    call_command("migrate", verbosity=0)
    call_command("seed_demo", "--week-start", WEEK.isoformat(), stdout=StringIO())
    connections.close_all()
    shutil.copyfile(db, seed_copy)


def restore(db: Path, seed_copy: Path) -> None:
    from django.db import connections

    connections.close_all()
    shutil.copyfile(seed_copy, db)


def validator_violations(plan_ids: list[int]) -> list[str]:
    """What the scheduler's validator finds in each stored plan, checked against its own problem.

    A region plan's problem has only the crew-days its share gives it, so a
    visit on another region's crew-day is a violation here.
    """
    import scheduler
    from dispatch.models import Plan
    from dispatch.problem import PlanParameters, plan_problem

    found = []
    for plan in Plan.objects.filter(pk__in=plan_ids):
        planning = plan_problem(plan=plan, params=PlanParameters.from_dict(plan.params))
        routes: dict[tuple[str, int], list[str]] = {}
        for visit in plan.visits.order_by("crew_id", "date", "sequence"):
            day = (visit.date - plan.start_date).days
            routes.setdefault((str(visit.crew_id), day), []).append(str(visit.job_id))
        stored = scheduler.Plan(routes={key: tuple(ids) for key, ids in routes.items()})
        found += [
            f"plan {plan.pk}: {v.rule}: {v.message}"
            for v in scheduler.validate(planning.problem, stored)
        ]
    return found


def figures(plan_ids: list[int]) -> dict[str, Any]:
    """Jobs, km and crew-days over the variant's plans, and crew-days used by two plans."""
    from dispatch.models import Plan, Visit

    plans = list(Plan.objects.filter(pk__in=plan_ids))
    assigned = sum(p.kpis.get("jobs_assigned", 0) for p in plans)
    total_km = round(sum(p.kpis.get("total_km", 0.0) for p in plans), 1)
    used = Counter(
        (crew, date)
        for crew, date, _ in set(
            Visit.objects.filter(plan__in=plans).values_list("crew_id", "date", "plan_id")
        )
    )
    return {
        "jobs_planned": assigned,
        "unassigned": sum(p.kpis.get("jobs_unassigned", 0) for p in plans),
        "unassigned_rules": dict(
            Counter(u["reasons"][0]["rule"] for p in plans for u in p.unassigned)
        ),
        "total_km": total_km,
        "km_per_job": round(total_km / assigned, 3) if assigned else None,
        "crew_days_used": sum(p.kpis.get("crew_days_used", 0) for p in plans),
        "crew_days_in_two_plans": sum(1 for n in used.values() if n > 1),
    }


def publish_and_check(plan_ids: list[int]) -> dict[str, Any]:
    """Publish every plan in turn (each on its own); refused ones and the ledger's state."""
    from dispatch.ledger import ScheduleConflict, ledger_problems
    from dispatch.models import Plan
    from dispatch.plans import plan_publish
    from dispatch.states import PlanningError

    refused = []
    for plan in Plan.objects.filter(pk__in=plan_ids).order_by("region__code", "id"):
        try:
            plan_publish(plan=plan)
        except ScheduleConflict as exc:
            refused.append({"plan": plan.pk, "code": exc.code, "conflicts": len(exc.conflicts)})
        except PlanningError as exc:
            refused.append({"plan": plan.pk, "code": exc.code, "message": str(exc)})
    problems = ledger_problems()
    return {
        "published": len(plan_ids) - len(refused),
        "refused": refused,
        "ledger_problems": len(problems),
        "ledger_problem_examples": problems[:5],
    }


def run_partitioned(budget_s: int, seed_value: int, days: int) -> dict[str, Any]:
    from dispatch.batches import batch_try_finish, planning_batch_start
    from dispatch.models import PlanningBatch
    from dispatch.regions import regions_to_plan
    from dispatch.runs import run_optimization

    end = WEEK + dt.timedelta(days=days - 1)
    regions = regions_to_plan(start_date=WEEK, end_date=end)
    per_region = max(1, budget_s // len(regions))
    started = time.perf_counter()
    batch = planning_batch_start(
        start_date=WEEK,
        end_date=end,
        params={"time_limit_seconds": per_region, "seed": seed_value},
        enqueue=False,
    )
    partition_s = time.perf_counter() - started
    runs = list(batch.runs.select_related("plan__region").order_by("plan__region__code"))
    per_run = []
    for run in runs:
        run_started = time.perf_counter()
        done = run_optimization(run_id=run.pk)
        per_run.append(
            {
                "region": run.plan.region.code if run.plan.region else None,
                "status": done.status,
                "wall_s": round(time.perf_counter() - run_started, 2),
            }
        )
        batch_try_finish(batch_id=batch.pk)
    wall_s = time.perf_counter() - started
    batch = PlanningBatch.objects.get(pk=batch.pk)
    plan_ids = [run.plan_id for run in runs]
    result: dict[str, Any] = {
        "time_limit_per_region_s": per_region,
        "regions": len(regions),
        "partition_s": round(partition_s, 3),
        "wall_s": round(wall_s, 1),
        **figures(plan_ids),
        "validator_violations": validator_violations(plan_ids),
        "per_region": [
            {**row, **{k: v for k, v in summary.items() if k not in ("error", "region")}}
            for row, summary in zip(per_run, batch.summary["regions"], strict=True)
        ],
        "partition": batch.summary["partition"],
    }
    result["publication"] = publish_and_check(plan_ids)
    return result


def run_one_model(budget_s: int, seed_value: int, days: int) -> dict[str, Any]:
    from dispatch.plans import plan_create
    from dispatch.runs import plan_request_optimization, run_optimization

    end = WEEK + dt.timedelta(days=days - 1)
    started = time.perf_counter()
    plan = plan_create(
        name="All regions, one model",
        start_date=WEEK,
        end_date=end,
        params={"time_limit_seconds": budget_s, "seed": seed_value},
    )
    run = run_optimization(run_id=plan_request_optimization(plan=plan, enqueue=False).pk)
    wall_s = time.perf_counter() - started
    result: dict[str, Any] = {
        "time_limit_s": budget_s,
        "status": run.status,
        "wall_s": round(wall_s, 1),
        **figures([plan.pk]),
        "validator_violations": validator_violations([plan.pk]),
    }
    result["publication"] = publish_and_check([plan.pk])
    return result


def ratios(partitioned: dict[str, Any], one_model: dict[str, Any]) -> dict[str, Any]:
    def ratio(key: str) -> float | None:
        base = one_model[key]
        return round(partitioned[key] / base, 3) if base else None

    return {
        "jobs_planned_difference": partitioned["jobs_planned"] - one_model["jobs_planned"],
        "total_km": ratio("total_km"),
        "km_per_job": ratio("km_per_job"),
        "crew_days_used": ratio("crew_days_used"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--budgets", type=int, nargs="+", default=[60, 120], help="Total seconds per variant."
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--days", type=int, default=5, help="Monday to Friday by default.")
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--output", type=Path, default=DEFAULT_RESULTS)
    args = parser.parse_args(argv)

    _configure(args.db)
    from benchmarks.vrptw_compare import machine_description, save_results, scheduler_fingerprint

    seed_copy = args.db.with_name(args.db.stem + "_seed.sqlite3")
    seed(args.db, seed_copy)
    results: dict[str, Any] = {
        "command": " ".join(
            ["taskset -c 1 .venv/bin/python -m benchmarks.all_regions", *sys.argv[1:]]
        ),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_description(),
        "affinity": sorted(os.sched_getaffinity(0)),
        "scheduler": scheduler_fingerprint(),
        "week_start": WEEK.isoformat(),
        "days": args.days,
        "seed": args.seed,
        "runs": [],
    }
    for budget in args.budgets:
        restore(args.db, seed_copy)
        partitioned = run_partitioned(budget, args.seed, args.days)
        restore(args.db, seed_copy)
        one_model = run_one_model(budget, args.seed, args.days)
        row = {
            "budget_s": budget,
            "partitioned": partitioned,
            "one_model": one_model,
            "ratios": ratios(partitioned, one_model),
        }
        results["runs"].append(row)
        save_results(args.output, results)
        print(
            f"{budget:>4} s  partitioned: {partitioned['jobs_planned']} jobs, "
            f"{partitioned['total_km']} km ({partitioned['km_per_job']} km/job), "
            f"{partitioned['crew_days_used']} crew-days | one model: "
            f"{one_model['jobs_planned']} jobs, {one_model['total_km']} km "
            f"({one_model['km_per_job']} km/job), {one_model['crew_days_used']} crew-days | "
            f"ratios {row['ratios']}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
