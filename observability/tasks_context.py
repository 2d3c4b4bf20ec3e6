"""Carry the request id from the request that queues a Celery task into the task's logs.

``before_task_publish`` (in the web process) copies the bound request id into
the message's headers; ``task_prerun`` (in the worker) binds it, with the
task's name and id, for every line the task logs, starting with a "task
started" line, so a run's story in the worker begins with the click's id;
``task_postrun`` undoes exactly that, so an eager task run inside a request
gives the request its context back.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog
from celery import signals

from .request_ids import TASK_HEADER, current_request_id, well_formed

task_log = structlog.get_logger("observability.task")
#: contextvars tokens of the tasks running in this thread, by task id.
_bound: dict[str, Any] = {}


def add_request_id_header(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """before_task_publish: the message remembers which request queued it."""
    request_id = current_request_id()
    if headers is not None and request_id and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id


def bind_task_context(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    """task_prerun: the task's log lines carry its request's id (or the caller's, eagerly)."""
    request = getattr(task, "request", None)
    header = getattr(request, TASK_HEADER, None) or (getattr(request, "headers", None) or {}).get(
        TASK_HEADER
    )
    request_id = header if well_formed(header) else current_request_id()
    if task_id is None:
        return
    _bound[task_id] = structlog.contextvars.bind_contextvars(
        request_id=request_id, task=getattr(task, "name", None), task_id=task_id
    )
    task_log.info("task started")


def unbind_task_context(task_id: str | None = None, state: str | None = None, **_: Any) -> None:
    """task_postrun: one line saying how it ended, then back to the context it started in."""
    tokens = _bound.pop(task_id, None) if task_id is not None else None
    if tokens:
        task_log.info("task finished", state=state)
        structlog.contextvars.reset_contextvars(**tokens)


def keep_django_logging(**_: Any) -> None:
    """setup_logging: a receiver stops Celery replacing the root logger's handlers.

    The worker then logs through the LOGGING setting (JSON lines) like the web
    process. Django configures it when the worker sets Django up; a worker
    started before that gets it configured here. The level is ``LOG_LEVEL``
    (the LOGGING setting), not the worker's ``--loglevel``: that option would
    set the root logger's level for the whole process, in-process test
    workers included.
    """
    from django.apps import apps

    if not apps.ready:
        import django

        django.setup()
    logging.getLogger(__name__).debug("worker logging left to Django's LOGGING")


def connect() -> None:
    """Connect the receivers (idempotent: dispatch_uid), from ``config.celery``."""
    signals.before_task_publish.connect(add_request_id_header, dispatch_uid="obs-request-id")
    signals.task_prerun.connect(bind_task_context, dispatch_uid="obs-task-bind")
    signals.task_postrun.connect(unbind_task_context, dispatch_uid="obs-task-unbind")
    signals.setup_logging.connect(keep_django_logging, dispatch_uid="obs-logging")
