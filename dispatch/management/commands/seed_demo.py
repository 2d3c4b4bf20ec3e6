"""``manage.py seed_demo``: fill an empty database with the Tokyo demo week.

Thin on purpose: the data itself is built by :mod:`dispatch.demo`.
"""

from __future__ import annotations

import datetime as dt
import time
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import ProtectedError

from dispatch.demo import (
    DEFAULT_PASSWORD,
    DEFAULT_SEED,
    DemoSummary,
    build_demo,
    default_week_start,
    existing_data,
    existing_demo_users,
    reset_demo,
)


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
        self._report(summary, time.monotonic() - started)

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
