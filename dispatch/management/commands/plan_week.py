"""``plan_week``: create and optimize a week's plan from the command line, with live progress.

``--all-regions`` plans every region in one action (a planning batch: the
week's crew-days shared among the regions first, then one plan per region),
optimizing the region plans here one after the other.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import IO, Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.errors import DomainError
from dispatch.batches import batch_publish, batch_try_finish, planning_batch_start
from dispatch.models import Crew, OptimizationRun, Plan, PlanningBatch, RunStatus
from dispatch.plans import plan_create, plan_publish
from dispatch.problem import DEFAULT_TIME_LIMIT_SECONDS, ParameterError
from dispatch.runs import plan_request_optimization, run_optimization
from dispatch.states import PlanningError
from sites.models import Region


class Command(BaseCommand):
    help = "Create a plan for a week, optimize it with live progress, print its key figures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", required=True, help="First day, YYYY-MM-DD.")
        parser.add_argument("--days", type=int, default=5, help="Days in the plan (default 5).")
        parser.add_argument("--region", help="Region code; default: every crew and job.")
        parser.add_argument(
            "--all-regions",
            action="store_true",
            help="One plan per region, crew-days shared among them first (a planning batch).",
        )
        parser.add_argument(
            "--time-limit",
            type=int,
            default=DEFAULT_TIME_LIMIT_SECONDS,
            help="Seconds (per region with --all-regions).",
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--min-gap", type=int, help="Minimum gap between jobs (minutes).")
        parser.add_argument("--max-utilization", type=float, help="E.g. 0.85.")
        parser.add_argument("--publish", action="store_true", help="Publish the result.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            start = dt.date.fromisoformat(options["start"])
        except ValueError as exc:
            raise CommandError(f"--start must be YYYY-MM-DD, got {options['start']!r}") from exc
        if not 1 <= options["days"] <= 31:
            raise CommandError("--days must be from 1 to 31")
        if options["all_regions"] and options["region"]:
            raise CommandError("--region and --all-regions exclude each other")
        region = None
        if options["region"]:
            region = Region.objects.filter(code=options["region"]).first()
            if region is None:
                known = ", ".join(Region.objects.values_list("code", flat=True)) or "none"
                raise CommandError(f"unknown region {options['region']!r} (known: {known})")
        params: dict[str, Any] = {
            "time_limit_seconds": options["time_limit"],
            "seed": options["seed"],
        }
        if options["min_gap"] is not None:
            params["min_gap_minutes"] = options["min_gap"]
        if options["max_utilization"] is not None:
            params["max_utilization"] = options["max_utilization"]
        end = start + dt.timedelta(days=options["days"] - 1)
        # The raw stream, not Django's OutputWrapper: rich writes partial lines.
        stream = cast(IO[str], self.stdout._out)
        console = Console(file=stream, width=max(Console().width, 120))
        if options["all_regions"]:
            self._all_regions(console, start, end, params, publish=options["publish"])
            return
        try:
            with transaction.atomic():  # a refused optimization leaves no empty plan behind
                plan = plan_create(
                    name=f"{region.name if region else 'All regions'} {start:%Y-%m-%d}",
                    start_date=start,
                    end_date=end,
                    region=region,
                    params=params,
                )
                run = plan_request_optimization(plan=plan, enqueue=False)
        except (PlanningError, ParameterError) as exc:
            raise CommandError(str(exc)) from exc

        console.print(f"Plan {plan.pk}: {plan.name} ({start} to {end}), run {run.pk}")
        run = self._optimize(console, run, "optimizing")
        plan.refresh_from_db()
        if run.status != RunStatus.SUCCEEDED:
            raise CommandError(f"optimization {run.status}: {run.error}")
        self._print_summary(console, plan)
        if options["publish"]:
            try:
                plan = plan_publish(plan=plan)
            except DomainError as exc:  # a conflict with the live schedule, a day gone by
                raise CommandError(f"plan {plan.pk} not published: {exc}") from exc
            console.print(f"[green]Published plan {plan.pk} (version {plan.version}).")

    def _optimize(self, console: Console, run: OptimizationRun, label: str) -> OptimizationRun:
        """Run a queued optimization here, with a live progress bar."""
        with Progress(
            TextColumn(f"[bold]{label}"),
            BarColumn(),
            TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
            TextColumn("{task.fields[assigned]} jobs planned"),
            TextColumn("best {task.fields[best]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as bar:
            task = bar.add_task("solve", total=run.time_limit_seconds, assigned=0, best="-")

            def show(progress: OptimizationRun) -> None:
                best = progress.best_objective_yen
                bar.update(
                    task,
                    completed=min(progress.elapsed_seconds, run.time_limit_seconds),
                    assigned=progress.jobs_assigned,
                    best="-" if best is None else f"¥{best:,.0f}",
                )

            run = run_optimization(run_id=run.pk, progress_hook=show)
            bar.update(task, completed=run.time_limit_seconds)
        self._show_parallel(console, run)
        return run

    def _show_parallel(self, console: Console, run: OptimizationRun) -> None:
        """Where the parts of the search ran (``PLANNER_WORKERS`` > 1), and why not elsewhere."""
        parallel = (run.summary or {}).get("parallel")
        if not parallel:
            return
        console.print(
            f"Search parts: {parallel.get('parts', 0)} via {parallel['runner']}, "
            f"{parallel.get('elsewhere', 0)} in other worker processes, "
            f"at most {parallel.get('max_concurrent', 1)} at once"
        )
        for note in parallel.get("notes", []):
            console.print(f"[yellow]{note}")

    def _all_regions(
        self,
        console: Console,
        start: dt.date,
        end: dt.date,
        params: dict[str, Any],
        *,
        publish: bool,
    ) -> None:
        """Plan every region as one batch, optimize its plans here in turn, print the figures."""
        try:
            batch = planning_batch_start(
                start_date=start, end_date=end, params=params, enqueue=False
            )
        except (PlanningError, ParameterError) as exc:
            raise CommandError(str(exc)) from exc
        runs = list(batch.runs.select_related("plan__region").order_by("plan__region__code"))
        console.print(
            f"Batch {batch.pk}: {len(runs)} regions ({start} to {end}); "
            "every crew-day given to one region first"
        )
        shares = Table(title="Crew-days given to each region")
        for column in (
            "region",
            "crew-days",
            "of crews in several regions",
            "capacity h",
            "work h",
        ):
            shares.add_column(column, justify="left" if column == "region" else "right")
        for row in batch.summary["partition"]["regions"]:
            shares.add_row(
                row["region"],
                str(row["crew_days"]),
                str(row["shared_crew_days"]),
                f"{row['capacity_hours']}",
                f"{row['demand_hours']}",
            )
        console.print(shares)
        for run in runs:
            code = run.plan.region.code if run.plan.region else "-"
            self._optimize(console, run, f"{code:>16}")
            batch_try_finish(batch_id=batch.pk)
        batch.refresh_from_db()
        self._print_batch(console, batch)
        failed = batch.summary["failed"]
        if publish:
            outcomes = batch_publish(batch=batch)
            for outcome in outcomes:
                if outcome["outcome"] == "published":
                    console.print(
                        f"[green]Published plan {outcome['plan_id']} ({outcome['region']})."
                    )
                else:
                    console.print(
                        f"[red]Plan {outcome['plan_id']} ({outcome['region']}) not published: "
                        f"{outcome.get('message', outcome['outcome'])}"
                    )
            done = ("published", "already_published")
            refused = [o["region"] for o in outcomes if o["outcome"] not in done]
            if refused:
                raise CommandError(f"not published: {', '.join(map(str, refused))}")
        if failed:
            raise CommandError(f"optimization failed for: {', '.join(map(str, failed))}")

    def _print_batch(self, console: Console, batch: PlanningBatch) -> None:
        summary = batch.summary
        table = Table(title=f"Batch {batch.pk}: region plans")
        columns = ("region", "plan", "run", "crew-days given", "used", "planned", "unassigned")
        for column in (*columns, "km", "km/job"):
            table.add_column(column, justify="left" if column == "region" else "right")
        for row in summary["regions"]:
            assigned = row["jobs_assigned"]
            table.add_row(
                str(row["region"]),
                str(row["plan_id"]),
                row["run_status"],
                str(row["crew_days_given"]),
                str(row["crew_days_used"]),
                str(assigned),
                str(row["jobs_unassigned"]),
                f"{row['total_km']}",
                f"{row['total_km'] / assigned:.2f}" if assigned else "-",
            )
        table.add_row(
            "[bold]total",
            "",
            "",
            str(sum(r["crew_days_given"] for r in summary["regions"])),
            str(summary["crew_days_used"]),
            str(summary["jobs_assigned"]),
            str(summary["jobs_unassigned"]),
            f"{summary['total_km']}",
            f"{summary['km_per_job']:.2f}",
        )
        console.print(table)

    def _print_summary(self, console: Console, plan: Plan) -> None:
        kpis = plan.kpis
        console.print(
            f"\nJobs planned: {kpis['jobs_assigned']}   unassigned: {kpis['jobs_unassigned']}   "
            f"crew-days used: {kpis['crew_days_used']}\n"
            f"Distance: {kpis['total_km']} km ({kpis['km_per_job']} km/job)   "
            f"driving: {kpis['drive_hours']} h   work: {kpis['work_hours']} h\n"
            f"Mean utilization: {kpis['mean_utilization']:.0%}   "
            f"mean slack per crew-day: {kpis['mean_slack_minutes']} min"
        )
        objective = Table(title="Objective (yen)")
        objective.add_column("term")
        objective.add_column("yen", justify="right")
        for term, yen in kpis["objective_yen"].items():
            objective.add_row(term, f"{yen:,.0f}")
        console.print(objective)

        crews = {c.pk: c for c in Crew.objects.select_related("company")}
        days = Table(title="Crew-days")
        for column in ("crew", "date", "jobs", "km", "drive min", "slack min", "utilization"):
            days.add_column(
                column, justify="left" if column in ("crew", "date") else "right", no_wrap=True
            )
        for route in sorted(kpis["routes"], key=lambda r: (r["crew_id"], r["date"])):
            crew = crews.get(route["crew_id"])
            days.add_row(
                f"{crew.company.name} {crew.name}" if crew else str(route["crew_id"]),
                route["date"],
                str(route["jobs"]),
                f"{route['km']}",
                str(route["drive_minutes"]),
                str(route["slack_minutes"]),
                f"{route['utilization']:.0%}",
            )
        console.print(days)

        reasons = Counter(
            reason["rule"] for item in plan.unassigned for reason in item["reasons"][:1]
        )
        if plan.unassigned:
            table = Table(title=f"Unassigned jobs ({len(plan.unassigned)}), by first reason")
            table.add_column("reason")
            table.add_column("jobs", justify="right")
            table.add_column("example")
            for rule, count in reasons.most_common():
                example = next(
                    item for item in plan.unassigned if item["reasons"][0]["rule"] == rule
                )
                table.add_row(
                    rule, str(count), f"{example['reference']}: {example['reasons'][0]['message']}"
                )
            console.print(table)
