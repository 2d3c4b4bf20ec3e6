"""The field loop closes, in Chromium: a visit not finished comes back, is re-planned, goes live.

A crew reports a visit of today not finished through the API (as its app
does, with an Idempotency-Key) → the coordinator finds the job on top of the
week board's queue, flagged as returned from the field → the support desk's
card of the building says so, for when the customer calls → the coordinator
revises the published plan, drags the job onto another crew-day (it stays
pinned there) and publishes → the job is live again, once, and the live
schedule is consistent.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.tokens import token_create
from dispatch.ledger import ledger_problems, live_visits
from dispatch.models import Job, JobReport, Plan, PlanStatus, ReportKind
from dispatch.problem import planning_tz
from dispatch.states import JobStatus
from sites.models import Region
from tests.browser.conftest import PASSWORD, login, screenshot
from tests.browser.test_week_board import drag, route_list
from tests.factories import make_company, make_crew, make_job, make_plan, make_site, make_user
from tests.factories import make_visit as _make_visit

pytestmark = pytest.mark.django_db(transaction=True)

EVERY_DAY = 0b1111111


@pytest.fixture
def field(transactional_db: None) -> dict[str, Any]:
    """A published week around today: East visits job A today and B tomorrow.

    Job C already failed twice on an earlier week (it needs attention).
    """
    region = Region.objects.create(code="tokyo-central", name="Tokyo central")
    company = make_company(name="光都エンジニアリング株式会社")
    company.regions.add(region)
    east = make_crew(company=company, name="East", working_weekdays=EVERY_DAY)
    west = make_crew(company=company, name="West", working_weekdays=EVERY_DAY)
    today = timezone.localdate(timezone=planning_tz())
    plan = make_plan(
        name="This week",
        region=region,
        start_date=today - dt.timedelta(days=1),
        end_date=today + dt.timedelta(days=5),
        status=PlanStatus.PUBLISHED,
        published_at=timezone.now(),
    )
    jobs = {}
    for key, name, day in (("a", "芝浦シーサイドビル", 0), ("b", "丸の内テラス", 1)):
        site = make_site(name=name, region=region)
        job = make_job(site=site, status=JobStatus.SCHEDULED, duration_minutes=60)
        start = dt.datetime.combine(
            today + dt.timedelta(days=day), dt.time(10), tzinfo=planning_tz()
        )
        _make_visit(
            plan=plan, job=job, crew=east, date=start.date(), sequence=1,
            planned_start=start, planned_end=start + dt.timedelta(hours=1),
        )  # fmt: skip
        jobs[key] = job
    jobs["c"] = make_job(
        site=make_site(name="霞が関セントラル", region=region),
        status=JobStatus.READY,
        duration_minutes=60,
        failed_attempts=2,
        returned_from_field_at=timezone.now() - dt.timedelta(days=3),
    )
    JobReport.objects.create(
        job=jobs["c"], crew=west, kind=ReportKind.INCOMPLETE, reason_code="customer_absent",
        reason_text="2回とも不在", occurred_at=timezone.now() - dt.timedelta(days=3),
    )  # fmt: skip
    make_user(Role.COORDINATOR, username="coord", password=PASSWORD)
    make_user(Role.SUPPORT, username="sam", password=PASSWORD)
    crew_app = make_user(Role.PARTNER, username="east-tablet", partner_company=company)
    _token, key = token_create(user=crew_app, name="tablet")
    assert ledger_problems() == []
    return {"plan": plan, "east": east, "west": west, "today": today, "key": key, **jobs}


def report_not_finished(base_url: str, key: str, job: Job) -> dict[str, Any]:
    """What the crew's app sends: a retry-safe "not finished" report."""
    request = urllib.request.Request(
        f"{base_url}/api/v1/jobs/{job.pk}/reports/",
        data=json.dumps(
            {
                "kind": "incomplete",
                "reason_code": "no_access",
                "reason_text": "管理人不在で入館不可",
            }
        ).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Idempotency-Key": "east-2026-a-incomplete",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        return json.load(response)


def test_a_visit_not_finished_comes_back_is_replanned_and_goes_live_again(
    field: dict[str, Any], live_server: Any, page: Any, chromium: Any, settings: Any
) -> None:
    plan, a, b, c = field["plan"], field["a"], field["b"], field["c"]
    west, today = field["west"], field["today"]
    settings.PLANNING_TODAY = today  # the real day: yesterday is the field's record

    # The crew could not get in: its app reports the visit not finished.
    report = report_not_finished(live_server.url, field["key"], a)
    assert report["kind"] == "incomplete"
    a.refresh_from_db()
    assert a.status == JobStatus.READY and a.is_returned_from_field and a.failed_attempts == 1
    assert not live_visits().filter(job=a).exists()

    # The board of the published week: the job is back in the queue, flagged, under C.
    login(page, live_server.url, "coord")
    page.goto(f"{live_server.url}/plans/{plan.pk}/")
    queued = page.locator(f'#queue li.qjob.returned[data-ref="{a.reference}"]')
    queued.wait_for()
    assert "Returned from the field" in queued.inner_text()
    assert "2nd attempt" in queued.inner_text()
    assert "管理人不在で入館不可" in queued.inner_text()
    first = page.locator("#queue li.qjob").first
    assert first.get_attribute("data-ref") == c.reference
    assert first.locator(".flag.attention").is_visible()
    assert "NEEDS ATTENTION" in first.locator(".flag.attention").inner_text().upper()
    assert "2 returned from the field" in page.locator("#queue .count").inner_text()
    # Its visit of today stays on the published plan as history, marked.
    failed = page.locator(f'li.visit.released[data-ref="{a.reference}"]')
    assert "back in the queue" in failed.inner_text()
    screenshot(page, "returned-from-field")

    # Support sees it on the building's card, for when the customer calls.
    desk = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    support = desk.new_page()
    try:
        login(support, live_server.url, "sam")
        support.goto(f"{live_server.url}/support/?site={a.site_id}")
        upcoming = support.get_by_role("region", name="Upcoming visits")
        upcoming.wait_for()
        text = upcoming.inner_text()
        assert a.reference in text and "Returned from the field on" in text
        assert "No access to the building or room" in text and "being re-planned" in text
        assert "No visit planned." not in text
    finally:
        desk.close()

    # Revise the published plan and drag the job onto West, two days on.
    published_url = page.url
    page.get_by_role("button", name="Revise").click()
    page.wait_for_url(lambda url: url != published_url)
    revision = Plan.objects.get(revises=plan)
    assert page.url.endswith(f"/plans/{revision.pk}/")
    page.locator(f'#queue li.qjob.returned[data-ref="{a.reference}"]').wait_for()
    # Yesterday has passed: marked so, and none of its crew-days takes the job.
    yesterday = page.locator(".week-head .day-head").first
    assert "gone" in (yesterday.get_attribute("class") or "")
    assert "passed" in yesterday.inner_text()
    assert (
        route_list(page, west, today - dt.timedelta(days=1)).get_attribute("data-droppable")
        == "false"
    )
    target_day = today + dt.timedelta(days=2)
    target = route_list(page, west, target_day)
    assert target.get_attribute("data-droppable") == "true"
    drag(page, page.locator(f'#queue li.qjob[data-ref="{a.reference}"]'), target)
    page.locator("#board-status", has_text="Planned").wait_for()
    placed = target.locator(f'li.visit[data-ref="{a.reference}"]')
    placed.wait_for()
    # Placed by hand, so pinned: Optimize keeps it there.
    assert "locked" in (placed.get_attribute("class") or "")
    pin = placed.get_by_role("button", name=f"Unlock {a.reference}")
    assert "Optimize keeps it here" in (pin.get_attribute("title") or "")
    assert page.locator(f'#queue li.qjob[data-ref="{a.reference}"]').count() == 0
    screenshot(page, "returned-from-field-replanned")

    # Publish the revision.
    page.get_by_role("button", name="Publish…").click()
    dialog = page.locator("#publish-dialog")
    dialog.get_by_role("button", name="Publish", exact=True).wait_for()
    assert dialog.locator(".conflicts").count() == 0
    dialog.get_by_role("button", name="Publish", exact=True).click()
    page.locator("#plan-status", has_text="Published").wait_for()

    # Live again, exactly once, on its new crew-day; the old week is superseded.
    [live] = live_visits().filter(job=a)
    assert (live.plan_id, live.crew_id, live.date) == (revision.pk, west.pk, target_day)
    assert live_visits().filter(job=b, plan=revision).exists()
    a.refresh_from_db()
    assert a.status == JobStatus.SCHEDULED and not a.is_returned_from_field
    assert Plan.objects.get(pk=plan.pk).status == PlanStatus.SUPERSEDED
    assert ledger_problems() == []
