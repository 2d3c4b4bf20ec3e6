"""A coordinator plans a week in Chromium, end to end, and a partner sees the result.

log in → open the week → optimize (the progress bar runs to done, a real
worker solves) → keep the proposal → drag a job to another crew-day
(accepted) and one to a crew without the skill (refused with the reason) →
unpin it and pin it again → publish → the partner's routes API shows the
published change.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from dataclasses import dataclass

import pytest

from accounts.models import Role
from accounts.tokens import token_create
from dispatch.models import Crew, Job, OptimizationRun, Plan, PlanStatus, RunStatus, Visit
from dispatch.plans import plan_create
from dispatch.states import JobStatus
from sites.models import Region
from tests.browser.conftest import PASSWORD, login, screenshot
from tests.conftest import wait_until
from tests.factories import make_company, make_crew, make_job, make_site, make_skill, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def _next_monday() -> dt.date:
    today = dt.date.today()
    return today + dt.timedelta(days=7 - today.weekday())


@dataclass
class Week:
    plan: Plan
    east: Crew
    west: Crew
    aerial: Crew
    jobs: list[Job]
    monday: dt.date


@pytest.fixture
def week(transactional_db: None) -> Week:
    """Two splicing crews of one partner, one aerial-only crew of another, six jobs."""
    region = Region.objects.create(code="tokyo-central", name="Tokyo central")
    splicers = make_company(name="光都エンジニアリング株式会社")
    aerial_co = make_company(name="空中架線工業株式会社")
    for company in (splicers, aerial_co):
        company.regions.add(region)
    splicing = make_skill("fibre_splicing")
    aerial_skill = make_skill("aerial_cabling")
    east = make_crew(company=splicers, name="East", home_latitude=35.69, home_longitude=139.80)
    west = make_crew(company=splicers, name="West", home_latitude=35.69, home_longitude=139.70)
    aerial = make_crew(company=aerial_co, name="Aerial", home_latitude=35.69, home_longitude=139.75)
    for crew in (east, west):
        crew.skills.add(splicing)
    aerial.skills.add(aerial_skill)
    jobs = []
    for i, lon in enumerate((139.795, 139.798, 139.792, 139.702, 139.705, 139.708)):
        site = make_site(region=region, latitude=35.692 + i * 0.001, longitude=lon)
        job = make_job(site=site, status=JobStatus.READY, duration_minutes=60)
        job.required_skills.add(splicing)
        jobs.append(job)
    monday = _next_monday()
    plan = plan_create(
        name="Week board test",
        start_date=monday,
        end_date=monday + dt.timedelta(days=4),
        region=region,
        params={"time_limit_seconds": 3},
    )
    make_user(Role.COORDINATOR, username="coord", password=PASSWORD)
    return Week(plan=plan, east=east, west=west, aerial=aerial, jobs=jobs, monday=monday)


def drag(page, source, target) -> None:  # type: ignore[no-untyped-def]
    """Drag with the mouse, in small steps, as SortableJS expects from a person."""
    source.scroll_into_view_if_needed()
    box = source.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 10, box["y"] + 15, steps=5)
    target.scroll_into_view_if_needed()
    goal = target.bounding_box()
    page.mouse.move(goal["x"] + goal["width"] / 2, goal["y"] + goal["height"] - 4, steps=20)
    page.wait_for_timeout(150)
    page.mouse.up()


def route_list(page, crew: Crew, date: dt.date):  # type: ignore[no-untyped-def]
    return page.locator(f'ol.route[data-crew="{crew.pk}"][data-date="{date.isoformat()}"]')


def test_coordinator_plans_a_week_and_the_partner_sees_it(
    week: Week, live_server, page, celery_worker_thread: None
) -> None:  # type: ignore[no-untyped-def]
    login(page, live_server.url, "coord")
    # The coordinator lands on this week's board.
    page.wait_for_url(f"**/plans/{week.plan.pk}/")
    assert page.get_by_role("heading", name="Week board test").is_visible()
    assert page.locator("#queue li.qjob").count() == 6

    # Optimize: the progress bar appears, runs, and the comparison replaces it.
    page.get_by_label("Search time (s)").fill("3")
    page.get_by_role("button", name="Optimize").click()
    page.locator("progress#run-progress").wait_for()
    screenshot(page, "board_progress")
    page.get_by_role("heading", name="Optimization done").wait_for(timeout=60_000)
    run = OptimizationRun.objects.get(plan=week.plan)
    assert run.status == RunStatus.SUCCEEDED
    comparison = page.locator("table.compare")
    assert "6" in comparison.locator("tr", has_text="Jobs planned").inner_text()
    page.get_by_role("button", name="Keep the proposal").click()
    assert wait_until(lambda: OptimizationRun.objects.get(pk=run.pk).decision == "accepted")
    assert page.locator("#queue li.qjob").count() == 0

    # Drag one job to a free West day: accepted, re-timed at once.
    visit = Visit.objects.filter(plan=week.plan).order_by("crew_id", "date", "sequence").first()
    free_day = next(
        week.monday + dt.timedelta(days=d)
        for d in range(5)
        if not Visit.objects.filter(
            plan=week.plan, crew=week.west, date=week.monday + dt.timedelta(days=d)
        ).exists()
    )
    source = page.locator(f'li.visit[data-visit="{visit.pk}"]')
    drag(page, source, route_list(page, week.west, free_day))
    page.locator("#board-status", has_text="Moved").wait_for()
    moved = Visit.objects.get(plan=week.plan, job=visit.job)
    assert (moved.crew_id, moved.date) == (week.west.pk, free_day)
    assert route_list(page, week.west, free_day).locator("li.visit").count() == 1
    west_cell = page.locator(f'[data-cell="{week.west.pk}:{free_day.isoformat()}"]')
    assert west_cell.locator(".bar").get_attribute("data-work") == "1"

    # Drag another to the aerial crew, who lacks the skill: refused with the rule, nothing moves.
    other = Visit.objects.filter(plan=week.plan).exclude(job=visit.job).order_by("crew_id").first()
    before = (other.crew_id, other.date, other.sequence)
    drag(
        page,
        page.locator(f'li.visit[data-visit="{other.pk}"]'),
        route_list(page, week.aerial, week.monday),
    )
    error = page.locator(f'[data-cell="{week.aerial.pk}:{week.monday.isoformat()}"] .cell-error')
    error.wait_for()
    # The skill by its label, never by its code.
    assert "lacks skill(s) Fibre splicing" in error.inner_text()
    assert "fibre_splicing" not in error.inner_text()
    assert "[skill]" not in error.inner_text(), "people read the rule in words, not its code"
    other.refresh_from_db()
    assert (other.crew_id, other.date, other.sequence) == before
    assert route_list(page, week.aerial, week.monday).locator("li").count() == 0

    # Moved by hand, so pinned: Optimize keeps it there. Unpin it, then pin it again.
    assert Visit.objects.get(pk=moved.pk).locked
    pin = page.get_by_role("button", name=f"Unlock {moved.job.reference}", exact=True)
    assert "Optimize keeps it here" in (pin.get_attribute("title") or "")
    pin.click()
    relock = page.get_by_role("button", name=f"Lock {moved.job.reference}", exact=True)
    relock.wait_for()
    assert not Visit.objects.get(pk=moved.pk).locked
    relock.click()
    page.get_by_role("button", name=f"Unlock {moved.job.reference}", exact=True).wait_for()
    assert wait_until(lambda: Visit.objects.get(pk=moved.pk).locked)

    # The map of that crew-day draws the route without any tile server.
    west_cell.get_by_role("button", name="map").click()
    page.locator("#map .leaflet-interactive").first.wait_for()
    screenshot(page, "board_map")
    page.locator("#map-dialog").get_by_role("button", name="Close").click()
    screenshot(page, "board")

    # Publish, after reading what changes for each partner company.
    page.get_by_role("button", name="Publish…").click()
    dialog = page.locator("#publish-dialog")
    dialog.get_by_role("row", name="光都エンジニアリング株式会社").wait_for()
    dialog.get_by_role("button", name="Publish", exact=True).click()
    page.locator("#plan-status", has_text="Published").wait_for()
    assert Plan.objects.get(pk=week.plan.pk).status == PlanStatus.PUBLISHED

    # The partner's routes API shows the change.
    partner = make_user(Role.PARTNER, username="east-west", partner_company=week.east.company)
    _token, key = token_create(user=partner, name="tablet")
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/routes/?date={free_day.isoformat()}",
        headers={"Authorization": f"Bearer {key}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.load(response)
    west_route = next(r for r in body["routes"] if r["crew"]["id"] == week.west.pk)
    assert [stop["job"]["reference"] for stop in west_route["stops"]] == [moved.job.reference]
