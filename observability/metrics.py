"""The domain's own Prometheus metrics, and the helpers the domain code calls.

Each helper is one line at its call site (``dispatch.runs``, ``dispatch.reports``,
``dispatch.ledger``, ``dispatch.slots``), so the domain code stays about the
domain. Labels take a handful of fixed values (statuses, kinds, rule codes),
never ids or names: every label value is a time series kept forever.

Counters and histograms are per process. With ``PROMETHEUS_MULTIPROC_DIR`` set
(before the process starts) prometheus_client writes them to files in that
folder and :func:`scrape_registry` sums every process's files, so the web's
``/metrics`` also shows what the Celery workers counted on the same machine
(docs/OPERATIONS.md, "Metrics and logs").
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol

from django.conf import settings
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from .queues import queue_depth

logger = logging.getLogger(__name__)

RUNS = Counter(
    "dispatch_optimization_runs",
    "Optimization runs finished by a worker, by final status.",
    ["status"],
)
RUN_DURATION = Histogram(
    "dispatch_optimization_run_duration_seconds",
    "Wall time from a worker claiming a run to its end, by final status.",
    ["status"],
    buckets=(1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, float("inf")),
)
UNASSIGNED = Counter(
    "dispatch_jobs_unassigned",
    "Jobs a successful run left unassigned, by reason (rule); a job with two reasons counts twice.",
    ["rule"],
)
REPORTS = Counter(
    "dispatch_field_reports",
    "Crews' field reports recorded (retries answered from an earlier report not counted).",
    ["kind"],
)
PUBLISH_CONFLICTS = Counter(
    "dispatch_publish_conflicts",
    "Conflicts that refused a publication: a job or crew-day another plan holds.",
    ["kind"],
)
SLOT_OFFER_DURATION = Histogram(
    "dispatch_slot_offer_duration_seconds",
    "Time to compute the visit slots offered during a support call.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, float("inf")),
)
REPRESENTATIONS = Counter(
    "dispatch_cached_representations",
    "Answers served from a cached representation (hit) or built (miss), by kind of answer.",
    ["answer", "outcome"],
)

#: The series the queue-depth gauge reports when the broker cannot be read.
QUEUE_UNREADABLE = -1.0


class FinishedRun(Protocol):
    """What :func:`record_run_finished` reads of an ``OptimizationRun`` (no import of dispatch)."""

    status: str
    started_at: Any
    finished_at: Any

    @property
    def plan(self) -> Any: ...


def record_run_finished(run: FinishedRun) -> None:
    """Count a run a worker took to its end, its duration, and why jobs stayed unassigned."""
    status = str(run.status)
    RUNS.labels(status=status).inc()
    if run.started_at is not None and run.finished_at is not None:
        seconds = (run.finished_at - run.started_at).total_seconds()
        RUN_DURATION.labels(status=status).observe(max(seconds, 0.0))
    if status == "succeeded":
        for rule in unassigned_rules(run.plan.unassigned or []):
            UNASSIGNED.labels(rule=rule).inc()


def unassigned_rules(rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """Each distinct rule of each unassigned job (``Plan.unassigned`` rows)."""
    for row in rows:
        rules = {str(reason.get("rule") or "unknown") for reason in row.get("reasons") or []}
        yield from sorted(rules or {"unknown"})


def record_field_report(kind: str) -> None:
    REPORTS.labels(kind=str(kind)).inc()


def representation_served(name: str, *, hit: bool) -> None:
    REPRESENTATIONS.labels(answer=name, outcome="hit" if hit else "miss").inc()


def record_publish_conflicts(kinds: Iterable[str]) -> None:
    """One increment per conflict (a refused publication may have several)."""
    for kind in kinds:
        PUBLISH_CONFLICTS.labels(kind=str(kind)).inc()


class QueueDepthCollector(Collector):
    """``dispatch_celery_queue_depth``: messages waiting, read from the broker at scrape time.

    Read when Prometheus asks rather than counted as tasks come and go, because
    the number lives in the broker, shared by every process. A broker that does
    not answer gives -1 (and a warning in the log), never a failed scrape: the
    scrape is how one finds out that the broker is down.
    """

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "dispatch_celery_queue_depth",
            "Celery messages waiting in the broker (-1: the broker could not be read).",
            labels=["queue"],
        )
        for queue in getattr(settings, "METRICS_CELERY_QUEUES", ["celery"]):
            try:
                depth = float(queue_depth(settings.CELERY_BROKER_URL, queue))
            except Exception as exc:  # the scrape must survive any broker failure
                logger.warning("queue depth unreadable for %s: %s", queue, type(exc).__name__)
                depth = QUEUE_UNREADABLE
            gauge.add_metric([queue], depth)
        yield gauge

    def describe(self) -> Iterator[Metric]:
        # No collect() at registration time: that would reach the broker on import.
        return iter(())


_QUEUE_COLLECTOR = QueueDepthCollector()


def multiprocess_dir() -> str | None:
    """prometheus_client's folder for per-process metric files, if this process uses one."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def register_scrape_collectors() -> None:
    """Add the queue-depth collector to the global registry (single-process mode only)."""
    if multiprocess_dir():
        return  # added to each scrape's own registry instead (scrape_registry)
    # ValueError: already registered, ready() ran twice in this process (tests).
    with contextlib.suppress(ValueError):
        REGISTRY.register(_QUEUE_COLLECTOR)


def scrape_registry() -> CollectorRegistry:
    """The registry a scrape reads: this process's, or every process's files plus the queues."""
    if not multiprocess_dir():
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    registry.register(_QUEUE_COLLECTOR)
    return registry
