"""A slot offered during the call: search → offer slots → book → the coordinator sees it.

Sam finds 山田商事's building, logs the no-connection call, opens "Offer
visit slots" (preset to fault isolation, 60 minutes), books the earliest slot
and reads out what to tell the customer. Alice, the coordinator, finds the
booked slot on the week board of the published plan and confirms it onto the
live schedule, where it shows in its crew-day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Role, User
from dispatch.ledger import ledger_problems, live_visits
from dispatch.models import Plan, PlanStatus, SlotBooking, SlotBookingStatus
from sites.models import Region
from support.models import Call
from support.services import calls_purge
from tests.browser.conftest import PASSWORD, login, screenshot
from tests.factories import (
    make_company,
    make_contract,
    make_crew,
    make_customer,
    make_site,
    make_skill,
)


@pytest.fixture
def world(transactional_db: None) -> Iterator[dict[str, Any]]:
    region = Region.objects.create(code="tokyo-central", name="Tokyo central")
    site = make_site(name="芝浦シーサイドビル", address="東京都港区芝浦三丁目4番1号", region=region)
    contract = make_contract(
        customer=make_customer(name="株式会社山田商事", phone="03-1234-5678"),
        contract_id="KN-2024-000123",
    )
    contract.sites.add(site)
    skill = make_skill("fault_diagnosis")
    crew = make_crew(company=make_company(name="東都通信工業"), name="第1班", members=2)
    crew.skills.add(skill)
    User.objects.create_user(username="sam", password=PASSWORD, role=Role.SUPPORT, first_name="Sam")
    User.objects.create_user(
        username="alice", password=PASSWORD, role=Role.COORDINATOR, first_name="Alice"
    )
    today = timezone.localdate()
    plan = Plan.objects.create(
        name="Next week",
        start_date=today + dt.timedelta(days=1),
        end_date=today + dt.timedelta(days=7),
        region=region,
        status=PlanStatus.PUBLISHED,
        published_at=timezone.now(),
    )
    yield {"site": site, "plan": plan, "crew": crew}
    calls_purge(reason="browser test teardown")


def test_offer_slots_book_one_and_the_coordinator_confirms_it(
    page: Any, live_server: Any, world: dict[str, Any]
) -> None:
    login(page, live_server.url, "sam")
    page.goto(f"{live_server.url}/support/")
    page.keyboard.type("03-1234-5678")
    page.locator("#desk-results [role=option]").first.wait_for()
    page.keyboard.press("Enter")
    page.locator("#card-title").wait_for()

    page.get_by_label("Caller name").fill("山田 太郎")
    page.get_by_label("Category").select_option("no_connection")
    page.get_by_label("Carrier side of the media converter").check()
    page.get_by_label("What the caller reported, what you checked").fill(
        "MC の LOS ランプが赤点灯。"
    )
    page.get_by_role("button", name="Save call").click()
    page.locator(".messages").get_by_text("Call logged.").wait_for()
    call = Call.objects.get()

    logged = page.locator(f"#call-{call.pk}")
    logged.get_by_text("Offer visit slots").click()
    assert logged.locator("select.slot-kind").input_value() == "fault_diagnosis"
    logged.get_by_role("button", name="Find the earliest slots").click()
    offers = page.locator(f"#call-{call.pk} .slot-offer")
    offers.first.wait_for()
    assert offers.count() >= 1
    assert "東都通信工業" in offers.first.inner_text()
    screenshot(page, "support_slot_offers")
    offers.first.get_by_role("button", name="Book this slot").click()
    page.locator(".messages").get_by_text("Tell the customer").wait_for()

    held = SlotBooking.objects.get()
    assert held.status == SlotBookingStatus.PENDING
    assert held.window_start.strftime("%H:%M") in page.locator(".messages").inner_text()
    assert "Promised to the customer" in page.locator(f"#call-{call.pk}").inner_text()

    # Alice finds the slot on the week board and confirms it onto the live schedule.
    page.context.clear_cookies()
    login(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/plans/{world['plan'].pk}/")
    booked = page.locator("#booked-slots")
    booked.wait_for()
    assert held.job.reference in booked.inner_text()
    booked.get_by_role("button", name="Confirm onto the live schedule").click()
    page.locator(".messages").get_by_text("is on the live schedule").wait_for()
    visit = live_visits().get(job=held.job)
    assert visit.plan_id == world["plan"].pk and visit.crew_id == world["crew"].pk
    assert held.job.reference in page.locator("main").inner_text()
    assert ledger_problems() == []
