"""Load test of ``GET /api/v1/routes/`` under gunicorn on PostgreSQL, on loopback, bounded.

What it does, in order:

1. creates the PostgreSQL database of ``DATABASE_URL`` if it is missing, migrates it,
   seeds the demo data (``seed_demo --reset``) and plans and publishes its week
   (``plan_week --start <monday> --time-limit 10 --publish``); ``--reuse`` skips
   this when a published plan is already there;
2. picks the published crew-day whose number of stops is closest to
   ``--stops`` (6 by default; ``--scope company``: the partner company and day
   with the most stops, asked for without ``crew``) and issues an API token to
   a user of that partner company (the way a partner's machine client
   authenticates);
3. starts gunicorn on 127.0.0.1 with ``--workers`` sync workers;
4. drives ``GET /api/v1/routes/?date=D&crew=C`` in three phases and prints
   requests/s and p50/p95/p99 latency per phase:

   * ``baseline``: 1 client, back to back (the service time of one request);
   * ``saturation``: ``--clients`` clients back to back (closed loop: the
     server's ceiling; latency there is mostly queueing, clients / throughput);
   * ``paced``: ``--clients`` clients together sending ``--rate`` requests/s
     on a fixed schedule (open loop; latency counted from the *scheduled*
     send time, so a slow server cannot hide its backlog).

The load generator is one asyncio process with the standard library only, so it
costs the server as little CPU as possible on a small machine. Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dispatch_bench \\
        .venv/bin/python -m benchmarks.routes_load --clients 50 --duration 30

Nothing here listens on anything but 127.0.0.1, and every phase is bounded by
``--duration`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/dispatch_bench"


# --- setup ----------------------------------------------------------------------------


def server_env(database_url: str) -> dict[str, str]:
    """Production settings (DEBUG off) against the benchmark database.

    Persistent connections (``DB_CONN_MAX_AGE``) as a production deployment
    would use: without them every request pays a PostgreSQL connection setup.
    """
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "routes-benchmark-only-not-a-secret"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",  # plain http on loopback; production redirects to https
        "DB_CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
        "CELERY_TASK_ALWAYS_EAGER": "1",
    }


def ensure_database(database_url: str) -> None:
    """CREATE DATABASE when it does not exist (connecting to the server's ``postgres`` db)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def manage(env: dict[str, str], *args: str) -> None:
    print("$ manage.py", " ".join(args), flush=True)
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def next_monday(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=7 - today.weekday())


@dataclass
class Target:
    date: dt.date
    crew_id: int | None  # None: every crew of the partner that day (no ``crew`` parameter)
    stops: int
    username: str
    token: str


def pick_target(env: dict[str, str], wanted_stops: int, scope: str) -> Target:
    """The published day to ask for, and a fresh token of a user of its partner company.

    ``scope="crew"``: the crew-day whose stop count is closest to ``wanted_stops``.
    ``scope="company"``: the partner company and day with the most stops, asked
    for without ``crew`` (every route of the company in one answer).
    """
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db.models import Count

    from accounts.models import Role, User
    from accounts.tokens import token_create
    from dispatch.models import Visit

    days = list(
        Visit.objects.filter(route__isnull=False)  # the live schedule (dispatch.ledger)
        .values("crew_id", "crew__company_id", "date")
        .annotate(stops=Count("id"))
        .order_by("date", "crew_id")
    )
    if not days:
        raise SystemExit("no published visits: run without --reuse to seed and plan")
    if scope == "crew":
        best = min(days, key=lambda row: (abs(row["stops"] - wanted_stops), -row["stops"]))
    else:
        per_company: dict[tuple[int, dt.date], int] = {}
        for row in days:
            key = (row["crew__company_id"], row["date"])
            per_company[key] = per_company.get(key, 0) + row["stops"]
        (company_id, date), stops = max(per_company.items(), key=lambda item: item[1])
        best = {"crew_id": None, "crew__company_id": company_id, "date": date, "stops": stops}
    user = User.objects.filter(
        role=Role.PARTNER, partner_company_id=best["crew__company_id"], is_active=True
    ).first()
    if user is None:
        raise SystemExit("the crew's partner company has no user to issue a token to")
    _, secret = token_create(user=user, name="routes benchmark")
    from django.db import connections

    connections.close_all()
    return Target(best["date"], best["crew_id"], best["stops"], user.username, secret)


def start_gunicorn(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "-c",
            "config/gunicorn_conf.py",  # as production serves it
            "config.wsgi",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health/", timeout=2):
                return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("gunicorn did not answer /api/v1/health/ within 30 s")


def stop_gunicorn(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- load ------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    clients: int
    seconds: float
    rate: float | None = None
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed_s: float = 0.0  # until the last answer: an overloaded server overruns the window

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        count = len(lat)

        def pct(p: float) -> float | None:
            return round(lat[min(count - 1, int(p / 100 * count))], 1) if count else None

        return {
            "phase": self.name,
            "clients": self.clients,
            "target_rate_rps": self.rate,
            "seconds": self.seconds,
            "elapsed_s": round(self.elapsed_s, 1),
            "requests": count,
            "errors": self.errors,
            "statuses": self.statuses,
            "requests_per_s": round(count / self.elapsed_s, 1) if self.elapsed_s else None,
            "p50_ms": pct(50),
            "p95_ms": pct(95),
            "p99_ms": pct(99),
            "max_ms": round(lat[-1], 1) if count else None,
            "mean_ms": round(statistics.fmean(lat), 1) if count else None,
        }


async def fetch(port: int, request: bytes) -> tuple[int, bytes]:
    """One HTTP/1.1 request on a new connection (gunicorn's sync workers close it anyway)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head else 0
    return status, body


async def run_phase(phase: Phase, port: int, request: bytes) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + phase.seconds
    interval = phase.clients / phase.rate if phase.rate else 0.0

    async def client(index: int) -> None:
        # Paced clients start staggered, so the aggregate rate is smooth.
        scheduled = started + (index * interval / phase.clients if interval else 0.0)
        while True:
            if interval:
                scheduled += interval
                if scheduled >= deadline:
                    return
                await asyncio.sleep(max(0.0, scheduled - loop.time()))
                t0 = scheduled  # from the schedule, not the actual send: no coordinated omission
            else:
                t0 = loop.time()
                if t0 >= deadline:
                    return
            try:
                status, _ = await asyncio.wait_for(fetch(port, request), timeout=10)
            except (OSError, TimeoutError):
                phase.errors += 1
                continue
            phase.statuses[status] = phase.statuses.get(status, 0) + 1
            if status != 200:
                phase.errors += 1
                continue
            phase.latencies_ms.append((loop.time() - t0) * 1000)

    await asyncio.gather(*(client(i) for i in range(phase.clients)))
    phase.elapsed_s = loop.time() - started


def request_bytes(target: Target, port: int) -> bytes:
    path = f"/api/v1/routes/?date={target.date.isoformat()}"
    if target.crew_id is not None:
        path += f"&crew={target.crew_id}"
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {target.token}\r\nAccept: application/json\r\n"
        "Connection: close\r\n\r\n"
    ).encode()


def check_payload(port: int, request: bytes) -> dict[str, Any]:
    status, body = asyncio.run(fetch(port, request))
    if status != 200:
        raise SystemExit(f"the routes endpoint answered {status}: {body[:500]!r}")
    data = json.loads(body)
    return {
        "routes": len(data["routes"]),
        "stops_per_route": [route["totals"]["stops"] for route in data["routes"]],
        "response_bytes": len(body),
    }


# --- main ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0, help="Seconds per 50-client phase.")
    parser.add_argument("--baseline-duration", type=float, default=10.0)
    parser.add_argument(
        "--rate",
        type=float,
        default=25.0,
        help="Aggregate requests/s of the paced phase (default: 50 crews polling every 2 s).",
    )
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (2-4).")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--stops", type=int, default=6, help="Route length to aim for.")
    parser.add_argument(
        "--scope",
        choices=["crew", "company"],
        default="crew",
        help="One crew's route, or every route of the busiest partner company that day.",
    )
    parser.add_argument("--time-limit", type=int, default=10, help="plan_week's solver seconds.")
    parser.add_argument("--reuse", action="store_true", help="Keep the seeded, planned data.")
    parser.add_argument("--output", type=Path, help="Also write the results as JSON here.")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 200 or not 0 < args.duration <= 300:
        parser.error("keep it bounded: 1-200 clients, at most 300 s per phase")

    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not database_url.startswith(("postgres://", "postgresql://")):
        parser.error("DATABASE_URL must point at PostgreSQL")
    env = server_env(database_url)
    ensure_database(database_url)
    manage(env, "migrate", "--noinput", "-v", "0")
    monday = next_monday(dt.datetime.now(ZoneInfo("Asia/Tokyo")).date())
    if not args.reuse:
        manage(env, "seed_demo", "--reset", "--week-start", monday.isoformat())
        manage(
            env, "plan_week", "--start", monday.isoformat(),
            "--time-limit", str(args.time_limit), "--publish",
        )  # fmt: skip
    target = pick_target(env, args.stops, args.scope)
    print(f"target: crew {target.crew_id or 'all'} on {target.date}, {target.stops} stops, "
          f"as {target.username}")  # fmt: skip

    server = start_gunicorn(env, args.port, args.workers)
    try:
        request = request_bytes(target, args.port)
        payload = check_payload(args.port, request)
        asyncio.run(run_phase(Phase("warmup", args.clients, 3.0), args.port, request))
        phases = [
            Phase("baseline", 1, args.baseline_duration),
            Phase("saturation", args.clients, args.duration),
            Phase("paced", args.clients, args.duration, rate=args.rate),
        ]
        results = []
        for phase in phases:
            load_before = os.getloadavg()[0]
            asyncio.run(run_phase(phase, args.port, request))
            summary = phase.summary() | {
                "loadavg_1m_before": round(load_before, 2),
                "loadavg_1m_after": round(os.getloadavg()[0], 2),
            }
            results.append(summary)
            print(json.dumps(summary, ensure_ascii=False), flush=True)
    finally:
        stop_gunicorn(server)

    report = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "database": urlsplit(database_url)._replace(netloc="…").geturl(),
        "workers": args.workers,
        "scope": args.scope,
        "cpus": os.cpu_count(),
        "target": {k: v for k, v in asdict(target).items() if k != "token"},
        "payload": payload,
        "phases": results,
    }
    print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    if args.output:
        args.output.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str))


if __name__ == "__main__":
    main()
