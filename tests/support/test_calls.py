"""The call log: every call is kept as it was said; corrections are appended, never edited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from support.models import Call, CallAmendment, CallPurge, FaultIsolation
from support.selectors import call_view, calls_filtered, calls_visible_to
from support.services import call_amend, call_log, calls_purge
from tests.factories import make_user
from tests.support.conftest import Desk


def log(desk: Desk, **fields: object) -> Call:
    values: dict = {
        "site": desk.shibaura,
        "operator": desk.support,
        "category": "no_connection",
        "fault_isolation": FaultIsolation.CARRIER_SIDE,
        "description": "MCのLOSランプが赤点灯。再起動しても復旧せず。",
        "caller_name": "山田 太郎",
        "caller_phone": "03-1234-5678",
        "contract": desk.yamada,
    }
    return call_log(**{**values, **fields})


def test_a_logged_call_keeps_who_took_it_when_and_what_was_isolated(desk: Desk) -> None:
    call = log(desk, handoff_team="field_maintenance", follow_up_needed=True,
               follow_up_due=dt.date(2030, 1, 10), follow_up_note="復旧確認の電話")  # fmt: skip
    call.refresh_from_db()
    assert call.operator == desk.support
    assert call.fault_isolation == FaultIsolation.CARRIER_SIDE
    assert call.site == desk.shibaura and call.contract == desk.yamada
    assert abs(call.started_at - timezone.now()) < dt.timedelta(minutes=1)
    assert call.follow_up_due == dt.date(2030, 1, 10)


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"category": "weather"}, "category"),
        ({"fault_isolation": "both"}, "fault_isolation"),
        ({"description": "   "}, "description"),
        ({"handoff_team": "marketing"}, "handoff_team"),
        ({"follow_up_due": dt.date(2030, 1, 1)}, "follow_up_due"),  # without follow_up_needed
        ({"started_at": timezone.now() + dt.timedelta(hours=2)}, "started_at"),
    ],
)
def test_a_call_that_breaks_a_rule_is_refused_naming_the_field(
    desk: Desk, fields: dict, bad_field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        log(desk, **fields)
    assert bad_field in error.value.message_dict


def test_a_contract_of_another_site_is_refused(desk: Desk) -> None:
    with pytest.raises(ValidationError) as error:
        log(desk, contract=desk.sato)
    assert "contract" in error.value.message_dict


def test_the_database_refuses_to_update_a_saved_call(desk: Desk) -> None:
    call = log(desk)
    with pytest.raises(IntegrityError), transaction.atomic():
        Call.objects.filter(pk=call.pk).update(description="書き換え")
    with pytest.raises(IntegrityError), transaction.atomic():
        call.fault_isolation = FaultIsolation.CUSTOMER_SIDE
        call.save()
    call.refresh_from_db()
    assert call.fault_isolation == FaultIsolation.CARRIER_SIDE


def test_the_database_refuses_to_delete_a_saved_call(desk: Desk) -> None:
    call = log(desk)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM support_call WHERE id = %s", [call.pk])
    assert Call.objects.filter(pk=call.pk).exists()


def test_the_database_refuses_to_edit_or_delete_an_amendment(desk: Desk) -> None:
    amendment = call_amend(call=log(desk), author=desk.support, text="折り返し先を訂正")
    with pytest.raises(IntegrityError), transaction.atomic():
        CallAmendment.objects.filter(pk=amendment.pk).update(text="なかったことに")
    with pytest.raises(IntegrityError), transaction.atomic():
        CallAmendment.objects.filter(pk=amendment.pk).delete()


def test_an_amendment_corrects_the_call_as_shown_and_keeps_the_original(desk: Desk) -> None:
    call = log(desk)
    call_amend(
        call=call,
        author=desk.support,
        text="切り分け結果を訂正：お客様ルーターの設定ミスでした",
        corrections={"fault_isolation": "customer_side", "follow_up_needed": True},
    )
    call_amend(
        call=call, author=desk.coordinator, text="追記", corrections={"caller_name": "山田 花子"}
    )
    view = call_view(calls_visible_to(desk.support).get(pk=call.pk))
    assert view.current["fault_isolation"] == FaultIsolation.CUSTOMER_SIDE
    assert view.current["follow_up_needed"] is True
    assert view.current["caller_name"] == "山田 花子"
    assert view.call.fault_isolation == FaultIsolation.CARRIER_SIDE  # as logged
    assert view.amendments[0].text.startswith("切り分け結果")


@pytest.mark.parametrize(
    ("corrections", "bad_field"),
    [
        ({"site": 1}, "corrections.site"),
        ({"operator": 1}, "corrections.operator"),
        ({"fault_isolation": "maybe"}, "corrections.fault_isolation"),
        ({"follow_up_needed": "yes"}, "corrections.follow_up_needed"),
        ({"follow_up_due": "next week"}, "corrections.follow_up_due"),
        ({"follow_up_due": "2030-01-01"}, "corrections.follow_up_due"),  # nothing to follow up
        ({"description": ""}, "corrections.description"),
    ],
)
def test_an_amendment_may_correct_only_what_a_call_may_hold(
    desk: Desk, corrections: dict, bad_field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        call_amend(call=log(desk), author=desk.support, text="訂正", corrections=corrections)
    assert bad_field in error.value.message_dict


def test_an_amendment_must_say_something(desk: Desk) -> None:
    with pytest.raises(ValidationError) as error:
        call_amend(call=log(desk), author=desk.support, text=" ")
    assert "text" in error.value.message_dict


def test_calls_are_found_by_site_and_by_operator(desk: Desk) -> None:
    other_operator = make_user("support", username="sara")
    mine = log(desk)
    theirs = log(desk, site=desk.marunouchi, contract=None, operator=other_operator)
    calls = calls_visible_to(desk.coordinator)
    assert list(calls_filtered(calls, site_id=desk.shibaura.pk)) == [mine]
    assert list(calls_filtered(calls, operator_id=other_operator.pk)) == [theirs]
    assert list(calls_visible_to(desk.partner)) == []


def test_a_purge_is_the_only_way_calls_leave_and_it_leaves_an_audit_row(desk: Desk) -> None:
    call = log(desk)
    call_amend(call=call, author=desk.support, text="追記")
    purge = calls_purge(reason="development reset")
    assert not Call.objects.exists()
    assert purge.calls_deleted == 1 and not purge.active
    assert CallPurge.objects.get(pk=purge.pk).reason == "development reset"
    # The door closes again behind the purge.
    call = log(desk)
    with pytest.raises(IntegrityError), transaction.atomic():
        Call.objects.filter(pk=call.pk).delete()


@pytest.mark.postgres
def test_on_postgresql_the_refusal_comes_from_a_trigger(desk: Desk) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'support_call'::regclass "
            "AND NOT tgisinternal"
        )
        assert [row[0] for row in cursor.fetchall()] == ["support_call_immutable"]
