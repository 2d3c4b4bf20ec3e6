"""Request bodies sent without a Content-Length (``Transfer-Encoding: chunked``).

Django reads exactly ``CONTENT_LENGTH`` bytes of a body and takes a missing length
for 0, so a chunked body reached the views empty and the API answered "this field is
required" to a request that had sent it. gunicorn removes the chunk framing and marks
the stream as ending where the body ends (``wsgi.input_terminated``): this wrapper
reads that stream into memory, up to the largest body the app accepts, and gives
Django the length. A server without that mark cannot say where the body ends, so a
body announced by ``Transfer-Encoding`` there is refused with 411, never read as empty.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# Room for the largest file upload on top of DATA_UPLOAD_MAX_MEMORY_SIZE (which does not
# count files): a spreadsheet import is at most 5 MB plus its multipart framing
# (delivery.imports MAX_FILE_BYTES, api/imports/views.py; tests/reliability/test_chunked_body.py
# keeps the two in step).
FILE_UPLOAD_ALLOWANCE_BYTES = 6 * 1024 * 1024
READ_CHUNK_BYTES = 64 * 1024


def max_body_bytes() -> int:
    """The largest body read without a Content-Length; more is a 413."""
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0) + FILE_UPLOAD_ALLOWANCE_BYTES


def _read_at_most(stream: io.BufferedIOBase, limit: int) -> bytes | None:
    """The whole stream, or None when it is longer than ``limit`` bytes."""
    parts: list[bytes] = []
    size = 0
    while True:
        piece = stream.read(min(READ_CHUNK_BYTES, limit + 1 - size))
        if not piece:
            return b"".join(parts)
        parts.append(piece)
        size += len(piece)
        if size > limit:
            return None


def _error(start_response: StartResponse, status: str, code: str, message: str) -> list[bytes]:
    """The API's one error shape, answered before Django sees the request."""
    from api.errors import error_body  # imported late: the API imports the models

    body = json.dumps(error_body(int(status.split()[0]), code, message)).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


class ChunkedBodyMiddleware:
    """WSGI wrapper: a body without Content-Length is read whole, or refused (411, 413)."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("CONTENT_LENGTH"):
            return self.app(environ, start_response)
        if not environ.get("wsgi.input_terminated"):
            if environ.get("HTTP_TRANSFER_ENCODING"):
                return _error(
                    start_response,
                    "411 Length Required",
                    "length_required",
                    "send the request body with a Content-Length header",
                )
            return self.app(environ, start_response)
        # The server ends the stream where the body ends (gunicorn de-chunks it).
        body = _read_at_most(environ["wsgi.input"], max_body_bytes())
        if body is None:
            return _error(
                start_response,
                "413 Request Entity Too Large",
                "payload_too_large",
                "the request body is too large",
            )
        environ["wsgi.input"] = io.BytesIO(body)
        if body:
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)
