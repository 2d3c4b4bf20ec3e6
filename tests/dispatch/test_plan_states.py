"""The plan state machine: one table says which status changes and which actions are allowed.

Table-driven: every pair of statuses is checked against the transitions
written out below, every (action, status) against the actions, and the
modules that change plans are read with ``ast`` so that no guard decides a
plan's status on its own instead of asking ``dispatch.states``.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

from dispatch import batches, editing, plans, runs, states
from dispatch.models import Plan, PlanStatus
from dispatch.states import (
    PLAN_ACTIONS,
    PLAN_TRANSITIONS,
    PlanAction,
    PlanningError,
    check_plan_action,
    check_plan_transition,
)

P = PlanStatus

#: The specification, written out by hand: every allowed (from, to).
ALLOWED_MOVES = {
    (P.DRAFT, P.OPTIMIZING),
    (P.DRAFT, P.CANCELLED),
    (P.OPTIMIZING, P.PROPOSED),  # the run's proposal, or back to the previous one
    (P.OPTIMIZING, P.FAILED),  # a first run found nothing
    (P.OPTIMIZING, P.DRAFT),  # a first run cancelled
    (P.OPTIMIZING, P.CANCELLED),  # discarded once no run is active
    (P.PROPOSED, P.OPTIMIZING),
    (P.PROPOSED, P.PUBLISHED),
    (P.PROPOSED, P.DRAFT),  # a run's proposal discarded, the plan had no visits before
    (P.PROPOSED, P.CANCELLED),
    (P.FAILED, P.OPTIMIZING),
    (P.FAILED, P.CANCELLED),
    (P.PUBLISHED, P.SUPERSEDED),  # a revision of it was published
}

#: action -> the statuses that allow it, written out by hand.
ALLOWED_ACTIONS = {
    PlanAction.OPTIMIZE: {P.DRAFT, P.PROPOSED, P.FAILED},
    PlanAction.EDIT: {P.DRAFT, P.OPTIMIZING, P.PROPOSED, P.FAILED},
    PlanAction.LOCK: {P.DRAFT, P.OPTIMIZING, P.PROPOSED, P.FAILED, P.PUBLISHED},
    PlanAction.UPDATE: {P.DRAFT, P.OPTIMIZING, P.PROPOSED, P.FAILED, P.PUBLISHED},
    PlanAction.PUBLISH: {P.PROPOSED},
    PlanAction.REVISE: {P.PUBLISHED},
    PlanAction.DISCARD: {P.DRAFT, P.OPTIMIZING, P.PROPOSED, P.FAILED},
    PlanAction.DISCARD_RUN: {P.PROPOSED},
}

#: What a refusal says, as the API answered before the table (tests and clients match it).
REFUSALS = {
    (PlanAction.OPTIMIZE, P.PUBLISHED): "a published plan cannot be optimized; revise it first",
    (PlanAction.OPTIMIZE, P.OPTIMIZING): "a optimizing plan cannot be optimized",
    (PlanAction.OPTIMIZE, P.CANCELLED): "a cancelled plan cannot be optimized",
    (PlanAction.EDIT, P.PUBLISHED): "a published plan cannot be edited; revise it first",
    (PlanAction.EDIT, P.SUPERSEDED): "a superseded plan cannot be edited",
    (PlanAction.LOCK, P.SUPERSEDED): "this plan can no longer be edited",
    (PlanAction.UPDATE, P.CANCELLED): "this plan can no longer be changed",
    (PlanAction.PUBLISH, P.DRAFT): "only a proposed plan can be published; this one is draft",
    (PlanAction.REVISE, P.PROPOSED): "only a published plan can be revised",
    (PlanAction.DISCARD, P.PUBLISHED): "a published plan cannot be discarded",
}

#: The modules whose refusals depend on a plan's status.
GUARDED_MODULES = [plans, runs, batches, editing]

PAIRS = list(itertools.product(P.values, repeat=2))


def test_the_table_covers_exactly_the_plan_statuses() -> None:
    """``dispatch.states`` spells the statuses by value; they must be the model's."""
    assert set(PLAN_TRANSITIONS) == set(P.values)
    assert set().union(*PLAN_TRANSITIONS.values()) <= set(P.values)
    assert set(PLAN_ACTIONS) == set(PlanAction)
    assert {P.DRAFT, P.OPTIMIZING, P.PROPOSED, P.FAILED} == states.OPEN_PLAN_STATUSES


@pytest.mark.parametrize(("current", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_a_status_change_is_allowed_only_as_the_table_says(current: str, target: str) -> None:
    if (current, target) in ALLOWED_MOVES:
        check_plan_transition(current, target)
        assert states.plan_transition_allowed(current, target)
    else:
        with pytest.raises(PlanningError) as refused:
            check_plan_transition(current, target)
        assert refused.value.code == "plan_state" and refused.value.field == "status"
        assert not states.plan_transition_allowed(current, target)


def test_superseded_and_cancelled_are_terminal() -> None:
    assert {s for s, targets in PLAN_TRANSITIONS.items() if not targets} == {
        P.SUPERSEDED,
        P.CANCELLED,
    }


ACTION_CASES = list(itertools.product(PlanAction, P.values))


@pytest.mark.parametrize(
    ("action", "status"), ACTION_CASES, ids=[f"{a}-{s}" for a, s in ACTION_CASES]
)
def test_an_action_is_allowed_only_in_the_statuses_the_table_lists(
    action: PlanAction, status: str
) -> None:
    plan = Plan(status=status)  # unsaved: only its status and label are read
    if status in ALLOWED_ACTIONS[action]:
        check_plan_action(plan, action)
    else:
        with pytest.raises(PlanningError) as refused:
            check_plan_action(plan, action)
        assert type(refused.value) is PlanningError
        assert refused.value.code == "plan_state" and refused.value.field == "status"
        if (action, status) in REFUSALS:
            assert str(refused.value) == REFUSALS[action, status]


# --- every guard goes through the table --------------------------------------


def _trees() -> list[tuple[str, ast.Module]]:
    return [
        (module.__name__, ast.parse(Path(module.__file__ or "").read_text()))
        for module in GUARDED_MODULES
    ]


def _mentions(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


#: Names that make a status comparison one of a run's or a job's, not a plan's.
OTHER_MACHINES = {
    "RunStatus",
    "ACTIVE_RUN_STATUSES",
    "JobStatus",
    "FIXED_STATUSES",
    "PLANNABLE_STATUSES",
}


def _compares_a_plan_status(test: ast.expr) -> bool:
    """``x.status ==/!=/in ...`` or a ``PlanStatus`` in a comparison, unless a run's or a job's."""
    for compare in (n for n in ast.walk(test) if isinstance(n, ast.Compare)):
        if any(_mentions(compare, name) for name in OTHER_MACHINES):
            continue
        operands = [compare.left, *compare.comparators]
        if _mentions(compare, "PlanStatus") or any(
            isinstance(o, ast.Attribute) and o.attr == "status" for o in operands
        ):
            return True
    return False


def _guards_deciding_alone(tree: ast.AST) -> list[int]:
    """Lines of ``if``s that compare a plan's status and raise in their body."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.If)
        and _compares_a_plan_status(node.test)
        and any(isinstance(n, ast.Raise) for stmt in node.body for n in ast.walk(stmt))
    ]


@pytest.mark.parametrize(
    "guard",
    [
        "if locked.status != PlanStatus.PROPOSED:\n    raise PlanningError('no')",
        "if locked.status not in EDITABLE:\n    raise PlanningError('no')",
        "if plan.status in (PlanStatus.SUPERSEDED, PlanStatus.CANCELLED):\n    raise E()",
        "if v != 1 or plan.status != PlanStatus.PROPOSED:\n    raise PlanConflict('no')",
    ],
)
def test_the_scan_catches_a_guard_written_by_hand(guard: str) -> None:
    assert _guards_deciding_alone(ast.parse(guard)) == [1]


@pytest.mark.parametrize(
    "code",
    [
        "if run.status != RunStatus.SUCCEEDED:\n    raise PlanningError('no')",
        "if visit.job.status in FIXED_STATUSES:\n    raise RuleViolation([])",
        "if plan.status == PlanStatus.OPTIMIZING:\n    _plan_move(plan, PlanStatus.FAILED)",
    ],
)
def test_the_scan_leaves_runs_jobs_and_non_refusals_alone(code: str) -> None:
    assert _guards_deciding_alone(ast.parse(code)) == []


def test_no_guard_compares_a_plan_status_and_raises_by_itself() -> None:
    """A refusal that depends on a plan's status asks ``check_plan_action`` or the table."""
    offenders = [
        f"{module}:{line}" for module, tree in _trees() for line in _guards_deciding_alone(tree)
    ]
    assert offenders == []


def test_every_action_is_asked_somewhere() -> None:
    """Each action of the table guards at least one service (no dead row, no forgotten guard)."""
    asked: set[str] = set()
    for _, tree in _trees():
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            name = getattr(call.func, "id", None)
            if name in {"check_plan_action", "plan_action_allowed"}:
                action = call.args[1]
                assert isinstance(action, ast.Attribute), ast.unparse(call)
                asked.add(action.attr)
    assert asked == {action.name for action in PlanAction}


def test_a_plan_status_is_written_only_through_the_table() -> None:
    """``_plan_move`` is the one writer: no ``_bump(plan, status=...)`` elsewhere."""
    offenders = []
    for module, tree in _trees():
        for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
            if function.name in {"_plan_move"}:
                continue
            for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
                if getattr(call.func, "id", None) == "_bump" and any(
                    keyword.arg == "status" for keyword in call.keywords
                ):
                    offenders.append(f"{module}.{function.name}:{call.lineno}")
    assert offenders == []
