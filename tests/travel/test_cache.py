"""Matrices and legs from the routing service are asked for once per process."""

from __future__ import annotations

from typing import Any

import pytest

from dispatch import travel
from scheduler.model import Location
from scheduler.travel import OsrmError
from tests.travel.conftest import FakeOsrm, expected_leg

A, B, C = Location(35.68, 139.76), Location(35.69, 139.70), Location(35.66, 139.70)
HOME_1, HOME_2 = Location(35.70, 139.80), Location(35.64, 139.72)


def test_the_same_locations_are_fetched_once(fake_osrm: FakeOsrm) -> None:
    first = travel.travel_provider().matrix([A, B, C])
    again = travel.travel_provider().matrix([A, B, C])
    assert again is first
    assert len(fake_osrm.requests) == 1
    travel.travel_provider().matrix([A, B])
    assert len(fake_osrm.requests) == 2  # another set of locations is another matrix


def test_a_cached_matrix_cannot_be_changed_by_a_caller(fake_osrm: FakeOsrm) -> None:
    matrix = travel.travel_provider().matrix([A, B])
    with pytest.raises(ValueError, match="read-only"):
        matrix.duration_s[0, 1] = 0


def test_another_server_or_profile_is_another_cache_entry(
    fake_osrm: FakeOsrm, settings: Any
) -> None:
    travel.travel_provider().matrix([A, B])
    settings.TRAVEL_OSRM_PROFILE = "bicycle"
    travel.travel_provider().matrix([A, B])
    assert [r["profile"] for r in fake_osrm.requests] == ["driving", "bicycle"]


def test_a_failure_is_not_cached(fake_osrm: FakeOsrm) -> None:
    fake_osrm.mode = "http_500"
    with pytest.raises(OsrmError):
        travel.travel_provider().matrix([A, B])
    fake_osrm.mode = "ok"
    assert travel.travel_provider().matrix([A, B]).distance(A, B) == expected_leg(A, B)[0]


def test_the_cache_forgets_the_least_recently_used_beyond_its_bytes() -> None:
    lru: travel._ByteLru[str, bytes] = travel._ByteLru(10, len)
    lru.put("a", b"1234")
    lru.put("b", b"1234")
    assert lru.get("a") == b"1234"  # "a" is now the most recently used
    lru.put("c", b"1234")
    assert (lru.get("a"), lru.get("b"), lru.get("c")) == (b"1234", None, b"1234")
    assert lru.total_bytes == 8
    lru.put("huge", b"x" * 11)
    assert lru.get("huge") is None and lru.total_bytes == 8


def test_legs_are_one_request_stops_to_distinct_homes(fake_osrm: FakeOsrm) -> None:
    pairs = [(A, HOME_1), (B, HOME_2), (C, HOME_1), (A, HOME_1)]
    assert travel.legs(pairs) == [expected_leg(a, b) for a, b in pairs]
    (request,) = fake_osrm.requests
    points = request["points"]
    assert [points[i] for i in request["sources"]] == [A, B, C]
    assert [points[i] for i in request["dest"]] == [HOME_1, HOME_2]


def test_legs_already_known_are_not_asked_again(fake_osrm: FakeOsrm) -> None:
    travel.legs([(A, HOME_1), (B, HOME_2)])
    assert travel.legs([(B, HOME_2), (A, HOME_1)]) == [
        expected_leg(B, HOME_2),
        expected_leg(A, HOME_1),
    ]
    assert len(fake_osrm.requests) == 1
    travel.legs([(A, HOME_1), (C, HOME_2)])
    assert len(fake_osrm.requests) == 2
    assert [fake_osrm.requests[1]["points"][i] for i in fake_osrm.requests[1]["sources"]] == [C]


def test_straight_line_legs_ask_no_server(osrm_server: FakeOsrm) -> None:
    ((metres, seconds),) = travel.legs([(A, HOME_1)])
    matrix = travel.PLANNER_STRAIGHT_LINE.matrix([A, HOME_1])
    assert (metres, seconds) == (matrix.distance(A, HOME_1), matrix.duration(A, HOME_1))
    assert osrm_server.requests == []


def test_after_a_failure_legs_fail_at_once_for_a_while(
    fake_osrm: FakeOsrm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hung server costs one page one timeout, not every page of the next half minute."""
    now = [1000.0]
    monkeypatch.setattr(travel, "_clock", lambda: now[0])
    fake_osrm.mode = "slow"
    with pytest.raises(OsrmError, match="got no answer within"):
        travel.legs([(A, HOME_1)])
    now[0] += travel.LEG_RETRY_AFTER_S - 1
    fake_osrm.mode = "ok"
    with pytest.raises(OsrmError, match=r"got no answer within .*asked again after 30 s"):
        travel.legs([(B, HOME_2)])
    assert len(fake_osrm.requests) == 1
    now[0] += 1
    assert travel.legs([(B, HOME_2)]) == [expected_leg(B, HOME_2)]
    assert len(fake_osrm.requests) == 2


def test_the_planner_asks_again_right_after_a_leg_failure(fake_osrm: FakeOsrm) -> None:
    fake_osrm.mode = "http_500"
    with pytest.raises(OsrmError):
        travel.legs([(A, HOME_1)])
    fake_osrm.mode = "ok"
    assert travel.travel_provider().matrix([A, B]).distance(A, B) == expected_leg(A, B)[0]
