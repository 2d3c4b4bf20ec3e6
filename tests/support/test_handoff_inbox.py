"""The hand-off inbox: a hand-off reaches a team, is acknowledged, then done; nothing is edited.

Sam (support) hands calls off; Alice (coordinator) receives delivery's by her
role; Nao (support) is in network operations; Kei (support) is in no team.
Times are passed in (``now=``), and targets are checked in Asia/Tokyo.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role, User
from support.inbox import (
    HandoffRefused,
    current_handoff_views,
    current_handoffs,
    handoff_acknowledge,
    handoff_done,
    handoff_start,
    handoffs_backfill,
    handoffs_filtered,
    inbox,
    open_handoff_count,
    sla_minutes,
    teams_of,
)
from support.models import (
    Call,
    CallPurge,
    Handoff,
    HandoffEvent,
    HandoffStatus,
    HandoffTeam,
    HandoffTeamMember,
)
from support.services import call_amend, call_log, calls_purge
from tests.factories import make_user
from tests.support.conftest import Desk

TOKYO = ZoneInfo("Asia/Tokyo")


def handed_off(desk: Desk, team: str = HandoffTeam.DELIVERY, **fields: object) -> Call:
    values: dict = {
        "site": desk.shibaura,
        "operator": desk.support,
        "category": "no_connection",
        "description": "MC の LOS 赤点灯。回線側の断の疑い。",
        "handoff_team": team,
        "handoff_note": "明日の訪問枠を確認してください",
    }
    return call_log(**{**values, **fields})


@pytest.fixture
def nao(desk: Desk) -> User:
    nao = make_user(Role.SUPPORT, username="nao", last_name="佐藤", first_name="奈央")
    HandoffTeamMember.objects.create(user=nao, team=HandoffTeam.NETWORK_OPERATIONS)
    return nao


@pytest.fixture
def kei(desk: Desk) -> User:
    return make_user(Role.SUPPORT, username="kei")


# --- lifecycle -------------------------------------------------------------------------


def test_a_call_logged_with_a_hand_off_is_open_in_the_receiving_teams_inbox(desk: Desk) -> None:
    call = handed_off(desk)
    handoff = Handoff.objects.get(call=call)
    assert (handoff.team, handoff.handed_off_by, handoff.category) == (
        HandoffTeam.DELIVERY,
        desk.support,
        "no_connection",
    )
    assert handoff.note == "明日の訪問枠を確認してください"
    [item] = inbox(team=HandoffTeam.DELIVERY)
    assert item.handoff == handoff and item.status == HandoffStatus.OPEN
    assert inbox(team=HandoffTeam.BILLING) == []


def test_a_call_without_a_hand_off_writes_none(desk: Desk) -> None:
    handed_off(desk, team="")
    assert not Handoff.objects.exists()


def test_open_then_acknowledged_then_done_with_who_when_and_notes(desk: Desk) -> None:
    call = handed_off(desk)
    at = timezone.now()
    handoff_acknowledge(call=call, by=desk.coordinator, note="確認します", now=at)
    handoff_done(
        call=call, by=desk.coordinator, note="訪問手配済み", now=at + dt.timedelta(hours=1)
    )
    [view] = current_handoff_views([call.pk]).values()
    assert view.status == HandoffStatus.DONE
    assert [(e.status, e.by, e.note) for e in view.events] == [
        (HandoffStatus.ACKNOWLEDGED, desk.coordinator, "確認します"),
        (HandoffStatus.DONE, desk.coordinator, "訪問手配済み"),
    ]
    assert view.acknowledged.at == at  # type: ignore[union-attr]
    assert view.age == dt.timedelta(hours=1) + (at - view.handoff.created_at)
    assert inbox(team=HandoffTeam.DELIVERY) == []  # done leaves the working inbox
    assert [v.status for v in inbox(team=HandoffTeam.DELIVERY, statuses=["done"])] == ["done"]


@pytest.mark.parametrize(
    ("steps", "refused"),
    [
        ([], "done"),  # done before anyone acknowledged it
        (["acknowledged"], "acknowledged"),  # acknowledged twice
        (["acknowledged", "done"], "done"),  # done twice
        (["acknowledged", "done"], "acknowledged"),  # nothing after done
    ],
)
def test_an_illegal_transition_is_refused_and_writes_nothing(
    desk: Desk, steps: list[str], refused: str
) -> None:
    call = handed_off(desk)
    act = {"acknowledged": handoff_acknowledge, "done": handoff_done}
    for step in steps:
        act[step](call=call, by=desk.coordinator)
    before = HandoffEvent.objects.count()
    with pytest.raises(HandoffRefused) as error:
        act[refused](call=call, by=desk.coordinator)
    assert error.value.code == "illegal_transition" and error.value.status == 409
    assert error.value.details["current_status"] == (steps[-1] if steps else "open")
    assert HandoffEvent.objects.count() == before


def test_a_call_that_was_never_handed_off_has_nothing_to_acknowledge(desk: Desk) -> None:
    call = handed_off(desk, team="")
    with pytest.raises(HandoffRefused) as error:
        handoff_acknowledge(call=call, by=desk.coordinator)
    assert error.value.code == "no_handoff"


def test_the_database_refuses_to_edit_or_delete_hand_offs_and_their_events(desk: Desk) -> None:
    call = handed_off(desk)
    handoff_acknowledge(call=call, by=desk.coordinator)
    with pytest.raises(IntegrityError), transaction.atomic():
        Handoff.objects.filter(call=call).update(team=HandoffTeam.BILLING)
    with pytest.raises(IntegrityError), transaction.atomic():
        HandoffEvent.objects.update(note="書き換え")
    with pytest.raises(IntegrityError), transaction.atomic():
        HandoffEvent.objects.all().delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        Handoff.objects.get(call=call).save()
    assert Handoff.objects.get(call=call).team == HandoffTeam.DELIVERY
    assert HandoffEvent.objects.get().note == ""


def test_a_purge_removes_hand_offs_with_their_calls_and_leaves_its_record(desk: Desk) -> None:
    call = handed_off(desk)
    handoff_acknowledge(call=call, by=desk.coordinator)
    purge = calls_purge(reason="retention")
    assert purge.calls_deleted == 1 and not purge.active
    assert not Handoff.objects.exists() and not HandoffEvent.objects.exists()
    assert CallPurge.objects.filter(active=True).count() == 0


# --- amendments ------------------------------------------------------------------------


def test_an_amendment_that_changes_the_team_starts_a_new_open_hand_off(
    desk: Desk, nao: User
) -> None:
    call = handed_off(desk)
    handoff_acknowledge(call=call, by=desk.coordinator, note="見ます")
    first = Handoff.objects.get(call=call)
    amendment = call_amend(
        call=call,
        author=desk.support,
        text="回線側の障害と判明、ネットワーク運用へ",
        corrections={"handoff_team": HandoffTeam.NETWORK_OPERATIONS},
    )
    current = Handoff.objects.filter(call=call).latest("id")
    assert current.amendment == amendment and current.team == HandoffTeam.NETWORK_OPERATIONS
    assert current.handed_off_by == desk.support and current.created_at == amendment.created_at
    # The old hand-off and its acknowledgement stay as history; the new one is open again.
    assert first.events.get().note == "見ます"
    assert inbox(team=HandoffTeam.DELIVERY) == []
    [item] = inbox(team=HandoffTeam.NETWORK_OPERATIONS)
    assert item.handoff == current and item.status == HandoffStatus.OPEN
    call.refresh_from_db()
    assert call.handoff_team == HandoffTeam.DELIVERY  # the call itself as logged
    # What the delivery team saw is gone: acting on it is refused, naming the current one.
    with pytest.raises(HandoffRefused) as error:
        handoff_done(call=call, by=desk.coordinator, handoff_id=first.pk)
    assert error.value.code == "handoff_superseded"
    assert error.value.details["current_handoff"] == current.pk
    handoff_acknowledge(call=call, by=nao, handoff_id=current.pk)


def test_an_amendment_that_keeps_the_team_does_not_restart_the_hand_off(desk: Desk) -> None:
    call = handed_off(desk)
    call_amend(call=call, author=desk.support, text="補足", corrections={"handoff_note": "至急"})
    call_amend(
        call=call, author=desk.support, text="再掲", corrections={"handoff_team": "delivery"}
    )
    assert Handoff.objects.filter(call=call).count() == 1


def test_an_amendment_that_clears_the_team_withdraws_the_hand_off(desk: Desk) -> None:
    call = handed_off(desk)
    call_amend(call=call, author=desk.support, text="自己解決", corrections={"handoff_team": ""})
    assert Handoff.objects.filter(call=call).count() == 2  # the withdrawal is history too
    assert inbox(team=HandoffTeam.DELIVERY) == []
    assert current_handoff_views([call.pk]) == {}
    with pytest.raises(HandoffRefused) as error:
        handoff_acknowledge(call=call, by=desk.coordinator)
    assert error.value.code == "no_handoff"


# --- who receives, who may act ---------------------------------------------------------


def test_coordinators_receive_delivery_and_members_their_teams(
    desk: Desk, nao: User, kei: User
) -> None:
    assert teams_of(desk.coordinator) == [HandoffTeam.DELIVERY]
    assert teams_of(nao) == [HandoffTeam.NETWORK_OPERATIONS]
    assert teams_of(kei) == []
    HandoffTeamMember.objects.create(user=nao, team=HandoffTeam.BILLING)
    assert teams_of(nao) == [HandoffTeam.NETWORK_OPERATIONS, HandoffTeam.BILLING]


def test_anyone_in_the_team_may_act_so_nothing_waits_for_one_person(desk: Desk, nao: User) -> None:
    colleague = make_user(Role.SUPPORT, username="ren")
    HandoffTeamMember.objects.create(user=colleague, team=HandoffTeam.NETWORK_OPERATIONS)
    call = handed_off(desk, team=HandoffTeam.NETWORK_OPERATIONS)
    handoff_acknowledge(call=call, by=nao)
    handoff_done(call=call, by=colleague)  # Nao is away; Ren finishes it
    assert [e.by for e in HandoffEvent.objects.order_by("id")] == [nao, colleague]


@pytest.mark.parametrize("who", ["kei", "operator", "partner", "other_team_coordinator"])
def test_only_receivers_may_act(desk: Desk, nao: User, kei: User, who: str) -> None:
    call = handed_off(desk, team=HandoffTeam.NETWORK_OPERATIONS)
    user = {
        "kei": kei,
        "operator": desk.support,  # handing off is not keeping it on one's own desk
        "partner": desk.partner,
        "other_team_coordinator": desk.coordinator,
    }[who]
    with pytest.raises(HandoffRefused) as error:
        handoff_acknowledge(call=call, by=user)
    assert (error.value.code, error.value.status) == ("not_a_receiver", 403)
    assert not HandoffEvent.objects.exists()


def test_a_hand_off_to_a_person_is_in_their_own_inbox_and_theirs_to_act_on(
    desk: Desk, kei: User
) -> None:
    call = handed_off(desk, team="", handoff_user=kei)
    [item] = inbox(user_id=kei.pk)
    assert item.handoff.call == call
    handoff_acknowledge(call=call, by=kei)
    assert inbox(user_id=kei.pk)[0].status == HandoffStatus.ACKNOWLEDGED


# --- targets (SLA), in Asia/Tokyo ------------------------------------------------------


def tokyo(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=TOKYO)


def late_night_hand_off(desk: Desk) -> Call:
    """A no-connection call handed off to delivery at 23:50 on 5 December, Tokyo time."""
    call = handed_off(desk, team="")
    handoff_start(
        call=call,
        by=desk.support,
        team=HandoffTeam.DELIVERY,
        user=None,
        note="",
        category="no_connection",
        at=tokyo(2026, 12, 5, 23, 50),
    )
    return call


def test_no_connection_must_be_acknowledged_within_30_minutes_past_midnight_in_tokyo(
    desk: Desk,
) -> None:
    call = late_night_hand_off(desk)
    handoff = Handoff.objects.get(call=call)
    due = timezone.localtime(handoff.acknowledge_due_at)
    assert str(due.tzinfo) == "Asia/Tokyo"
    assert (due.date(), due.time()) == (dt.date(2026, 12, 6), dt.time(0, 20))
    assert timezone.localtime(handoff.done_due_at) == tokyo(2026, 12, 6, 7, 50)  # 8 hours

    def overdue_at(now: dt.datetime) -> bool:
        [view] = inbox(team=HandoffTeam.DELIVERY, now=now)
        sql = handoffs_filtered(current_handoffs(now=now), overdue=True).exists()
        assert view.overdue == sql  # the page's flag and the API's filter agree
        return view.overdue

    assert not overdue_at(tokyo(2026, 12, 6, 0, 19))
    assert not overdue_at(tokyo(2026, 12, 6, 0, 20))
    assert overdue_at(tokyo(2026, 12, 6, 0, 21))
    # Acknowledged late: no longer overdue until the done target passes.
    handoff_acknowledge(call=call, by=desk.coordinator, now=tokyo(2026, 12, 6, 0, 25))
    [view] = inbox(team=HandoffTeam.DELIVERY, now=tokyo(2026, 12, 6, 0, 30))
    assert view.acknowledge_overdue and not view.overdue
    assert view.next_due_at == tokyo(2026, 12, 6, 7, 50)
    assert not overdue_at(tokyo(2026, 12, 6, 7, 50))
    assert overdue_at(tokyo(2026, 12, 6, 7, 51))
    handoff_done(call=call, by=desk.coordinator, now=tokyo(2026, 12, 6, 8, 0))
    [view] = inbox(team=HandoffTeam.DELIVERY, statuses=["done"], now=tokyo(2026, 12, 7, 9, 0))
    assert not view.overdue and view.done_overdue
    assert view.age == dt.timedelta(hours=8, minutes=10)  # stops ageing when done


def test_the_first_item_of_an_inbox_is_the_overdue_one(desk: Desk) -> None:
    late = late_night_hand_off(desk)
    fresh = handed_off(desk, category="slow")
    now = timezone.now()
    assert [v.handoff.call for v in inbox(team=HandoffTeam.DELIVERY, now=now)] == [late, fresh]
    assert [v.handoff.call for v in inbox(team="delivery", overdue=False, now=now)] == [fresh]


def test_targets_come_from_the_settings_per_category(desk: Desk, settings: object) -> None:
    assert sla_minutes("no_connection") == (30, 8 * 60)
    assert sla_minutes("slow") == (4 * 60, 48 * 60)
    settings.SUPPORT_HANDOFF_ACKNOWLEDGE_MINUTES = {"slow": 15}  # type: ignore[attr-defined]
    settings.SUPPORT_HANDOFF_DONE_MINUTES = {"slow": 60}  # type: ignore[attr-defined]
    assert sla_minutes("slow") == (15, 60)
    call = handed_off(desk, category="slow")
    handoff = Handoff.objects.get(call=call)
    assert handoff.acknowledge_due_at is not None
    assert handoff.acknowledge_due_at - handoff.created_at == dt.timedelta(minutes=15)


def test_the_board_count_is_the_open_delivery_hand_offs(desk: Desk, nao: User) -> None:
    acknowledged = handed_off(desk)
    handed_off(desk)
    handed_off(desk, team=HandoffTeam.NETWORK_OPERATIONS)
    handoff_acknowledge(call=acknowledged, by=desk.coordinator)
    assert open_handoff_count(HandoffTeam.DELIVERY) == 1


def test_calls_logged_in_bulk_get_their_hand_offs_backfilled(desk: Desk) -> None:
    Call.objects.bulk_create(
        [
            Call(site=desk.shibaura, operator=desk.support, category="billing",
                 description="請求の問い合わせ", handoff_team=HandoffTeam.BILLING),
            Call(site=desk.shibaura, operator=desk.support, category="slow", description="遅い"),
        ]
    )  # fmt: skip
    assert handoffs_backfill() == 1
    assert handoffs_backfill() == 0
    assert Handoff.objects.get().team == HandoffTeam.BILLING


def test_the_migration_writes_the_hand_offs_of_calls_logged_before_it(desk: Desk) -> None:
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    from support.models import CallAmendment

    migration = importlib.import_module("support.migrations.0005_handoff_inbox")
    [call, plain] = Call.objects.bulk_create(
        [
            Call(site=desk.shibaura, operator=desk.support, category="no_connection",
                 description="不通", handoff_team=HandoffTeam.DELIVERY),
            Call(site=desk.shibaura, operator=desk.support, category="slow", description="遅い"),
        ]
    )  # fmt: skip
    CallAmendment.objects.bulk_create(
        [
            CallAmendment(call=call, author=desk.coordinator, text="運用へ",
                          corrections={"handoff_team": HandoffTeam.NETWORK_OPERATIONS}),
            CallAmendment(call=plain, author=desk.support, text="補足", corrections={}),
        ]
    )  # fmt: skip
    migration.backfill(apps, SimpleNamespace(connection=connection))
    rows = list(Handoff.objects.order_by("id"))
    assert [(h.call, h.team, h.amendment is not None) for h in rows] == [
        (call, HandoffTeam.DELIVERY, False),
        (call, HandoffTeam.NETWORK_OPERATIONS, True),
    ]
    assert rows[1].handed_off_by == desk.coordinator
    [current] = inbox(team=HandoffTeam.NETWORK_OPERATIONS)
    assert current.handoff == rows[1]
