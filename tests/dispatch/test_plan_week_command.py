"""``manage.py plan_week`` plans the demo week and prints what a coordinator needs to judge it."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from dispatch.ledger import ledger_problems
from dispatch.models import LiveRoute, Plan, PlanningBatch, PlanStatus, Visit
from dispatch.states import JobStatus

pytestmark = pytest.mark.django_db

WEEK = "2026-11-23"


@pytest.fixture
def demo() -> None:
    call_command("seed_demo", "--week-start", WEEK, stdout=StringIO())


def test_it_plans_and_publishes_the_demo_week(demo: None) -> None:
    out = StringIO()
    call_command("plan_week", start=WEEK, time_limit=3, publish=True, stdout=out)
    text = out.getvalue()
    plan = Plan.objects.get()
    assert plan.status == PlanStatus.PUBLISHED
    assert plan.kpis["jobs_assigned"] > 150, "most of the ~200 ready jobs fit in a week"
    for expected in (
        "Jobs planned:",
        "Distance:",
        "Mean utilization",
        "Objective (yen)",
        "Crew-days",
        "Published plan",
    ):
        assert expected in text
    planned = Visit.objects.filter(plan=plan).values_list("job__status", flat=True)
    assert set(planned) == {JobStatus.SCHEDULED}


def test_it_plans_one_region(demo: None) -> None:
    call_command("plan_week", start=WEEK, region="tokyo-west", time_limit=1, stdout=StringIO())
    plan = Plan.objects.get()
    assert plan.region is not None and plan.region.code == "tokyo-west"
    assert not Visit.objects.filter(plan=plan).exclude(job__site__region=plan.region).exists()


def test_it_plans_every_region_in_one_batch_and_publishes_them_all(demo: None) -> None:
    out = StringIO()
    call_command("plan_week", start=WEEK, all_regions=True, time_limit=1, publish=True, stdout=out)
    text = out.getvalue()
    batch = PlanningBatch.objects.get()
    codes = ["kanagawa-saitama", "tokyo-central", "tokyo-east", "tokyo-west"]
    assert [row["region"] for row in batch.summary["regions"]] == codes
    for expected in (*codes, "Crew-days given to each region", "region plans", "total"):
        assert expected in text
    assert text.count("Published plan") == 4
    plans = Plan.objects.filter(status=PlanStatus.PUBLISHED)
    assert plans.count() == 4 and batch.summary["jobs_assigned"] > 150
    assert ledger_problems() == []
    assert LiveRoute.objects.values("plan").distinct().count() == 4
    days = set(Visit.objects.filter(plan__in=plans).values_list("crew_id", "date", "plan_id"))
    assert len({(crew, date) for crew, date, _ in days}) == len(days), "a crew-day in one plan"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"start": WEEK, "region": "tokyo-west", "all_regions": True},
            "--region and --all-regions exclude each other",
        ),
        ({"start": "23/11/2026"}, "--start must be YYYY-MM-DD"),
        ({"start": WEEK, "region": "mars"}, "unknown region 'mars'"),
        ({"start": WEEK, "max_utilization": 1.7}, "max_utilization"),
        ({"start": WEEK, "days": 40}, "--days must be from 1 to 31"),
    ],
)
def test_bad_options_are_refused_with_a_clear_message(options: dict, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("plan_week", stdout=StringIO(), **options)
    assert not Plan.objects.exists()


def test_with_several_planner_workers_it_searches_regions_as_parts_and_says_where(
    demo: None, settings: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``plan_week`` takes the app's path: with ``PLANNER_WORKERS`` 2 the week's regions are
    offered as Celery parts; with no worker consuming, the command searches them all itself
    and prints so."""
    settings.PLANNER_WORKERS = 2  # type: ignore[attr-defined]
    monkeypatch.setattr("scheduler.decompose.DECOMPOSE_ABOVE_CREW_DAYS", 10)
    out = StringIO()
    call_command("plan_week", start=WEEK, time_limit=4, stdout=out)
    run = Plan.objects.get().runs.get()
    parallel = run.summary["parallel"]
    assert parallel["runner"] == "celery" and parallel["parts"] > 0
    assert parallel["not_run"] == 0
    assert f"Search parts: {parallel['parts']} via celery" in out.getvalue()


def test_a_week_whose_days_have_passed_is_refused_and_leaves_no_plan(settings) -> None:
    settings.PLANNING_TODAY = dt.date(2026, 12, 7)
    with pytest.raises(CommandError, match="every day of this plan has passed"):
        call_command("plan_week", start=WEEK, stdout=StringIO())
    assert not Plan.objects.exists()


def test_a_refused_publication_is_a_clear_error_and_the_plan_stays_a_proposal(
    demo: None, settings
) -> None:
    """Optimized while the week was ahead, published after its Tuesday had passed (Monday 11/23
    is a holiday: nobody works it)."""
    from dispatch.runs import run_optimization

    real = run_optimization

    def optimize_then_two_days_pass(**kwargs):  # type: ignore[no-untyped-def]
        run = real(**kwargs)
        settings.PLANNING_TODAY = dt.date.fromisoformat(WEEK) + dt.timedelta(days=2)
        return run

    import dispatch.management.commands.plan_week as command

    settings.PLANNING_TODAY = dt.date.fromisoformat(WEEK)
    with (
        pytest.MonkeyPatch.context() as patch,
        pytest.raises(CommandError, match="not published: these visits are on days that have"),
    ):
        patch.setattr(command, "run_optimization", optimize_then_two_days_pass)
        call_command("plan_week", start=WEEK, time_limit=1, publish=True, stdout=StringIO())
    assert Plan.objects.get().status == PlanStatus.PROPOSED
    assert not LiveRoute.objects.exists()
