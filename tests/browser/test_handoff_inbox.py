"""A hand-off in the browser: logged on the desk, received in delivery's inbox, acknowledged.

Sam (support) takes a no-connection call from 山田商事, finds the building by
the phone number, logs the call handed off to the delivery coordinators and
goes on with his next call. Alice (coordinator) opens the hand-off inbox, sees
the call with its target time, and acknowledges it with a note. Back on the
desk, Sam reads on the call that Alice acknowledged it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from accounts.models import Role, User
from sites.models import Region
from support.models import Call, HandoffEvent
from support.services import calls_purge
from tests.browser.conftest import PASSWORD, login, screenshot
from tests.factories import make_contract, make_customer, make_site


@pytest.fixture
def building(transactional_db: None) -> Iterator[dict[str, Any]]:
    region = Region.objects.create(code="tokyo-central", name="Tokyo central")
    site = make_site(name="芝浦シーサイドビル", address="東京都港区芝浦三丁目4番1号", region=region)
    contract = make_contract(
        customer=make_customer(name="株式会社山田商事", phone="03-1234-5678"),
        contract_id="KN-2024-000123",
    )
    contract.sites.add(site)
    User.objects.create_user(username="sam", password=PASSWORD, role=Role.SUPPORT, first_name="Sam")
    User.objects.create_user(
        username="alice", password=PASSWORD, role=Role.COORDINATOR, first_name="Alice"
    )
    yield {"site": site}
    # Calls and hand-offs are immutable: they leave through a recorded purge.
    calls_purge(reason="browser test teardown")


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Username").wait_for()


def test_a_hand_off_reaches_the_delivery_inbox_and_the_operator_sees_it_acknowledged(
    page: Any, live_server: Any, building: dict[str, Any]
) -> None:
    login(page, live_server.url, "sam")
    page.goto(f"{live_server.url}/support/")
    page.keyboard.type("03-1234-5678")
    page.locator("#desk-results [role=option]").first.wait_for()
    page.keyboard.press("Enter")
    page.locator("#card-title").wait_for()

    page.get_by_label("Category").select_option("no_connection")
    page.get_by_label("What the caller reported, what you checked").fill(
        "全端末で通信不可。MC の LOS ランプ赤点灯。回線側の断の疑い。"
    )
    page.get_by_label("Hand off to", exact=True).select_option("delivery")
    page.get_by_label("Hand-off note").fill("至急の訪問手配をお願いします")
    page.get_by_role("button", name="Save call").click()
    page.locator(".messages").get_by_text("Call logged.").wait_for()
    call = Call.objects.get()
    logged = page.locator(f"#call-{call.pk}")
    assert logged.locator("[data-handoff-status]").get_attribute("data-handoff-status") == "open"
    sign_out(page)

    # Alice's inbox is delivery's: the call is there, with its target.
    login(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/support/")
    page.get_by_role("link", name="Hand-off inbox").first.click()
    item = page.locator(f".inbox-item[data-call='{call.pk}']")
    item.wait_for()
    assert "至急の訪問手配をお願いします" in item.inner_text()
    assert "acknowledge by" in item.inner_text()
    screenshot(page, "handoff_inbox")
    item.get_by_placeholder("Note (optional)").fill("本日中に手配します")
    item.get_by_role("button", name="Acknowledge").click()
    page.locator(".messages").get_by_text("acknowledged").wait_for()
    event = HandoffEvent.objects.get()
    assert (event.status, event.by.username, event.note) == (
        "acknowledged",
        "alice",
        "本日中に手配します",
    )
    assert page.locator(f".inbox-item[data-call='{call.pk}'] .handoff-acknowledged").count() == 1
    sign_out(page)

    # Sam, on the desk: the call he handed off says who acknowledged it.
    login(page, live_server.url, "sam")
    page.goto(f"{live_server.url}/support/?site={building['site'].pk}")
    status = page.locator(f"#call-{call.pk} [data-handoff-status]")
    status.wait_for()
    assert status.get_attribute("data-handoff-status") == "acknowledged"
    assert "acknowledged by Alice" in status.inner_text()
