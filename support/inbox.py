"""The hand-off inbox: who receives a call's hand-off, its status, its age and its targets.

A call's hand-off (team and/or person) is written once as a :class:`Handoff`
row, with the call (:func:`handoff_start` from ``call_log``) or by an
amendment that changes the call's hand-off team (:func:`handoff_amended`
from ``call_amend``), which starts a *new* hand-off, open again; the older
one stays as history. Receivers append :class:`HandoffEvent` rows
(acknowledged, then done); nothing is ever updated in place (database
triggers, migration 0005). The status is derived: *open* without events,
otherwise the newest event.

Who receives: the members of the team (:class:`HandoffTeamMember`, a user
may be in several teams; coordinators are in *delivery* by their role) and
the named person. Any of them may acknowledge and finish, so a hand-off is
not stuck when one person is away; other support operators and
coordinators read every inbox but may not act (:class:`HandoffRefused`, 403);
partners never reach any of it.

Targets (the SLA) are minutes per call category, from the hand-off to the
acknowledgement and to done, in wall-clock time (no business hours: the desk
answers around the clock), frozen on the row when it is handed off. Due
times are shown in ``TIME_ZONE`` (Asia/Tokyo). A hand-off is *overdue* when
it is not acknowledged by its acknowledge target or not done by its done
target.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Role, User

from .models import (
    Call,
    CallAmendment,
    CallCategory,
    Handoff,
    HandoffEvent,
    HandoffStatus,
    HandoffTeam,
    HandoffTeamMember,
)

#: Minutes to acknowledge a hand-off, per call category (``SUPPORT_HANDOFF_ACKNOWLEDGE_MINUTES``
#: overrides some). A customer without a line waits for nobody.
DEFAULT_ACKNOWLEDGE_MINUTES: dict[str, int] = {
    CallCategory.NO_CONNECTION: 30,
    CallCategory.INTERMITTENT: 60,
    CallCategory.EQUIPMENT: 60,
    CallCategory.SLOW: 4 * 60,
    CallCategory.CONFIGURATION: 4 * 60,
    CallCategory.OTHER: 4 * 60,
    CallCategory.WORK_REQUEST: 8 * 60,
    CallCategory.BILLING: 8 * 60,
}
#: Minutes to finish it (``SUPPORT_HANDOFF_DONE_MINUTES``).
DEFAULT_DONE_MINUTES: dict[str, int] = {
    CallCategory.NO_CONNECTION: 8 * 60,
    CallCategory.INTERMITTENT: 24 * 60,
    CallCategory.EQUIPMENT: 24 * 60,
    CallCategory.SLOW: 48 * 60,
    CallCategory.CONFIGURATION: 48 * 60,
    CallCategory.OTHER: 48 * 60,
    CallCategory.WORK_REQUEST: 5 * 24 * 60,
    CallCategory.BILLING: 3 * 24 * 60,
}
FALLBACK_MINUTES = (4 * 60, 48 * 60)

#: The teams that receive hand-offs (the blank "no hand-off" choice left out).
TEAMS: tuple[str, ...] = tuple(t.value for t in HandoffTeam if t.value)
#: Coordinators receive the delivery team's hand-offs by their role.
ROLE_TEAMS: dict[str, str] = {Role.COORDINATOR: HandoffTeam.DELIVERY}
#: Who may open inboxes at all (acting needs to be a receiver too).
INBOX_ROLES = (Role.SUPPORT, Role.COORDINATOR)
MAX_NOTE = 300


class HandoffRefused(Exception):
    """A transition the hand-off cannot make now (409), or by this person (403).

    ``code``: ``no_handoff`` (the call was never handed off, or the hand-off
    was withdrawn), ``handoff_superseded`` (an amendment handed the call off
    anew: act on the current one), ``illegal_transition`` (already
    acknowledged, done, or done before acknowledged; ``current_status``
    says where it stands), ``not_a_receiver`` (403: neither in the team nor
    the named person).
    """

    def __init__(self, code: str, message: str, *, status: int = 409, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.details = details


# --- targets -------------------------------------------------------------------------


def sla_minutes(category: str) -> tuple[int, int]:
    """(minutes to acknowledge, minutes to finish) for a call category, settings first."""
    acknowledge = {
        **DEFAULT_ACKNOWLEDGE_MINUTES,
        **getattr(settings, "SUPPORT_HANDOFF_ACKNOWLEDGE_MINUTES", {}),
    }.get(category, FALLBACK_MINUTES[0])
    done = {**DEFAULT_DONE_MINUTES, **getattr(settings, "SUPPORT_HANDOFF_DONE_MINUTES", {})}.get(
        category, FALLBACK_MINUTES[1]
    )
    return acknowledge, max(done, acknowledge)


def sla_targets(category: str, *, start: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """When a hand-off of this category made at ``start`` must be acknowledged, and done."""
    acknowledge, done = sla_minutes(category)
    return start + dt.timedelta(minutes=acknowledge), start + dt.timedelta(minutes=done)


# --- who receives --------------------------------------------------------------------


def teams_of(user: User) -> list[str]:
    """The teams whose hand-offs ``user`` receives, in the teams' order."""
    mine = set(HandoffTeamMember.objects.filter(user=user).values_list("team", flat=True))
    if getattr(user, "role", None) in ROLE_TEAMS:
        mine.add(ROLE_TEAMS[user.role])
    return [team for team in TEAMS if team in mine]


def team_members(team: str) -> QuerySet[User]:
    """The active colleagues who receive ``team``'s hand-offs."""
    roles = [role for role, role_team in ROLE_TEAMS.items() if role_team == team]
    return User.objects.filter(
        Q(handoff_teams__team=team) | Q(role__in=roles), is_active=True
    ).distinct()


def may_act(user: User, handoff: Handoff) -> bool:
    """Any member of the receiving team, or the named person, may acknowledge and finish."""
    if getattr(user, "role", None) not in INBOX_ROLES:
        return False
    if handoff.user_id is not None and handoff.user_id == user.pk:
        return True
    return bool(handoff.team) and handoff.team in teams_of(user)


# --- writes --------------------------------------------------------------------------


def handoff_start(
    *,
    call: Call,
    by: User,
    team: str,
    user: User | None,
    note: str,
    category: str,
    at: dt.datetime,
    amendment: CallAmendment | None = None,
) -> Handoff:
    """Write a hand-off (or, with neither team nor person, its withdrawal by an amendment)."""
    receiver = bool(team) or user is not None
    acknowledge_due, done_due = sla_targets(category, start=at) if receiver else (None, None)
    return Handoff.objects.create(
        call=call,
        amendment=amendment,
        team=team,
        user=user,
        note=(note or "").strip()[:MAX_NOTE],
        category=category,
        handed_off_by=by,
        created_at=at,
        acknowledge_due_at=acknowledge_due,
        done_due_at=done_due,
    )


def handoff_logged(call: Call) -> Handoff | None:
    """The hand-off a call was logged with, if it names a team or a person (``call_log``)."""
    if not call.handoff_team and call.handoff_user_id is None:
        return None
    return handoff_start(
        call=call,
        by=call.operator,
        team=call.handoff_team,
        user=call.handoff_user,
        note=call.handoff_note,
        category=call.category,
        at=call.created_at,
    )


def handoff_amended(
    amendment: CallAmendment, *, before: dict[str, Any], after: dict[str, Any]
) -> Handoff | None:
    """A new hand-off when the amendment changed the call's hand-off team (``call_amend``).

    ``before``/``after`` are the call as amended without and with this
    amendment (:func:`support.services.call_current`). Only a changed team
    starts a new hand-off (open, targets from the amendment's time and the
    call's category then); a corrected note or category alone does not.
    """
    if before.get("handoff_team", "") == after.get("handoff_team", ""):
        return None
    call = amendment.call
    return handoff_start(
        call=call,
        by=amendment.author,
        team=after.get("handoff_team") or "",
        user=call.handoff_user,
        note=after.get("handoff_note") or "",
        category=after.get("category") or call.category,
        at=amendment.created_at,
        amendment=amendment,
    )


def _transition(
    *, call_id: int, handoff_id: int | None, to: str, by: User, note: str, now: dt.datetime | None
) -> HandoffEvent:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        too_long = ngettext("at most %(max)d character", "at most %(max)d characters", MAX_NOTE)
        raise ValidationError({"note": [too_long % {"max": MAX_NOTE}]})
    # The call's row is the queue: two receivers clicking at once take turns here,
    # and the second finds the first one's event.
    list(Call.objects.select_for_update().filter(pk=call_id).values_list("pk"))
    current = Handoff.objects.filter(call_id=call_id).order_by("-id").first()
    if current is None or (not current.team and current.user_id is None):
        raise HandoffRefused("no_handoff", _("this call is not handed off to anyone"))
    if handoff_id is not None and current.pk != handoff_id:
        raise HandoffRefused(
            "handoff_superseded",
            _("the call was handed off anew since; act on the current hand-off"),
            current_handoff=current.pk,
        )
    if not may_act(by, current):
        raise HandoffRefused(
            "not_a_receiver",
            _("only the receiving team's members or the named person may do this"),
            status=403,
        )
    reached = set(current.events.values_list("status", flat=True))
    status = (
        HandoffStatus.DONE
        if HandoffStatus.DONE in reached
        else HandoffStatus.ACKNOWLEDGED
        if HandoffStatus.ACKNOWLEDGED in reached
        else HandoffStatus.OPEN
    )
    allowed = {
        HandoffStatus.ACKNOWLEDGED: HandoffStatus.OPEN,
        HandoffStatus.DONE: HandoffStatus.ACKNOWLEDGED,
    }
    if allowed[HandoffStatus(to)] != status:
        raise HandoffRefused(
            "illegal_transition",
            _("a hand-off that is %(status)s cannot become %(to)s")
            % {"status": HandoffStatus(status).label, "to": HandoffStatus(to).label},
            current_status=str(status),
        )
    return HandoffEvent.objects.create(
        handoff=current, status=to, by=by, at=now or timezone.now(), note=note
    )


@transaction.atomic
def handoff_acknowledge(
    *,
    call: Call,
    by: User,
    note: str = "",
    handoff_id: int | None = None,
    now: dt.datetime | None = None,
) -> HandoffEvent:
    """A receiver takes the call's current hand-off: open → acknowledged.

    ``handoff_id`` (what the receiver saw) refuses a hand-off superseded
    meanwhile by an amendment. Raises :class:`HandoffRefused`.
    """
    return _transition(
        call_id=call.pk,
        handoff_id=handoff_id,
        to=HandoffStatus.ACKNOWLEDGED,
        by=by,
        note=note,
        now=now,
    )


@transaction.atomic
def handoff_done(
    *,
    call: Call,
    by: User,
    note: str = "",
    handoff_id: int | None = None,
    now: dt.datetime | None = None,
) -> HandoffEvent:
    """A receiver finished the call's current hand-off: acknowledged → done."""
    return _transition(
        call_id=call.pk, handoff_id=handoff_id, to=HandoffStatus.DONE, by=by, note=note, now=now
    )


def handoffs_backfill() -> int:
    """Write the hand-off of calls logged with one but without a row (bulk-created, older data)."""
    written = 0
    missing = Call.objects.filter(Q(handoff_team__gt="") | Q(handoff_user__isnull=False)).exclude(
        Exists(Handoff.objects.filter(call=OuterRef("pk")))
    )
    for call in missing.select_related("operator", "handoff_user").iterator():
        handoff_logged(call)
        written += 1
    return written


# --- reads ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HandoffView:
    """A hand-off with its derived status, age and targets at ``now``."""

    handoff: Handoff
    events: list[HandoffEvent]
    now: dt.datetime

    @property
    def status(self) -> str:
        return self.events[-1].status if self.events else HandoffStatus.OPEN

    @property
    def status_label(self) -> str:
        return str(HandoffStatus(self.status).label)

    def _event(self, status: str) -> HandoffEvent | None:
        return next((event for event in self.events if event.status == status), None)

    @property
    def acknowledged(self) -> HandoffEvent | None:
        return self._event(HandoffStatus.ACKNOWLEDGED)

    @property
    def done(self) -> HandoffEvent | None:
        return self._event(HandoffStatus.DONE)

    @property
    def age(self) -> dt.timedelta:
        """Since the hand-off; a finished one stops ageing when it was done."""
        end = self.done.at if self.done else self.now
        return max(end - self.handoff.created_at, dt.timedelta(0))

    @property
    def acknowledge_overdue(self) -> bool:
        due = self.handoff.acknowledge_due_at
        ack = self.acknowledged
        return due is not None and (ack.at if ack else self.now) > due

    @property
    def done_overdue(self) -> bool:
        due = self.handoff.done_due_at
        done = self.done
        return due is not None and (done.at if done else self.now) > due

    @property
    def overdue(self) -> bool:
        """Late *now*: still not acknowledged after its target, or not done after its target."""
        if self.status == HandoffStatus.DONE:
            return False
        late_ack = self.status == HandoffStatus.OPEN and self.acknowledge_overdue
        return late_ack or self.done_overdue

    @property
    def next_due_at(self) -> dt.datetime | None:
        """The target that matters now: acknowledge while open, done while acknowledged."""
        if self.status == HandoffStatus.OPEN:
            return self.handoff.acknowledge_due_at
        if self.status == HandoffStatus.ACKNOWLEDGED:
            return self.handoff.done_due_at
        return None

    @property
    def next_action(self) -> str | None:
        following: dict[str, str] = {
            HandoffStatus.OPEN: HandoffStatus.ACKNOWLEDGED,
            HandoffStatus.ACKNOWLEDGED: HandoffStatus.DONE,
        }
        return following.get(self.status)


def _events() -> Prefetch:
    return Prefetch("events", queryset=HandoffEvent.objects.select_related("by").order_by("id"))


def _newest_per_call() -> Any:
    newer = Handoff.objects.filter(call_id=OuterRef("call_id"), pk__gt=OuterRef("pk"))
    return ~Exists(newer)


def current_handoffs(*, now: dt.datetime | None = None) -> QuerySet[Handoff]:
    """Each call's current hand-off (withdrawn ones left out), with status and overdue in SQL.

    Annotated ``acknowledged_at``, ``done_at``, ``handoff_status`` and
    ``is_overdue`` (at ``now``), so the inbox and the API filter and count in
    the database however many calls were ever handed off.
    """
    now = now or timezone.now()

    def event_at(status: str) -> Subquery:
        return Subquery(
            HandoffEvent.objects.filter(handoff=OuterRef("pk"), status=status).values("at")[:1]
        )

    return (
        Handoff.objects.filter(_newest_per_call())
        .filter(Q(team__gt="") | Q(user__isnull=False))
        .annotate(
            acknowledged_at=event_at(HandoffStatus.ACKNOWLEDGED),
            done_at=event_at(HandoffStatus.DONE),
        )
        .annotate(
            handoff_status=Case(
                When(done_at__isnull=False, then=Value(HandoffStatus.DONE.value)),
                When(acknowledged_at__isnull=False, then=Value(HandoffStatus.ACKNOWLEDGED.value)),
                default=Value(HandoffStatus.OPEN.value),
                output_field=CharField(),
            ),
        )
        .annotate(
            is_overdue=Case(
                When(
                    Q(done_at__isnull=True)
                    & (
                        Q(acknowledged_at__isnull=True, acknowledge_due_at__lt=now)
                        | Q(done_due_at__lt=now)
                    ),
                    then=Value(True),
                ),
                default=Value(False),
            )
        )
    )


def handoffs_filtered(
    handoffs: QuerySet[Handoff],
    *,
    team: str | None = None,
    user_id: int | None = None,
    status: str | Iterable[str] | None = None,
    overdue: bool | None = None,
) -> QuerySet[Handoff]:
    """Narrow :func:`current_handoffs` down: by team, person, status (one or several), overdue."""
    if team:
        handoffs = handoffs.filter(team=team)
    if user_id is not None:
        handoffs = handoffs.filter(user_id=user_id)
    if status:
        statuses = [status] if isinstance(status, str) else list(status)
        # Annotations of current_handoffs() (django-stubs cannot follow them here).
        handoffs = handoffs.filter(handoff_status__in=statuses)  # type: ignore[misc]
    if overdue is not None:
        handoffs = handoffs.filter(is_overdue=overdue)  # type: ignore[misc]
    return handoffs


def inbox(
    *,
    team: str | None = None,
    user_id: int | None = None,
    statuses: Iterable[str] = (HandoffStatus.OPEN, HandoffStatus.ACKNOWLEDGED),
    overdue: bool | None = None,
    now: dt.datetime | None = None,
    limit: int = 200,
) -> list[HandoffView]:
    """A team's (or a person's) hand-offs: overdue first, then the oldest; three queries."""
    now = now or timezone.now()
    rows = (
        handoffs_filtered(
            current_handoffs(now=now),
            team=team,
            user_id=user_id,
            status=list(statuses),
            overdue=overdue,
        )
        .select_related("call__site", "call__operator", "user", "handed_off_by")
        .prefetch_related(_events())
        .order_by(F("is_overdue").desc(), "created_at", "id")[:limit]
    )
    return [HandoffView(handoff=h, events=list(h.events.all()), now=now) for h in rows]


def handoff_history(call_ids: Iterable[int]) -> dict[int, list[Handoff]]:
    """Every hand-off of these calls, oldest first, with their events prefetched. Two queries."""
    found: dict[int, list[Handoff]] = {}
    rows = (
        Handoff.objects.filter(call_id__in=list(call_ids))
        .select_related("user", "handed_off_by")
        .prefetch_related(_events())
        .order_by("id")
    )
    for handoff in rows:
        found.setdefault(handoff.call_id, []).append(handoff)
    return found


def current_handoff_views(
    call_ids: Iterable[int], *, now: dt.datetime | None = None
) -> dict[int, HandoffView]:
    """Each call's current hand-off (not withdrawn) as a view; calls without one left out."""
    now = now or timezone.now()
    views: dict[int, HandoffView] = {}
    for call_id, handoffs in handoff_history(call_ids).items():
        current = handoffs[-1]
        if current.team or current.user_id is not None:
            views[call_id] = HandoffView(
                handoff=current, events=list(current.events.all()), now=now
            )
    return views


def open_handoff_count(team: str, *, now: dt.datetime | None = None) -> int:
    """How many of ``team``'s hand-offs nobody has acknowledged yet (the board's badge)."""
    return handoffs_filtered(
        current_handoffs(now=now), team=team, status=HandoffStatus.OPEN
    ).count()
