"""PostgreSQL restarted while gunicorn serves crews: requests fail cleanly, then recover alone.

What it does:

1. creates and migrates ``--database`` (default ``dispatch_rel_pg``), seeds the demo
   data if empty and issues a partner's API token;
2. starts gunicorn (production settings, ``DB_CONN_MAX_AGE=60`` with health checks)
   on 127.0.0.1;
3. three client threads pull ``GET /api/v1/routes/`` back to back for ``--duration``
   seconds; after ``--restart-after`` seconds it runs
   ``pg_ctlcluster --skip-systemctl-redirect <version> main restart``
   (PostgreSQL is started again in a ``finally`` block whatever happens);
4. prints, per second, the answers by status, and checks that every failure was
   a JSON body in the API's error shape (never an HTML traceback) and that the
   last seconds were all 200 again. The figures go to docs/RELIABILITY.md.

Usage (pin to one core on a shared machine)::

    taskset -c 0 .venv/bin/python -m benchmarks.pg_restart --duration 30
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import subprocess
import threading
import time
from pathlib import Path

from benchmarks.routes_load import (
    ensure_database,
    manage,
    pick_target,
    server_env,
    start_gunicorn,
    stop_gunicorn,
)

ROOT = Path(__file__).resolve().parent.parent


def pg_version() -> str:
    return sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]


def pg_ctl(action: str) -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", pg_version(), "main", action],
        check=False,
        capture_output=True,
    )


def pg_is_up() -> bool:
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="dispatch_rel_pg")
    parser.add_argument("--port", type=int, default=8771)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--restart-after", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=3)
    args = parser.parse_args()

    database_url = f"postgres://postgres@127.0.0.1:5432/{args.database}"
    env = server_env(database_url)
    ensure_database(database_url)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "seed_demo", "--if-empty", "--plan", "10")
    target = pick_target(env, wanted_stops=6, scope="company")
    server = start_gunicorn(env, args.port, workers=2)

    # second -> status -> count; and every failing body that was not the JSON error shape
    by_second: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    unclean: list[str] = []
    lock = threading.Lock()
    started = time.monotonic()
    path = f"/api/v1/routes/?date={target.date}"
    headers = {"Authorization": f"Bearer {target.token}"}

    def client() -> None:
        while (now := time.monotonic() - started) < args.duration:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=10)
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                conn.close()
                outcome = str(response.status)
                if response.status != 200:
                    try:
                        error = json.loads(body)["error"]
                        outcome = f"{response.status} {error['code']}"
                    except (ValueError, KeyError, TypeError):
                        with lock:
                            unclean.append(body[:200].decode(errors="replace"))
            except OSError as exc:
                outcome = f"connection error {type(exc).__name__}"
            with lock:
                by_second[int(now)][outcome] += 1
            time.sleep(0.02)

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    restart_s: tuple[float, float] | None = None
    try:
        for thread in threads:
            thread.start()
        time.sleep(args.restart_after)
        t0 = time.monotonic() - started
        print(f"t={t0:.1f}s: restarting PostgreSQL", flush=True)
        pg_ctl("restart")
        t1 = time.monotonic() - started
        restart_s = (t0, t1)
        print(f"t={t1:.1f}s: PostgreSQL back", flush=True)
        for thread in threads:
            thread.join()
    finally:
        if not pg_is_up():
            pg_ctl("start")
        stop_gunicorn(server)

    print("\nsecond  answers")
    for second in sorted(by_second):
        print(f"{second:>6}  {dict(by_second[second])}")
    totals: collections.Counter[str] = collections.Counter()
    for counts in by_second.values():
        totals.update(counts)
    last = [by_second[s] for s in sorted(by_second)[-5:]]
    recovered = all(set(c) == {"200"} for c in last)
    print(f"\nrestart window: {restart_s}")
    print(f"totals: {dict(totals)}")
    print(f"unclean failures (not the JSON error shape): {len(unclean)}")
    for body in unclean[:3]:
        print("   ", body)
    print(f"recovered by itself (last 5 s all 200): {recovered}")
    if unclean or not recovered:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
