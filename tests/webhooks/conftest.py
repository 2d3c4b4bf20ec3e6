"""A local receiver for webhook tests: a real HTTP server on 127.0.0.1, scripted answers.

Each request is recorded with its headers and body; the answer is the next in
the script (``ok`` once the script is used up). ``slow`` holds the request until
the test releases it, so a client timeout is met by an event, not a sleep.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import override_settings

from tests.api.conftest import Cast, cast, client_for  # noqa: F401 - shared fixtures


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int | None  # None: the handler was still holding it when the client gave up

    @property
    def event_id(self) -> str:
        return self.headers["X-Dispatch-Event-Id"]

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    script: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def delivered(self) -> list[Received]:
        """The requests answered with a 2xx: what the receiver accepted."""
        return [r for r in self.received if r.answered is not None and r.answered < 300]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with state.lock:
                step = state.script.pop(0) if state.script else "ok"
                record = Received(dict(self.headers), body, None)
                state.received.append(record)
            if step == "slow":
                state.release.wait(timeout=30)
                return  # the client is gone: close without an answer
            code = 500 if step == "fail" else 200
            record.answered = code
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/dispatch"
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _webhook_settings() -> Iterator[None]:
    """Local http allowed, a tiny client timeout and no backoff wait between tries."""
    with override_settings(
        WEBHOOK_ALLOW_LOCAL_HTTP=True,
        WEBHOOK_TIMEOUT_S=0.3,
        WEBHOOK_BACKOFF_BASE_S=0,
        WEBHOOK_MAX_ATTEMPTS=4,
    ):
        yield
