"""``manage.py seed_demo``: fill an empty database with the Tokyo demo week.

Thin on purpose: the data itself is built by :mod:`demo.build` (the delivery
side) and :mod:`demo.support` (the support desk).
"""

from __future__ import annotations

import datetime as dt
import time
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import ProtectedError

from demo.build import (
    DEFAULT_PASSWORD,
    DEFAULT_SEED,
    DemoSummary,
    build_demo,
    default_week_start,
    existing_data,
    existing_demo_users,
    reset_demo,
)
from demo.support import build_support_demo


def _monday(value: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ArgumentTypeError(f"'{value}' is not a date in YYYY-MM-DD form") from exc
    if day.weekday() != 0:
        raise ArgumentTypeError(f"{value} is a {day:%A}; the week must start on a Monday")
    return day


class Command(BaseCommand):
    help = (
        "Create a realistic, deterministic Tokyo-area demo dataset for the coming week "
        "(partner companies, crews, sites, surveys, permissions, jobs, demo users) and print "
        "the demo logins."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"Random seed; the same seed gives the same data (default {DEFAULT_SEED}).",
        )
        parser.add_argument(
            "--week-start",
            type=_monday,
            default=None,
            metavar="YYYY-MM-DD",
            help="Monday of the week to plan (default: the next Monday in Asia/Tokyo).",
        )
        parser.add_argument(
            "--password",
            default=DEFAULT_PASSWORD,
            help=f"Password of every demo user (default {DEFAULT_PASSWORD!r}).",
        )
        parser.add_argument(
            "--plan",
            type=int,
            metavar="SECONDS",
            default=0,
            help="Also optimize and publish the week's plan, searching this many seconds "
            "(0, the default, leaves planning to the coordinator).",
        )
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing if the database already holds sites or other demo-type data.",
        )
        group.add_argument(
            "--reset",
            action="store_true",
            help="Delete all sites, customers, jobs, plans, crews, partner companies, skills, "
            "regions and the demo users first (development databases only).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        week_start: dt.date = options["week_start"] or default_week_start()
        started = time.monotonic()
        with transaction.atomic():
            if not self._prepare(reset=options["reset"], if_empty=options["if_empty"]):
                return
            summary = build_demo(
                seed=options["seed"], week_start=week_start, password=options["password"]
            )
            summary.counts.update(build_support_demo(seed=options["seed"], week_start=week_start))
        self._report(summary, time.monotonic() - started)
        if options["plan"]:
            self._plan_week(week_start, options["plan"], options["seed"])

    def _plan_week(self, week_start: dt.date, seconds: int, seed: int) -> None:
        """Plan and publish the demo week through the same services a coordinator uses."""
        from dispatch.plans import plan_create, plan_publish
        from dispatch.runs import plan_request_optimization, run_optimization

        plan = plan_create(
            name=f"Demo week {week_start:%Y-%m-%d}",
            start_date=week_start,
            end_date=week_start + dt.timedelta(days=4),
            params={"time_limit_seconds": seconds, "seed": seed},
        )
        run = run_optimization(run_id=plan_request_optimization(plan=plan, enqueue=False).pk)
        if run.status != "succeeded":
            raise CommandError(f"planning the demo week {run.status}: {run.error}")
        plan = plan_publish(plan=plan)
        self.stdout.write(
            f"Published plan {plan.pk}: {plan.kpis['jobs_assigned']} jobs planned, "
            f"{plan.kpis['jobs_unassigned']} unassigned, {plan.kpis['total_km']} km."
        )

    def _prepare(self, *, reset: bool, if_empty: bool) -> bool:
        """Make room for the demo; False when there is nothing to do."""
        if reset:
            try:
                reset_demo()
            except ProtectedError as exc:
                blocking = sorted({type(obj)._meta.label for obj in exc.protected_objects})
                raise CommandError(
                    f"Cannot reset: rows of {', '.join(blocking)} still refer to the demo data."
                ) from exc
            return True
        found = existing_data()
        if found and if_empty:
            self.stdout.write(f"The database already holds data ({', '.join(found)}); not seeding.")
            return False
        if found:
            raise CommandError(
                f"The database already holds {', '.join(found)}. "
                "Run with --reset to replace it with the demo data, or --if-empty to skip."
            )
        users = existing_demo_users()
        if users:
            raise CommandError(
                f"Demo usernames already taken: {', '.join(users)}. "
                "Run with --reset to replace them."
            )
        return True

    def _report(self, summary: DemoSummary, seconds: float) -> None:
        week_end = summary.week_start + dt.timedelta(days=5)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data for the week {summary.week_start} to {week_end} "
                f"(seed {summary.seed}) created in {seconds:.1f} s:"
            )
        )
        for name, count in summary.counts.items():
            self.stdout.write(f"  {count:>5}  {name}")
        self.stdout.write("")
        self.stdout.write("Demo logins:")
        width = max(len(login.username) for login in summary.logins)
        role_width = max(len(login.role) for login in summary.logins)
        for login in summary.logins:
            line = (
                f"  {login.username:<{width}}  {login.password}"
                f"  {login.role:<{role_width}}  {login.company}"
            )
            self.stdout.write(line.rstrip())
