"""Every way an OSRM server fails is an ``OsrmError`` naming the server and what failed.

No failure may turn into a matrix of zeros or a silent straight line: the
planner would then plan on roads nobody drives.
"""

from __future__ import annotations

import socket

import pytest

from scheduler.model import Location
from scheduler.travel import OsrmError, OsrmTravel
from tests.travel.conftest import CLIENT_TIMEOUT_S, FakeOsrm, expected_leg

TOKYO = Location(35.6812, 139.7671)
SHINJUKU = Location(35.6896, 139.7006)
SHIBUYA = Location(35.6580, 139.7016)
UENO = Location(35.7138, 139.7773)


def client(server: FakeOsrm, **kwargs: object) -> OsrmTravel:
    return OsrmTravel(server.url, timeout_s=CLIENT_TIMEOUT_S, **kwargs)  # type: ignore[arg-type]


def test_the_matrix_holds_the_servers_roads(osrm_server: FakeOsrm) -> None:
    points = [TOKYO, SHINJUKU, SHIBUYA]
    matrix = client(osrm_server).matrix(points)
    for a in points:
        for b in points:
            assert (matrix.distance(a, b), matrix.duration(a, b)) == expected_leg(a, b)
    assert len(osrm_server.requests) == 1


def test_a_table_asks_sources_to_destinations_only(osrm_server: FakeOsrm) -> None:
    metres, seconds = client(osrm_server).table([TOKYO, SHINJUKU, SHIBUYA], [UENO, TOKYO])
    assert metres.shape == seconds.shape == (3, 2)
    for i, a in enumerate([TOKYO, SHINJUKU, SHIBUYA]):
        for j, b in enumerate([UENO, TOKYO]):
            assert (metres[i, j], seconds[i, j]) == expected_leg(a, b)
    (request,) = osrm_server.requests
    assert request["sources"] == [0, 1, 2] and request["dest"] == [3, 4]


def test_a_large_table_is_asked_in_chunks(osrm_server: FakeOsrm) -> None:
    sources = [Location(35.6 + k / 100, 139.7) for k in range(5)]
    destinations = [Location(35.7, 139.7 + k / 100) for k in range(3)]
    metres, _ = client(osrm_server, chunk_size=2).table(sources, destinations)
    assert len(osrm_server.requests) == 3 * 2
    assert all(len(r["sources"]) <= 2 and len(r["dest"]) <= 2 for r in osrm_server.requests)
    assert metres[4, 2] == expected_leg(sources[4], destinations[2])[0]


@pytest.mark.parametrize(
    ("mode", "what"),
    [
        ("http_500", "answered HTTP 500"),
        ("slow", f"got no answer within {CLIENT_TIMEOUT_S:g} s"),
        ("no_table", "answered NoTable No table found"),
        ("null_cells", r"found no road between some locations \(durations has null\)"),
        ("not_json", "answered with something that is not OSRM's JSON"),
    ],
)
def test_each_failure_says_which_server_failed_and_how(
    osrm_server: FakeOsrm, mode: str, what: str
) -> None:
    osrm_server.mode = mode
    with pytest.raises(OsrmError, match=what) as excinfo:
        client(osrm_server).matrix([TOKYO, SHINJUKU])
    assert str(excinfo.value).startswith(f"the routing service at {osrm_server.host} failed")


def test_a_server_that_is_not_there_is_an_osrm_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed: nobody listens there
    with pytest.raises(OsrmError, match=f"127.0.0.1:{port} failed.*could not connect"):
        OsrmTravel(f"http://127.0.0.1:{port}", timeout_s=CLIENT_TIMEOUT_S).matrix([TOKYO, SHINJUKU])
