"""The support desk page: search, card and call form on one screen, keyboard first.

Thin like the API views: forms check types, services (``support.services``)
check rules and write, selectors read. Every write answers with a redirect
back to the desk showing the same site (post/redirect/get), so a reload
never logs a call twice. The search box and the card are also served as
fragments that ``desk.js`` swaps in while the operator types.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.access import roles_required
from accounts.models import Role, User
from dispatch.models import CURRENT_SLOT_STATUSES
from dispatch.states import JobStatus
from sites.models import Site
from sites.photos import site_photos

from .forms import AmendForm, BookForm, CallForm
from .inbox import current_handoff_views
from .models import BookingDecision, Call, CallAmendment, FaultIsolation, HandoffTeam
from .search import cached_site_search
from .selectors import Grouping, OpenJob, SiteCard, open_jobs_for, recurring_issues, site_card
from .services import (
    AlreadyBooked,
    DuplicateBooking,
    call_amend,
    call_log,
    maintenance_book,
)
from .slot_pages import SlotForm, calls_to_link, job_promises, known_skills, slot_promises

FAULT_LABELS = dict(FaultIsolation.choices)
HANDOFF_LABELS = dict(HandoffTeam.choices)
READERS = (Role.SUPPORT, Role.COORDINATOR)
WRITERS = (Role.SUPPORT,)


def _desk_url(site_id: int | None, query: str = "", anchor: str = "") -> str:
    params = {key: value for key, value in (("q", query), ("site", site_id)) if value}
    url = reverse("support:desk") + (f"?{urlencode(params)}" if params else "")
    return url + (f"#{anchor}" if anchor else "")


def _apply_errors(
    form: Form, error: ValidationError, aliases: dict[str, str] | None = None
) -> None:
    """Show a service's field errors next to the form's own fields."""
    for field, messages_ in error.message_dict.items():
        name = (aliases or {}).get(field, field.removeprefix("corrections."))
        shown = set(form.errors.get(name, [])) if name in form.fields else set()
        new = [message for message in messages_ if message not in shown]
        if new:
            form.add_error(name if name in form.fields else None, new)


def _corrections_text(corrections: dict[str, Any]) -> str:
    """``{"fault_isolation": "customer_side"}`` as the operator reads it: label: value."""
    parts = []
    for name, value in (corrections or {}).items():
        label = getattr(Call._meta.get_field(name), "verbose_name", name)
        shown = (
            {**FAULT_LABELS, **HANDOFF_LABELS}.get(value, value) if name != "description" else ""
        )
        if isinstance(value, bool):
            shown = _("yes") if value else _("no")
        parts.append(f"{label}: {shown}" if shown else str(label))
    return "; ".join(parts)


def _card_context(
    request: HttpRequest,
    card: SiteCard,
    *,
    call_form: CallForm | None = None,
    bound: dict[str, Form] | None = None,
    open_jobs: dict[int, list[OpenJob]] | None = None,
    slot: dict[str, Any] | None = None,
    job_slot: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The card plus one amend and one booking form per call (bound ones keep their errors).

    ``open_jobs`` (call id -> open jobs) are shown in that call's booking
    form, with the choice between attaching the call and a new job anyway.
    ``job_slot`` is the "New visit slot" answer of one job of the card.
    """
    bound = bound or {}
    open_jobs = open_jobs or {}
    handoffs = current_handoff_views([view.call.pk for view in card.calls])
    promised = slot_promises(card.calls)  # what each booked slot promised the customer
    skills = known_skills() if any(not view.booking for view in card.calls) else {}
    calls = []
    for view in card.calls:
        pk = view.call.pk
        calls.append(
            {
                "view": view,
                "amend_form": bound.get(f"amend-{pk}") or AmendForm(prefix=f"amend-{pk}"),
                "book_form": bound.get(f"book-{pk}") or BookForm(prefix=f"book-{pk}"),
                "open_jobs": open_jobs.get(pk, []),
                "open_jobs_of_contract": view.call.contract_id is not None,
                # Labels of the call as amended, not as first logged.
                "fault_label": FAULT_LABELS.get(view.current["fault_isolation"], ""),
                "handoff_label": HANDOFF_LABELS.get(view.current["handoff_team"], ""),
                "handoff": handoffs.get(pk),  # its status in the receivers' inbox
                "slot_form": SlotForm(
                    category=view.current["category"], known=skills, auto_id=f"id_slot{pk}_%s"
                )
                if not view.booking
                else None,
                "slot": slot if slot and slot["call"] == pk else None,
                "promised": promised.get(pk),
                "amendments": [(a, _corrections_text(a.corrections)) for a in view.amendments],
            }
        )
    history = job_promises(card.jobs)  # every slot promised per job, newest first
    jobs = []
    for job in card.jobs:
        promises = history.get(job.pk, [])
        current = next((p for p in promises if p.status in CURRENT_SLOT_STATUSES), None)
        links = calls_to_link(card.calls, job) if job.status == JobStatus.READY else []
        asked = job_slot if job_slot and job_slot["job"] == job.pk else None
        # The newest call that may be linked, unless the operator chose.
        call = asked["call"] if asked and "call" in asked else (links[0].pk if links else None)
        jobs.append(
            {
                "job": job,
                "current": current,
                "earlier": [p for p in promises if p is not current],
                # A job waiting in the queue may get a new slot from the call.
                "rebookable": job.status == JobStatus.READY,
                "calls": links,
                "call": call,
                "slot": asked,
                # What "Book this slot" sends besides the offer.
                "hidden": [("replaces", asked["replaces"] if asked else ""), ("call", call or "")],
            }
        )
    return {
        "card": card,
        "calls": calls,
        "jobs": jobs,
        "call_form": call_form or CallForm(site=card.site),
        "photos": site_photos(card.site.pk),  # the crews' photos, in the as-built section
        "can_write": getattr(request.user, "role", None) in WRITERS,
    }


@require_GET
@roles_required(*READERS)
def desk(request: HttpRequest) -> HttpResponse:
    """The whole desk; ``?q=`` runs a search, ``?site=`` opens a card (links work without JS)."""
    return _render_desk(request)


def _render_desk(
    request: HttpRequest, *, status: int = 200, site_id: int | None = None, **card_kwargs: Any
) -> HttpResponse:
    query = (request.GET.get("q") or request.POST.get("q") or "").strip()
    raw_site = request.GET.get("site", "")
    site_id = site_id or (int(raw_site) if raw_site.isdigit() else None)
    result = cached_site_search(query) if query else None
    context: dict[str, Any] = {"query": query, "result": result}
    if site_id is not None:
        try:
            context.update(_card_context(request, site_card(site_id=site_id), **card_kwargs))
        except Site.DoesNotExist:
            raise Http404("no such site") from None
    context["recurring"] = recurring_issues(days=30, min_calls=3, group=Grouping.SITE, limit=5)
    return render(request, "support/desk.html", context, status=status)


@require_GET
@roles_required(*READERS)
def search_fragment(request: HttpRequest) -> HttpResponse:
    """The result list alone, for the search-as-you-type script."""
    query = request.GET.get("q", "").strip()
    result = cached_site_search(query) if query else None
    return render(request, "support/_results.html", {"query": query, "result": result})


@require_GET
@roles_required(*READERS)
def card_fragment(request: HttpRequest, pk: int) -> HttpResponse:
    """The card (and the call form) alone, opened from the result list."""
    try:
        card = site_card(site_id=pk)
    except Site.DoesNotExist:
        raise Http404("no such site") from None
    return render(request, "support/_card.html", _card_context(request, card))


def _query_of(request: HttpRequest) -> str:
    return request.POST.get("q", "").strip()


@require_POST
@roles_required(*WRITERS)
def log_call(request: HttpRequest, pk: int) -> HttpResponse:
    site = get_object_or_404(Site, pk=pk)
    form = CallForm(request.POST, site=site)
    if form.is_valid():
        data = form.cleaned_data
        user: User = request.user  # type: ignore[assignment]
        try:
            call = call_log(
                site=site,
                operator=user,
                contract=data["contract"],
                caller_name=data["caller_name"],
                caller_phone=data["caller_phone"],
                category=data["category"],
                fault_isolation=data["fault_isolation"],
                description=data["description"],
                handoff_team=data["handoff_team"],
                handoff_user=data["handoff_user"],
                handoff_note=data["handoff_note"],
                follow_up_needed=data["follow_up_needed"],
                follow_up_due=data["follow_up_due"],
                follow_up_note=data["follow_up_note"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("Call logged."))
            return redirect(_desk_url(site.pk, _query_of(request), f"call-{call.pk}"))
    return _render_desk(request, status=400, site_id=site.pk, call_form=form)


def _call_of(pk: int) -> Call:
    return get_object_or_404(
        Call.objects.prefetch_related(
            Prefetch("amendments", queryset=CallAmendment.objects.order_by("created_at"))
        ),
        pk=pk,
    )


@require_POST
@roles_required(*WRITERS)
def amend_call(request: HttpRequest, pk: int) -> HttpResponse:
    call = _call_of(pk)
    form = AmendForm(request.POST, prefix=f"amend-{pk}")
    if form.is_valid():
        try:
            call_amend(
                call=call,
                author=request.user,  # type: ignore[arg-type]
                text=form.cleaned_data["text"],
                corrections=form.corrections(),
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("Amendment added."))
            return redirect(_desk_url(call.site_id, _query_of(request), f"call-{pk}"))
    return _render_desk(request, status=400, site_id=call.site_id, bound={f"amend-{pk}": form})


_BOOKED_MESSAGES = {
    BookingDecision.CREATED: gettext_lazy(
        "Maintenance visit %(reference)s booked; it is in the coordinators' queue."
    ),
    BookingDecision.ATTACHED: gettext_lazy(
        "Call attached to open job %(reference)s; no new job was created."
    ),
    BookingDecision.CREATED_ANYWAY: gettext_lazy(
        "Maintenance visit %(reference)s booked beside the open jobs; your reason is recorded."
    ),
}


@require_POST
@roles_required(*WRITERS)
def book_visit(request: HttpRequest, pk: int) -> HttpResponse:
    """Book a visit; when open jobs exist, show them and ask: attach the call, or a new job?"""
    call = _call_of(pk)
    form = BookForm(request.POST, prefix=f"book-{pk}")
    status = 400
    found: list[OpenJob] | None = None
    if form.is_valid():
        data = form.cleaned_data
        create_anyway = form.create_anyway()
        try:
            booking = maintenance_book(
                call=call,
                by=request.user,  # type: ignore[arg-type]
                priority=data["priority"],
                due_date=data["due_date"],
                earliest_date=data["earliest_date"],
                duration_minutes=data["duration_minutes"],
                attach_to_job=form.attach_to_job(),
                create_anyway=create_anyway,
                reason=data["reason"] if create_anyway else "",
            )
        except AlreadyBooked as exc:
            messages.warning(
                request,
                _("This call already booked visit %(reference)s.")
                % {"reference": exc.booking.job.reference},
            )
            return redirect(_desk_url(call.site_id, _query_of(request), f"call-{pk}"))
        except DuplicateBooking as exc:
            status, found = 409, exc.open_jobs
        except ValidationError as error:
            _apply_errors(
                form, error, aliases={"attach_to_job": "choice", "create_anyway": "choice"}
            )
        else:
            messages.success(
                request,
                _BOOKED_MESSAGES[BookingDecision(booking.decision)]
                % {"reference": booking.job.reference},
            )
            return redirect(_desk_url(call.site_id, _query_of(request), f"call-{pk}"))
    if found is None:  # the choice stays on screen while the operator corrects the form
        found = open_jobs_for(site=call.site, contract=call.contract)
    return _render_desk(
        request,
        status=status,
        site_id=call.site_id,
        bound={f"book-{pk}": form},
        open_jobs={pk: found} if found else None,
    )
