"""Writes of the support desk: log a call, amend it, book a maintenance visit from it.

Calls are append-only (see :mod:`support.models`): there is deliberately no
``call_update`` or ``call_delete`` here, and the database refuses both.
Every function validates its input and raises
:class:`django.core.exceptions.ValidationError` naming the field, which the
API turns into a 400 and the page shows next to the field.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Role, User
from dispatch.models import Job, SlotBooking
from dispatch.services import job_transition
from dispatch.states import JobKind, JobStatus
from sites.models import Contract, Site

from .inbox import handoff_amended, handoff_logged
from .models import (
    AMENDABLE_FIELDS,
    BookingDecision,
    Call,
    CallAmendment,
    CallCategory,
    CallPurge,
    FaultIsolation,
    Handoff,
    HandoffEvent,
    HandoffTeam,
    MaintenanceBooking,
)

if TYPE_CHECKING:
    from .selectors import OpenJob

DEFAULT_MAINTENANCE_MINUTES = 60


def _at_most(limit: int) -> str:
    return ngettext("at most %(max)d character", "at most %(max)d characters", limit) % {
        "max": limit
    }


MAX_CALL_TEXT = 5000


class DuplicateBooking(Exception):
    """Open jobs exist for the call's contract (or site) and the operator has not chosen yet.

    ``open_jobs`` are :class:`support.selectors.OpenJob` rows, oldest first;
    the caller shows them and asks: attach the call to one, or create a new
    job anyway with a reason (see :func:`maintenance_book`).
    """

    code = "open_job_exists"

    def __init__(self, call: Call, open_jobs: list[OpenJob]) -> None:
        self.call = call
        self.open_jobs = open_jobs
        self.matched_by = "contract" if call.contract_id is not None else "site"
        super().__init__(
            (
                _(
                    "open job(s) %(jobs)s already exist for this call's contract: attach the "
                    "call to one (attach_to_job) or create a new job anyway (create_anyway, "
                    "with a reason)"
                )
                if self.matched_by == "contract"
                else _(
                    "open job(s) %(jobs)s already exist for this call's site: attach the "
                    "call to one (attach_to_job) or create a new job anyway (create_anyway, "
                    "with a reason)"
                )
            )
            % {"jobs": _references(open_jobs)}
        )

    def as_dicts(self) -> list[dict[str, Any]]:
        return [item.as_dict() for item in self.open_jobs]


class AlreadyBooked(Exception):
    """A call that already raised a maintenance job; ``booking`` is that one."""

    code = "already_booked"

    def __init__(self, booking: MaintenanceBooking) -> None:
        self.booking = booking
        super().__init__(
            _("call %(call)s already booked maintenance job %(job)s")
            % {"call": booking.call_id, "job": booking.job.reference}
        )


def _choice(field: str, value: Any, choices: type[Any]) -> str:
    if value not in choices.values:
        allowed = ", ".join(v for v in choices.values if v) or _("(none)")
        raise ValidationError(
            {
                field: [
                    _("'%(value)s' is not one of: %(allowed)s")
                    % {"value": value, "allowed": allowed}
                ]
            }
        )
    return str(value)


def _check_call_fields(fields: dict[str, Any]) -> None:
    """The rules a call must keep, whether logged whole or corrected by an amendment."""
    if "category" in fields:
        _choice("category", fields["category"], CallCategory)
    if "fault_isolation" in fields:
        _choice("fault_isolation", fields["fault_isolation"], FaultIsolation)
    if "handoff_team" in fields:
        _choice("handoff_team", fields["handoff_team"], HandoffTeam)
    if "description" in fields:
        description = str(fields["description"] or "").strip()
        if not description:
            raise ValidationError({"description": [_("say what the caller reported")]})
        if len(description) > MAX_CALL_TEXT:
            raise ValidationError({"description": [_at_most(MAX_CALL_TEXT)]})
    if fields.get("follow_up_due") and not fields.get("follow_up_needed", True):
        raise ValidationError({"follow_up_due": [_("a due date needs a follow-up")]})


@transaction.atomic
def call_log(
    *,
    site: Site,
    operator: User,
    category: str,
    description: str,
    fault_isolation: str = FaultIsolation.UNKNOWN,
    caller_name: str = "",
    caller_phone: str = "",
    contract: Contract | None = None,
    handoff_team: str = "",
    handoff_user: User | None = None,
    handoff_note: str = "",
    follow_up_needed: bool = False,
    follow_up_due: dt.date | None = None,
    follow_up_note: str = "",
    started_at: dt.datetime | None = None,
) -> Call:
    """Save a call as it happened. From here on it can only be amended.

    ``started_at`` defaults to now; a call cannot start in the future (a
    typo there would sort it above every real call of the site).
    """
    now = timezone.now()
    started_at = started_at or now
    if started_at > now + dt.timedelta(minutes=5):
        raise ValidationError({"started_at": [_("a call cannot start in the future")]})
    if contract is not None and not contract.sites.filter(pk=site.pk).exists():
        raise ValidationError(
            {
                "contract": [
                    _("contract %(contract)s is not at this site")
                    % {"contract": contract.contract_id}
                ]
            }
        )
    if handoff_user is not None and not handoff_user.is_active:
        raise ValidationError({"handoff_user": [_("this person is no longer active")]})
    fields = {
        "category": category,
        "fault_isolation": fault_isolation,
        "handoff_team": handoff_team,
        "description": description,
        "follow_up_needed": follow_up_needed,
        "follow_up_due": follow_up_due,
    }
    _check_call_fields(fields)
    call = Call.objects.create(
        site=site,
        contract=contract,
        operator=operator,
        started_at=started_at,
        caller_name=caller_name.strip(),
        caller_phone=caller_phone.strip(),
        category=category,
        fault_isolation=fault_isolation,
        description=description.strip(),
        handoff_team=handoff_team,
        handoff_user=handoff_user,
        handoff_note=handoff_note.strip(),
        follow_up_needed=follow_up_needed,
        follow_up_due=follow_up_due,
        follow_up_note=follow_up_note.strip(),
        created_at=now,
    )
    handoff_logged(call)  # the receiving team's inbox (support.inbox)
    return call


def _parse_correction(field: str, value: Any) -> Any:
    if field == "follow_up_needed":
        if not isinstance(value, bool):
            raise ValidationError({f"corrections.{field}": [_("must be true or false")]})
        return value
    if field == "follow_up_due":
        if value in (None, ""):
            return None
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError as exc:
            raise ValidationError(
                {f"corrections.{field}": [_("must be a date (YYYY-MM-DD)")]}
            ) from exc
    if not isinstance(value, str):
        raise ValidationError({f"corrections.{field}": [_("must be text")]})
    return value.strip()


@transaction.atomic
def call_amend(
    *, call: Call, author: User, text: str, corrections: dict[str, Any] | None = None
) -> CallAmendment:
    """Append a correction to a saved call; the call row itself never changes.

    ``corrections`` maps fields of the call (see ``AMENDABLE_FIELDS``) to their
    corrected values; :func:`call_current` shows the call with them applied.
    """
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": [_("say what is corrected or added, and why")]})
    if len(text) > MAX_CALL_TEXT:
        raise ValidationError({"text": [_at_most(MAX_CALL_TEXT)]})
    corrections = dict(corrections or {})
    unknown = sorted(set(corrections) - set(AMENDABLE_FIELDS))
    if unknown:
        raise ValidationError(
            {
                f"corrections.{name}": [_("this field of a call cannot be corrected")]
                for name in unknown
            }
        )
    parsed = {field: _parse_correction(field, value) for field, value in corrections.items()}
    before = call_current(call, amendments=list(call.amendments.all()))
    merged = {**before, **parsed}
    try:
        _check_call_fields({key: merged[key] for key in parsed} | _follow_up(merged))
    except ValidationError as exc:
        raise ValidationError(
            {f"corrections.{key}": value for key, value in exc.message_dict.items()}
        ) from exc
    amendment = CallAmendment.objects.create(
        call=call, author=author, text=text, corrections=parsed, created_at=timezone.now()
    )
    # A changed hand-off team is a new hand-off, open again (support.inbox).
    handoff_amended(amendment, before=before, after=merged)
    return amendment


def _follow_up(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "follow_up_needed": fields["follow_up_needed"],
        "follow_up_due": fields["follow_up_due"],
    }


def call_current(call: Call, *, amendments: list[CallAmendment]) -> dict[str, Any]:
    """The call's amendable fields as they stand after every amendment, oldest first."""
    current: dict[str, Any] = {field: getattr(call, field) for field in AMENDABLE_FIELDS}
    if isinstance(current["follow_up_due"], dt.date):
        current["follow_up_due"] = current["follow_up_due"].isoformat()
    for amendment in sorted(amendments, key=lambda a: (a.created_at, a.pk)):
        current.update(amendment.corrections or {})
    return current


def maintenance_reference(call: Call) -> str:
    """The job reference of a call's maintenance visit: one call, one reference."""
    return f"MNT-{call.pk:06d}"


def _instructions(call: Call, current: dict[str, Any]) -> str:
    """The call's description first (the crew reads it on site), then who to ask."""
    fault = dict(FaultIsolation.choices).get(current["fault_isolation"], current["fault_isolation"])
    lines = [str(current["description"]), "", f"Support call #{call.pk}: {fault}."]
    caller = " ".join(p for p in (current["caller_name"], current["caller_phone"]) if p)
    if caller:
        lines.append(f"Caller: {caller}")
    return "\n".join(lines)


MAX_REASON = 200


def _check_booking_fields(
    *,
    priority: int | None,
    due_date: dt.date | None,
    earliest_date: dt.date | None,
    duration_minutes: int,
    today: dt.date,
) -> tuple[int, dt.date, dt.date]:
    """The rules of a new job's planning fields: (priority, due date, earliest date or today)."""
    if priority is None:
        raise ValidationError({"priority": [_("required to create a job")]})
    if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 5:
        raise ValidationError({"priority": [_("must be 1 (lowest) to 5 (most urgent)")]})
    if due_date is None:
        raise ValidationError({"due_date": [_("required to create a job")]})
    if due_date < today:
        raise ValidationError({"due_date": [_("the due date has passed")]})
    earliest_date = earliest_date or today
    if earliest_date > due_date:
        raise ValidationError({"earliest_date": [_("must not be after the due date")]})
    if not 1 <= duration_minutes <= 24 * 60:
        raise ValidationError({"duration_minutes": [_("must be 1 to 1440 minutes")]})
    return priority, due_date, earliest_date


def _check_choice(*, attach_to_job: Any, create_anyway: bool, reason: str) -> None:
    """The operator's answer to "open jobs exist": one choice at most, a reason with a new job."""
    if attach_to_job is not None and (
        isinstance(attach_to_job, bool) or not isinstance(attach_to_job, int)
    ):
        raise ValidationError({"attach_to_job": [_("must be the id of an open job")]})
    if attach_to_job is not None and create_anyway:
        message = _("choose one: attach the call to an open job, or create a new job anyway")
        raise ValidationError({"attach_to_job": [message], "create_anyway": [message]})
    if create_anyway and not reason:
        raise ValidationError({"reason": [_("say why a new job is needed beside the open ones")]})
    if reason and not create_anyway:
        raise ValidationError({"reason": [_("a reason is recorded only with create_anyway")]})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": [_at_most(MAX_REASON)]})


def _lock_scope(call: Call) -> None:
    """Queue up bookings about the same site or contract, so two calls cannot both find none.

    (A row lock on PostgreSQL; SQLite takes the write lock at BEGIN, see settings.)
    """
    list(Site.objects.select_for_update().filter(pk=call.site_id).values_list("pk"))
    if call.contract_id is not None:
        list(Contract.objects.select_for_update().filter(pk=call.contract_id).values_list("pk"))


def _references(open_jobs: list[OpenJob], *, at_most: int = 5) -> str:
    shown = [item.job.reference for item in open_jobs[:at_most]]
    more = len(open_jobs) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


@transaction.atomic
def maintenance_book(
    *,
    call: Call,
    by: User,
    priority: int | None = None,
    due_date: dt.date | None = None,
    earliest_date: dt.date | None = None,
    due_date_is_hard: bool = False,
    duration_minutes: int = DEFAULT_MAINTENANCE_MINUTES,
    attach_to_job: int | None = None,
    create_anyway: bool = False,
    reason: str = "",
    today: dt.date | None = None,
) -> MaintenanceBooking:
    """Raise a maintenance job at the call's site, ready to plan at once, unless one is open.

    First the open jobs of the call's contract (of its site when the call
    names no contract) are looked up (:func:`support.selectors.open_jobs_for`).
    With none, the job is created *new* and moved to *ready* through the
    state machine's single writer (maintenance needs no survey or permission
    round, see ``dispatch.states.KIND_SHORTCUTS``), so its history says who
    booked it and from which call, and the coordinators' queue of ready jobs
    (``dispatch.problem.plan_candidate_jobs``) holds it as soon as this
    transaction commits.

    With open jobs, the operator chooses explicitly:

    * ``attach_to_job=<id of one of them>``: the call is linked to that job
      (a booking with decision *attached*) and no job is created;
    * ``create_anyway=True`` with a short ``reason``: a new job as above; the
      booking keeps the decision and the reason, and the job's history note
      names the open jobs and the reason.

    ``priority`` and ``due_date`` are needed only when a job is created.

    Raises
    ------
    AlreadyBooked
        When the call already raised a job (a second click, a second operator).
    DuplicateBooking
        When open jobs exist and the operator chose neither.
    ValidationError
        For a priority outside 1-5, a due date in the past or before the
        earliest date, a duration outside 1-1440 minutes, both choices at
        once, ``create_anyway`` without a reason, or ``attach_to_job`` that
        is not an open job of the call's contract or site.
    """
    from .selectors import open_jobs_for  # the selectors read calls through call_current

    today = today or timezone.localdate()
    reason = (reason or "").strip()
    _check_choice(attach_to_job=attach_to_job, create_anyway=create_anyway, reason=reason)
    if attach_to_job is None:
        planning = _check_booking_fields(
            priority=priority,
            due_date=due_date,
            earliest_date=earliest_date,
            duration_minutes=duration_minutes,
            today=today,
        )
    # Lock the call's row so two operators booking from the same call queue up
    # here; the second one then finds the first one's booking.
    locked = Call.objects.select_for_update().get(pk=call.pk)
    existing = MaintenanceBooking.objects.filter(call=locked).select_related("job").first()
    if existing is not None:
        raise AlreadyBooked(existing)
    _lock_scope(locked)
    open_jobs = open_jobs_for(site=locked.site, contract=locked.contract, today=today)
    if attach_to_job is not None:
        return _attach(locked, job_id=attach_to_job, open_jobs=open_jobs, by=by)
    if open_jobs and not create_anyway:
        raise DuplicateBooking(locked, open_jobs)
    current = call_current(locked, amendments=list(locked.amendments.all()))
    priority, due_date, earliest_date = planning
    job = Job.objects.create(
        reference=maintenance_reference(locked),
        kind=JobKind.MAINTENANCE,
        site_id=locked.site_id,
        contract_id=locked.contract_id,
        status=JobStatus.NEW,
        duration_minutes=duration_minutes,
        priority=priority,
        earliest_date=earliest_date,
        due_date=due_date,
        due_date_is_hard=due_date_is_hard,
        work_instructions=_instructions(locked, current),
    )
    note = f"booked from call #{call.pk}"
    if create_anyway:
        beside = f"beside open {_references(open_jobs)}" if open_jobs else "with no open job left"
        note = f"{note}, a new job {beside}: {reason}"[:500]
    job_transition(job=job, to_status=JobStatus.READY, by=by, note=note)
    decision = BookingDecision.CREATED_ANYWAY if create_anyway else BookingDecision.CREATED
    try:
        with transaction.atomic():
            return MaintenanceBooking.objects.create(
                call=locked,
                job=job,
                decision=decision,
                reason=reason,
                booked_by=by,
                booked_at=timezone.now(),
            )
    except IntegrityError as exc:  # pragma: no cover - the row lock above prevents this
        booking = MaintenanceBooking.objects.select_related("job").get(call=locked)
        raise AlreadyBooked(booking) from exc


def _attach(call: Call, *, job_id: int, open_jobs: list[OpenJob], by: User) -> MaintenanceBooking:
    """Link the call to one of the open jobs; the job itself is not touched."""
    if job_id not in {item.job.pk for item in open_jobs}:
        choices = _references(open_jobs) or _("none")
        message = (
            _("job %(job)s is not an open job of this call's contract (open: %(open)s)")
            if call.contract_id is not None
            else _("job %(job)s is not an open job of this call's site (open: %(open)s)")
        )
        raise ValidationError({"attach_to_job": [message % {"job": job_id, "open": choices}]})
    from .selectors import CLOSED_JOB_STATUSES

    # Held until commit, so a coordinator cannot close the job under the link;
    # read again under the lock in case one did since it was listed.
    job = Job.objects.select_for_update().get(pk=job_id)
    if job.status in CLOSED_JOB_STATUSES:
        raise ValidationError(
            {
                "attach_to_job": [
                    _("job %(job)s was closed meanwhile (%(status)s)")
                    % {"job": job.reference, "status": job.get_status_display()}
                ]
            }
        )
    return MaintenanceBooking.objects.create(
        call=call,
        job=job,
        decision=BookingDecision.ATTACHED,
        booked_by=by,
        booked_at=timezone.now(),
    )


@transaction.atomic
def calls_purge(*, reason: str, site_ids: list[int] | None = None) -> CallPurge:
    """Delete calls (all, or those of ``site_ids``) with their amendments and bookings.

    The one deliberate exception to immutability (data retention, resetting a
    development database). The ``active`` purge row opens the triggers for
    this transaction only and stays behind, inactive, as the audit record.
    Booked maintenance jobs are left to delivery.
    """
    if not reason.strip():
        raise ValidationError({"reason": [_("say why calls are deleted")]})
    purge = CallPurge.objects.create(reason=reason.strip(), active=True)
    calls = Call.objects.all() if site_ids is None else Call.objects.filter(site_id__in=site_ids)
    MaintenanceBooking.objects.filter(call__in=calls).delete()
    HandoffEvent.objects.filter(handoff__call__in=calls).delete()
    Handoff.objects.filter(call__in=calls).delete()
    CallAmendment.objects.filter(call__in=calls).delete()
    deleted = calls.count()
    calls.delete()
    CallPurge.objects.filter(pk=purge.pk).update(active=False, calls_deleted=deleted)
    purge.refresh_from_db()
    return purge


def operator_may_log_calls(user: User) -> bool:
    """Support operators log calls; coordinators read them."""
    return getattr(user, "role", None) == Role.SUPPORT


# --- Booking a visit slot offered during the call (dispatch.slots) ------------


def slot_book(
    *,
    call: Call,
    by: User,
    crew_id: int,
    date: dt.date,
    window_start: dt.time,
    window_end: dt.time,
    skills: list[str],
    duration_minutes: Any,
    members: Any = 1,
    priority: int = 4,
    create_anyway: bool = False,
    reason: str = "",
    today: dt.date | None = None,
) -> MaintenanceBooking:
    """Book the slot the customer accepted: a maintenance job holding it, all or nothing.

    In one transaction under the ledger lock (:func:`dispatch.ledger.ledger_lock`):
    the slot is checked again on its crew-day (another booking or a
    publication may have taken it since it was offered:
    :class:`dispatch.slots.SlotTaken`, HTTP 409 ``slot_taken`` with fresh
    offers), the job is created through :func:`maintenance_book` (so the
    call's booking, the open-job check and the job's history are the usual
    ones) and the slot is held for it (:func:`dispatch.slots.slot_hold`):
    the job carries the date and the arrival window as a hard promise, and the
    call's booking leads to what the customer was promised (the job's current
    slot, :func:`dispatch.slots.current_slot_booking`; a later
    :func:`slot_rebook` replaces it). A ``date`` before tomorrow, which no
    offer ever names, is refused first (:class:`dispatch.slots.SlotInputError` on
    ``date``, HTTP 400).
    """
    from dispatch.ledger import ledger_lock
    from dispatch.slots import (
        SlotTaken,
        check_slot_date,
        slot_hold,
        slot_offers,
        slot_request,
        slot_still_free,
    )

    check_slot_date(date, today=today)
    request = slot_request(
        site=call.site, skills=skills, duration_minutes=duration_minutes, members=members, days=1
    )
    with transaction.atomic():
        ledger_lock()
        offer = slot_still_free(
            request, crew_id=crew_id, date=date, window_start=window_start, window_end=window_end
        )
        if offer is None:
            fresh = slot_offers(
                slot_request(
                    site=call.site,
                    skills=list(request.skills),
                    duration_minutes=request.duration_minutes,
                    members=request.members,
                )
            )
            raise SlotTaken(
                _("this slot was taken meanwhile: offer one of the slots still free"),
                [o.as_dict() for o in fresh.offers],
            )
        booking = maintenance_book(
            call=call,
            by=by,
            priority=priority,
            due_date=date,
            earliest_date=date,
            duration_minutes=request.duration_minutes,
            create_anyway=create_anyway,
            reason=reason,
            today=today,
        )
        slot_hold(job=booking.job, offer=offer, request=request, by=by)
    return booking


def slot_rebook(
    *,
    job: Job,
    by: User,
    crew_id: int,
    date: dt.date,
    window_start: dt.time,
    window_end: dt.time,
    replaces: int | None,
    call: Call | None = None,
    today: dt.date | None = None,
) -> SlotBooking:
    """Give a job already in the queue a new slot the customer accepted, all or nothing.

    The visit was not finished, or a slot booked earlier lapsed: the customer
    is on the phone for a new appointment, and a second job for the same
    fault would be a duplicate. :func:`dispatch.slots.slot_replace` holds the
    new slot (the job must be *ready*, ``replaces`` must be the current slot
    the operator saw, the slot must still be free) and keeps the earlier
    booking as history. ``call`` (the call being answered, at the job's
    site) is linked to the job when it booked nothing yet, so its line on
    the card shows the promise it made; a call that booked another job is a
    400 on ``call``.
    """
    from dispatch.slots import slot_replace

    with transaction.atomic():
        if call is not None:
            _link_call(call, job=job, by=by)
        return slot_replace(
            job=job,
            by=by,
            crew_id=crew_id,
            date=date,
            window_start=window_start,
            window_end=window_end,
            replaces=replaces,
            today=today,
        )


def _link_call(call: Call, *, job: Job, by: User) -> None:
    """Attach the call to ``job`` (decision *attached*) unless it is linked to it already."""
    locked = Call.objects.select_for_update().get(pk=call.pk)
    if locked.site_id != job.site_id:
        raise ValidationError({"call": [_("this call is about another site than the job")]})
    existing = MaintenanceBooking.objects.filter(call=locked).select_related("job").first()
    if existing is None:
        MaintenanceBooking.objects.create(
            call=locked,
            job=job,
            decision=BookingDecision.ATTACHED,
            booked_by=by,
            booked_at=timezone.now(),
        )
    elif existing.job_id != job.pk:
        raise ValidationError(
            {
                "call": [
                    _("this call already booked visit %(reference)s")
                    % {"reference": existing.job.reference}
                ]
            }
        )
