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
from dispatch.models import Skill, SlotBooking, SlotBookingStatus
from dispatch.slots import SlotOffers, SlotTaken, offer_days, slot_offers, slot_request
from dispatch.states import JobStatus
from dispatch.texts import day_label

from .models import Call, CallCategory
from .services import AlreadyBooked, DuplicateBooking, slot_book

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
    """Call id -> the slot its booking promised, in one query (calls without one are left out).

    Each slot carries ``state``: where the promised visit stands now (:func:`promise_state`).
    """
    jobs = {view.booking.job_id: view.call.pk for view in calls if view.booking}
    if not jobs:
        return {}
    slots = (
        SlotBooking.objects.filter(job_id__in=jobs)
        .select_related("crew__company", "job")
        .annotate(on_schedule=Exists(live_visits().filter(job_id=OuterRef("job_id"))))
    )
    promised = {}
    for slot in slots:
        slot.state = promise_state(slot)  # type: ignore[attr-defined]
        promised[jobs[slot.job_id]] = slot
    return promised


def promise_state(slot: SlotBooking) -> str:
    """Where the promised visit stands now, in the operator's language.

    The booking's status records how the slot went onto the schedule and
    stays so; a visit that left it since (not finished, cancelled, dropped by
    a revision) must not read "on the live schedule" to an operator with the
    customer on the line. ``slot.on_schedule`` comes from :func:`slot_promises`.
    """
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
    slot = SlotBooking.objects.select_related("crew__company").get(job=booking.job)
    messages.success(
        request,
        _("Slot booked as %(reference)s. Tell the customer: %(promise)s")
        % {"reference": booking.job.reference, "promise": promise_text(slot)},
    )
    return redirect(_desk_url(call.site_id, anchor))
