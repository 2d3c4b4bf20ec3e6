"""Week board at scale: 100 crews x 5 days x 1,500 visits, rendered by the server and in Chromium.

Two figures, on one generated plan:

1. **Server render**: ``GET /plans/<id>/`` through Django's full request stack
   (middleware, session, view, templates) with production settings
   (``DEBUG=0``, cached template loader), timed per request; the number of
   SQL queries per request is recorded too (it must not grow with the plan).
2. **Usable in Chromium**: the board served by gunicorn (as in production,
   static files by WhiteNoise) and opened in Debian Chromium through
   Playwright; the time from navigation start until the page's script has
   made every crew-day a drop target (the ``board-ready`` performance mark),
   plus DOMContentLoaded and load for context.

Run from the repository root (the generated database lives in ``var/``)::

    taskset -c 1 .venv/bin/python -m benchmarks.board_render --requests 30 --browser-runs 5

Results go to ``benchmarks/results/board_render_<database>.json`` (sqlite or
postgres; ``--database-url`` picks the server, default a SQLite file in ``var/``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PASSWORD = "bench-pass-2026"


def _configure(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-0123456789abcdef")
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"
    # The measured week (2026-11-30) is fixed: seen from the Friday before, every day of
    # it is ahead and its cells take drops, whatever today is.
    os.environ["DISPATCH_PLANNING_TODAY"] = "2026-11-27"
    # Production settings, but served over plain http on loopback (no TLS proxy here).
    for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        os.environ[name] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def build_week(crews: int, days: int, visits: int) -> int:
    """A plan with ``crews`` crews of 10 companies, ``visits`` visits spread over its days."""
    from django.db import transaction

    from accounts.models import Role, User
    from dispatch.models import Crew, Job, PartnerCompany, Plan, PlanStatus, Skill, Visit
    from dispatch.states import JobKind, JobStatus
    from sites.models import Region, Site

    existing = Plan.objects.filter(name="Board benchmark").first()
    if existing is not None and existing.visits.count() == visits:
        return existing.pk
    monday = dt.date(2026, 11, 30)
    tz = dt.timezone(dt.timedelta(hours=9))
    with transaction.atomic():
        region = Region.objects.create(code="bench-tokyo", name="Bench Tokyo")
        skills = [
            Skill.objects.create(code=f"bench_skill_{i}", name=f"Skill {i}") for i in range(4)
        ]
        companies = []
        for c in range(10):
            company = PartnerCompany.objects.create(name=f"ベンチ通信工業 {c:02d}")
            company.regions.add(region)
            companies.append(company)
        crew_rows = Crew.objects.bulk_create(
            Crew(
                company=companies[i % 10],
                name=f"第{i + 1}班",
                members=2 + i % 2,
                home_latitude=35.60 + (i % 10) * 0.02,
                home_longitude=139.60 + (i // 10) * 0.03,
            )
            for i in range(crews)
        )
        for i, crew in enumerate(crew_rows):
            crew.skills.add(skills[i % 4], skills[(i + 1) % 4])
        sites = Site.objects.bulk_create(
            Site(
                name=f"ベンチビル{i}",
                address=f"東京都港区芝浦{i % 4 + 1}丁目{i % 20 + 1}-{i % 9 + 1}",
                postal_code="1080023",
                region=region,
                latitude=35.60 + (i % 37) * 0.005,
                longitude=139.60 + (i % 53) * 0.006,
                geocode_status="ok",
            )
            for i in range(visits)
        )
        jobs = Job.objects.bulk_create(
            Job(
                reference=f"B-{i:05d}",
                kind=JobKind.NEW_LINE,
                site=site,
                status=JobStatus.SCHEDULED,
                duration_minutes=90,
                due_date=monday + dt.timedelta(days=6),
            )
            for i, site in enumerate(sites)
        )
        through = Job.required_skills.through
        through.objects.bulk_create(
            through(job_id=job.pk, skill_id=skills[i % 4].pk) for i, job in enumerate(jobs)
        )
        plan = Plan.objects.create(
            name="Board benchmark",
            start_date=monday,
            end_date=monday + dt.timedelta(days=days - 1),
            region=region,
            status=PlanStatus.PROPOSED,
        )
        per_day = visits // (crews * days)
        rows = []
        k = 0
        for crew in crew_rows:
            for d in range(days):
                date = monday + dt.timedelta(days=d)
                for s in range(per_day):
                    start = dt.datetime.combine(date, dt.time(9 + 2 * s, 0), tzinfo=tz)
                    rows.append(
                        Visit(
                            plan=plan,
                            job=jobs[k],
                            crew=crew,
                            date=date,
                            sequence=s + 1,
                            planned_start=start,
                            planned_end=start + dt.timedelta(minutes=90),
                            travel_minutes_from_previous=15,
                            travel_m_from_previous=5200,
                        )
                    )
                    k += 1
        Visit.objects.bulk_create(rows)
        if not User.objects.filter(username="bench-coordinator").exists():
            User.objects.create_user(
                username="bench-coordinator", password=PASSWORD, role=Role.COORDINATOR
            )
    return plan.pk


def server_render(plan_id: int, requests: int) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username="bench-coordinator"))
    url = f"/plans/{plan_id}/"
    client.get(url)  # warm the template cache and the connection
    timings = []
    cpu = []  # CPU time of this process: less sensitive to other load on a shared machine
    queries = None
    size = 0
    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200, response.status_code
        queries = len(captured)
        size = len(response.content)
    body = response.content.decode()
    return {
        "requests": requests,
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(sorted(timings)[max(0, int(len(timings) * 0.95) - 1)], 1),
        "max_ms": round(max(timings), 1),
        "median_cpu_ms": round(statistics.median(cpu), 1),
        "p95_cpu_ms": round(sorted(cpu)[max(0, int(len(cpu) * 0.95) - 1)], 1),
        "queries_per_request": queries,
        "html_bytes": size,
        "visits_in_html": body.count('class="visit'),
    }


def _wait_for(url: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except Exception:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {timeout_s} s")


def browser_usable(plan_id: int, runs: int, port: int) -> dict:
    from playwright.sync_api import sync_playwright

    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "config/gunicorn_conf.py",  # as production serves it
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/login/")
        samples = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"{base}/login/")
            page.get_by_label("Username").fill("bench-coordinator")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state()
            for _ in range(runs + 1):  # the first load fills the browser's cache; not counted
                page.goto(f"{base}/plans/{plan_id}/")
                page.wait_for_function("document.getElementById('board').dataset.ready")
                samples.append(
                    page.evaluate(
                        """() => {
                          const nav = performance.getEntriesByType('navigation')[0];
                          const ready = performance.getEntriesByName('board-ready')[0];
                          const script = performance.getEntriesByName('board-script')[0];
                          return {ttfb: nav.responseStart, response_end: nav.responseEnd,
                                  dom_content_loaded: nav.domContentLoadedEventEnd,
                                  load: nav.loadEventEnd, ready: ready.startTime,
                                  script: script.startTime,
                                  drop_targets: document.querySelectorAll(
                                    'ol.route[data-droppable="true"]').length};
                        }"""
                    )
                )
            browser.close()
        counted = samples[1:]

        def med(key: str) -> float:
            return round(statistics.median(s[key] for s in counted), 1)

        return {
            "runs": runs,
            "median_ttfb_ms": med("ttfb"),
            "median_response_end_ms": med("response_end"),
            "median_dom_content_loaded_ms": med("dom_content_loaded"),
            "median_load_ms": med("load"),
            "median_script_start_ms": med("script"),
            "median_ready_ms": med("ready"),
            "max_ready_ms": round(max(s["ready"] for s in counted), 1),
            "drop_targets": counted[-1]["drop_targets"],
        }
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--crews", type=int, default=100)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--visits", type=int, default=1500)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--browser-runs", type=int, default=5)
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench_board.sqlite3'}"),
    )
    args = parser.parse_args()
    (ROOT / "var").mkdir(exist_ok=True)
    _configure(args.database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # production storage
    plan_id = build_week(args.crews, args.days, args.visits)
    server = server_render(plan_id, args.requests)
    print(json.dumps({"server": server}, indent=2), flush=True)
    browser = browser_usable(plan_id, args.browser_runs, args.port)
    result = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "database": args.database_url.split(":", 1)[0],
        "crews": args.crews,
        "days": args.days,
        "visits": args.visits,
        "server": server,
        "browser": browser,
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_before": os.getloadavg(),
        },
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"board_render_{result['database']}.json").write_text(
        json.dumps(result, indent=2) + "\n"
    )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
