"""The hand-off inbox page: a team's (or my own) hand-offs, oldest and overdue first.

``/support/inbox/?team=delivery`` or ``?mine=1``; ``status`` is ``active``
(open and acknowledged, the default), ``open``, ``acknowledged`` or ``done``;
``overdue=1`` keeps the late ones. Support operators and coordinators read
every inbox; receivers (team members, the named person) acknowledge and
finish with an optional note (post/redirect/get back to the same inbox).
A refused action (acknowledged meanwhile by a colleague, superseded by an
amendment, not a receiver) shows the inbox again with the reason (409/403).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.access import roles_required
from accounts.models import User

from .inbox import (
    INBOX_ROLES,
    TEAMS,
    HandoffRefused,
    HandoffView,
    current_handoffs,
    handoff_acknowledge,
    handoff_done,
    handoff_history,
    inbox,
    may_act,
    teams_of,
)
from .models import Call, HandoffStatus, HandoffTeam

ACTIVE = "active"
STATUS_CHOICES = (
    (ACTIVE, gettext_lazy("Open and acknowledged")),
    (HandoffStatus.OPEN, gettext_lazy("Open")),
    (HandoffStatus.ACKNOWLEDGED, gettext_lazy("Acknowledged")),
    (HandoffStatus.DONE, gettext_lazy("Done")),
)
STATUSES = {
    ACTIVE: (HandoffStatus.OPEN, HandoffStatus.ACKNOWLEDGED),
    HandoffStatus.OPEN: (HandoffStatus.OPEN,),
    HandoffStatus.ACKNOWLEDGED: (HandoffStatus.ACKNOWLEDGED,),
    HandoffStatus.DONE: (HandoffStatus.DONE,),
}


class InboxFilter(forms.Form):
    team = forms.ChoiceField(
        label=gettext_lazy("Team"),
        choices=[(t.value, t.label) for t in HandoffTeam if t.value],
        required=False,
    )
    mine = forms.BooleanField(label=gettext_lazy("Handed off to me"), required=False)
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=STATUS_CHOICES, required=False)
    overdue = forms.BooleanField(label=gettext_lazy("Overdue only"), required=False)


class ActionForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Note (optional)"), max_length=300, required=False)
    handoff = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
    back = forms.CharField(max_length=300, required=False, widget=forms.HiddenInput)


def _open_counts(now: Any) -> dict[str, int]:
    """Open (unacknowledged) hand-offs per team, for the team tabs; one query."""
    rows = (
        current_handoffs(now=now)
        .filter(handoff_status=HandoffStatus.OPEN)  # type: ignore[misc]
        .exclude(team="")
        .order_by()
        .values("team")
        .annotate(n=Count("id"))
        .values_list("team", "n")
    )
    return dict(rows)


def _history(views: list[HandoffView]) -> dict[int, list[Any]]:
    """Earlier hand-offs of each call (an amendment changed the team), with their events."""
    history = handoff_history(view.handoff.call_id for view in views)
    return {
        view.handoff.pk: [
            h for h in history.get(view.handoff.call_id, []) if h.pk != view.handoff.pk
        ]
        for view in views
    }


def _errors_text(form: forms.Form) -> str:
    return "; ".join(
        f"{name}: {' '.join(str(error) for error in errors)}"
        for name, errors in form.errors.items()
    )


def _render_inbox(request: HttpRequest, *, status: int = 200, error: str = "") -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = InboxFilter(request.GET or None)
    if request.GET and not form.is_valid():
        return HttpResponseBadRequest(_errors_text(form))
    data = form.cleaned_data if request.GET else {}
    my_teams = teams_of(user)
    mine = bool(data.get("mine")) or (not data.get("team") and not my_teams)
    team = "" if mine else (data.get("team") or my_teams[0])
    chosen = data.get("status") or ACTIVE
    now = timezone.now()
    views = inbox(
        team=team or None,
        user_id=user.pk if mine else None,
        statuses=STATUSES[chosen],
        overdue=True if data.get("overdue") else None,
        now=now,
    )
    earlier = _history(views)
    query = request.GET.urlencode()
    items = [
        {
            "view": view,
            "call": view.handoff.call,
            "earlier": earlier.get(view.handoff.pk, []),
            "may_act": may_act(user, view.handoff),
        }
        for view in views
    ]
    counts = _open_counts(now)
    tabs = [
        {"team": value, "label": HandoffTeam(value).label, "open": counts.get(value, 0)}
        for value in TEAMS
    ]
    context = {
        "form": form,
        "items": items,
        "team": team,
        "team_label": HandoffTeam(team).label if team else "",
        "mine": mine,
        "my_teams": my_teams,
        "tabs": tabs,
        "status": chosen,
        "status_choices": STATUS_CHOICES,
        "overdue_only": bool(data.get("overdue")),
        "back": reverse("support:inbox") + (f"?{query}" if query else ""),
        "error": error,
        "now": now,
    }
    return render(request, "support/inbox.html", context, status=status)


@require_GET
@roles_required(*INBOX_ROLES)
def inbox_page(request: HttpRequest) -> HttpResponse:
    return _render_inbox(request)


def _back(url: str) -> str:
    """Only back to the inbox itself (no open redirect through the form)."""
    inbox_url = reverse("support:inbox")
    return url if url.startswith(inbox_url) and "//" not in url else inbox_url


def _act(request: HttpRequest, pk: int, to: str) -> HttpResponse:
    call = get_object_or_404(Call, pk=pk)
    form = ActionForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_errors_text(form))
    data = form.cleaned_data
    act = handoff_acknowledge if to == HandoffStatus.ACKNOWLEDGED else handoff_done
    back = _back(data["back"])
    try:
        act(call=call, by=request.user, note=data["note"], handoff_id=data["handoff"])  # type: ignore[arg-type]
    except HandoffRefused as exc:
        request.GET = QueryDict(urlsplit(back).query)  # the inbox the operator came from
        return _render_inbox(request, status=exc.status, error=str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    done = (
        _("Hand-off of call %(call)s acknowledged.")
        if to == HandoffStatus.ACKNOWLEDGED
        else _("Hand-off of call %(call)s done.")
    )
    messages.success(request, done % {"call": call.pk})
    return redirect(back)


@require_POST
@roles_required(*INBOX_ROLES)
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, HandoffStatus.ACKNOWLEDGED)


@require_POST
@roles_required(*INBOX_ROLES)
def done(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, HandoffStatus.DONE)


def inbox_url(team: str = "", **params: Any) -> str:
    """The inbox of ``team`` (for links from other pages: the board, the desk)."""
    query = {"team": team, **params} if team else params
    return reverse("support:inbox") + (f"?{urlencode(query)}" if query else "")
