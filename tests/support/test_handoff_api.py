"""Hand-offs in the API: the call log's hand-off filters and state, acknowledge and done.

Sam (support) hands calls off, Alice (coordinator) receives delivery's, Pat
(partner) is turned away; bad filter values are a 400 naming the field.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from support.inbox import handoff_acknowledge, handoff_start
from support.models import Call, HandoffEvent, HandoffTeam
from support.services import call_log
from tests.support.conftest import Desk

API = "/api/v1/support"


def client(user: User | None) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_authenticate(user=user)
    return api


def handed_off(desk: Desk, team: str = HandoffTeam.DELIVERY, **fields: object) -> Call:
    values: dict = {
        "site": desk.shibaura,
        "operator": desk.support,
        "category": "no_connection",
        "description": "MC の LOS 赤点灯",
        "handoff_team": team,
    }
    return call_log(**{**values, **fields})


def ids(response: object) -> list[int]:
    assert response.status_code == 200, response.content  # type: ignore[attr-defined]
    return [row["id"] for row in response.json()["results"]]  # type: ignore[attr-defined]


def test_every_call_carries_its_hand_off_state(desk: Desk) -> None:
    call = handed_off(desk)
    plain = handed_off(desk, team="")
    rows = {row["id"]: row for row in client(desk.support).get(f"{API}/calls/").json()["results"]}
    assert rows[plain.pk]["handoff"] is None
    state = rows[call.pk]["handoff"]
    assert state["team"] == "delivery" and state["status"] == "open"
    assert state["overdue"] is False and state["events"] == []
    assert state["handed_off_by"] == desk.support.pk
    assert state["acknowledge_due_at"].endswith("+09:00")  # Tokyo time, like every date-time


def test_filters_by_team_person_status_and_overdue(desk: Desk) -> None:
    delivery = handed_off(desk)
    network = handed_off(desk, team=HandoffTeam.NETWORK_OPERATIONS, handoff_user=desk.coordinator)
    handed_off(desk, team="")
    late = handed_off(desk, team="")
    handoff_start(call=late, by=desk.support, team=HandoffTeam.DELIVERY, user=None, note="",
                  category="no_connection", at=timezone.now() - dt.timedelta(hours=1))  # fmt: skip
    handoff_acknowledge(call=delivery, by=desk.coordinator)
    api = client(desk.coordinator)
    assert sorted(ids(api.get(f"{API}/calls/", {"handoff_team": "delivery"}))) == [
        delivery.pk,
        late.pk,
    ]
    assert ids(api.get(f"{API}/calls/", {"handoff_user": desk.coordinator.pk})) == [network.pk]
    assert ids(api.get(f"{API}/calls/", {"handoff_status": "acknowledged"})) == [delivery.pk]
    assert sorted(ids(api.get(f"{API}/calls/", {"handoff_status": "open"}))) == sorted(
        [network.pk, late.pk]
    )
    assert ids(api.get(f"{API}/calls/", {"overdue": "true"})) == [late.pk]
    assert ids(api.get(f"{API}/calls/", {"handoff_team": "delivery", "overdue": "false"})) == [
        delivery.pk
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("handoff_team", "marketing"),
        ("handoff_user", "abc"),
        ("handoff_user", "-1"),
        ("handoff_status", "closed"),
        ("overdue", "yes"),
    ],
)
def test_a_bad_filter_value_is_a_400_naming_the_field(desk: Desk, name: str, value: str) -> None:
    response = client(desk.support).get(f"{API}/calls/", {name: value})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and list(error["fields"]) == [name]


def test_acknowledge_then_done_through_the_api(desk: Desk) -> None:
    call = handed_off(desk)
    api = client(desk.coordinator)
    response = api.post(
        f"{API}/calls/{call.pk}/handoff/acknowledge/", {"note": "確認しました"}, format="json"
    )
    assert response.status_code == 201, response.content
    state = response.json()["handoff"]
    assert state["status"] == "acknowledged"
    assert state["events"][0]["by"] == desk.coordinator.pk
    assert state["events"][0]["note"] == "確認しました"
    response = api.post(
        f"{API}/calls/{call.pk}/handoff/done/", {"handoff": state["id"]}, format="json"
    )
    assert response.status_code == 201 and response.json()["handoff"]["status"] == "done"
    # The operator who handed it off reads the status on the call.
    seen = client(desk.support).get(f"{API}/calls/{call.pk}/").json()["handoff"]
    assert [e["status"] for e in seen["events"]] == ["acknowledged", "done"]


@pytest.mark.parametrize(
    ("first", "then", "code"),
    [
        (None, "done", "illegal_transition"),
        ("acknowledge", "acknowledge", "illegal_transition"),
    ],
)
def test_an_illegal_transition_answers_409(
    desk: Desk, first: str | None, then: str, code: str
) -> None:
    call = handed_off(desk)
    api = client(desk.coordinator)
    if first:
        api.post(f"{API}/calls/{call.pk}/handoff/{first}/", {}, format="json")
    count = HandoffEvent.objects.count()
    response = api.post(f"{API}/calls/{call.pk}/handoff/{then}/", {}, format="json")
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == code and "current_status" in error
    assert HandoffEvent.objects.count() == count


def test_a_call_not_handed_off_answers_409_no_handoff(desk: Desk) -> None:
    call = handed_off(desk, team="")
    response = client(desk.support).post(f"{API}/calls/{call.pk}/handoff/acknowledge/", {})
    assert response.status_code == 409 and response.json()["error"]["code"] == "no_handoff"


def test_support_outside_the_team_gets_403_not_a_receiver(desk: Desk) -> None:
    call = handed_off(desk)  # to delivery: coordinators
    response = client(desk.support).post(f"{API}/calls/{call.pk}/handoff/acknowledge/", {})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_a_receiver"


def test_partners_get_403_and_anonymous_401(desk: Desk) -> None:
    call = handed_off(desk)
    for action in ("acknowledge", "done"):
        url = f"{API}/calls/{call.pk}/handoff/{action}/"
        assert client(desk.partner).post(url, {}).status_code == 403
        assert client(None).post(url, {}).status_code == 401
    assert (
        client(desk.partner).get(f"{API}/calls/", {"handoff_team": "delivery"}).status_code == 403
    )
    assert not HandoffEvent.objects.exists()


def test_a_note_too_long_is_a_400(desk: Desk) -> None:
    call = handed_off(desk)
    response = client(desk.coordinator).post(
        f"{API}/calls/{call.pk}/handoff/acknowledge/", {"note": "あ" * 301}, format="json"
    )
    assert response.status_code == 400 and "note" in response.json()["error"]["fields"]
