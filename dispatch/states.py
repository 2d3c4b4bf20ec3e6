"""The job state machine: every allowed status change is listed here and only here.

Why one table: a job's status gates planning (only *ready* jobs are planned),
publication, crew reports and handover. If each of those places decided for
itself which moves are legal, a job could slip from *incomplete* to *completed*
without anyone noticing. ``dispatch.services.job_transition`` is the single
writer and asks :func:`check_transition` first.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


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
        allowed = ", ".join(sorted(allowed_targets(current))) or "none (terminal)"
        super().__init__(
            f"A job cannot move from '{current}' to '{target}'. "
            f"Allowed from '{current}': {allowed}.",
            current_status=current,
            requested_status=target,
        )


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
