"""The week board after publishing: what came back from the field, what other plans hold,
what a coordinator pinned, and why a publication is refused.

Each test reads the rendered HTML as a coordinator would see it; the state
behind it comes from the real services (publish, field reports, revise,
manual edits), so the board shows what the ledger holds.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from dispatch.calendars import closed_reason
from dispatch.editing import visit_move, visit_place
from dispatch.ledger import live_visits
from dispatch.models import Job, Plan, PlanStatus, ReleaseReason, Visit
from dispatch.plans import plan_create, plan_publish, plan_revise
from dispatch.reports import job_report_record
from dispatch.runs import plan_request_optimization, run_optimization
from dispatch.states import JobStatus
from tests.dispatch.conftest import MONDAY, World
from tests.factories import make_job, make_site, make_user, make_visit

pytestmark = pytest.mark.django_db

PINNED_TITLE = "Pinned by hand: Optimize keeps it here; unlock to let the optimizer move it"
NO_ACCESS = "No access to the building or room"
_keys = itertools.count(1)


@pytest.fixture
def coordinator() -> Client:
    client = Client()
    client.force_login(make_user(Role.COORDINATOR))
    return client


def published(world: World) -> Plan:
    """The world's week, optimized and published: every job live."""
    plan = world.plan()
    run_optimization(run_id=plan_request_optimization(plan=plan, enqueue=False).pk)
    plan.refresh_from_db()
    plan_publish(plan=plan)
    plan.refresh_from_db()
    assert live_visits().filter(plan=plan).count() == len(world.jobs)
    return plan


def not_finished(
    job: Job, *, reason: str = "no_access", note: str = "", at: dt.datetime | None = None
) -> Visit:
    """The crew of the job's live visit reports it not finished (through the report service)."""
    visit = live_visits().get(job=job)
    job_report_record(
        job=job,
        visit=visit,
        kind="incomplete",
        reason_code=reason,
        reason_text=note,
        occurred_at=at,
        idempotency_key=f"field-loop-{next(_keys)}",
    )
    visit.refresh_from_db()
    return visit


def queue_of(page: str) -> str:
    return page[page.index('id="queue"') :]


def test_returned_jobs_lead_the_queue_flagged_with_their_attempt(
    world: World, coordinator: Client
) -> None:
    first = published(world)
    once, twice = world.jobs[0], world.jobs[1]
    not_finished(once, note="管理人不在")
    not_finished(twice)
    # Re-planned by hand in a revision, published, and not finished a second time.
    revision = plan_revise(plan=first)
    visit_place(plan=revision, job=twice, crew=world.west_crew, date=MONDAY + dt.timedelta(days=4))
    plan_publish(plan=revision)
    not_finished(twice, reason="customer_absent")
    # A fresh job due earlier than both: it still comes after them.
    fresh = make_job(site=make_site(region=world.region), status=JobStatus.READY, due_date=MONDAY)

    page = coordinator.get(f"/plans/{revision.pk}/").content.decode()
    queue = queue_of(page)
    order = [job.reference for job in (twice, once, fresh)]
    positions = [queue.index(f'data-ref="{ref}"') for ref in order]
    assert positions == sorted(positions), "needs attention, then returned, then the rest"
    assert "3 jobs" in queue and "2 returned from the field" in queue
    twice_item = element(queue, f'data-ref="{twice.reference}"')
    assert twice_item.startswith('<li class="qjob returned attention"')
    assert "Returned from the field" in twice_item
    assert "3rd attempt" in twice_item
    assert 'class="flag attention"' in twice_item and "needs attention" in twice_item
    assert "Customer absent" in twice_item  # the latest of its reports
    once_item = element(queue, f'data-ref="{once.reference}"')
    assert once_item.startswith('<li class="qjob returned"') and "2nd attempt" in once_item
    assert "needs attention" not in once_item
    assert NO_ACCESS in once_item and "管理人不在" in once_item
    assert "Returned from the field" not in element(queue, f'data-ref="{fresh.reference}"')
    # The header counts them as unplanned.
    assert 'data-kpi="jobs_unplanned">3<' in page


def test_the_queue_is_ready_jobs_neither_live_anywhere_nor_in_this_plan(
    world: World, coordinator: Client
) -> None:
    first = published(world)
    failed = world.jobs[0]
    not_finished(failed)
    # A plan for overlapping dates replaces nothing: it plans around what is live.
    other = plan_create(
        name="Later",
        start_date=MONDAY + dt.timedelta(days=2),
        end_date=MONDAY + dt.timedelta(days=8),
        region=world.region,
    )
    assert other.revises_id is None
    queue = queue_of(coordinator.get(f"/plans/{other.pk}/").content.decode())
    assert f'data-ref="{failed.reference}"' in queue
    for job in world.jobs[1:]:  # live in the first plan: not this plan's to take
        assert f'data-ref="{job.reference}"' not in queue
    # The published plan's own queue has the job it lost to the field, and only that.
    queue = queue_of(coordinator.get(f"/plans/{first.pk}/").content.decode())
    assert [j.reference for j in world.jobs if f'data-ref="{j.reference}"' in queue] == [
        failed.reference
    ]


def test_returned_jobs_cost_no_query_per_job(world: World, coordinator: Client) -> None:
    plan = published(world)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert coordinator.get(f"/plans/{plan.pk}/").status_code == 200
        return len(captured)

    not_finished(world.jobs[0])
    one = queries()
    not_finished(world.jobs[1])
    not_finished(world.jobs[2])
    assert queries() == one


def test_crew_days_another_plan_holds_are_hatched_and_take_no_drop(
    world: World, coordinator: Client
) -> None:
    first = published(world)
    later = plan_create(
        name="Longer",
        start_date=MONDAY,
        end_date=MONDAY + dt.timedelta(days=6),
        region=world.region,
    )
    assert later.revises_id is None
    page = coordinator.get(f"/plans/{later.pk}/").content.decode()
    held = {(v.crew_id, v.date) for v in live_visits()}
    for crew_id, date in held:
        cell = _cell(page, crew_id, date)
        assert 'class="cell held' in cell and f'data-held-by="{first.pk}"' in cell
        assert f'On the road for plan <a href="/plans/{first.pk}/">{first.pk}</a>' in cell
        assert 'data-droppable="false"' in cell
    free = next(
        (crew.pk, later.start_date + dt.timedelta(days=d))
        for d in range(5)
        for crew in (world.east_crew, world.west_crew)
        if (crew.pk, later.start_date + dt.timedelta(days=d)) not in held
        and closed_reason(crew, later.start_date + dt.timedelta(days=d)) is None
    )
    cell = _cell(page, *free)
    assert "held" not in cell.split(">", 1)[0] and 'data-droppable="true"' in cell
    # The fragment the page swaps in after an edit draws the same cell the same way.
    crew_id, date = next(iter(held))
    fragment = coordinator.get(
        f"/plans/{later.pk}/fragment/?cell={crew_id}:{date.isoformat()}"
    ).content.decode()
    assert "On the road for plan" in fragment and 'data-droppable="false"' in fragment


def test_crew_days_outside_a_region_plans_share_are_hatched_too(
    world: World, coordinator: Client
) -> None:
    plan = world.plan()
    tuesday = MONDAY + dt.timedelta(days=1)  # Monday is 勤労感謝の日: closed, hatched anyway
    mine = (world.east_crew.pk, tuesday)
    Plan.objects.filter(pk=plan.pk).update(crew_day_scope=[[mine[0], tuesday.isoformat()]])
    page = coordinator.get(f"/plans/{plan.pk}/").content.decode()
    assert 'data-droppable="true"' in _cell(page, *mine)
    other = _cell(page, world.west_crew.pk, tuesday)
    assert 'class="cell held' in other and "Another region&#x27;s plan" in other
    assert 'data-droppable="false"' in other


def test_pinned_visits_show_a_pin_and_say_what_pinning_does(
    world: World, coordinator: Client
) -> None:
    plan = world.plan()
    run_optimization(run_id=plan_request_optimization(plan=plan, enqueue=False).pk)
    plan.refresh_from_db()
    visit = plan.visits.order_by("id").first()
    # A manual move pins the visit where the coordinator put it.
    moved = visit_move(visit=visit, crew=world.west_crew, date=MONDAY + dt.timedelta(days=3))
    assert moved.locked
    ref = moved.job.reference
    page = coordinator.get(f"/plans/{plan.pk}/").content.decode()
    item = element(page, f'data-visit="{moved.pk}"')
    assert item.startswith('<li class="visit locked"')
    assert 'class="pin-icon"' in item and "pinned" in item
    assert f'aria-label="Unlock {ref}"' in item and 'aria-pressed="true"' in item
    assert f'title="{PINNED_TITLE}"' in item
    unpinned = plan.visits.exclude(pk=moved.pk).first()
    assert f'aria-label="Lock {unpinned.job.reference}"' in page
    # On a plan that cannot be edited the pin is a mark, with the same explanation.
    plan_publish(plan=plan)
    page = coordinator.get(f"/plans/{plan.pk}/").content.decode()
    assert f'<span class="lock-mark" title="{PINNED_TITLE}">' in page
    drawer = coordinator.get(f"/jobs/{moved.job_id}/drawer/?plan={plan.pk}").content.decode()
    assert "pinned by hand" in drawer and PINNED_TITLE in drawer


def test_the_publish_preview_lists_conflicts_up_front(world: World, coordinator: Client) -> None:
    first = published(world)
    taken = live_visits().order_by("date", "crew_id").first()
    rival = plan_create(
        name="Rival",
        start_date=MONDAY,
        end_date=MONDAY + dt.timedelta(days=4),
        region=None,  # all regions: not a revision of the region's plan
    )
    Plan.objects.filter(pk=rival.pk).update(status=PlanStatus.PROPOSED)
    # Rows written straight into the plan, as an old draft would hold them.
    elsewhere_job = make_job(site=make_site(region=world.region), status=JobStatus.READY)
    make_visit(plan=rival, job=elsewhere_job, crew=taken.crew, date=taken.date)
    free_day = next(
        MONDAY + dt.timedelta(days=d)
        for d in range(5)
        if not live_visits().filter(crew=world.west_crew, date=MONDAY + dt.timedelta(days=d))
    )
    start = timezone.make_aware(dt.datetime.combine(free_day, dt.time(10)))
    make_visit(
        plan=rival, job=world.jobs[3], crew=world.west_crew, date=free_day,
        planned_start=start, planned_end=start + dt.timedelta(hours=1),
    )  # fmt: skip
    held_by = live_visits().get(job=world.jobs[3])

    html = coordinator.get(f"/plans/{rival.pk}/publish-summary/").content.decode()
    assert html.index('class="conflicts"') < html.index('id="publish-confirm"')
    assert "Another published plan already holds this work" in html
    assert (
        f"{taken.crew.name} on {taken.date.isoformat()} is already on the road for plan {first.pk}"
        in html
    )
    assert (
        f"{world.jobs[3].reference} is already scheduled for {held_by.crew.name} on "
        f"{held_by.date.isoformat()} in plan {first.pk}" in html
    )
    assert f'href="/plans/{first.pk}/"' in html

    # Publishing anyway: 409 with the list the board's script renders in the dialog.
    refused = coordinator.post(
        f"/api/v1/plans/{rival.pk}/publish/", {}, content_type="application/json"
    )
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "schedule_conflict"
    kinds = {(c["kind"], c["crew"], c["date"], c["held_by_plan"]) for c in error["conflicts"]}
    assert ("crew_day", taken.crew.name, taken.date.isoformat(), first.pk) in kinds
    job_row = next(c for c in error["conflicts"] if c["kind"] == "job")
    assert job_row["job"] == world.jobs[3].reference
    page = coordinator.get(f"/plans/{rival.pk}/").content.decode()
    # The script's words are data attributes (no inline script under the CSP).
    assert "data-conflict-job=" in page and "is already scheduled for %(crew)s on %(date)s" in page
    assert "data-conflict-crew-day=" in page and 'class="publish-refused"' not in page
    assert 'class="publish-refused"' in html


def test_a_preview_without_conflicts_shows_none(world: World, coordinator: Client) -> None:
    plan = world.plan()
    html = coordinator.get(f"/plans/{plan.pk}/publish-summary/").content.decode()
    assert 'class="conflicts"' not in html


def test_the_published_board_shows_a_visit_not_finished_as_back_in_the_queue(
    world: World, coordinator: Client
) -> None:
    plan = published(world)
    job = world.jobs[0]
    sent_on = live_visits().get(job=job).date
    at = dt.datetime.combine(sent_on, dt.time(5, 30), tzinfo=dt.UTC)  # 14:30 in Tokyo, that day
    visit = not_finished(job, note="オートロックで入館できず", at=at)
    assert visit.release_reason == ReleaseReason.NOT_FINISHED
    page = coordinator.get(f"/plans/{plan.pk}/").content.decode()
    item = element(page, f'data-visit="{visit.pk}"')
    assert re.match(r'<li class="visit[^"]* released"', item)
    assert f"Not finished ({NO_ACCESS}) — back in the queue" in item
    # The same job is in the queue, flagged.
    assert f'data-ref="{job.reference}"' in queue_of(page)

    drawer = coordinator.get(f"/jobs/{job.pk}/drawer/?plan={plan.pk}").content.decode()
    job.refresh_from_db()
    returned_on = timezone.localdate(job.returned_from_field_at)  # Asia/Tokyo
    assert f"Returned from the field on {returned_on.isoformat()}" in drawer
    assert "2nd attempt" in drawer
    assert f"Not finished ({NO_ACCESS})" in drawer and "back in the queue" in drawer
    failures = drawer[drawer.index("Visits not finished") :]
    failures = failures[: failures.index("</ol>")]
    assert f"{sent_on.isoformat()} 14:30" in failures  # Asia/Tokyo
    assert visit.crew.name in failures and NO_ACCESS in failures
    assert "オートロックで入館できず" in failures
    assert f"visit of {visit.date.isoformat()}" in failures


def test_once_live_again_the_old_visit_says_planned_again(
    world: World, coordinator: Client
) -> None:
    first = published(world)
    job = world.jobs[0]
    visit = not_finished(job)
    revision = plan_revise(plan=first)
    visit_place(plan=revision, job=job, crew=world.west_crew, date=MONDAY + dt.timedelta(days=4))
    plan_publish(plan=revision)
    job.refresh_from_db()
    assert not job.is_returned_from_field
    # The superseded plan's board still tells what became of that visit.
    page = coordinator.get(f"/plans/{first.pk}/").content.decode()
    item = element(page, f'data-visit="{visit.pk}"')
    assert f"Not finished ({NO_ACCESS}) — planned again" in item


def test_the_returned_flags_speak_japanese(world: World, coordinator: Client) -> None:
    plan = published(world)
    not_finished(world.jobs[0])
    coordinator.cookies["django_language"] = "ja"
    page = coordinator.get(f"/plans/{plan.pk}/").content.decode()
    queue = queue_of(page)
    assert "現場から戻った案件" in queue and "2回目の訪問" in queue
    assert "未完了（建物・部屋に入れない）— 未計画リストに戻りました" in page


def _cell(page: str, crew_id: int, date: dt.date) -> str:
    return element(page, f'data-cell="{crew_id}:{date.isoformat()}"', tag="div")


def element(html: str, marker: str, tag: str = "li") -> str:
    """The whole ``<tag …>…</tag>`` element whose start tag holds ``marker``."""
    start = html.rindex(f"<{tag}", 0, html.index(marker))
    depth = 0
    for found in re.finditer(rf"<(/?){tag}\b", html[start:]):
        depth += -1 if found.group(1) else 1
        if depth == 0:
            return html[start : start + found.end() + 1]
    raise AssertionError(f"unclosed <{tag}> at {marker}")
