"""A fake OSRM ``/table`` server on 127.0.0.1, and the app pointed at it.

The fake answers as OSRM does (``code``, ``distances``, ``durations``,
honouring ``sources`` and ``destinations``) with its own road model: the
Manhattan distance x 1.5, driven at 2 m/s. Both differ from the straight-line
estimate (haversine x 1.3 at 25 km/h), so a number the app shows proves which
model produced it. ``mode`` switches it to each way a real server fails.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from dispatch import travel
from scheduler.model import Location

ROAD_FACTOR = 1.5
SPEED_M_PER_S = 2.0
CLIENT_TIMEOUT_S = 1.0
"""The client's timeout in tests: the "slow" server waits far longer (until released).

Long enough that an "ok" answer arrives within it on a loaded machine: at
0.2 s one did not, in a CI run with three test processes on two cores.
"""

MODES = ("ok", "http_500", "slow", "no_table", "null_cells", "not_json")


def road_m(a: Location, b: Location) -> float:
    """The fake's road metres from ``a`` to ``b``: Manhattan on a local grid, x 1.5."""
    north_m = abs(a.lat - b.lat) * 111_320
    east_m = abs(a.lon - b.lon) * 111_320 * math.cos(math.radians((a.lat + b.lat) / 2))
    return round((north_m + east_m) * ROAD_FACTOR, 1)


def road_s(a: Location, b: Location) -> float:
    return round(road_m(a, b) / SPEED_M_PER_S, 1)


def expected_leg(a: Location, b: Location) -> tuple[int, int]:
    """(metres, seconds) as the app must read the fake's answer: metres rounded, seconds up."""
    return round(road_m(a, b)), math.ceil(road_s(a, b))


@dataclass
class FakeOsrm:
    """The server's state: what it was asked and how it answers."""

    url: str = ""
    mode: str = "ok"
    requests: list[dict[str, Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc


def _handler(fake: FakeOsrm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            _, _table, _v1, profile, coords = parts.path.split("/", 4)
            points = [
                Location(lat=float(lat), lon=float(lon))
                for lon, lat in (pair.split(",") for pair in coords.split(";"))
            ]
            query = parse_qs(parts.query)
            sources = _indices(query, "sources", len(points))
            destinations = _indices(query, "destinations", len(points))
            fake.requests.append(
                {"profile": profile, "points": points, "sources": sources, "dest": destinations}
            )
            if fake.mode == "slow":
                fake.release.wait(timeout=30)  # the client gave up long before
                return self._send(200, b"{}")
            if fake.mode == "http_500":
                return self._send(500, b"<html>Internal Server Error</html>")
            if fake.mode == "not_json":
                return self._send(200, b"<html>a proxy's login page</html>")
            if fake.mode == "no_table":
                refusal = {"code": "NoTable", "message": "No table found"}
                return self._send(400, json.dumps(refusal).encode())
            distances = [[road_m(points[s], points[d]) for d in destinations] for s in sources]
            durations: list[list[float | None]] = [
                [road_s(points[s], points[d]) for d in destinations] for s in sources
            ]
            if fake.mode == "null_cells":
                durations[0][-1] = None  # OSRM's "no route between these two"
            body = {"code": "Ok", "distances": distances, "durations": durations}
            return self._send(200, json.dumps(body).encode())

        def _send(self, status: int, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            """Keep test output quiet."""

    return Handler


def _indices(query: dict[str, list[str]], name: str, count: int) -> list[int]:
    if name not in query or query[name] == ["all"]:
        return list(range(count))
    return [int(i) for i in query[name][0].split(";")]


@pytest.fixture(autouse=True)
def _empty_travel_caches() -> Iterator[None]:
    """Each test starts with nothing cached: a cache hit must be one the test caused."""
    travel.clear_caches()
    yield
    travel.clear_caches()


@pytest.fixture
def osrm_server() -> Iterator[FakeOsrm]:
    """The fake server alone, on a free port (the app's settings untouched)."""
    fake = FakeOsrm()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def fake_osrm(osrm_server: FakeOsrm, settings: Any) -> FakeOsrm:
    """The fake server, and the app configured to drive with it (``TRAVEL_PROVIDER=osrm``)."""
    settings.TRAVEL_PROVIDER = "osrm"
    settings.TRAVEL_OSRM_URL = osrm_server.url
    settings.TRAVEL_OSRM_PROFILE = "driving"
    settings.TRAVEL_OSRM_TIMEOUT_S = CLIENT_TIMEOUT_S
    settings.TRAVEL_OSRM_CHUNK = 100
    return osrm_server


from tests.api.conftest import cast, client_for  # noqa: E402, F401 - the API's cast
from tests.dispatch.conftest import world  # noqa: E402, F401 - the small planning world
from tests.support.conftest import desk  # noqa: E402, F401 - the support desk's sites
