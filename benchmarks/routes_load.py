"""Load test of the routes and the support search under gunicorn on PostgreSQL, on loopback.

``--endpoint routes`` (default) asks for a partner's day, ``--endpoint search``
for the support search (``--query``, as a support operator), ``--endpoint
mixed`` for both at once, half the clients each. ``--conditional`` sends the
first answer's ETag back (``If-None-Match``), as a client that kept its copy
does. ``--app-dir`` serves another checkout (an older commit) against the same
data, for before/after figures in one sitting. The web workers share a Redis
cache (``--cache-url``) as in production.

What it does, in order:

1. creates the PostgreSQL database of ``DATABASE_URL`` if it is missing, migrates it,
   seeds the demo data (``seed_demo --reset``) and plans and publishes its week
   (``plan_week --start <monday> --time-limit 10 --publish``); ``--reuse`` skips
   this when a published plan is already there;
2. picks the published crew-day whose number of stops is closest to
   ``--stops`` (6 by default; ``--scope company``: the partner company and day
   with the most stops, asked for without ``crew``) and issues an API token to
   a user of that partner company (the way a partner's machine client
   authenticates), and one to a support operator for the search;
3. starts gunicorn on 127.0.0.1 with ``--workers`` workers (``--worker-class``,
   ``--threads``);
4. drives the endpoint in the phases of ``--phases`` and prints requests/s and
   p50/p95/p99 latency per phase (and per endpoint):

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
    # the morning rush: 200 clients for 60 s, a partner's whole day, 4 sync workers
    .venv/bin/python -m benchmarks.routes_load --reuse --scope company --workers 4 \\
        --clients 200 --duration 60 --phases saturation

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
from urllib.parse import quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/dispatch_bench"


# --- setup ----------------------------------------------------------------------------


def server_env(database_url: str, cache_url: str = "") -> dict[str, str]:
    """Production settings (DEBUG off) against the benchmark database.

    Persistent connections (``DB_CONN_MAX_AGE``) as a production deployment
    would use: without them every request pays a PostgreSQL connection setup.
    ``cache_url`` (Redis) is the cache the web workers share; empty, each
    worker keeps its own in memory.
    """
    return {
        "CACHE_URL": cache_url,
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
    search_token: str = ""  # a support operator's, for the search endpoint


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
    operator = User.objects.filter(role=Role.SUPPORT, is_active=True).first()
    search_secret = token_create(user=operator, name="search benchmark")[1] if operator else ""
    from django.db import connections

    connections.close_all()
    return Target(
        best["date"], best["crew_id"], best["stops"], user.username, secret, search_secret
    )


def start_gunicorn(
    env: dict[str, str],
    port: int,
    workers: int,
    worker_class: str = "sync",
    threads: int = 1,
    app_dir: Path = ROOT,
) -> subprocess.Popen[bytes]:
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
            "--worker-class",
            worker_class,
            "--threads",
            str(threads),
        ],
        cwd=app_dir,
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


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    """``--cache-url`` and ``--app-dir``, shared with the other load scripts."""
    parser.add_argument(
        "--cache-url",
        default="redis://127.0.0.1:6379/5",
        help="The web workers' shared cache (CACHE_URL); '' for one in memory per worker.",
    )
    parser.add_argument(
        "--app-dir",
        type=Path,
        default=ROOT,
        help="The checkout the server runs (an older commit, for a before/after run against "
        "the same data); seeding, tokens and targets always use this one.",
    )


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
    """One HTTP/1.1 request on a new connection (gunicorn's sync workers close it anyway).

    Returns the status and everything after it (headers and body).
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
    status = int(raw.split(b" ", 2)[1]) if raw else 0
    return status, raw


class KeptConnection:
    """One client's connection, reused while the server keeps it open (``--keep-alive``)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None

    async def fetch(self, request: bytes) -> tuple[int, bytes]:
        """One request; a connection the server closed meanwhile is reopened once."""
        reused = self.streams is not None
        try:
            return await self._exchange(request)
        except (OSError, asyncio.IncompleteReadError):
            self.close()
            if not reused:
                raise
            return await self._exchange(request)

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        if self.streams is None:
            self.streams = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = self.streams
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (
                line.decode("latin-1").partition(":") for line in head.split(b"\r\n")[1:]
            )
            if name
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return int(head.split(b" ", 2)[1]), head + body


async def run_phase(phase: Phase, port: int, request: bytes, *, keep_alive: bool = False) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + phase.seconds
    interval = phase.clients / phase.rate if phase.rate else 0.0

    async def client(index: int) -> None:
        kept = KeptConnection(port) if keep_alive else None
        try:
            await requests(index, kept)
        finally:
            if kept is not None:
                kept.close()

    async def requests(index: int, kept: KeptConnection | None) -> None:
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
                answer = kept.fetch(request) if kept is not None else fetch(port, request)
                status, _ = await asyncio.wait_for(answer, timeout=10)
            except (OSError, TimeoutError, asyncio.IncompleteReadError):
                if kept is not None:
                    kept.close()
                phase.errors += 1
                continue
            phase.statuses[status] = phase.statuses.get(status, 0) + 1
            if status not in (200, 304):  # 304: a conditional request, answered without a body
                phase.errors += 1
                continue
            phase.latencies_ms.append((loop.time() - t0) * 1000)

    await asyncio.gather(*(client(i) for i in range(phase.clients)))
    phase.elapsed_s = loop.time() - started


def request_bytes(
    path: str, token: str, port: int, etag: str = "", *, keep_alive: bool = False
) -> bytes:
    conditional = f"If-None-Match: {etag}\r\n" if etag else ""
    connection = "keep-alive" if keep_alive else "close"
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: application/json\r\n"
        f"{conditional}Connection: {connection}\r\n\r\n"
    ).encode()


def routes_path(target: Target) -> str:
    path = f"/api/v1/routes/?date={target.date.isoformat()}"
    return path + (f"&crew={target.crew_id}" if target.crew_id is not None else "")


def search_path(query: str) -> str:
    return f"/api/v1/support/search/?q={quote(query)}"


def check_payload(port: int, request: bytes) -> dict[str, Any]:
    """One request before the load: its size, and its ETag for conditional requests."""
    status, raw = asyncio.run(fetch(port, request))
    head, _, body = raw.partition(b"\r\n\r\n")
    if status != 200:
        raise SystemExit(f"the endpoint answered {status}: {raw[:500]!r}")
    headers = dict(
        line.decode("latin-1").split(": ", 1) for line in head.split(b"\r\n")[1:] if b": " in line
    )
    data = json.loads(body)
    shape: dict[str, Any] = {"response_bytes": len(body), "etag": headers.get("ETag", "")}
    if "routes" in data:
        shape["routes"] = len(data["routes"])
        shape["stops_per_route"] = [route["totals"]["stops"] for route in data["routes"]]
    else:
        shape["results"] = len(data["results"])
    return shape


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
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (2-4).")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class.")
    parser.add_argument("--threads", type=int, default=1, help="Threads per gunicorn worker.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--stops", type=int, default=6, help="Route length to aim for.")
    parser.add_argument(
        "--scope",
        choices=["crew", "company"],
        default="crew",
        help="One crew's route, or every route of the busiest partner company that day.",
    )
    parser.add_argument(
        "--endpoint",
        choices=["routes", "search", "mixed"],
        default="routes",
        help="The routes, the support search (--query), or both at once (half the clients each).",
    )
    parser.add_argument("--query", default="三信", help="What the support search asks for.")
    parser.add_argument(
        "--phases",
        default="baseline,saturation,paced",
        help="Which phases to run, comma-separated (baseline, saturation, paced).",
    )
    parser.add_argument(
        "--conditional",
        action="store_true",
        help="Send If-None-Match with the first answer's ETag (a client that kept its copy).",
    )
    parser.add_argument(
        "--keep-alive",
        action="store_true",
        help="Reuse each client's connection while the server keeps it open (sync workers "
        "close every one; gthread keeps them for gunicorn's keepalive seconds).",
    )
    add_server_arguments(parser)
    parser.add_argument("--time-limit", type=int, default=10, help="plan_week's solver seconds.")
    parser.add_argument("--reuse", action="store_true", help="Keep the seeded, planned data.")
    parser.add_argument("--output", type=Path, help="Also write the results as JSON here.")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 200 or not 0 < args.duration <= 300:
        parser.error("keep it bounded: 1-200 clients, at most 300 s per phase")
    phase_names = [name.strip() for name in args.phases.split(",") if name.strip()]
    if not phase_names or set(phase_names) - {"baseline", "saturation", "paced"}:
        parser.error("--phases takes baseline, saturation and paced")

    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not database_url.startswith(("postgres://", "postgresql://")):
        parser.error("DATABASE_URL must point at PostgreSQL")
    env = server_env(database_url, args.cache_url)
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
          f"as {target.username}; search q={args.query}")  # fmt: skip
    if args.endpoint != "routes" and not target.search_token:
        raise SystemExit("no support user to search as: seed the demo data")

    server = start_gunicorn(
        env, args.port, args.workers, args.worker_class, args.threads, args.app_dir.resolve()
    )
    try:
        endpoints = {
            "routes": (routes_path(target), target.token),
            "search": (search_path(args.query), target.search_token),
        }
        chosen = ["routes", "search"] if args.endpoint == "mixed" else [args.endpoint]
        requests: dict[str, bytes] = {}
        payloads: dict[str, Any] = {}
        for name in chosen:
            path, token = endpoints[name]
            payloads[name] = check_payload(args.port, request_bytes(path, token, args.port))
            etag = payloads[name]["etag"] if args.conditional else ""
            requests[name] = request_bytes(path, token, args.port, etag, keep_alive=args.keep_alive)
        share = max(1, args.clients // len(chosen))

        async def together(phases: dict[str, Phase]) -> None:
            await asyncio.gather(
                *(
                    run_phase(phase, args.port, requests[name], keep_alive=args.keep_alive)
                    for name, phase in phases.items()
                )
            )

        asyncio.run(together({name: Phase("warmup", share, 3.0) for name in chosen}))
        plans = {
            "baseline": lambda: Phase("baseline", 1, args.baseline_duration),
            "saturation": lambda: Phase("saturation", share, args.duration),
            "paced": lambda: Phase("paced", share, args.duration, rate=args.rate / len(chosen)),
        }
        results = []
        for phase_name in phase_names:
            phases = {name: plans[phase_name]() for name in chosen}
            load_before = os.getloadavg()[0]
            asyncio.run(together(phases))
            for name, phase in phases.items():
                summary = (
                    {"endpoint": name}
                    | phase.summary()
                    | {
                        "loadavg_1m_before": round(load_before, 2),
                        "loadavg_1m_after": round(os.getloadavg()[0], 2),
                    }
                )
                results.append(summary)
                print(json.dumps(summary, ensure_ascii=False), flush=True)
    finally:
        stop_gunicorn(server)

    report = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "database": urlsplit(database_url)._replace(netloc="…").geturl(),
        "cache": args.cache_url or "in memory, per worker",
        "app_dir": str(args.app_dir.resolve()),
        "workers": args.workers,
        "worker_class": args.worker_class,
        "threads": args.threads,
        "scope": args.scope,
        "endpoint": args.endpoint,
        "conditional": args.conditional,
        "keep_alive": args.keep_alive,
        "cpus": os.cpu_count(),
        "target": {k: v for k, v in asdict(target).items() if "token" not in k},
        "payload": payloads,
        "phases": results,
    }
    print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    if args.output:
        args.output.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str))


if __name__ == "__main__":
    main()
