"""Structured logs: one JSON object per line, or readable lines for a developer.

Every record, from structlog or from the standard library's ``logging`` (Django,
Celery, our modules' ``logger.warning(...)``), goes through the same
structlog processors, so each line has ``timestamp``, ``level``, ``logger``,
``event`` and ``request_id`` (null outside a request or task) whatever wrote it.

Personal data never belongs in a log line: log ids, not names, phone numbers,
e-mail or postal addresses. :func:`drop_personal_fields` is the safety net for
structured fields with such names; text already formatted into ``event`` is
the caller's responsibility (docs/OPERATIONS.md).
"""

from __future__ import annotations

from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

#: Keys whose values are personal data: dropped from every structured log line.
PERSONAL_FIELDS = frozenset(
    {
        "name",
        "full_name",
        "first_name",
        "last_name",
        "customer_name",
        "email",
        "phone",
        "phone_number",
        "address",
        "username",
    }
)
REDACTED = "[redacted]"


def drop_personal_fields(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """Replace the values of :data:`PERSONAL_FIELDS` keys, so an id-only log stays id-only."""
    for key in PERSONAL_FIELDS.intersection(event):
        event[key] = REDACTED
    return event


def with_request_id(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """Every line carries ``request_id``, null when no request or task is being handled."""
    event.setdefault("request_id", None)
    return event


def _shared_processors() -> list[Processor]:
    """Run on every record, structlog's or the standard library's, before rendering.

    No ``ExtraAdder``: Django passes the request object as an ``extra``, whose
    repr holds the query string, where personal data may be.
    """
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def formatter(*, json_format: bool) -> dict[str, Any]:
    """A ``logging`` formatter config (for LOGGING["formatters"]) rendering through structlog."""
    renderer: Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json_format
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    final: list[Processor] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if json_format:
        # Console rendering prints the traceback itself; JSON needs it as a string field.
        final.append(structlog.processors.format_exc_info)
    final += [drop_personal_fields, with_request_id, renderer]
    return {
        "()": structlog.stdlib.ProcessorFormatter,
        "processors": final,
        "foreign_pre_chain": _shared_processors(),
    }


def logging_config(*, json_format: bool, level: str) -> dict[str, Any]:
    """The ``LOGGING`` setting: one stream handler on the root logger, formatted by structlog."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": formatter(json_format=json_format)},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # runserver's own access line would duplicate observability.request's.
            "django.server": {"level": "WARNING"},
        },
    }


def configure_structlog() -> None:
    """Route ``structlog.get_logger()`` through ``logging``, so one handler writes everything."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
