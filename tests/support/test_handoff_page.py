"""The hand-off inbox page, the call's status on the card, and the board's count.

Sam (support) hands calls off; Alice (coordinator) receives delivery's on
``/support/inbox/``; Pat (partner) is turned away; the operator who handed
off reads the status on the call's card.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import User
from support.inbox import handoff_acknowledge, handoff_done
from support.models import Call, HandoffEvent, HandoffTeam
from support.services import call_log
from tests.support.conftest import Desk

INBOX = "/support/inbox/"


def browser(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def handed_off(desk: Desk, team: str = HandoffTeam.DELIVERY, **fields: object) -> Call:
    values: dict = {
        "site": desk.shibaura,
        "operator": desk.support,
        "category": "no_connection",
        "description": "MC の LOS 赤点灯",
        "handoff_team": team,
        "handoff_note": "訪問枠の確認をお願いします",
    }
    return call_log(**{**values, **fields})


def test_support_and_coordinators_open_inboxes_partners_may_not(desk: Desk) -> None:
    assert browser(desk.support).get(INBOX).status_code == 200
    assert browser(desk.coordinator).get(INBOX).status_code == 200
    assert browser(desk.partner).get(INBOX).status_code == 403
    anonymous = browser(None).get(INBOX)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")


def test_a_coordinator_lands_on_the_delivery_inbox_with_the_call(desk: Desk) -> None:
    call = handed_off(desk)
    handed_off(desk, team=HandoffTeam.BILLING, description="請求の件")
    page = browser(desk.coordinator).get(INBOX).content.decode()
    assert f'data-call="{call.pk}"' in page
    assert "訪問枠の確認をお願いします" in page and "請求の件" not in page
    assert f"{INBOX}?team=delivery" in page and 'aria-current="page"' in page
    assert "Acknowledge" in page


def test_an_operator_in_no_team_lands_on_their_own_inbox(desk: Desk) -> None:
    handed_off(desk)
    page = browser(desk.support).get(INBOX).content.decode()
    assert "Nothing in this inbox." in page
    page = browser(desk.support).get(INBOX, {"team": "delivery"}).content.decode()
    assert "訪問枠の確認をお願いします" in page
    assert "Only the receiving team" in page and "Acknowledge</button>" not in page


def test_acknowledge_and_done_from_the_page_with_a_note(desk: Desk) -> None:
    call = handed_off(desk)
    alice = browser(desk.coordinator)
    back = f"{INBOX}?team=delivery"
    response = alice.post(f"{INBOX}{call.pk}/acknowledge/", {"note": "午後に確認", "back": back})
    assert response.status_code == 302 and response["Location"] == back
    page = alice.get(back).content.decode()
    assert "Acknowledged" in page and "Mark done" in page and "午後に確認" in page
    assert alice.post(f"{INBOX}{call.pk}/done/", {"back": back}).status_code == 302
    assert [e.status for e in HandoffEvent.objects.order_by("id")] == ["acknowledged", "done"]
    assert "Nothing in this inbox." in alice.get(back).content.decode()
    done = alice.get(INBOX, {"team": "delivery", "status": "done"}).content.decode()
    assert "Done" in done


def test_a_second_acknowledgement_from_the_page_is_a_409_with_the_reason(desk: Desk) -> None:
    call = handed_off(desk)
    handoff_acknowledge(call=call, by=desk.coordinator)
    response = browser(desk.coordinator).post(f"{INBOX}{call.pk}/acknowledge/", {})
    assert response.status_code == 409
    assert "cannot become" in response.content.decode()
    assert HandoffEvent.objects.count() == 1


def test_only_receivers_act_from_the_page_and_partners_never(desk: Desk) -> None:
    call = handed_off(desk)
    assert browser(desk.support).post(f"{INBOX}{call.pk}/acknowledge/", {}).status_code == 403
    assert browser(desk.partner).post(f"{INBOX}{call.pk}/acknowledge/", {}).status_code == 403
    assert not HandoffEvent.objects.exists()


def test_the_back_link_never_leaves_the_inbox(desk: Desk) -> None:
    call = handed_off(desk)
    response = browser(desk.coordinator).post(
        f"{INBOX}{call.pk}/acknowledge/", {"back": "https://evil.example/"}
    )
    assert response["Location"] == INBOX


def test_overdue_items_stand_out_and_come_first(desk: Desk) -> None:
    import datetime as dt

    from django.utils import timezone

    from support.inbox import handoff_start

    late = handed_off(desk, team="")
    handoff_start(call=late, by=desk.support, team="delivery", user=None, note="至急",
                  category="no_connection", at=timezone.now() - dt.timedelta(hours=2))  # fmt: skip
    handed_off(desk, category="slow")
    page = browser(desk.coordinator).get(INBOX).content.decode()
    items = re.findall(
        r'<li class="inbox-item( overdue)?" id="handoff-\d+" data-call="(\d+)"', page
    )
    assert items[0] == (" overdue", str(late.pk)) and items[1][0] == ""
    assert "Overdue" in page
    only = browser(desk.coordinator).get(INBOX, {"team": "delivery", "overdue": "1"})
    assert only.content.decode().count('<li class="inbox-item') == 1


def test_a_bad_filter_is_a_400(desk: Desk) -> None:
    assert browser(desk.support).get(INBOX, {"team": "marketing"}).status_code == 400
    assert browser(desk.support).get(INBOX, {"status": "closed"}).status_code == 400


def test_the_operator_sees_the_hand_off_status_on_the_call(desk: Desk) -> None:
    call = handed_off(desk)
    sam = browser(desk.support)
    card = sam.get("/support/", {"site": desk.shibaura.pk}).content.decode()
    assert 'data-handoff-status="open"' in card and "acknowledge by" in card
    handoff_acknowledge(call=call, by=desk.coordinator)
    card = sam.get("/support/", {"site": desk.shibaura.pk}).content.decode()
    assert 'data-handoff-status="acknowledged"' in card and "acknowledged by alice" in card
    handoff_done(call=call, by=desk.coordinator)
    card = sam.get(f"/support/sites/{desk.shibaura.pk}/").content.decode()
    assert 'data-handoff-status="done"' in card


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_inbox_speaks_english_and_japanese(desk: Desk, language: str) -> None:
    handed_off(desk)
    client = browser(desk.coordinator)
    page = client.get(INBOX, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    expected = {
        "en": ["Hand-off inbox", "Acknowledge", "Open"],
        "ja": ["引き継ぎ受信箱", "確認済みにする", "未対応"],
    }
    for word in expected[language]:
        assert word in page, word


def test_the_nav_and_the_desk_link_to_the_inbox(desk: Desk) -> None:
    page = browser(desk.support).get("/support/").content.decode()
    assert page.count(f'href="{INBOX}"') == 2  # the top bar and the desk


def test_the_coordinators_board_counts_open_delivery_hand_offs_and_links_the_inbox(
    desk: Desk,
) -> None:
    import datetime as dt

    from django.utils import timezone

    from dispatch.models import Plan

    today = timezone.localdate()
    plan = Plan.objects.create(
        name="Next week", start_date=today, end_date=today + dt.timedelta(days=4)
    )
    acknowledged = handed_off(desk)
    handed_off(desk)
    handed_off(desk)
    handed_off(desk, team=HandoffTeam.BILLING)
    handoff_acknowledge(call=acknowledged, by=desk.coordinator)
    page = browser(desk.coordinator).get(f"/plans/{plan.pk}/").content.decode()
    link = re.search(r'<a [^>]*id="board-handoffs" href="([^"]+)">([^<]+)</a>', page)
    assert link is not None
    assert link.group(1) == f"{INBOX}?team=delivery"
    assert link.group(2) == "2 open hand-offs from support"


def test_a_call_handed_off_to_a_person_from_the_desk_lands_in_their_own_inbox(
    desk: Desk,
) -> None:
    from support.models import Handoff

    response = browser(desk.support).post(
        f"/support/sites/{desk.shibaura.pk}/calls/",
        {
            "call-category": "billing",
            "call-fault_isolation": "unknown",
            "call-description": "請求額の問い合わせ。折り返し希望。",
            "call-handoff_user": desk.coordinator.pk,
            "call-handoff_note": "山田様へ折り返しを",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    handoff = Handoff.objects.get()
    assert (handoff.team, handoff.user) == ("", desk.coordinator)
    mine = browser(desk.coordinator).get(INBOX, {"mine": "1"}).content.decode()
    assert "山田様へ折り返しを" in mine and "Acknowledge" in mine
    assert (
        "山田様へ折り返しを" not in browser(desk.support).get(INBOX, {"mine": "1"}).content.decode()
    )
    card = browser(desk.support).get("/support/", {"site": desk.shibaura.pk}).content.decode()
    assert "Handed off to" in card and "alice" in card


def test_team_members_are_managed_in_the_admin(desk: Desk) -> None:
    admin = User.objects.create_superuser("root", "root@example.com", "pw", role="coordinator")
    page = browser(admin).get("/admin/support/handoffteammember/add/")
    assert page.status_code == 200
