"""200 partner crews pull routes and post reports while a coordinator optimizes a week.

Bounded load on loopback against gunicorn + PostgreSQL + Redis + a Celery worker:

1. creates and migrates ``--database`` (default ``dispatch_rel_load``), seeds the demo
   data if empty (its week from this week's Monday), issues one API token per
   partner company user and one for a coordinator, and lists each company's
   published jobs that accept an "arrived" report (visits of today or earlier: a
   crew cannot report arriving before the visit's day);
2. starts gunicorn (``--workers`` sync workers, production settings) and one
   Celery worker (solo pool) on Redis DB ``--redis-db``;
3. for ``--duration`` seconds runs ``--clients`` partner clients (asyncio, standard
   library only), each in a loop: ``GET /api/v1/routes/?date=D`` of its company, and
   every ``--report-every``-th turn ``POST /api/v1/jobs/{id}/reports/`` with a fresh
   Idempotency-Key, sent twice (a retry) so replays are exercised too; a think time
   of ``--think`` seconds between turns; meanwhile the coordinator creates a plan for
   the demo week, optimizes it (``--time-limit`` s) and polls the run;
4. prints error rate, p50/p95/p99 latency, throughput, and then checks in the
   database that every accepted report (201 or replayed 200) is stored exactly once.

Usage (pin everything to one core on a shared machine)::

    taskset -c 0 .venv/bin/python -m benchmarks.partners_load --clients 200 --duration 60
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks.routes_load import (
    add_server_arguments,
    ensure_database,
    manage,
    server_env,
    start_gunicorn,
    stop_gunicorn,
)

ROOT = Path(__file__).resolve().parent.parent
TOKYO = ZoneInfo("Asia/Tokyo")


def prepare(env: dict[str, str]) -> dict[str, Any]:
    """Tokens and targets, read and written through Django in this process."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connections

    from accounts.models import Role, User
    from accounts.tokens import token_create
    from dispatch.models import Visit
    from dispatch.states import JobStatus

    visits = Visit.objects.filter(
        route__isnull=False,  # the live schedule (dispatch.ledger)
        job__status__in=[JobStatus.SCHEDULED, JobStatus.DISPATCHED],
        # A crew can report "arrived" from the visit's day on, never before.
        date__lte=dt.datetime.now(TOKYO).date(),
    ).values_list("crew__company_id", "date", "job_id", "plan__start_date", "plan__end_date")
    companies: dict[int, dict[str, Any]] = {}
    for company_id, date, job_id, start, end in visits:
        entry = companies.setdefault(
            company_id, {"date": str(date), "jobs": [], "week": (str(start), str(end))}
        )
        entry["jobs"].append(job_id)
    clients = []
    for company_id, entry in sorted(companies.items()):
        user = User.objects.filter(role=Role.PARTNER, partner_company_id=company_id).first()
        if user is None:
            continue
        clients.append({**entry, "token": token_create(user=user, name="load")[1]})
    coordinator = User.objects.filter(role=Role.COORDINATOR).first()
    if coordinator is None or not clients:
        raise SystemExit(
            "no coordinator, or no partner with a visit of today or earlier to report on: "
            "drop the database (the demo week is seeded from this week's Monday)"
        )
    week = clients[0]["week"]
    connections.close_all()
    return {
        "partners": clients,
        "coordinator": token_create(user=coordinator, name="load")[1],
        "week": week,
    }


class Stats:
    def __init__(self) -> None:
        self.latencies_ms: dict[str, list[float]] = {"routes": [], "report": []}
        self.outcomes: Counter[str] = Counter()
        self.accepted: dict[str, set[int]] = {}  # idempotency key -> report ids seen

    def add(self, kind: str, status: int, elapsed_ms: float) -> None:
        self.latencies_ms[kind].append(elapsed_ms)
        self.outcomes[f"{kind} {status}"] += 1


async def call(
    port: int, method: str, path: str, token: str, body: dict | None = None, key: str = ""
) -> tuple[int, Any]:
    payload = json.dumps(body).encode() if body is not None else b""
    head = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        f"Authorization: Bearer {token}",
        "Connection: close",
        f"Content-Length: {len(payload)}",
    ]
    if body is not None:
        head.append("Content-Type: application/json")
    if key:
        head.append(f"Idempotency-Key: {key}")
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
    await writer.drain()
    raw = await reader.read()
    writer.close()
    header, _, content = raw.partition(b"\r\n\r\n")
    status = int(header.split(b" ", 2)[1])
    try:
        return status, json.loads(content or b"null")
    except ValueError:
        return status, content[:200]


async def partner(
    index: int, setup: dict[str, Any], args: argparse.Namespace, stats: Stats, stop_at: float
) -> None:
    me = setup["partners"][index % len(setup["partners"])]
    turn = 0
    await asyncio.sleep(args.think * (index / args.clients))  # spread the start
    while time.monotonic() < stop_at:
        turn += 1
        started = time.monotonic()
        try:
            status, _ = await call(
                args.port, "GET", f"/api/v1/routes/?date={me['date']}", me["token"]
            )
        except OSError:
            status = 0
        stats.add("routes", status, (time.monotonic() - started) * 1000)
        if turn % args.report_every == 0:
            job_id = me["jobs"][turn % len(me["jobs"])]
            key = f"load-{uuid.uuid4()}"
            for _attempt in range(2):  # the crew app retries once with the same key
                started = time.monotonic()
                try:
                    status, body = await call(
                        args.port,
                        "POST",
                        f"/api/v1/jobs/{job_id}/reports/",
                        me["token"],
                        {"kind": "arrived"},
                        key,
                    )
                except OSError:
                    status, body = 0, None
                stats.add("report", status, (time.monotonic() - started) * 1000)
                if status in (200, 201):
                    stats.accepted.setdefault(key, set()).add(body["id"])
        await asyncio.sleep(args.think)


async def coordinator(setup: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    start, end = setup["week"]
    token = setup["coordinator"]
    status, plan = await call(
        args.port,
        "POST",
        "/api/v1/plans/",
        token,
        {"name": "load test week", "start_date": start, "end_date": end},
    )
    assert status == 201, (status, plan)
    began = time.monotonic()
    status, run = await call(
        args.port,
        "POST",
        f"/api/v1/plans/{plan['id']}/optimize/",
        token,
        {"time_limit_seconds": args.time_limit},
    )
    assert status == 202, (status, run)
    while True:
        await asyncio.sleep(2)
        _, run = await call(args.port, "GET", f"/api/v1/runs/{run['id']}/", token)
        if run["status"] not in ("queued", "running"):
            break
    return {
        "status": run["status"],
        "jobs_assigned": run.get("jobs_assigned"),
        "wall_s": round(time.monotonic() - began, 1),
    }


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return round(statistics.quantiles(values, n=100, method="inclusive")[p - 1], 1)


def verify(stats: Stats) -> dict[str, int]:
    from django.db.models import Count

    from dispatch.models import JobReport

    keys = list(stats.accepted)
    stored = dict(
        JobReport.objects.filter(idempotency_key__in=keys)
        .values_list("idempotency_key")
        .annotate(n=Count("id"))
    )
    return {
        "accepted_keys": len(keys),
        "stored_once": sum(1 for k in keys if stored.get(k) == 1),
        "missing": sum(1 for k in keys if k not in stored),
        "duplicated": sum(1 for k in keys if stored.get(k, 0) > 1),
        "answers_with_two_ids": sum(1 for ids in stats.accepted.values() if len(ids) > 1),
    }


async def drive(setup: dict[str, Any], args: argparse.Namespace) -> tuple[Stats, dict, float]:
    stats = Stats()
    began = time.monotonic()
    stop_at = began + args.duration
    optimization = asyncio.create_task(coordinator(setup, args))
    await asyncio.gather(*(partner(i, setup, args, stats, stop_at) for i in range(args.clients)))
    elapsed = time.monotonic() - began
    return stats, await optimization, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="dispatch_rel_load")
    parser.add_argument("--redis-db", type=int, default=6)
    parser.add_argument("--port", type=int, default=8772)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument("--report-every", type=int, default=4)
    parser.add_argument("--time-limit", type=int, default=30)
    add_server_arguments(parser)
    parser.add_argument("--output", type=Path, help="Where to write the result JSON.")
    args = parser.parse_args()
    app_dir = args.app_dir.resolve()

    database_url = f"postgres://postgres@127.0.0.1:5432/{args.database}"
    env = {
        **server_env(database_url, args.cache_url),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{args.redis_db}",
    }
    ensure_database(database_url)
    manage(env, "migrate", "--noinput", "-v", "0")
    today = dt.datetime.now(TOKYO).date()
    this_monday = today - dt.timedelta(days=today.weekday())
    manage(env, "seed_demo", "--if-empty", "--plan", "10", "--week-start", this_monday.isoformat())
    setup = prepare(env)
    server = start_gunicorn(env, args.port, workers=args.workers, app_dir=app_dir)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-l", "WARNING"],
        cwd=app_dir,
        env=env,
    )
    try:
        stats, optimization, elapsed = asyncio.run(drive(setup, args))
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        stop_gunicorn(server)

    requests = sum(stats.outcomes.values())
    errors = sum(
        n for outcome, n in stats.outcomes.items() if not outcome.endswith((" 200", " 201"))
    )
    everything = stats.latencies_ms["routes"] + stats.latencies_ms["report"]
    result = {
        "app_dir": str(app_dir),
        "workers": args.workers,
        "cache": args.cache_url or "in memory, per worker",
        "clients": args.clients,
        "duration_s": round(elapsed, 1),
        "requests": requests,
        "throughput_rps": round(requests / elapsed, 1),
        "error_rate": round(errors / requests, 4) if requests else None,
        "outcomes": dict(stats.outcomes),
        "latency_ms": {
            kind: {"p50": pct(v, 50), "p95": pct(v, 95), "p99": pct(v, 99), "n": len(v)}
            for kind, v in {**stats.latencies_ms, "all": everything}.items()
        },
        "optimization": optimization,
        "reports": verify(stats),
    }
    print(json.dumps(result, indent=2))
    out = args.output or ROOT / "benchmarks" / "results" / "partners_load.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    if errors or result["reports"]["stored_once"] != result["reports"]["accepted_keys"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
