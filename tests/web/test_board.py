"""The week board, server side: what it shows, who may see it, and its fixed few queries."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from dispatch.models import CrewUnavailability, OptimizationRun, Plan, RunStatus, Visit
from dispatch.runs import plan_request_optimization, run_discard, run_optimization
from dispatch.services import job_transition
from dispatch.states import JobKind, JobStatus
from tests.dispatch.conftest import MONDAY, World
from tests.factories import make_crew, make_job, make_site, make_skill, make_user

pytestmark = pytest.mark.django_db


def client_as(role: str, **fields: object) -> Client:
    client = Client()
    client.force_login(make_user(role, **fields))
    return client


@pytest.fixture
def coordinator() -> Client:
    return client_as(Role.COORDINATOR)


def optimized(world: World) -> tuple[Plan, OptimizationRun]:
    plan = world.plan()
    run = run_optimization(run_id=plan_request_optimization(plan=plan, enqueue=False).pk)
    plan.refresh_from_db()
    return plan, run


def test_only_coordinators_open_the_board(world: World) -> None:
    plan = world.plan()
    url = f"/plans/{plan.pk}/"
    assert Client().get(url).status_code == 302
    assert Client().get(url)["Location"].startswith("/login/")
    assert client_as(Role.SUPPORT).get(url).status_code == 403
    partner = client_as(Role.PARTNER, partner_company=world.company)
    assert partner.get(url).status_code == 403
    for path in ("fragment/", "queue/", "publish-summary/", "map.json"):
        assert partner.get(url + path).status_code == 403


def test_the_board_shows_crews_by_company_days_and_each_route_with_its_bar(
    world: World, coordinator: Client
) -> None:
    plan, _run = optimized(world)
    page = coordinator.get(f"/plans/{plan.pk}/").content.decode()
    assert world.company.name in page
    assert "East" in page and "West" in page
    for offset in range(5):
        assert f'data-date="{(MONDAY + dt.timedelta(days=offset)).isoformat()}"' in page
    for job in world.jobs:
        assert f'data-ref="{job.reference}"' in page
    visit = plan.visits.order_by("planned_start").first()
    # Times are shown in Asia/Tokyo: the visits are stored in UTC.
    local_start = visit.planned_start.astimezone(dt.timezone(dt.timedelta(hours=9)))
    assert local_start.strftime("%H:%M") + "–" in page
    # The day bar: one gradient per crew-day, work in blue, driving in orange.
    assert "linear-gradient(to right," in page and "#0b63c5 " in page
    assert "min drive" in page and "free " in page
    assert 'data-kpi="jobs_planned">4<' in page


def test_the_queue_lists_unplanned_ready_jobs_with_the_solvers_reasons(
    world: World, coordinator: Client
) -> None:
    plan = world.plan()
    plan.unassigned = [
        {"job_id": world.jobs[0].pk, "reasons": [{"rule": "skill", "message": "no crew has it"}]}
    ]
    plan.save()
    page = coordinator.get(f"/plans/{plan.pk}/").content.decode()
    queue = page[page.index('id="queue"') :]
    assert all(job.reference in queue for job in world.jobs)
    # People read rule names, not codes: the code stays in a data attribute for scripts.
    assert '<li data-rule="skill"><strong>Skills</strong> no crew has it</li>' in queue
    assert "<strong>Not planned yet</strong> optimize, or drag it onto a crew-day" in queue
    assert "not_planned</" not in queue and "<code>" not in queue


def test_the_queue_names_rules_in_japanese_for_a_japanese_coordinator(
    world: World, coordinator: Client
) -> None:
    plan = world.plan()
    plan.unassigned = [
        {"job_id": world.jobs[0].pk, "reasons": [{"rule": "access", "message": "..."}]}
    ]
    plan.save()
    page = coordinator.get(f"/plans/{plan.pk}/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    queue = page[page.index('id="queue"') :]
    assert "<strong>入館時間</strong>" in queue


def test_queue_filters_narrow_the_list(world: World, coordinator: Client) -> None:
    plan = world.plan()
    urgent = world.jobs[0]
    urgent.kind = JobKind.MAINTENANCE
    urgent.due_date = MONDAY
    urgent.save()
    aerial = make_skill("aerial_cabling")
    world.jobs[1].required_skills.add(aerial)

    def listed(query: str) -> set[str]:
        html = coordinator.get(f"/plans/{plan.pk}/queue/?{query}").content.decode()
        return {job.reference for job in world.jobs if f'data-ref="{job.reference}"' in html}

    assert listed("") == {job.reference for job in world.jobs}
    assert listed("kind=maintenance") == {urgent.reference}
    assert listed(f"due_before={MONDAY.isoformat()}") == {urgent.reference}
    assert listed("skill=aerial_cabling") == {world.jobs[1].reference}
    assert listed(f"company={world.company.pk}") == {job.reference for job in world.jobs}
    assert listed("region=elsewhere") == set()
    assert listed("due_before=not-a-date") == {job.reference for job in world.jobs}


def test_the_board_costs_the_same_few_queries_whatever_its_size(
    world: World, coordinator: Client
) -> None:
    plan, _ = optimized(world)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert coordinator.get(f"/plans/{plan.pk}/").status_code == 200
        return len(captured)

    small = queries()
    # Three more crews and twelve more jobs on the board: no query more.
    splicing = world.east_crew.skills.first()
    for i in range(3):
        crew = make_crew(company=world.company, name=f"Extra {i}")
        crew.skills.add(splicing)
        for _ in range(4):
            site = make_site(region=world.region, latitude=35.70 + i * 0.01, longitude=139.75)
            job = make_job(site=site, status=JobStatus.READY, duration_minutes=60)
            job.required_skills.add(splicing)
    plan.status = "proposed"
    run_optimization(run_id=plan_request_optimization(plan=plan, enqueue=False).pk)
    assert plan.visits.count() == 16
    assert queries() == small
    assert small <= 21  # 20 for the board, 1 for the count of open delivery hand-offs


def test_off_days_and_warnings_are_shown_in_their_cells(world: World, coordinator: Client) -> None:
    plan, _ = optimized(world)
    CrewUnavailability.objects.create(
        crew=world.east_crew,
        start_date=MONDAY + dt.timedelta(days=2),
        end_date=MONDAY + dt.timedelta(days=2),
        reason="健康診断",
    )
    visit = plan.visits.order_by("id").first()
    visit.job.due_date = MONDAY - dt.timedelta(days=1)
    visit.job.save()
    page = coordinator.get(f"/plans/{plan.pk}/").content.decode()
    assert "健康診断" in page
    assert f"{visit.job.reference} is after its due date" in page


def test_the_fragment_returns_fresh_cells_the_version_queue_and_figures(
    world: World, coordinator: Client
) -> None:
    plan, _ = optimized(world)
    visit = plan.visits.order_by("id").first()
    key = f"{visit.crew_id}:{visit.date.isoformat()}"
    html = coordinator.get(f"/plans/{plan.pk}/fragment/?cell={key}&queue=1").content.decode()
    assert f'data-cell="{key}"' in html
    assert f'data-version="{plan.version}"' in html
    assert 'id="queue"' in html and 'id="plan-summary"' in html
    assert coordinator.get(f"/plans/{plan.pk}/fragment/?cell=nonsense").status_code == 200


def test_progress_shows_the_bar_while_running_and_the_comparison_when_done(
    world: World, coordinator: Client
) -> None:
    plan = world.plan()
    queued = plan_request_optimization(plan=plan, enqueue=False)
    html = coordinator.get(f"/runs/{queued.pk}/progress/").content.decode()
    assert "<progress" in html and 'hx-trigger="every 1s"' in html
    OptimizationRun.objects.filter(pk=queued.pk).update(
        status=RunStatus.RUNNING, elapsed_seconds=12, jobs_assigned=3, jobs_total=4
    )
    html = coordinator.get(f"/runs/{queued.pk}/progress/").content.decode()
    assert "12 / 30 s" in html.replace("\n", " ") or "12 / " in html
    assert '<strong data-progress="assigned">3</strong> / 4' in html
    OptimizationRun.objects.filter(pk=queued.pk).update(status=RunStatus.QUEUED)
    run = run_optimization(run_id=queued.pk)
    html = coordinator.get(f"/runs/{run.pk}/progress/").content.decode()
    assert "every 1s" not in html
    assert "Optimization done" in html and "Keep the proposal" in html
    assert "<td>0</td><td>4</td><td>+4</td>" in html  # jobs planned: before, after, change
    run_discard(run=run)
    html = coordinator.get(f"/runs/{run.pk}/progress/").content.decode()
    assert "Keep the proposal" not in html


def test_the_map_draws_a_crew_day_route_and_the_unplanned_jobs(
    world: World, coordinator: Client
) -> None:
    plan, _ = optimized(world)
    visit = plan.visits.order_by("id").first()
    route = json.loads(
        coordinator.get(
            f"/plans/{plan.pk}/map.json?crew={visit.crew_id}&date={visit.date.isoformat()}"
        ).content
    )
    kinds = [f["properties"].get("kind") for f in route["features"]]
    stops = plan.visits.filter(crew_id=visit.crew_id, date=visit.date).count()
    assert kinds.count("visit") == stops and kinds.count("home") == 1 and "route" in kinds
    line = next(f for f in route["features"] if f["geometry"]["type"] == "LineString")
    assert line["geometry"]["coordinates"][0] == line["geometry"]["coordinates"][-1]  # home
    draft = world.plan()
    queue = json.loads(coordinator.get(f"/plans/{draft.pk}/map.json").content)
    assert {f["properties"]["kind"] for f in queue["features"]} == {"unplanned"}
    bad = coordinator.get(f"/plans/{plan.pk}/map.json?crew=1&date=monday")
    assert bad.status_code == 400 and bad.json()["error"]["fields"] == {"date": ["monday"]}


def test_the_job_drawer_has_site_survey_permissions_instructions_and_history(
    world: World, coordinator: Client
) -> None:
    plan, _ = optimized(world)
    job = world.jobs[0]
    job.work_instructions = "MDF室の鍵は管理人室で受け取る"
    job.parking_arrangement = "来客用駐車場 2番"
    job.save()
    html = coordinator.get(f"/jobs/{job.pk}/drawer/?plan={plan.pk}").content.decode()
    assert job.site.name in html and job.site.address in html
    assert "MDF室の鍵は管理人室で受け取る" in html and "来客用駐車場 2番" in html
    assert "Surveyed" in html and "Permissions" in html and "History" in html
    assert 'class="move-form"' in html and "Back to the queue" in html


def test_the_drawer_offers_back_to_the_queue_for_a_pin_only_once_its_job_is_cancelled(
    world: World, coordinator: Client
) -> None:
    plan, _ = optimized(world)
    visit = plan.visits.order_by("job_id").first()
    assert visit is not None
    Visit.objects.filter(pk=visit.pk).update(locked=True)
    url = f"/jobs/{visit.job_id}/drawer/?plan={plan.pk}"
    assert "Back to the queue" not in coordinator.get(url).content.decode()  # unlock first

    job_transition(job=visit.job, to_status=JobStatus.CANCELLED)

    assert "Back to the queue" in coordinator.get(url).content.decode()


def test_coordinators_create_a_plan_from_the_plans_page(world: World, coordinator: Client) -> None:
    response = coordinator.post(
        "/plans/", {"region": world.region.code, "start_date": MONDAY.isoformat(), "days": "5"}
    )
    plan = Plan.objects.latest("id")
    assert response.status_code == 302 and response["Location"] == f"/plans/{plan.pk}/"
    assert (plan.start_date, plan.end_date) == (MONDAY, MONDAY + dt.timedelta(days=4))
    bad = coordinator.post("/plans/", {"start_date": "soon", "days": "5"})
    assert bad.status_code == 400 and "Enter the first day as a date" in bad.content.decode()
    assert Plan.objects.count() == 1


def test_each_role_lands_where_its_work_is(world: World, coordinator: Client) -> None:
    assert coordinator.get("/")["Location"] == "/plans/"
    plan = world.plan()
    plan.end_date = dt.date.today() + dt.timedelta(days=30)
    plan.save()
    assert coordinator.get("/")["Location"] == f"/plans/{plan.pk}/"
    assert client_as(Role.SUPPORT).get("/")["Location"] == "/support/"


def test_the_board_speaks_japanese(world: World, coordinator: Client) -> None:
    plan = world.plan()
    coordinator.cookies["django_language"] = "ja"
    page = coordinator.get(f"/plans/{plan.pk}/").content.decode()
    assert 'lang="ja"' in page
    assert "最適化" in page and "未計画" in page
