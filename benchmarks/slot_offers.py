"""Slot offers during a call: latency of ``dispatch.slots.slot_offers`` on PostgreSQL.

Usage::

    .venv/bin/python -m benchmarks.slot_offers --offers 150

Drops and recreates the database ``dispatch_bench_slots`` on the local
PostgreSQL server (127.0.0.1:5432, user postgres), migrates it and measures
two sizes, each with the default horizon (``SLOT_OFFER_DAYS`` = 14 days from
tomorrow) and the kinds of work the desk presets (``support.slot_pages.WORK_KINDS``):

1. **demo**: ``seed_demo --plan 10`` (the demo week planned by the optimizer
   and published), offers for random demo buildings;
2. **1,000 live visits a week**: on top of the demo, a partner company with
   enough crews is given two weeks of published work, planned by the
   scheduler's greedy planner on jobs scattered over the Tokyo area (so the
   routes are feasible and dense, as a planner would leave them), then
   offers for random buildings of that area.

Every offer is timed end to end as the API calls it (reading the live
schedule, the calendar and the crews from the database, building the
problem, the insertion search, the reasons when there is no slot); p50, p95
and max are written to ``benchmarks/results/slot_offers.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

DB_NAME = "dispatch_bench_slots"
SERVER = "postgres://postgres@127.0.0.1:5432"
RESULTS = Path(__file__).resolve().parent / "results"
TOKYO = (35.681, 139.767)


def _django() -> None:
    os.environ["DATABASE_URL"] = f"{SERVER}/{DB_NAME}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("DISPATCH_ALLOW_DEV_SECRET", "1")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def _recreate_database() -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def _measure(sites: list, offers: int, rng: random.Random) -> dict:
    from dispatch.models import Skill
    from dispatch.slots import slot_offers, slot_request
    from support.slot_pages import WORK_KINDS

    known = set(Skill.objects.values_list("code", flat=True))
    kinds = [
        ([code for code in codes if code in known], minutes)
        for _label, codes, minutes in WORK_KINDS.values()
    ]
    times: list[float] = []
    found = none = 0
    live = 0
    for _ in range(offers):
        site = rng.choice(sites)
        skills, minutes = rng.choice(kinds)
        started = time.perf_counter()
        answer = slot_offers(slot_request(site=site, skills=skills, duration_minutes=minutes))
        times.append(time.perf_counter() - started)
        if answer.offers:
            found += 1
        else:
            none += 1
        live = max(live, answer.searched.get("live_visits", 0))
    return {
        "offers": offers,
        "with_slots": found,
        "without_slot": none,
        "live_visits_in_horizon": live,
        "p50_ms": round(statistics.median(times) * 1000, 1),
        "p95_ms": round(_percentile(times, 0.95) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
        "mean_ms": round(statistics.fmean(times) * 1000, 1),
    }


def _live_in_horizon() -> tuple[int, int]:
    from django.utils import timezone

    from dispatch.ledger import live_visits

    first = timezone.localdate() + dt.timedelta(days=1)
    last = first + dt.timedelta(days=13)
    total = live_visits().filter(date__range=(first, last)).count()
    return total, round(total / 2)


def _add_bench_weeks(per_week: int, rng: random.Random) -> dict:
    from django.db import transaction
    from django.utils import timezone

    import scheduler
    from dispatch.calendars import WorkCalendar
    from dispatch.models import (
        Crew,
        Job,
        LiveRoute,
        PartnerCompany,
        Plan,
        PlanStatus,
        Skill,
        Visit,
    )
    from dispatch.problem import TIME_GRID_S, _crew_days, _to_crew, planning_tz
    from dispatch.states import JobKind, JobStatus
    from scheduler.greedy import solve_greedy
    from sites.models import GeocodeStatus, Site

    first = timezone.localdate() + dt.timedelta(days=1)
    dates = tuple(first + dt.timedelta(days=i) for i in range(14))
    horizon_start = dt.datetime.combine(dates[0], dt.time(0), tzinfo=planning_tz())
    live_now, _weekly = _live_in_horizon()
    target = per_week * 2 - live_now
    crews_needed = max(1, round(target / 10 / 3.8))  # greedy packs about 4 a crew-day
    skills = list(Skill.objects.all())
    with transaction.atomic():
        company = PartnerCompany.objects.create(name="ベンチ通信")
        crews = []
        for i in range(crews_needed):
            crew = Crew.objects.create(
                company=company,
                name=f"B{i + 1:02d}",
                members=2,
                home_latitude=TOKYO[0] + rng.uniform(-0.12, 0.12),
                home_longitude=TOKYO[1] + rng.uniform(-0.15, 0.15),
                max_jobs_per_day=6,
            )
            crew.skills.set(rng.sample(skills, k=min(len(skills), 5)))
            crews.append(crew)
        crews = list(
            Crew.objects.filter(company=company)
            .select_related("company")
            .prefetch_related("skills", "company__regions")
        )
        calendar = WorkCalendar.load(crews, dates[0], dates[-1])
        crew_days = _crew_days(crews, dates, horizon_start, calendar)
        n_jobs = int(target * 1.15)
        sites = Site.objects.bulk_create(
            Site(
                name=f"ベンチビル{k:05d}",
                address=f"東京都港区芝浦{k % 9 + 1}丁目{k % 20 + 1}-{k % 7 + 1}",
                postal_code="1080023",
                prefecture="東京都",
                city="港区",
                latitude=TOKYO[0] + rng.uniform(-0.15, 0.15),
                longitude=TOKYO[1] + rng.uniform(-0.18, 0.18),
                geocode_status=GeocodeStatus.MANUAL,
            )
            for k in range(n_jobs)
        )
        jobs = Job.objects.bulk_create(
            Job(
                reference=f"BENCH-{k:06d}",
                kind=JobKind.MAINTENANCE,
                site=site,
                status=JobStatus.SCHEDULED,
                duration_minutes=rng.choice([45, 60, 60, 90, 120]),
            )
            for k, site in enumerate(sites)
        )
        problem = scheduler.Problem(
            crews=tuple(_to_crew(crew) for crew in crews),
            crew_days=tuple(crew_days),
            jobs=tuple(
                scheduler.Job(
                    id=str(job.pk),
                    location=scheduler.Location(job.site.latitude, job.site.longitude),  # type: ignore[arg-type]
                    duration_s=job.duration_minutes * 60,
                )
                for job in jobs
            ),
            rules=scheduler.Rules(min_gap_s=15 * 60, max_utilization=0.85),
            first_date=dates[0],
            time_grid_s=TIME_GRID_S,
        )
        result = solve_greedy(problem)
        plan = Plan.objects.create(
            name="Bench weeks",
            start_date=dates[0],
            end_date=dates[-1],
            status=PlanStatus.PUBLISHED,
            published_at=timezone.now(),
        )
        by_id = {str(job.pk): job for job in jobs}
        crew_of = {str(crew.pk): crew for crew in crews}
        visits = []
        for route in result.routes:
            if not route.visits:
                continue
            date = dates[route.day]
            live = LiveRoute.objects.create(crew=crew_of[route.crew_id], date=date, plan=plan)
            for sequence, stop in enumerate(route.visits, start=1):
                visits.append(
                    Visit(
                        plan=plan,
                        job=by_id[stop.job_id],
                        crew=crew_of[route.crew_id],
                        date=date,
                        sequence=sequence,
                        planned_start=horizon_start + dt.timedelta(seconds=stop.start_s),
                        planned_end=horizon_start + dt.timedelta(seconds=stop.end_s),
                        route=live,
                    )
                )
        Visit.objects.bulk_create(visits)
    return {"bench_crews": len(crews), "bench_visits": len(visits), "sites": sites}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--offers", type=int, default=150, help="Offers timed per size.")
    parser.add_argument("--per-week", type=int, default=1000, help="Live visits a week (size 2).")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    _recreate_database()
    _django()
    from django.core.management import call_command

    from sites.models import Site

    rng = random.Random(args.seed)
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", "--plan", "10", verbosity=0)
    print(f"demo seeded and planned in {time.perf_counter() - started:.0f} s", flush=True)
    demo_sites = list(Site.objects.exclude(latitude__isnull=True).select_related("region"))
    _live, weekly = _live_in_horizon()
    demo = _measure(demo_sites, args.offers, rng)
    demo["live_visits_per_week"] = weekly
    print("demo", demo, flush=True)
    added = _add_bench_weeks(args.per_week, rng)
    _live, weekly = _live_in_horizon()
    bench_sites = added.pop("sites")
    large = _measure(bench_sites, args.offers, rng)
    large["live_visits_per_week"] = weekly
    large.update(added)
    print("1000/week", large, flush=True)
    body = {
        "benchmark": "slot_offers",
        "date": dt.date.today().isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "database": "PostgreSQL 127.0.0.1",
        },
        "horizon_days": 14,
        "sizes": {"demo": demo, "per_week_1000": large},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "slot_offers.json").write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
