"""Request ids: one per HTTP request, carried into the Celery tasks it queues.

A well-formed incoming ``X-Request-ID`` (from the proxy or the client) is kept,
so one id follows a click through the proxy's log, ours and the worker's;
anything else is replaced, so a client cannot write arbitrary text into logs.
"""

from __future__ import annotations

import re
import uuid
from typing import TypeGuard

import structlog

HEADER = "X-Request-ID"
#: Where the id travels in a Celery message's headers.
TASK_HEADER = "request_id"
#: Letters, digits and ``-._:``, 8 to 128 long: UUIDs, hex ids, nginx's $request_id,
#: AWS's Root=1-... trace ids. Nothing that could break a log line or a header.
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=-]{7,127}")


def well_formed(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _WELL_FORMED.fullmatch(value) is not None


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id bound to this thread or task's logging context, if any."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    return value if isinstance(value, str) else None
