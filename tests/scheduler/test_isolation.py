"""A search in a child process: answers, improvements, failures and every way to stop it."""

from __future__ import annotations

import os
import threading
import time

import pytest

from scheduler.isolation import (
    GRACE_S,
    Improvement,
    Report,
    Stopped,
    map_in_children,
    run_in_child,
)


def improvement(objective: int) -> Improvement:
    return Improvement(0.0, objective, 1, {("A", 0): ["j1"]})


def improve_then_hang(report: Report) -> str:
    """Report two improvements, then never return (like a search that ignores its limit)."""
    report(improvement(900))
    report(improvement(800))
    time.sleep(3600)
    return "unreachable"


def sleep_then_answer() -> str:
    """A task that answers only if nobody kills it during its hour of sleep."""
    time.sleep(3600)
    return "finished"


def test_the_answer_of_a_search_that_ends_by_itself_is_returned() -> None:
    assert run_in_child(lambda report: {"plan": [1, 2, 3]}) == {"plan": [1, 2, 3]}


def test_every_improvement_reaches_the_progress_callback_in_the_parent() -> None:
    seen: list[tuple[float, int]] = []

    def search(report: Report) -> str:
        for objective in (3000, 2000, 1000):
            report(improvement(objective))
        return "done"

    answer = run_in_child(search, progress=lambda _s, yen, assigned: seen.append((yen, assigned)))
    assert answer == "done"
    assert seen == [(3.0, 1), (2.0, 1), (1.0, 1)]


def test_cancelling_stops_the_child_at_once_and_keeps_the_last_improvement() -> None:
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    answer = run_in_child(improve_then_hang, cancel=cancel)
    # The search hangs for an hour: an answer at all means the child was stopped.
    assert isinstance(answer, Stopped)
    assert answer.reason == "cancelled"
    assert answer.last is not None and answer.last.objective_milli == 800
    assert answer.improvements == 2


def test_no_improvement_for_the_given_span_stops_the_child() -> None:
    answer = run_in_child(improve_then_hang, no_improvement_s=0.3)
    assert isinstance(answer, Stopped)
    assert answer.reason == "no_improvement"
    assert answer.last is not None and answer.last.objective_milli == 800


def test_a_child_that_overruns_its_deadline_is_killed_after_the_grace() -> None:
    started = time.monotonic()
    answer = run_in_child(improve_then_hang, deadline=started + 0.3)
    # The child sleeps for an hour: an answer at all means it was killed, and the
    # best plan it reported before comes back with the stop.
    assert isinstance(answer, Stopped)
    assert answer.reason == "time_limit"
    assert answer.last is not None and answer.last.objective_milli == 800
    assert time.monotonic() - started >= 0.3 + GRACE_S  # the grace was granted first


def test_stopped_before_any_improvement_says_so() -> None:
    answer = run_in_child(lambda report: time.sleep(3600), no_improvement_s=0.2)
    assert isinstance(answer, Stopped)
    assert answer.last is None and answer.improvements == 0


def test_an_exception_in_the_child_is_raised_here_with_its_traceback() -> None:
    def broken(report: Report) -> None:
        raise ValueError("bad model")

    with pytest.raises(RuntimeError, match="ValueError: bad model"):
        run_in_child(broken)


def test_a_child_that_dies_without_a_word_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="ended without an answer"):
        run_in_child(lambda report: os._exit(3))


def test_tasks_in_children_answer_in_order_two_at_a_time() -> None:
    """Four tasks on two workers: each in its own process, two running at once, never three,
    answers in the order of the tasks."""

    def task(k: int) -> tuple[int, int, float, float]:
        begin = time.time()
        time.sleep(0.4)
        return k, os.getpid(), begin, time.time()

    answers = [a for a in map_in_children([lambda k=k: task(k) for k in range(4)], 2) if a]
    assert [a[0] for a in answers] == [0, 1, 2, 3]
    assert len({a[1] for a in answers} | {os.getpid()}) == 5
    events = sorted([(a[2], 1) for a in answers] + [(a[3], -1) for a in answers])
    running = [sum(step for _, step in events[: i + 1]) for i in range(len(events))]
    assert max(running) == 2


def test_cancelling_tasks_in_children_kills_them_and_leaves_holes() -> None:
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    answers = map_in_children([sleep_then_answer] * 3, 2, cancel=cancel)
    assert answers == [None, None, None]  # a task left running would have answered


def test_a_failing_task_in_a_child_is_raised_here() -> None:
    def broken() -> None:
        raise KeyError("region 7")

    with pytest.raises(RuntimeError, match="KeyError: 'region 7'"):
        map_in_children([lambda: 1, broken], 2)


def _never() -> bool:
    return False


def _solve_in_a_daemonic_process(_: int) -> tuple[str, int, str, bool, int]:
    """What Celery's prefork pool does to a planning task: run it in a daemonic child."""
    import multiprocessing

    from scheduler import MaxRuntime, SolveParams, solve
    from scheduler.validate import validate
    from tests.scheduler.conftest import at, crew, crew_days, job, problem

    p = problem(
        [crew("A"), crew("B")],
        crew_days(["A", "B"]),
        [job(f"j{k}", at(0.4 * k, 0.2 * (k % 3))) for k in range(10)],
    )
    result = solve(p, MaxRuntime(1), SolveParams(seed=1, num_workers=2), cancel=_never)
    return (
        result.status,
        result.kpis.jobs_assigned,
        str(result.extra.metaheuristic),
        multiprocessing.current_process().daemon,
        len(validate(p, result)),
    )


def test_a_daemonic_process_cannot_start_children_and_solve_plans_in_process() -> None:
    """Celery's default prefork pool runs tasks in daemonic processes, which may not
    start children. There a cancellable solve with two workers must still plan: one
    worker, and guided local search (it stops in-process) instead of the iterated
    search that needs a child to be cancelled."""
    from billiard.pool import Pool

    from scheduler.isolation import can_start_children

    assert can_start_children()
    with Pool(1) as pool:
        status, assigned, metaheuristic, daemonic, violations = pool.map(
            _solve_in_a_daemonic_process, [0]
        )[0]
    assert daemonic
    assert (status, assigned, violations) == ("plan_found", 10, 0)
    assert metaheuristic == "GUIDED_LOCAL_SEARCH"
