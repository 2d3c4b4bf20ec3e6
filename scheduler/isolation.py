"""Run one search in a child process, so that it can be stopped at any moment.

Why: OR-Tools' iterated local search (:class:`scheduler.params.Metaheuristic`)
only ends at its own time limit. A stopping monitor cuts the current
iteration short, but the loop starts the next one until the clock runs out
(measured: a monitor that says "stop" after 2 s of a 10-s search, and
``RoutingModel.CancelSearch()``, both still returned after 10 s). A
coordinator's *Cancel* and a ``NoImprovement`` rule could therefore not be
honoured in-process.

So the search runs in a forked child. The child sends each improvement (the
routes and their objective) to the parent through a pipe; the parent reports
progress, checks the stopping rules every :data:`POLL_S`, and kills the child
when one of them fires, keeping the last improvement it received. The same
parent also enforces the deadline, with :data:`GRACE_S` for the child to
finish on its own (OR-Tools checks its time limit only between search steps).

``fork`` rather than ``spawn``: the child inherits the problem and its travel
matrix (tens of MB for thousands of jobs) without pickling, and starts in
milliseconds.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import multiprocessing.process
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TypeVar

from scheduler.params import CancelToken, ProgressCallback, is_cancelled
from scheduler.result import StopReason

POLL_S = 0.05
"""How often the parent checks cancellation and the other stopping rules."""

GRACE_S = 1.0
"""How long past the deadline the child may take to return by itself."""


def can_start_children() -> bool:
    """Whether this process may start child processes.

    A daemonic process may not (``multiprocessing`` refuses with an
    ``AssertionError``), and Celery's default prefork pool runs every task in
    one: there a search that needs a child (a cancellable iterated local
    search, several workers) must be run another way.
    """
    return not multiprocessing.current_process().daemon


@dataclass(frozen=True)
class Improvement:
    """A better plan found by the child: what the parent needs to return it."""

    elapsed_s: float
    objective_milli: int
    assigned: int
    routes: Mapping[tuple[str, int], Sequence[str]]


T = TypeVar("T")

Report = Callable[[Improvement], None]
"""How the search in the child hands an improvement to the parent."""


@dataclass(frozen=True)
class Stopped:
    """The child was stopped (or died) before returning; the last improvement is the answer."""

    reason: StopReason
    last: Improvement | None
    improvements: int
    runtime_s: float


def run_in_child(
    search: Callable[[Report], T],
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    no_improvement_s: float | None = None,
    deadline: float | None = None,
) -> T | Stopped:
    """Run ``search(report)`` in a forked child; return its result or a :class:`Stopped`.

    Parameters
    ----------
    search
        Called in the child with a ``report`` function to call on every
        improvement; its return value must be picklable and is returned here
        when the child finishes by itself.
    progress
        Called in *this* process, as ``progress(elapsed_s, objective_yen,
        assigned)``, for every improvement the child reports.
    cancel, no_improvement_s, deadline
        Stopping rules checked here. ``no_improvement_s`` counts from the
        last improvement received (or from the start, before the first one).
        ``deadline`` is a ``time.monotonic()`` value; the child gets
        :data:`GRACE_S` more before it is killed.

    Returns
    -------
    T | Stopped
        The child's return value, or :class:`Stopped` with the reason
        (``"cancelled"``, ``"no_improvement"``, ``"time_limit"``) and the
        last improvement received.

    Raises
    ------
    RuntimeError
        If the search raised in the child (the child's traceback is in the
        message) or the child died without a word.
    """
    started = time.monotonic()
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(search, sender), daemon=True)
    child.start()
    sender.close()
    last: Improvement | None = None
    improvements = 0
    last_change = started
    try:
        while True:
            if receiver.poll(POLL_S):
                try:
                    kind, payload = receiver.recv()
                except EOFError:
                    raise RuntimeError(
                        f"the search process ended without an answer (exit code {child.exitcode})"
                    ) from None
                if kind == "done":
                    answer: T = payload
                    return answer
                if kind == "error":
                    raise RuntimeError(f"the search failed in its process:\n{payload}")
                last, improvements, last_change = payload, improvements + 1, time.monotonic()
                if progress is not None:
                    progress(time.monotonic() - started, last.objective_milli / 1000, last.assigned)
                continue
            reason = _stop_reason(cancel, no_improvement_s, deadline, last_change)
            if reason is not None:
                return Stopped(reason, last, improvements, time.monotonic() - started)
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()


def _stop_reason(
    cancel: CancelToken | None,
    no_improvement_s: float | None,
    deadline: float | None,
    last_change: float,
) -> StopReason | None:
    now = time.monotonic()
    if is_cancelled(cancel):
        return StopReason.CANCELLED
    if no_improvement_s is not None and now - last_change > no_improvement_s:
        return StopReason.NO_IMPROVEMENT
    if deadline is not None and now > deadline + GRACE_S:
        return StopReason.TIME_LIMIT
    return None


def _child_main(search: Callable[[Report], object], sender: Connection) -> None:
    """The child's whole life: run the search, send improvements and the answer."""
    try:
        answer = search(lambda improvement: sender.send(("improvement", improvement)))
        sender.send(("done", answer))
    except BaseException:  # everything must reach the parent, which re-raises it
        sender.send(("error", traceback.format_exc()))
    finally:
        sender.close()


def map_in_children(
    tasks: Sequence[Callable[[], T]],
    workers: int,
    *,
    cancel: CancelToken | None = None,
) -> list[T | None]:
    """Run each task in its own forked child, at most ``workers`` at a time.

    For independent pieces of one search (the regions of a round,
    :mod:`scheduler.decompose`): each child inherits the problem, so only
    the small answers travel back through pipes.

    Returns
    -------
    list[T | None]
        The answers in the order of ``tasks``; ``None`` for a task that was
        not run or not finished because ``cancel`` was set (running children
        are killed at once).

    Raises
    ------
    RuntimeError
        If a task raised (its traceback is in the message) or its child died.
    """
    context = multiprocessing.get_context("fork")
    answers: list[T | None] = [None] * len(tasks)
    running: dict[Connection, tuple[int, multiprocessing.process.BaseProcess]] = {}
    pending = list(enumerate(tasks))
    try:
        while pending or running:
            while pending and len(running) < max(1, workers) and not is_cancelled(cancel):
                position, task = pending.pop(0)
                receiver, sender = context.Pipe(duplex=False)
                process = context.Process(
                    target=_child_main, args=(_ignore_report(task), sender), daemon=True
                )
                process.start()
                sender.close()
                running[receiver] = (position, process)
            if is_cancelled(cancel):
                break
            for ready in multiprocessing.connection.wait(list(running), timeout=POLL_S):
                assert isinstance(ready, Connection)
                position, finished = running.pop(ready)
                try:
                    kind, payload = ready.recv()
                except EOFError:
                    finished.join()
                    raise RuntimeError(
                        f"a search process ended without an answer (exit code {finished.exitcode})"
                    ) from None
                finally:
                    ready.close()
                    finished.join()
                if kind == "error":
                    raise RuntimeError(f"a search failed in its process:\n{payload}")
                answers[position] = payload
    finally:
        for receiver, (_, left) in running.items():
            if left.is_alive():
                left.kill()
            left.join()
            receiver.close()
    return answers


def _ignore_report(task: Callable[[], T]) -> Callable[[Report], T]:
    return lambda report: task()
