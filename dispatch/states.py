"""The job and plan state machines: every allowed status change is listed here and only here.

Why one table: a job's status gates planning (only *ready* jobs are planned),
publication, crew reports and handover. If each of those places decided for
itself which moves are legal, a job could slip from *incomplete* to *completed*
without anyone noticing. ``dispatch.services.job_transition`` is the single
writer and asks :func:`check_transition` first.

Plans have their own table, :data:`PLAN_TRANSITIONS`, and :data:`PLAN_ACTIONS`
says in which statuses a plan may be optimized, edited, published, revised...
Every refusal of ``dispatch.plans``, ``dispatch.runs`` and ``dispatch.editing``
that depends on a plan's status asks :func:`check_plan_action` or
:func:`check_plan_transition`.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.text import join_list

if TYPE_CHECKING:
    from .models import Plan


class JobStatus(models.TextChoices):
    NEW = "new", _("New")
    SURVEYED = "surveyed", _("Surveyed")
    AWAITING_PERMISSION = "awaiting_permission", _("Awaiting permission")
    READY = "ready", _("Ready to plan")
    SCHEDULED = "scheduled", _("Scheduled")
    DISPATCHED = "dispatched", _("Dispatched to crew")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    INCOMPLETE = "incomplete", _("Not finished")
    HANDED_OVER = "handed_over", _("Handed over")
    CANCELLED = "cancelled", _("Cancelled")


class JobKind(models.TextChoices):
    NEW_LINE = "new_line", _("New line")
    PLAN_CHANGE = "plan_change", _("Plan change")
    RELOCATION = "relocation", _("Office relocation")
    MAINTENANCE = "maintenance", _("Maintenance visit")


S = JobStatus

#: status -> statuses it may move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.SURVEYED, S.CANCELLED}),
    # No permission needed (e.g. the customer owns the building): straight to ready.
    S.SURVEYED: frozenset({S.AWAITING_PERMISSION, S.READY, S.CANCELLED}),
    S.AWAITING_PERMISSION: frozenset({S.READY, S.CANCELLED}),
    # Back to awaiting permission when a permission expires or is withdrawn.
    S.READY: frozenset({S.SCHEDULED, S.AWAITING_PERMISSION, S.CANCELLED}),
    # Back to ready when a plan drops the job before the crew has it.
    S.SCHEDULED: frozenset({S.DISPATCHED, S.READY, S.CANCELLED}),
    # Incomplete straight from dispatched: the crew came but could not start
    # (customer absent, no access), which is the commonest unfinished visit.
    S.DISPATCHED: frozenset({S.IN_PROGRESS, S.INCOMPLETE, S.SCHEDULED, S.READY, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.INCOMPLETE}),
    # An unfinished visit returns to the coordinator's queue, never vanishes.
    S.INCOMPLETE: frozenset({S.READY, S.AWAITING_PERMISSION, S.CANCELLED}),
    S.COMPLETED: frozenset({S.HANDED_OVER}),
    S.HANDED_OVER: frozenset(),
    S.CANCELLED: frozenset(),
}

#: Maintenance visits raised by support need no survey or permission round.
KIND_SHORTCUTS: dict[str, dict[str, frozenset[str]]] = {
    JobKind.MAINTENANCE: {S.NEW: frozenset({S.READY})},
}

#: Statuses in which the job's visit may no longer be moved by the planner.
FIXED_STATUSES: frozenset[str] = frozenset({S.IN_PROGRESS, S.COMPLETED, S.HANDED_OVER})

#: Statuses the planner may assign.
PLANNABLE_STATUSES: frozenset[str] = frozenset({S.READY, S.SCHEDULED, S.DISPATCHED})

TERMINAL_STATUSES: frozenset[str] = frozenset(
    status for status, targets in TRANSITIONS.items() if not targets
)


class TransitionError(DomainError):
    """A status change the state machine does not allow."""

    code = "illegal_transition"

    def __init__(self, current: str, target: str) -> None:
        self.current = current
        self.target = target
        super().__init__(
            gettext(
                "A job cannot move from '%(current)s' to '%(target)s'. "
                "Allowed from '%(current)s': %(allowed)s."
            )
            % {
                "current": job_status_label(current),
                "target": job_status_label(target),
                "allowed": join_list(
                    job_status_label(status) for status in sorted(allowed_targets(current))
                )
                or gettext("none (terminal)"),
            },
            current_status=current,
            requested_status=target,
        )


def job_status_label(status: str) -> str:
    """The job status ``status`` as people read it, in the active language."""
    try:
        return str(JobStatus(status).label)
    except ValueError:
        return status


def allowed_targets(current: str, kind: str | None = None) -> frozenset[str]:
    """Statuses reachable in one step from ``current`` for a job of ``kind``."""
    targets = TRANSITIONS.get(current, frozenset())
    if kind is not None:
        targets = targets | KIND_SHORTCUTS.get(kind, {}).get(current, frozenset())
    return targets


def check_transition(current: str, target: str, kind: str | None = None) -> None:
    """Raise :class:`TransitionError` unless ``current -> target`` is allowed."""
    if target not in allowed_targets(current, kind):
        raise TransitionError(current, target)


# --- Plans ------------------------------------------------------------------

# The values of ``dispatch.models.PlanStatus``: the models import this module,
# so the table is written with its values (``PlanStatus.DRAFT == "draft"``);
# tests/dispatch/test_plan_states.py checks the two agree.
DRAFT = "draft"
OPTIMIZING = "optimizing"
PROPOSED = "proposed"
PUBLISHED = "published"
SUPERSEDED = "superseded"
FAILED = "failed"
CANCELLED = "cancelled"

#: plan status -> statuses it may move to.
PLAN_TRANSITIONS: dict[str, frozenset[str]] = {
    DRAFT: frozenset({OPTIMIZING, CANCELLED}),
    # Back to draft or proposed (whatever it held before) when the run fails or
    # is cancelled; failed when a first run finds nothing. Cancelled (discarded)
    # only once no run is active (PlanBusy otherwise).
    OPTIMIZING: frozenset({PROPOSED, FAILED, DRAFT, CANCELLED}),
    # Back to draft when a run's proposal is discarded and the plan had no visits.
    PROPOSED: frozenset({OPTIMIZING, PUBLISHED, DRAFT, CANCELLED}),
    FAILED: frozenset({OPTIMIZING, CANCELLED}),
    # Replaced when a revision of it is published; never discarded (crews see it).
    PUBLISHED: frozenset({SUPERSEDED}),
    SUPERSEDED: frozenset(),
    CANCELLED: frozenset(),
}

#: Plans still being worked on: they hold proposals, not live work.
OPEN_PLAN_STATUSES: frozenset[str] = frozenset({DRAFT, OPTIMIZING, PROPOSED, FAILED})


class PlanAction(enum.StrEnum):
    """What a coordinator may ask of a plan; :data:`PLAN_ACTIONS` says in which statuses."""

    OPTIMIZE = "optimize"
    #: Move, place or take out visits by hand.
    EDIT = "edit"
    #: Lock or unlock a visit.
    LOCK = "lock"
    #: Rename the plan or change its solver parameters.
    UPDATE = "update"
    PUBLISH = "publish"
    #: Start a proposed copy that replaces (supersedes) the plan when published.
    REVISE = "revise"
    DISCARD = "discard"
    #: Put back the visits a run's proposal replaced.
    DISCARD_RUN = "discard_run"


def _statuses_reaching(target: str) -> frozenset[str]:
    return frozenset(status for status, targets in PLAN_TRANSITIONS.items() if target in targets)


#: action -> plan statuses that allow it. Actions that move the plan are read
#: off the transition table; the others change its contents, not its status.
PLAN_ACTIONS: dict[PlanAction, frozenset[str]] = {
    PlanAction.OPTIMIZE: _statuses_reaching(OPTIMIZING),
    # A published plan is revised first; an optimizing one may be edited (the
    # run then notices the new version and refuses to overwrite the edit).
    PlanAction.EDIT: OPEN_PLAN_STATUSES,
    # Locks and parameters only steer the next run: fine on a published plan.
    PlanAction.LOCK: frozenset(s for s, targets in PLAN_TRANSITIONS.items() if targets),
    PlanAction.UPDATE: frozenset(s for s, targets in PLAN_TRANSITIONS.items() if targets),
    PlanAction.PUBLISH: _statuses_reaching(PUBLISHED),
    PlanAction.REVISE: _statuses_reaching(SUPERSEDED),
    PlanAction.DISCARD: _statuses_reaching(CANCELLED),
    # Only the proposal itself can be taken back (not once published or re-optimized).
    PlanAction.DISCARD_RUN: frozenset({PROPOSED}),
}

#: What a refused action answers (clients and tests match these words), in
#: two forms: plain, and for a plan that is revised first (a published one).
_PLAN_REFUSALS: dict[PlanAction, tuple[str | Promise, str | Promise]] = {
    PlanAction.OPTIMIZE: (
        gettext_lazy("a %(status)s plan cannot be optimized"),
        gettext_lazy("a %(status)s plan cannot be optimized; revise it first"),
    ),
    PlanAction.EDIT: (
        gettext_lazy("a %(status)s plan cannot be edited"),
        gettext_lazy("a %(status)s plan cannot be edited; revise it first"),
    ),
    PlanAction.LOCK: (gettext_lazy("this plan can no longer be edited"),) * 2,
    PlanAction.UPDATE: (gettext_lazy("this plan can no longer be changed"),) * 2,
    PlanAction.PUBLISH: (
        gettext_lazy("only a proposed plan can be published; this one is %(status)s"),
    )
    * 2,
    PlanAction.REVISE: (gettext_lazy("only a published plan can be revised"),) * 2,
    PlanAction.DISCARD: (gettext_lazy("a %(status)s plan cannot be discarded"),) * 2,
    PlanAction.DISCARD_RUN: (
        gettext_lazy("a %(status)s plan's optimization can no longer be discarded"),
    )
    * 2,
}


class PlanningError(DomainError):
    """A request the plan's current state does not allow (HTTP 409 in the API)."""

    code = "plan_state"


def plan_transition_allowed(current: str, target: str) -> bool:
    return target in PLAN_TRANSITIONS.get(current, frozenset())


def check_plan_transition(current: str, target: str) -> None:
    """Raise :class:`PlanningError` unless a plan may move from ``current`` to ``target``."""
    if not plan_transition_allowed(current, target):
        allowed = join_list(
            plan_status_label(status) for status in sorted(PLAN_TRANSITIONS.get(current, ()))
        )
        raise PlanningError(
            gettext(
                "a plan cannot move from '%(current)s' to '%(target)s'; allowed from "
                "'%(current)s': %(allowed)s"
            )
            % {
                "current": plan_status_label(current),
                "target": plan_status_label(target),
                "allowed": allowed or gettext("none (terminal)"),
            },
            field="status",
        )


def plan_status_label(status: str) -> str:
    """The plan status ``status`` as people read it, in the active language."""
    from .models import PlanStatus

    try:
        return str(PlanStatus(status).label)
    except ValueError:
        return status


def plan_action_allowed(status: str, action: PlanAction) -> bool:
    return status in PLAN_ACTIONS[action]


def check_plan_action(plan: Plan, action: PlanAction) -> None:
    """Raise :class:`PlanningError` (on ``status``) unless ``plan``'s status allows ``action``."""
    if plan_action_allowed(plan.status, action):
        return
    plain, revise_first = _PLAN_REFUSALS[action]
    template = revise_first if plan_action_allowed(plan.status, PlanAction.REVISE) else plain
    message = str(template) % {"status": plan.get_status_display().lower()}
    raise PlanningError(message, field="status")
