"""A tiny Nominatim for tests: a real HTTP server on 127.0.0.1 speaking /search JSON.

geopy's own ``Nominatim`` class is pointed at it, so tests exercise the real
client code path (URL building, headers, HTTP errors, timeouts, JSON parsing)
without any network beyond the loopback interface.

Known places are registered with :meth:`FakeNominatim.add_place`; any other
address gets Nominatim's empty list. A few crafted addresses misbehave on
purpose: :attr:`FakeNominatim.SERVER_ERROR`, :attr:`FakeNominatim.INVALID_JSON`,
:attr:`FakeNominatim.SLOW` and :attr:`FakeNominatim.NO_COORDINATES`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

_PROXY_VARIABLES = (
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it."""

    path: str
    params: dict[str, str]
    headers: dict[str, str]
    received_at: float  # time.monotonic()


@dataclass
class FakeNominatim:
    """The server's behaviour and what it has been asked; start with :meth:`serving`."""

    SERVER_ERROR: ClassVar[str] = "crafted: the server answers HTTP 500"
    INVALID_JSON: ClassVar[str] = "crafted: the server answers an HTML page"
    SLOW: ClassVar[str] = "crafted: the server takes its time"
    NO_COORDINATES: ClassVar[str] = "crafted: the match has no lat/lon"

    slow_seconds: float = 2.0
    places: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    port: int = 0
    _stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def domain(self) -> str:
        """What to put in ``GEOCODER["DOMAIN"]``."""
        return f"127.0.0.1:{self.port}"

    def add_place(
        self, address: str, *, latitude: float, longitude: float, display_name: str
    ) -> None:
        """Make ``address`` resolve to one match, as Nominatim's ``format=json`` lists it."""
        osm_id = 1000 + len(self.places)
        self.places[address] = {
            "place_id": osm_id,
            "licence": "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright",
            "osm_type": "way",
            "osm_id": osm_id,
            "lat": f"{latitude:.7f}",
            "lon": f"{longitude:.7f}",
            "class": "building",
            "type": "yes",
            "place_rank": 30,
            "importance": 0.31,
            "addresstype": "building",
            "name": display_name.split(",")[0],
            "display_name": display_name,
            "boundingbox": [
                f"{latitude - 0.0005:.7f}",
                f"{latitude + 0.0005:.7f}",
                f"{longitude - 0.0005:.7f}",
                f"{longitude + 0.0005:.7f}",
            ],
        }

    def searches(self) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == "/search"]

    def searched_addresses(self) -> list[str]:
        return [request.params.get("q", "") for request in self.searches()]

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, str, bytes]:
        """(HTTP status, content type, body) for one request."""
        if path != "/search":
            return 404, "application/json", b'{"error": "Unknown path"}'
        query = params.get("q", "")
        if query == self.SERVER_ERROR:
            return 500, "text/html", b"<html><body>Internal Server Error</body></html>"
        if query == self.INVALID_JSON:
            return 200, "application/json", b"<html><body>Maintenance</body></html>"
        if query == self.SLOW:
            # Waits on an event rather than sleeping so that stopping the
            # server does not have to wait for the client that gave up.
            self._stopping.wait(self.slow_seconds)
            return 200, "application/json", b"[]"
        if query == self.NO_COORDINATES:
            body = [{"place_id": 1, "display_name": "Somewhere without a point"}]
            return 200, "application/json", json.dumps(body).encode()
        place = self.places.get(query)
        matches = [place] if place is not None else []
        limit = int(params.get("limit", "10"))
        body_bytes = json.dumps(matches[:limit], ensure_ascii=False).encode()
        return 200, "application/json; charset=utf-8", body_bytes

    @classmethod
    @contextmanager
    def serving(cls) -> Iterator[FakeNominatim]:
        """Run a fresh server on an ephemeral loopback port for the duration of a ``with``."""
        fake = cls()
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(fake))
        server.daemon_threads = True
        fake.port = server.server_address[1]
        # A short poll interval makes shutdown() quick (the default waits up to 0.5 s).
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-nominatim",
            daemon=True,
        )
        thread.start()
        try:
            yield fake
        finally:
            fake._stopping.set()
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


def _handler_for(fake: FakeNominatim) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            params = {key: values[-1] for key, values in parse_qs(url.query).items()}
            fake.requests.append(
                RecordedRequest(
                    path=url.path,
                    params=params,
                    headers=dict(self.headers.items()),
                    received_at=time.monotonic(),
                )
            )
            status, content_type, body = fake.answer(url.path, params)
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and hung up: that was the point

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


@pytest.fixture(name="nominatim")
def nominatim_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNominatim]:
    """A running :class:`FakeNominatim`; import this fixture into a test module to use it."""
    # urllib would send even loopback requests through a proxy from the
    # environment; the fake must be reached directly.
    for variable in _PROXY_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    with FakeNominatim.serving() as fake:
        yield fake
