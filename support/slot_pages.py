"""The desk's "Offer slots" step: the kind of work, the three earliest slots, "Book this slot".

The kind of work presets the skills and the duration from the call's category
(:data:`WORK_KINDS`, :data:`CATEGORY_KIND`); the operator may edit both. The
offers come from :func:`dispatch.slots.slot_offers` (a GET: it writes nothing);
booking one posts to :func:`support.services.slot_book` and answers with
what to tell the customer. A slot taken meanwhile shows fresh offers.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.access import roles_required
from accounts.models import Role
from core.errors import DomainError
from dispatch.ledger import live_visits
from dispatch.models import CURRENT_SLOT_STATUSES, Job, Skill, SlotBooking, SlotBookingStatus
from dispatch.slots import (
    SlotOffers,
    SlotTaken,
    current_slot_booking,
    job_slot_offers,
    offer_days,
    slot_offers,
    slot_request,
)
from dispatch.states import JobStatus
from dispatch.texts import day_label

from .models import Call, CallCategory
from .services import AlreadyBooked, DuplicateBooking, slot_book, slot_rebook

#: Kind of work -> (label, skill codes, minutes on site).
WORK_KINDS: dict[str, tuple[Any, tuple[str, ...], int]] = {
    "fault_diagnosis": (
        gettext_lazy("Fault isolation and optical levels"),
        ("fault_diagnosis",),
        60,
    ),
    "mc_replacement": (
        gettext_lazy("Media converter replacement"),
        ("mc_install", "fault_diagnosis"),
        90,
    ),
    "router_setup": (gettext_lazy("Router or ONU setup"), ("router_config",), 45),
    "indoor_wiring": (gettext_lazy("Indoor wiring repair"), ("indoor_wiring",), 120),
    "drop_cable": (gettext_lazy("Drop cable repair (pole)"), ("aerial_cabling",), 120),
}
#: The kind of work a call's category suggests.
CATEGORY_KIND: dict[str, str] = {
    CallCategory.NO_CONNECTION: "fault_diagnosis",
    CallCategory.SLOW: "fault_diagnosis",
    CallCategory.INTERMITTENT: "fault_diagnosis",
    CallCategory.EQUIPMENT: "mc_replacement",
    CallCategory.CONFIGURATION: "router_setup",
    CallCategory.WORK_REQUEST: "indoor_wiring",
}
DEFAULT_KIND = "fault_diagnosis"


def kind_for(category: str) -> str:
    return CATEGORY_KIND.get(category, DEFAULT_KIND)


class SlotForm(forms.Form):
    """What the visit needs; preset by the kind of work, editable."""

    kind = forms.ChoiceField(label=gettext_lazy("Kind of work"), required=False)
    skills = forms.MultipleChoiceField(
        label=gettext_lazy("Skills"), required=False, widget=forms.CheckboxSelectMultiple
    )
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("Duration (min)"), min_value=5, max_value=480
    )
    members = forms.IntegerField(
        label=gettext_lazy("Crew members"), min_value=1, max_value=20, initial=1
    )
    days = forms.IntegerField(
        label=gettext_lazy("Search days"), min_value=1, max_value=60, required=False
    )

    def __init__(
        self,
        *args: Any,
        category: str = "",
        known: dict[str, Skill] | None = None,
        **kwargs: Any,
    ) -> None:
        kind = kind_for(category)
        _label, skills, minutes = WORK_KINDS[kind]
        kwargs.setdefault(
            "initial",
            {
                "kind": kind,
                "skills": list(skills),
                "duration_minutes": minutes,
                "members": 1,
                "days": offer_days(),
            },
        )
        super().__init__(*args, **kwargs)
        known = known if known is not None else known_skills()
        skills_field, kind_field = self.fields["skills"], self.fields["kind"]
        assert isinstance(skills_field, forms.MultipleChoiceField)
        assert isinstance(kind_field, forms.ChoiceField)
        skills_field.choices = [(code, skill.label) for code, skill in known.items()]
        kind_field.choices = [(key, label) for key, (label, _s, _m) in WORK_KINDS.items()]
        # desk.js reads the presets from the options.
        self.presets: dict[str, dict[str, Any]] = {
            key: {"skills": [c for c in codes if c in known], "minutes": minutes}
            for key, (_label, codes, minutes) in WORK_KINDS.items()
        }
        initial_skills = self.initial.get("skills") or []
        self.initial["skills"] = [code for code in initial_skills if code in known]

    def kind_options(self) -> list[dict[str, Any]]:
        """The kinds of work with their presets, for the select (desk.js applies them)."""
        chosen = self["kind"].value()
        return [
            {
                "value": key,
                "label": label,
                "skills": ",".join(self.presets[key]["skills"]),
                "minutes": self.presets[key]["minutes"],
                "selected": key == chosen,
            }
            for key, (label, _codes, _minutes) in WORK_KINDS.items()
        ]


def known_skills() -> dict[str, Skill]:
    return {skill.code: skill for skill in Skill.objects.order_by("code")}


def slot_promises(calls: Any) -> dict[int, SlotBooking]:
    """Call id -> the current slot of the job its booking leads to, in one query.

    Calls without a booking, or whose job has no current slot, are left out.
    The current slot is the last promise made, whichever call made it (a job
    booked again shows its new slot on every call linked to it). Each slot
    carries ``state``: where the promised visit stands now (:func:`promise_state`).
    """
    calls_of: dict[int, list[int]] = {}
    for view in calls:
        if view.booking:
            calls_of.setdefault(view.booking.job_id, []).append(view.call.pk)
    if not calls_of:
        return {}
    slots = (
        SlotBooking.objects.filter(job_id__in=calls_of, status__in=CURRENT_SLOT_STATUSES)
        .select_related("crew__company", "job")
        .annotate(on_schedule=Exists(live_visits().filter(job_id=OuterRef("job_id"))))
    )
    promised: dict[int, SlotBooking] = {}
    for slot in slots:
        slot.state = promise_state(slot)  # type: ignore[attr-defined]
        for call_id in calls_of[slot.job_id]:
            promised[call_id] = slot
    return promised


def job_promises(jobs: list[Job]) -> dict[int, list[SlotBooking]]:
    """Job id -> every slot promised for it, newest first, in one query.

    The first is the current promise unless it was replaced; the others are
    what the customer was told before (the card's "Earlier promise" lines).
    """
    if not jobs:
        return {}
    history: dict[int, list[SlotBooking]] = {}
    slots = (
        SlotBooking.objects.filter(job_id__in=[job.pk for job in jobs])
        .select_related("crew__company", "job", "booked_by")
        .annotate(on_schedule=Exists(live_visits().filter(job_id=OuterRef("job_id"))))
        .order_by("-booked_at", "-pk")
    )
    for slot in slots:
        slot.state = promise_state(slot)  # type: ignore[attr-defined]
        history.setdefault(slot.job_id, []).append(slot)
    return history


def promise_state(slot: SlotBooking) -> str:
    """Where the promised visit stands now, in the operator's language.

    The booking's status records how the slot went onto the schedule and
    stays so; a visit that left it since (not finished, cancelled, dropped by
    a revision) must not read "on the live schedule" to an operator with the
    customer on the line. ``slot.on_schedule`` comes from :func:`slot_promises`.
    """
    if slot.status in (SlotBookingStatus.REPLACED, SlotBookingStatus.WITHDRAWN):
        return str(slot.get_status_display())
    if getattr(slot, "on_schedule", False):
        return str(SlotBookingStatus.LIVE.label)
    if slot.status == SlotBookingStatus.PENDING and slot.job.status == JobStatus.READY:
        return str(SlotBookingStatus.PENDING.label)
    return _("Off the schedule")


def _desk_url(site_id: int, anchor: str = "", **params: Any) -> str:
    query = {key: value for key, value in {"site": site_id, **params}.items() if value}
    return (
        reverse("support:desk")
        + "?"
        + urlencode(query, doseq=True)
        + (f"#{anchor}" if anchor else "")
    )


def _call(pk: int) -> Call:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(Call.objects.select_related("site"), pk=pk)


@require_GET
@roles_required(Role.SUPPORT, Role.COORDINATOR)
def slot_offers_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The desk with this call's slot offers open (a GET: asking writes nothing)."""
    from .views import _render_desk

    call = _call(pk)
    form = SlotForm(request.GET, category=call.category, auto_id=f"id_slot{pk}_%s")
    answer: SlotOffers | None = None
    error = ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            answer = slot_offers(
                slot_request(
                    site=call.site,
                    skills=data["skills"],
                    duration_minutes=data["duration_minutes"],
                    members=data["members"],
                    days=data.get("days"),
                )
            )
        except DomainError as exc:
            if exc.field and exc.field in form.fields:
                form.add_error(exc.field, str(exc))
            else:
                error = str(exc)
    hidden: list[tuple[str, Any]] = []
    if form.is_valid():
        data = form.cleaned_data
        hidden = [("skills", code) for code in data["skills"]]
        hidden += [
            ("duration_minutes", data["duration_minutes"]),
            ("members", data["members"]),
            ("kind", data.get("kind") or ""),
        ]
    slot = {"call": call.pk, "form": form, "answer": answer, "error": error, "hidden": hidden}
    return _render_desk(
        request, status=200 if form.is_valid() else 400, site_id=call.site_id, slot=slot
    )


def promise_text(slot: SlotBooking) -> str:
    """What to tell the customer, in the operator's language."""
    return _("%(day)s, the crew arrives between %(start)s and %(end)s (%(company)s).") % {
        "day": day_label(slot.date),
        "start": slot.window_start.strftime("%H:%M"),
        "end": slot.window_end.strftime("%H:%M"),
        "company": slot.crew.company.name,
    }


@require_POST
@roles_required(Role.SUPPORT)
def slot_book_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Book the offered slot; answer with what to tell the customer."""
    import datetime as dt

    call = _call(pk)
    post = request.POST
    anchor = f"call-{pk}"
    again = {
        "kind": post.get("kind", ""),
        "skills": post.getlist("skills"),
        "duration_minutes": post.get("duration_minutes", ""),
        "members": post.get("members", "1"),
    }
    try:
        booking = slot_book(
            call=call,
            by=request.user,  # type: ignore[arg-type]
            crew_id=int(post.get("crew", "0")),
            date=dt.date.fromisoformat(post.get("date", "")),
            window_start=dt.time.fromisoformat(post.get("window_start", "")),
            window_end=dt.time.fromisoformat(post.get("window_end", "")),
            skills=post.getlist("skills"),
            duration_minutes=post.get("duration_minutes", ""),
            members=post.get("members", "1"),
        )
    except SlotTaken:
        messages.warning(
            request, _("This slot was taken meanwhile. Here are the slots still free.")
        )
        url = reverse("support:slot-offers", args=[pk]) + "?" + urlencode(again, doseq=True)
        return redirect(url + f"#{anchor}")
    except AlreadyBooked as exc:
        messages.warning(
            request,
            _("This call already booked visit %(reference)s.")
            % {"reference": exc.booking.job.reference},
        )
        return redirect(_desk_url(call.site_id, anchor))
    except DuplicateBooking as exc:
        messages.warning(
            request,
            _(
                "Open jobs exist for this site: %(references)s. Use “Book a maintenance visit” "
                "to attach the call to one or to create a new job anyway."
            )
            % {"references": ", ".join(item.job.reference for item in exc.open_jobs)},
        )
        return redirect(_desk_url(call.site_id, anchor))
    except (DomainError, ValueError) as exc:
        messages.error(request, str(exc))
        return redirect(_desk_url(call.site_id, anchor))
    slot = current_slot_booking(booking.job)
    assert slot is not None  # held by slot_book in the same transaction
    messages.success(
        request,
        _("Slot booked as %(reference)s. Tell the customer: %(promise)s")
        % {"reference": booking.job.reference, "promise": promise_text(slot)},
    )
    return redirect(_desk_url(call.site_id, anchor))


# --- A new slot for a job already in the queue -----------------------------------------


def calls_to_link(card_calls: Any, job: Job) -> list[Call]:
    """The card's calls that may be linked to ``job`` when it is booked again, newest first.

    A call that booked nothing yet, or is linked to this job already; a call
    that booked another job keeps that link.
    """
    return [
        view.call for view in card_calls if view.booking is None or view.booking.job_id == job.pk
    ]


def _job(pk: int) -> Job:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(Job.objects.select_related("site"), pk=pk)


def _call_choice(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


@require_GET
@roles_required(Role.SUPPORT, Role.COORDINATOR)
def job_slot_offers_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The desk with the earliest slots for this job (its own skills, members, duration).

    A GET: asking writes nothing. A job not waiting in the queue answers
    409 with why, on the card.
    """
    from .views import _render_desk

    job = _job(pk)
    answer: SlotOffers | None = None
    error = ""
    status = 200
    try:
        answer = job_slot_offers(job, days=request.GET.get("days") or None)
    except DomainError as exc:
        error, status = str(exc), exc.status
    current = current_slot_booking(job)
    job_slot: dict[str, Any] = {
        "job": job.pk,
        "answer": answer,
        "error": error,
        "replaces": current.pk if current is not None else "",
    }
    if "call" in request.GET:  # else the card links the newest call it may
        job_slot["call"] = _call_choice(request.GET.get("call"))
    return _render_desk(request, status=status, site_id=job.site_id, job_slot=job_slot)


@require_POST
@roles_required(Role.SUPPORT)
def job_slot_book_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Book the offered slot for this job; answer with what to tell the customer."""
    import datetime as dt

    from django.core.exceptions import ValidationError

    job = _job(pk)
    post = request.POST
    anchor = f"job-{pk}"
    call_id = _call_choice(post.get("call"))
    try:
        slot = slot_rebook(
            job=job,
            by=request.user,  # type: ignore[arg-type]
            crew_id=int(post.get("crew", "0")),
            date=dt.date.fromisoformat(post.get("date", "")),
            window_start=dt.time.fromisoformat(post.get("window_start", "")),
            window_end=dt.time.fromisoformat(post.get("window_end", "")),
            replaces=_call_choice(post.get("replaces")),
            call=Call.objects.filter(pk=call_id).first() if call_id else None,
        )
    except SlotTaken:
        messages.warning(
            request, _("This slot was taken meanwhile. Here are the slots still free.")
        )
        query = urlencode({"call": call_id} if call_id else {})
        url = reverse("support:job-slot-offers", args=[pk]) + (f"?{query}" if query else "")
        return redirect(url + f"#{anchor}")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_desk_url(job.site_id, anchor))
    except (DomainError, ValueError) as exc:
        messages.error(request, str(exc))
        return redirect(_desk_url(job.site_id, anchor))
    messages.success(
        request,
        _("New slot booked for %(reference)s. Tell the customer: %(promise)s")
        % {"reference": job.reference, "promise": promise_text(slot)},
    )
    return redirect(_desk_url(job.site_id, anchor))
