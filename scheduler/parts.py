"""Who searches the independent parts of one search, and the record of how they ran.

A large week is searched region by region (:mod:`scheduler.decompose`); the
regions of a round share no crew-day and no job, so they can be searched at
the same time. Where they run is not the solver's business, so the solver
takes a :class:`PartRunner`:

* :class:`ForkedParts` (the library default): forked child processes of
  this one, as many as the workers asked for. A process that may not have
  children (a task of Celery's prefork pool is a daemon) cannot use it.
* :class:`OneByOne`: here, one after the other.
* the app's runner (``dispatch.parts``): Celery tasks that any worker on any
  machine may take, with the calling process taking its share itself.

Every runner adds to a :class:`PartsLog`, which becomes
``Result.extra.parallel``: how many parts ran, where, how many at once, and
why fewer ran in parallel than asked. Nothing falls back silently.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from scheduler.isolation import can_start_children, map_in_children
from scheduler.ortools_search import RoutingOutcome, SearchTask, solve_routing
from scheduler.params import CancelToken, is_cancelled


def solver_id() -> str:
    """This process (and thread, off the main one), as the log names it: ``host:pid[/thread]``.

    Threads count: a Celery worker of the threads pool searches parts side by
    side in one process (OR-Tools releases the GIL while it searches).
    """
    thread = threading.current_thread()
    suffix = "" if thread is threading.main_thread() else f"/{thread.name}"
    return f"{socket.gethostname()}:{os.getpid()}{suffix}"


@dataclass
class PartRun:
    """One part: who searched it and when (``time.time()``, comparable across machines)."""

    solver: str
    started: float
    finished: float


@dataclass
class PartsLog:
    """How the parts of one search ran, for the run's record.

    ``here`` is the solver id of the calling process; ``notes`` say why a
    part did not run where or when it was meant to (no worker took it in
    time, the broker was down, children cannot be started here).
    """

    runner: str
    workers: int
    here: str = field(default_factory=solver_id)
    parts: list[PartRun] = field(default_factory=list)
    not_run: int = 0
    notes: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, run: PartRun) -> None:
        with self._lock:
            self.parts.append(run)

    def note(self, text: str) -> None:
        with self._lock:
            if text not in self.notes:
                self.notes.append(text)

    def max_concurrent(self) -> int:
        """The most parts that were being searched at the same moment."""
        events = sorted(
            [(p.started, 1) for p in self.parts] + [(p.finished, -1) for p in self.parts],
            key=lambda e: (e[0], e[1]),
        )
        running = best = 0
        for _, step in events:
            running += step
            best = max(best, running)
        return best

    def as_dict(self) -> dict[str, Any]:
        """The record: JSON-ready, stored on the run (``OptimizationRun.summary["parallel"]``)."""
        by_solver: dict[str, int] = {}
        for part in self.parts:
            by_solver[part.solver] = by_solver.get(part.solver, 0) + 1
        return {
            "runner": self.runner,
            "workers": self.workers,
            "parts": len(self.parts),
            "not_run": self.not_run,
            "here": self.here,
            "by_solver": by_solver,
            "elsewhere": sum(n for s, n in by_solver.items() if s != self.here),
            "max_concurrent": self.max_concurrent(),
            "notes": list(self.notes),
        }


class PartRunner(Protocol):
    """Searches independent parts; ``None`` for a part that was not searched (cancel, lost)."""

    log: PartsLog

    def run(
        self, tasks: Sequence[SearchTask], *, cancel: CancelToken | None = None
    ) -> list[RoutingOutcome | None]: ...


def search_logged(task: SearchTask, log: PartsLog, solver: str | None = None) -> RoutingOutcome:
    """Search one part here and log it."""
    started = time.time()
    outcome = solve_routing(task)
    log.add(PartRun(solver or log.here, started, time.time()))
    return outcome


@dataclass
class OneByOne:
    """Parts searched here, one after the other (one worker, or no way to run more)."""

    log: PartsLog = field(default_factory=lambda: PartsLog("here", 1))

    def run(
        self, tasks: Sequence[SearchTask], *, cancel: CancelToken | None = None
    ) -> list[RoutingOutcome | None]:
        outcomes: list[RoutingOutcome | None] = []
        for task in tasks:
            if is_cancelled(cancel):
                outcomes.append(None)
                self.log.not_run += 1
                continue
            outcomes.append(search_logged(task, self.log))
        return outcomes


@dataclass
class ForkedParts:
    """Parts searched in forked children of this process, ``workers`` at a time."""

    workers: int
    log: PartsLog = field(init=False)

    def __post_init__(self) -> None:
        self.log = PartsLog("processes", self.workers)

    def run(
        self, tasks: Sequence[SearchTask], *, cancel: CancelToken | None = None
    ) -> list[RoutingOutcome | None]:
        if len(tasks) <= 1 or self.workers <= 1:
            return OneByOne(self.log).run(tasks, cancel=cancel)
        jobs: list[Callable[[], tuple[RoutingOutcome, PartRun]]] = [
            partial(_timed, task) for task in tasks
        ]
        answers = map_in_children(jobs, self.workers, cancel=cancel)
        outcomes: list[RoutingOutcome | None] = []
        for answer in answers:
            if answer is None:
                self.log.not_run += 1
                outcomes.append(None)
                continue
            outcome, run = answer
            self.log.add(run)
            outcomes.append(outcome)
        return outcomes


def _timed(task: SearchTask) -> tuple[RoutingOutcome, PartRun]:
    started = time.time()
    outcome = solve_routing(task)
    return outcome, PartRun(solver_id(), started, time.time())


def default_runner(workers: int) -> PartRunner:
    """Forked children when more than one worker is asked for and this process may fork."""
    if workers <= 1:
        return OneByOne()
    if not can_start_children():
        runner = OneByOne(PartsLog("here", 1))
        runner.log.note(
            f"{workers} workers asked for, but this process may not start child processes "
            "(a task of Celery's prefork pool): the parts ran here one after the other"
        )
        return runner
    return ForkedParts(workers)
