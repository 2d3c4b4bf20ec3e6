"""A request body sent in chunks (no Content-Length) reaches the API whole (issue 18, item 8).

Django reads ``CONTENT_LENGTH`` bytes and takes a missing length for 0, so under
gunicorn a chunked body arrived empty and the API answered "this field is required".
``config.chunked.ChunkedBodyMiddleware`` reads a body the server has terminated and
gives Django its length; a body over the limit is a 413, and one whose end the server
cannot tell is a 411, both in the API's error shape, never an empty body.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from http.cookies import SimpleCookie
from typing import Any

import pytest
from django.test import override_settings

import config.chunked
from api.imports.views import _MULTIPART_OVERHEAD_BYTES
from config.chunked import FILE_UPLOAD_ALLOWANCE_BYTES, ChunkedBodyMiddleware, max_body_bytes
from delivery.imports import MAX_FILE_BYTES
from tests.reliability.gunicorn_server import Server, gunicorn_server

# --- the wrapper alone, with a fake WSGI environ ------------------------------------


class Recorder:
    """A WSGI app that records the body and length Django would read."""

    def __init__(self) -> None:
        self.calls: list[tuple[str | None, bytes]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        length = environ.get("CONTENT_LENGTH")
        body = environ["wsgi.input"].read(int(length)) if length else b""
        self.calls.append((length, body))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]


class Endless(io.RawIOBase):
    """A body that never ends; counts what was read from it."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = 65536 if size is None or size < 0 else size
        self.read_bytes += size
        return b"x" * size


def call(app: Recorder, body: Any = b"", **environ: Any) -> tuple[str, dict[str, str], bytes]:
    """Run the wrapped app; the status line, headers and body it answered."""
    answered: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        answered["status"], answered["headers"] = status, dict(headers)

    stream = body if not isinstance(body, bytes) else io.BytesIO(body)
    chunks = ChunkedBodyMiddleware(app)(  # type: ignore[arg-type]
        {"REQUEST_METHOD": "POST", "wsgi.input": stream, **environ},
        start_response,  # type: ignore[arg-type]
    )
    return answered["status"], answered["headers"], b"".join(chunks)


def test_a_terminated_body_without_length_reaches_the_app_with_its_length() -> None:
    app = Recorder()
    status, _, _ = call(
        app,
        b'{"username": "ann"}',
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input_terminated": True},
    )
    assert status == "200 OK"
    assert app.calls == [("19", b'{"username": "ann"}')]


def test_a_body_with_a_content_length_is_left_to_django() -> None:
    app = Recorder()
    stream = io.BytesIO(b"abcdef")
    call(app, stream, CONTENT_LENGTH="3", **{"wsgi.input_terminated": True})
    assert app.calls == [("3", b"abc")]


def test_a_request_without_a_body_stays_without_a_length() -> None:
    app = Recorder()
    call(app, b"", REQUEST_METHOD="GET", **{"wsgi.input_terminated": True})
    assert app.calls == [(None, b"")]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10)
@pytest.mark.parametrize(("size", "accepted"), [(10, True), (11, False)])
def test_a_body_over_the_limit_is_a_413_in_the_api_shape(
    monkeypatch: pytest.MonkeyPatch, size: int, accepted: bool
) -> None:
    monkeypatch.setattr(config.chunked, "FILE_UPLOAD_ALLOWANCE_BYTES", 0)
    app = Recorder()

    status, headers, body = call(app, b"x" * size, **{"wsgi.input_terminated": True})

    if accepted:
        assert status == "200 OK" and app.calls == [("10", b"x" * 10)]
        return
    assert status.startswith("413 ")
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "error": {
            "status": 413,
            "code": "payload_too_large",
            "message": "the request body is too large",
        }
    }
    assert app.calls == []


def test_an_endless_body_is_read_no_further_than_the_limit() -> None:
    stream = Endless()
    status, _, _ = call(Recorder(), stream, **{"wsgi.input_terminated": True})
    assert status.startswith("413 ")
    assert stream.read_bytes == max_body_bytes() + 1


def test_a_chunked_body_whose_end_the_server_cannot_tell_is_a_411() -> None:
    """Without ``wsgi.input_terminated`` reading on could hang: refuse, never read it empty."""
    app = Recorder()

    status, headers, body = call(app, b'{"a": 1}', HTTP_TRANSFER_ENCODING="chunked")

    assert status == "411 Length Required"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"] == {
        "status": 411,
        "code": "length_required",
        "message": "send the request body with a Content-Length header",
    }
    assert app.calls == []


def test_without_a_body_an_unterminated_request_goes_through() -> None:
    app = Recorder()
    call(app, b"", REQUEST_METHOD="GET")
    assert app.calls == [(None, b"")]


def test_the_limit_leaves_room_for_the_largest_import_file() -> None:
    assert FILE_UPLOAD_ALLOWANCE_BYTES >= MAX_FILE_BYTES + _MULTIPART_OVERHEAD_BYTES


def test_the_project_wsgi_application_is_wrapped() -> None:
    from config.wsgi import application

    assert isinstance(application, ChunkedBodyMiddleware)


# --- through a real gunicorn -----------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with gunicorn_server(tmp_path_factory.mktemp("chunked"), migrate=True) as running:
        yield running


def csrf_token(server: Server) -> str:
    response = server.get("/api/v1/auth/login/")
    response.read()
    cookie = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        cookie.load(header)
    return cookie["csrftoken"].value


def post_chunked(server: Server, path: str, chunks: Iterable[bytes]) -> tuple[int, Any]:
    token = csrf_token(server)
    conn = server.connection()
    conn.putrequest("POST", path)
    conn.putheader("Transfer-Encoding", "chunked")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Cookie", f"csrftoken={token}")
    conn.putheader("X-CSRFToken", token)
    conn.endheaders()
    for chunk in chunks:
        conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    conn.send(b"0\r\n\r\n")
    response = conn.getresponse()
    return response.status, json.loads(response.read())


@pytest.mark.slow
def test_a_chunked_sign_in_is_read_whole_under_gunicorn(server: Server) -> None:
    """Wrong credentials sent in chunks get the credential error, not "field required"."""
    body = json.dumps({"username": "nobody", "password": "wrong"}).encode()

    status, answer = post_chunked(server, "/api/v1/auth/login/", [body[:10], body[10:]])

    assert (status, answer["error"]["code"]) == (401, "bad_credentials"), answer


@pytest.mark.slow
def test_an_empty_chunked_body_is_still_field_required(server: Server) -> None:
    """The control: what an empty body answers, which a whole body must not."""
    status, answer = post_chunked(server, "/api/v1/auth/login/", [])

    assert status == 400
    assert set(answer["error"]["fields"]) == {"username", "password"}


@pytest.mark.slow
def test_a_chunked_body_over_the_limit_is_a_413_under_gunicorn(server: Server) -> None:
    # Exactly one byte too many: gunicorn drains what little follows before closing.
    too_big = max_body_bytes() + 1
    piece = b"x" * 65536
    chunks = [piece] * (too_big // len(piece)) + [b"x" * (too_big % len(piece))]

    status, answer = post_chunked(server, "/api/v1/auth/login/", chunks)

    assert status == 413
    assert answer["error"]["code"] == "payload_too_large"
