"""Twenty coordinators at once cannot double-book the live schedule (PostgreSQL, real threads).

Ten plans hold overlapping jobs and crew-days; ten threads publish them while
ten more move their visits around. Whatever the interleaving, afterwards no
job has two live visits, no crew-day belongs to two plans, no route has
overlapping visits, and every refusal was a clean conflict (no deadlock, no
500).
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections import Counter

import pytest
from django.db import connection

from dispatch.editing import RuleViolation, visit_move
from dispatch.ledger import ScheduleConflict, ledger_problems, live_visits
from dispatch.models import LiveRoute, Plan, PlanStatus, Visit
from dispatch.plans import plan_publish
from dispatch.states import PlanningError
from tests.dispatch.conftest import MONDAY, World
from tests.factories import make_crew, make_job, make_site

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PLANS = 10
DAYS = 3


def _plan_with_visits(world: World, rng: random.Random, jobs: list, crews: list) -> Plan:
    """A proposed plan: a random share of the jobs on random crew-days, two hours apart."""
    plan = Plan.objects.create(
        name="race",
        start_date=MONDAY,
        end_date=MONDAY + dt.timedelta(days=DAYS - 1),
        region=world.region,
        status=PlanStatus.PROPOSED,
        params={"time_limit_seconds": 1},
    )
    sequence: Counter = Counter()
    for job in rng.sample(jobs, k=4):
        crew, day = rng.choice(crews), rng.randrange(DAYS)
        date = MONDAY + dt.timedelta(days=day)
        sequence[(crew.pk, date)] += 1
        n = sequence[(crew.pk, date)]
        start = dt.datetime.combine(date, dt.time(7 + 2 * n), tzinfo=dt.UTC) - dt.timedelta(hours=9)
        Visit.objects.create(
            plan=plan,
            job=job,
            crew=crew,
            date=date,
            sequence=n,
            planned_start=start,
            planned_end=start + dt.timedelta(minutes=job.duration_minutes),
        )
    return plan


def test_concurrent_publishes_and_moves_never_double_book(world: World) -> None:
    rng = random.Random(7)
    crews = [world.east_crew, world.west_crew]
    for name, lon in (("North", 139.75), ("South", 139.76)):
        crew = make_crew(company=world.company, name=name, home_latitude=35.69, home_longitude=lon)
        crew.skills.add(*world.east_crew.skills.all())
        crews.append(crew)
    jobs = list(world.jobs)
    for i in range(4):
        site = make_site(region=world.region, latitude=35.70 + i * 0.002, longitude=139.75)
        job = make_job(site=site, status="ready", duration_minutes=60)
        job.required_skills.add(*world.east_crew.skills.all())
        jobs.append(job)
    plans = [_plan_with_visits(world, rng, jobs, crews) for _ in range(PLANS)]
    moves = [
        (visit.pk, rng.choice(crews), MONDAY + dt.timedelta(days=rng.randrange(DAYS)))
        for visit in Visit.objects.order_by("?")[:PLANS]
    ]

    start = threading.Barrier(2 * PLANS)
    unexpected: list[BaseException] = []
    outcomes: Counter = Counter()

    def run(action: object) -> None:
        try:
            start.wait()
            action()  # type: ignore[operator]
            outcomes["ok"] += 1
        except (ScheduleConflict, RuleViolation, PlanningError, Visit.DoesNotExist) as refused:
            outcomes[type(refused).__name__] += 1
        except BaseException as exc:
            unexpected.append(exc)
        finally:
            connection.close()

    def publisher(plan: Plan) -> object:
        return lambda: plan_publish(plan=plan)

    def mover(visit_id: int, crew: object, date: dt.date) -> object:
        return lambda: visit_move(visit=Visit.objects.get(pk=visit_id), crew=crew, date=date)

    threads = [threading.Thread(target=run, args=(publisher(plan),)) for plan in plans]
    threads += [threading.Thread(target=run, args=(mover(*move),)) for move in moves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not unexpected, unexpected
    assert sum(outcomes.values()) == 2 * PLANS
    assert outcomes["ScheduleConflict"] >= 1, outcomes  # the plans do overlap
    assert ledger_problems() == []
    per_job = Counter(live_visits().values_list("job_id", flat=True))
    assert all(count == 1 for count in per_job.values())
    routes = Counter(LiveRoute.objects.values_list("crew_id", "date"))
    assert all(count == 1 for count in routes.values())
    for route in LiveRoute.objects.all():
        assert set(route.visits.values_list("plan_id", flat=True)) == {route.plan_id}
