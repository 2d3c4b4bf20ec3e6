"""A whole support call in the browser: search → open the card → log the call → book a visit.

Sam answers a call from 山田商事: he types the phone number as the caller
reads it, opens the building's card with the keyboard, reads where the media
converter is, logs the call as a fault on the carrier's side and books a
maintenance visit, which the coordinators then find in their queue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Role, User
from dispatch.models import Job, Plan
from dispatch.problem import plan_candidate_jobs
from dispatch.states import JobKind, JobStatus
from sites.models import ConstructionRecord, Region
from support.models import Call
from support.services import calls_purge
from tests.browser.conftest import PASSWORD, login, screenshot
from tests.factories import make_contract, make_customer, make_site


@pytest.fixture
def building(transactional_db: None) -> Iterator[dict[str, Any]]:
    """Sam, a region's plan for next week, and 山田商事's building with its as-built notes."""
    region = Region.objects.create(code="tokyo-central", name="Tokyo central")
    site = make_site(
        name="芝浦シーサイドビル",
        address="東京都港区芝浦三丁目4番1号",
        region=region,
    )
    decoy = make_site(name="芝浦第二ビル", address="東京都港区芝浦3丁目9-9", region=region)
    contract = make_contract(
        customer=make_customer(name="株式会社山田商事", phone="03-1234-5678"),
        contract_id="KN-2024-000123",
    )
    contract.sites.add(site)
    ConstructionRecord.objects.create(
        site=site,
        media_converter_location="3F EPS 内 壁面ラック",
        port="ONU LAN1 → お客様ルーター WAN",
        cable_route="電柱 No.12 → 1F MDF → EPS → 3F 天井裏",
        riser="EPS 内 既設配管 φ22",
        recorded_by_name="港通信 佐々木",
        archived_at=timezone.now(),
    )
    User.objects.create_user(username="sam", password=PASSWORD, role=Role.SUPPORT, first_name="Sam")
    today = timezone.localdate()
    plan = Plan.objects.create(
        name="Next week",
        start_date=today + dt.timedelta(days=1),
        end_date=today + dt.timedelta(days=7),
        region=region,
    )
    yield {"site": site, "decoy": decoy, "plan": plan}
    # Calls are immutable: the database refuses the test runner's flush of them
    # (SQLite), so they leave the only way they may, through a recorded purge.
    calls_purge(reason="browser test teardown")


def test_a_support_call_from_search_to_a_booked_visit(
    page: Any, live_server: Any, building: dict[str, Any]
) -> None:
    login(page, live_server.url, "sam")
    page.goto(f"{live_server.url}/support/")

    # The focus starts in the search box: Sam just types what the caller says.
    assert page.evaluate("document.activeElement.id") == "desk-q"
    page.keyboard.type("０３（１２３４）５６７８")
    first_hit = page.locator("#desk-results [role=option]").first
    first_hit.wait_for()
    assert "芝浦シーサイドビル" in first_hit.inner_text()
    page.keyboard.press("Enter")

    # The card opens with the as-built notes on top.
    title = page.locator("#card-title")
    title.wait_for()
    assert "芝浦シーサイドビル" in title.inner_text()
    assert page.evaluate("document.activeElement.id") == "card-title"
    assert "3F EPS 内 壁面ラック" in page.locator(".asbuilt").inner_text()

    # Log the call.
    page.get_by_label("Caller name").fill("山田 太郎")
    page.get_by_label("Caller phone").fill("03-1234-5678")
    page.get_by_label("Category").select_option("no_connection")
    page.get_by_label("Carrier side of the media converter").check()
    page.get_by_label("What the caller reported, what you checked").fill(
        "MC の LOS ランプが赤点灯。電源再投入でも復旧せず。光ケーブル断の疑い。"
    )
    page.get_by_role("button", name="Save call").click()
    page.locator(".messages").get_by_text("Call logged.").wait_for()
    call = Call.objects.get()
    assert call.fault_isolation == "carrier_side"
    assert call.operator.username == "sam"

    # Book a maintenance visit from it.
    logged = page.locator(f"#call-{call.pk}")
    logged.get_by_text("Book a maintenance visit").click()
    logged.get_by_label("Priority").select_option("5")
    logged.get_by_role("button", name="Book visit").click()
    page.locator(".messages").get_by_text("booked").wait_for()

    job = Job.objects.get(kind=JobKind.MAINTENANCE)
    assert job.status == JobStatus.READY
    assert job.site == building["site"] and job.priority == 5
    assert job.work_instructions.startswith("MC の LOS ランプが赤点灯。")
    assert job in plan_candidate_jobs(building["plan"])  # the coordinators' queue
    assert job.reference in page.locator(f"#call-{call.pk}").inner_text()

    # The desk came back as Sam left it: his query, the card, the call and its visit.
    assert page.locator("#desk-q").input_value() == "０３（１２３４）５６７８"
    screenshot(page, "support_desk")
