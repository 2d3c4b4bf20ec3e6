"""Random coordinator and crew sessions never break the live schedule (hypothesis).

Each example plays a random sequence of create plan / optimize / move /
publish / revise / crew reports "not finished" / support books a visit on a
small world, and after every step checks the ledger's promises:

- at most one live visit per job, one plan per crew-day, no overlapping visits
  in a route (``ledger_problems``);
- a job whose last visit failed is back in the queue (ready, on nobody's
  route) or live again, and its failures are all still in its history.
"""

from __future__ import annotations

import datetime as dt
import os
from contextlib import suppress
from itertools import count

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.editing import RuleViolation, visit_move
from dispatch.ledger import ScheduleConflict, ledger_problems, live_visits
from dispatch.models import Job, JobReport, Plan
from dispatch.plans import plan_create, plan_publish, plan_revise
from dispatch.reports import ReportRefused, job_report_record
from dispatch.runs import plan_request_optimization, run_optimization
from dispatch.states import JobKind, JobStatus, PlanningError
from tests.dispatch.conftest import MONDAY, World
from tests.factories import make_job, make_site

EXAMPLES = int(os.environ.get("LEDGER_PROPERTY_EXAMPLES", "8"))

small = st.integers(min_value=0, max_value=7)
step = st.one_of(
    st.tuples(st.just("create"), st.integers(0, 1)),
    st.tuples(st.just("optimize"), small),
    st.tuples(st.just("move"), small, small, st.integers(0, 1), st.integers(0, 4)),
    st.tuples(st.just("publish"), small),
    st.tuples(st.just("revise"), small),
    st.tuples(st.just("report"), small),
    st.tuples(st.just("book"), st.integers(0, 3)),
)


class Session:
    """The state one example builds: its plans, and keys for crew reports."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.plans: list[Plan] = []
        self.keys = count()

    def pick(self, index: int) -> Plan | None:
        if not self.plans:
            return None
        plan = self.plans[index % len(self.plans)]
        plan.refresh_from_db()
        return plan

    def create(self, week: int) -> None:
        """A new plan for one of two weeks, optimized at once (a draft is rarely left empty)."""
        start = MONDAY + dt.timedelta(days=7 * week)
        plan = plan_create(
            name=f"week {week}",
            start_date=start,
            end_date=start + dt.timedelta(days=4),
            region=self.world.region,
            params={"time_limit_seconds": 1},
        )
        self.plans.append(plan)
        self.optimize(len(self.plans) - 1)

    def optimize(self, index: int) -> None:
        plan = self.pick(index)
        if plan is not None:
            run = plan_request_optimization(plan=plan, enqueue=False)
            run_optimization(run_id=run.pk)

    def move(self, index: int, visit_index: int, crew_index: int, day: int) -> None:
        plan = self.pick(index)
        visits = list(plan.visits.order_by("pk")) if plan is not None else []
        if plan is None or not visits:
            return
        crew = (self.world.east_crew, self.world.west_crew)[crew_index]
        date = plan.start_date + dt.timedelta(days=day)
        visit_move(visit=visits[visit_index % len(visits)], crew=crew, date=date)

    def publish(self, index: int) -> None:
        plan = self.pick(index)
        if plan is not None:
            plan_publish(plan=plan)

    def revise(self, index: int) -> None:
        plan = self.pick(index)
        if plan is not None:
            self.plans.append(plan_revise(plan=plan))

    def report(self, index: int) -> None:
        live = list(live_visits().select_related("job", "crew").order_by("pk"))
        if live:
            visit = live[index % len(live)]
            job_report_record(
                job=visit.job,
                visit=visit,
                kind="incomplete",
                reason_code="no_access",
                idempotency_key=f"k{next(self.keys)}",
            )

    def book(self, index: int) -> None:
        """Support books a maintenance visit near one of the world's jobs."""
        near = self.world.jobs[index].site
        site = make_site(region=self.world.region, latitude=near.latitude, longitude=near.longitude)
        job = make_job(site=site, kind=JobKind.MAINTENANCE, status=JobStatus.READY)
        job.required_skills.add(*self.world.jobs[0].required_skills.all())


def check_promises() -> None:
    assert ledger_problems() == []
    for job in Job.objects.filter(failed_attempts__gt=0):
        failures = JobReport.objects.filter(job=job, kind="incomplete").count()
        assert failures == job.failed_attempts, "a failed visit vanished from the history"
        last = job.reports.order_by("-occurred_at", "-id").first()
        is_live = live_visits().filter(job=job).exists()
        if last is not None and last.kind == "incomplete" and not is_live:
            assert job.status in (JobStatus.READY, JobStatus.AWAITING_PERMISSION), job.status
            assert job.is_returned_from_field


REFUSALS = (PlanningError, RuleViolation, ScheduleConflict, ReportRefused)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=8))
def test_the_live_schedule_keeps_its_promises_after_every_step(
    world: World, steps: list[tuple]
) -> None:
    with transaction.atomic():
        session = Session(world)
        session.create(0)
        for name, *args in steps:
            # A refusal is a fine answer; what matters is the state after it.
            with suppress(*REFUSALS):
                getattr(session, name)(*args)
            check_promises()
        transaction.set_rollback(True)  # the next example starts from the same world
