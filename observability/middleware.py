"""The request-id and access-log middleware."""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse

from .request_ids import HEADER, new_request_id, well_formed

access_log = structlog.get_logger("observability.request")


class RequestIdMiddleware:
    """Bind a request id to every log line of the request; answer it; log one access line.

    Placed near the top of MIDDLEWARE, so the lines logged by every middleware
    and view below it carry the id. The access line has ids only: method, path
    (without the query string, which may hold a searched name), status,
    duration and the signed-in user's id.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(HEADER)
        request_id = incoming if well_formed(incoming) else new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
        # Unbound by unbind_request_id when the response is closed, not on the way
        # out of here: Django logs "Not Found: ..." (django.request) after the
        # middleware returned, and that line should carry the id too.
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response[HEADER] = request_id
        self._log(request, response.status_code, started)
        return response

    @staticmethod
    def _log(request: HttpRequest, status: int, started: float) -> None:
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        log = access_log.error if status >= 500 else access_log.info
        log(
            "request",
            method=request.method,
            path=request.path,
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
            user_id=user_id,
        )


def unbind_request_id(**_: object) -> None:
    """request_finished: the thread's next log lines belong to no request."""
    structlog.contextvars.unbind_contextvars("request_id")
