"""The planner's parts on every Celery worker: a large week's regions searched side by side.

Why not child processes: the README's production worker is Celery's prefork
pool, whose tasks are daemons and may not fork (``multiprocessing`` refuses),
so the planner used one process however many workers were configured.
Celery tasks instead reach every worker process on every machine.

How one batch of parts (the regions of a round, :mod:`scheduler.decompose`)
runs, :class:`CeleryParts`:

1. one :class:`~dispatch.models.SearchPart` row per part (state *queued*),
   then one ``dispatch.search_part`` task per part, carrying the part's
   problem with only its own rows of the travel matrix (signed, see
   :func:`encode_part`);
2. the planner does not wait idle: it claims queued parts itself, in order,
   and searches them; a worker that receives a part claims it the same way.
   The claim is one conditional ``UPDATE`` (*queued* -> *running*), so each
   part is searched exactly once, and a batch finishes even when every
   other worker is busy (no deadlock on a single worker);
3. the planner then waits for the parts others took, until the batch's
   deadline plus :data:`GRACE_S`; a part not back by then (its worker died)
   is given up and its region keeps its routes. The log says so.

Everything that did not run in parallel, and why, is in the run's record
(``OptimizationRun.summary["parallel"]``, :class:`scheduler.parts.PartsLog`).
"""

from __future__ import annotations

import base64
import pickle
import time
import traceback
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from django.core import signing

from scheduler.ortools_search import RoutingOutcome, SearchTask, solve_routing
from scheduler.params import CancelToken, is_cancelled
from scheduler.parts import PartRun, PartsLog, solver_id
from scheduler.result import StopReason
from scheduler.travel import TravelMatrix

from .models import SearchPart, SearchPartState

SALT = "dispatch.search_part"
"""Signing salt of part payloads: a message someone else put on the broker is refused."""

POLL_S = 0.02
"""How often the planner looks for parts other workers finished."""

GRACE_S = 5.0
"""How long past a batch's deadline the planner waits for a part another worker took."""


def encode_part(task: SearchTask) -> str:
    """A part as a signed text: pickled, compressed, with only its own travel rows.

    Pickle, because a part holds the planner's own dataclasses and NumPy
    matrices; signed with ``SECRET_KEY`` (:mod:`django.core.signing`),
    because unpickling runs code, so a worker only unpickles what a planner
    of the same installation wrote. The deadline travels as Unix time, the
    one clock two machines share (``time.monotonic`` is per machine).
    """
    locations = task.problem.locations()
    rows = np.array([task.travel.index(loc) for loc in locations], dtype=np.int64)
    travel = TravelMatrix(
        locations=tuple(locations),
        distance_m=task.travel.distance_m[np.ix_(rows, rows)],
        duration_s=task.travel.duration_s[np.ix_(rows, rows)],
    )
    deadline = None if task.deadline is None else time.time() + task.deadline - time.monotonic()
    portable = replace(
        task,
        problem=replace(task.problem, travel=travel),
        travel=travel,
        progress=None,
        cancel=None,
        deadline=None,
    )
    data = zlib.compress(pickle.dumps((portable, deadline), protocol=pickle.HIGHEST_PROTOCOL), 1)
    return signing.Signer(salt=SALT).sign(base64.b64encode(data).decode("ascii"))


def decode_part(payload: str) -> SearchTask:
    """The part back, its deadline on this machine's monotonic clock.

    Raises
    ------
    django.core.signing.BadSignature
        When the payload was not signed with this installation's key.
    """
    data = base64.b64decode(signing.Signer(salt=SALT).unsign(payload))
    task, deadline = pickle.loads(zlib.decompress(data))
    if deadline is not None:
        deadline = time.monotonic() + deadline - time.time()
    return replace(task, deadline=deadline)


def outcome_to_json(outcome: RoutingOutcome) -> dict[str, Any]:
    return {
        "found": outcome.found,
        "routes": [[crew, day, ids] for (crew, day), ids in outcome.routes.items()],
        "dropped": outcome.dropped,
        "stop_reason": outcome.stop_reason.value,
        "runtime_s": outcome.runtime_s,
        "first_solution_s": outcome.first_solution_s,
        "objective_milli": outcome.objective_milli,
        "warm_start_used": outcome.warm_start_used,
        "solutions_seen": outcome.solutions_seen,
    }


def outcome_from_json(data: dict[str, Any]) -> RoutingOutcome:
    return RoutingOutcome(
        found=data["found"],
        routes={(crew, int(day)): list(ids) for crew, day, ids in data["routes"]},
        dropped=list(data["dropped"]),
        stop_reason=StopReason(data["stop_reason"]),
        runtime_s=data["runtime_s"],
        first_solution_s=data["first_solution_s"],
        objective_milli=data["objective_milli"],
        warm_start_used=data["warm_start_used"],
        solutions_seen=data["solutions_seen"],
    )


def part_claim(part_id: int, solver: str, batch: uuid.UUID | str | None = None) -> bool:
    """Take a queued part for ``solver``: True for exactly one caller.

    A worker names the batch too, so a message meant for another database
    (another installation on the same broker) can never claim a row here.
    """
    parts = SearchPart.objects.filter(pk=part_id, state=SearchPartState.QUEUED)
    if batch is not None:
        parts = parts.filter(batch=batch)
    return parts.update(state=SearchPartState.RUNNING, solver=solver, started=time.time()) == 1


def part_search(part_id: int, batch: str, payload: str) -> str:
    """What a worker does with a part it received: claim it, search it, store the answer.

    Returns the part's state for the task's log: ``taken`` when another
    worker (or the planner itself) had claimed it first.
    """
    solver = solver_id()
    if not part_claim(part_id, solver, batch):
        return "taken"
    try:
        outcome = solve_routing(decode_part(payload))
    except Exception:
        SearchPart.objects.filter(pk=part_id).update(
            state=SearchPartState.FAILED, finished=time.time(), error=traceback.format_exc()
        )
        raise
    SearchPart.objects.filter(pk=part_id).update(
        state=SearchPartState.DONE, finished=time.time(), outcome=outcome_to_json(outcome)
    )
    return SearchPartState.DONE


class CeleryParts:
    """A :class:`scheduler.parts.PartRunner` on every worker of the Celery cluster.

    ``workers`` is how many parts a batch holds (``PLANNER_WORKERS``): the
    planner process plus as many worker processes as may take one at once.
    """

    def __init__(self, workers: int, *, run_id: int | None = None) -> None:
        self.log = PartsLog("celery", max(1, workers))
        self.run_id = run_id

    def run(
        self, tasks: Sequence[SearchTask], *, cancel: CancelToken | None = None
    ) -> list[RoutingOutcome | None]:
        from .tasks import search_part

        if not tasks:
            return []
        batch = uuid.uuid4()
        rows = SearchPart.objects.bulk_create(
            SearchPart(batch=batch, position=i, run_id=self.run_id) for i in range(len(tasks))
        )
        if len(tasks) > 1:
            try:
                for row, task in zip(rows[1:], tasks[1:], strict=True):
                    search_part.apply_async((row.pk, str(batch), encode_part(task)))
            except Exception as exc:  # the broker is down: the planner searches every part
                self.log.note(f"parts could not be sent to other workers ({exc}); searched here")
        try:
            return self._gather(tasks, [row.pk for row in rows], cancel)
        finally:
            SearchPart.objects.filter(batch=batch).delete()

    def _gather(
        self, tasks: Sequence[SearchTask], ids: list[int], cancel: CancelToken | None
    ) -> list[RoutingOutcome | None]:
        outcomes: dict[int, RoutingOutcome] = {}
        for position, part_id in enumerate(ids):
            if is_cancelled(cancel):
                break
            if part_claim(part_id, self.log.here):
                started = time.time()
                outcomes[position] = solve_routing(tasks[position])
                self.log.add(PartRun(self.log.here, started, time.time()))
                SearchPart.objects.filter(pk=part_id).update(
                    state=SearchPartState.DONE, finished=time.time()
                )
        # Parts others took; also give up on queued ones (cancelled): nobody may start them now.
        SearchPart.objects.filter(pk__in=ids, state=SearchPartState.QUEUED).update(
            state=SearchPartState.FAILED, error="not started: the planner stopped"
        )
        deadline = max((t.deadline for t in tasks if t.deadline is not None), default=None)
        wait_until = (deadline if deadline is not None else time.monotonic()) + GRACE_S
        others = {pid: pos for pos, pid in enumerate(ids) if pos not in outcomes}
        while others and not is_cancelled(cancel):
            for part in SearchPart.objects.filter(
                pk__in=list(others), state__in=[SearchPartState.DONE, SearchPartState.FAILED]
            ):
                position = others.pop(part.pk)
                if part.state == SearchPartState.FAILED and part.solver:
                    raise RuntimeError(f"a search part failed on {part.solver}:\n{part.error}")
                if part.outcome is not None:
                    outcomes[position] = outcome_from_json(part.outcome)
                    self.log.add(PartRun(part.solver, part.started or 0.0, part.finished or 0.0))
            if not others or time.monotonic() > wait_until:
                break
            time.sleep(POLL_S)
        for part in SearchPart.objects.filter(pk__in=list(others)):
            self.log.not_run += 1
            if part.solver:
                self.log.note(
                    f"a part taken by {part.solver} was not back {GRACE_S:g} s after its "
                    "deadline: its region kept its routes"
                )
        return [outcomes.get(position) for position in range(len(tasks))]
