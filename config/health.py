"""Health checks for load balancers and orchestrators (issue 25, docs/OPERATIONS.md).

Two questions, two endpoints:

* liveness (``/api/v1/health/live/``): is this process able to answer at all?
  No dependency is touched, so a database outage never makes Kubernetes
  restart every web pod at once (restarting would not fix the database).
* readiness (``/api/v1/health/ready/``): can this instance do its job now?
  Database, cache, Celery broker, a worker answering a ping and free disk for
  uploads. A failing check answers 503 so the load balancer stops sending
  traffic here until it recovers.

The checks are django-health-check's (database, cache) plus our own for what
it does not cover the way we run it: the broker with a bounded connection
attempt (the filesystem transport included), the worker ping with kombu's
errors reported instead of hanging, and free space where photos are written.
Messages are operator-facing English, kept stable for alert rules.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from celery import Celery
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe
from health_check import Cache, Database, HealthCheck
from health_check.exceptions import ServiceUnavailable
from kombu.exceptions import KombuError

from config.celery import app as celery_app

MEGABYTE = 1024 * 1024


def _broker_timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.CELERY_BROKER_CONNECTION_TIMEOUT)


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection (Redis) or its folders are writable (filesystem).

    Without a broker, optimizations and geocoding cannot be queued: the API
    answers 503 to them, so the instance is not ready.
    """

    app: Celery = dataclasses.field(default=celery_app, repr=False)
    timeout: datetime.timedelta = dataclasses.field(default_factory=_broker_timeout, repr=False)

    def run(self) -> None:
        if self.app.conf.broker_url == "filesystem://":
            self._check_folders()
            return
        try:
            with self.app.connection_for_write() as connection:
                connection.ensure_connection(
                    max_retries=1, interval_start=0, timeout=self.timeout.total_seconds()
                )
        except (KombuError, OSError) as exc:
            raise ServiceUnavailable(
                f"cannot connect to the Celery broker: {type(exc).__name__}"
            ) from exc

    def _check_folders(self) -> None:
        options = self.app.conf.broker_transport_options or {}
        for key in ("data_folder_in", "control_folder"):
            folder = options.get(key)
            if folder and not os.access(folder, os.W_OK):
                raise ServiceUnavailable(f"broker folder {key} is missing or not writable")


def _ping_timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.HEALTH_WORKER_PING_TIMEOUT_SECONDS)


@dataclasses.dataclass
class Worker(HealthCheck):
    """At least one Celery worker answers a control ping within the timeout.

    Queued work (optimizations, geocoding, the periodic sweep) only happens if
    a worker consumes the broker; ``limit=1`` returns on the first answer, so a
    healthy system pays one round-trip, a dead one the timeout.
    """

    app: Celery = dataclasses.field(default=celery_app, repr=False)
    timeout: datetime.timedelta = dataclasses.field(default_factory=_ping_timeout, repr=False)

    def run(self) -> None:
        try:
            replies = self.app.control.ping(timeout=self.timeout.total_seconds(), limit=1)
        except (KombuError, OSError) as exc:
            raise ServiceUnavailable(
                f"cannot ping workers, the broker failed: {type(exc).__name__}"
            ) from exc
        if not any(reply == {"ok": "pong"} for answer in replies for reply in answer.values()):
            raise ServiceUnavailable(
                f"no Celery worker answered a ping within {self.timeout.total_seconds():g} s"
            )


def upload_directory() -> Path | None:
    """Where uploaded photos are written on local disk, or None when they go to S3."""
    photos = settings.STORAGES.get("photos", {})
    options: Any = photos.get("OPTIONS", {})
    if photos.get("BACKEND") != "django.core.files.storage.FileSystemStorage":
        return None
    return Path(options.get("location") or settings.MEDIA_ROOT)


@dataclasses.dataclass
class UploadDiskSpace(HealthCheck):
    """The disk holding uploaded photos has at least ``HEALTH_DISK_MIN_FREE_MB`` free.

    A full disk fails every upload (and SQLite writes, when they share it); better
    to leave rotation before crews meet errors in the field. The folder may not
    exist before the first upload: the nearest existing parent is measured.
    """

    def run(self) -> None:
        directory = upload_directory()
        if directory is None:
            return  # object storage: no local disk to fill
        while not directory.exists() and directory != directory.parent:
            directory = directory.parent
        try:
            usage = shutil.disk_usage(directory)
        except OSError as exc:
            raise ServiceUnavailable(f"cannot measure the upload disk: {exc.strerror}") from exc
        free_mb = usage.free // MEGABYTE
        minimum_mb = settings.HEALTH_DISK_MIN_FREE_MB
        if free_mb < minimum_mb:
            raise ServiceUnavailable(
                f"{free_mb} MB free for uploads, below HEALTH_DISK_MIN_FREE_MB={minimum_mb}"
            )


#: The readiness checks by the name the JSON reports; each a factory, so settings
#: changed at runtime (tests, override_settings) are read when the check runs.
READINESS_CHECKS: dict[str, Callable[[], HealthCheck]] = {
    "database": Database,
    "cache": Cache,
    "broker": Broker,
    "worker": Worker,
    "disk": UploadDiskSpace,
}


async def readiness_report() -> tuple[bool, list[dict[str, str]]]:
    """Run every readiness check concurrently; (all healthy, one entry per check)."""
    names = list(READINESS_CHECKS)
    results = await asyncio.gather(*(READINESS_CHECKS[name]().get_result() for name in names))
    checks = [
        {
            "name": name,
            "status": "ok" if result.error is None else "fail",
            "message": "ok" if result.error is None else str(result.error.message),
        }
        for name, result in zip(names, results, strict=True)
    ]
    return all(check["status"] == "ok" for check in checks), checks


def _json(body: dict[str, Any], status: int) -> JsonResponse:
    response = JsonResponse(body, status=status)
    add_never_cache_headers(response)
    return response


@require_safe  # GET or HEAD: some load balancers probe with HEAD
def liveness(request: HttpRequest) -> JsonResponse:
    """200 while the process serves requests; touches no database, cache or broker."""
    return _json({"status": "ok", "checks": []}, 200)


@require_safe  # GET or HEAD: some load balancers probe with HEAD
async def readiness(request: HttpRequest) -> JsonResponse:
    """200 with every check "ok", or 503 naming the failing checks and why."""
    healthy, checks = await readiness_report()
    return _json(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, 200 if healthy else 503
    )
