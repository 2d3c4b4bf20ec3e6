"""Delivery's page for the facts crews recorded when they finished: confirm or reject.

A crew's 完了 may carry what support will need (media converter serial, port,
light level, a note); it waits as a proposal until delivery decides, as the
handover API does (:mod:`delivery.handover`). This page lists the proposals,
oldest first, so a coordinator can decide them without an API client.
Confirming writes a new version of the as-built record; rejecting needs a
reason. Both are final (a second decision is refused with the reason why).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import roles_required
from accounts.models import Role
from core.errors import DomainError
from delivery.handover import completion_facts_confirm, completion_facts_reject
from dispatch.models import CompletionFacts, FactsStatus

coordinators = roles_required(Role.COORDINATOR)

#: How many proposals the page lists (oldest first); the API pages through all.
SHOWN = 200


@coordinators
@require_GET
def facts_list(request: HttpRequest) -> HttpResponse:
    """Proposals waiting for delivery, oldest first, with the latest decisions below."""
    pending = (
        CompletionFacts.objects.filter(status=FactsStatus.PROPOSED)
        .select_related("job", "site", "crew", "company")
        .order_by("proposed_at", "id")[:SHOWN]
    )
    decided = (
        CompletionFacts.objects.exclude(status=FactsStatus.PROPOSED)
        .select_related("job", "site", "company", "decided_by")
        .order_by("-decided_at", "-id")[:20]
    )
    return render(request, "web/facts.html", {"pending": pending, "decided": decided})


@coordinators
@require_POST
def facts_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """``decision=confirm`` or ``decision=reject`` (with a ``reason``)."""
    facts = get_object_or_404(CompletionFacts.objects.select_related("job"), pk=pk)
    decision = request.POST.get("decision")
    reason = request.POST.get("reason", "").strip()
    if decision == "reject" and not reason:
        messages.error(request, _("Say why the facts are rejected."))
        return redirect("web:facts")
    try:
        if decision == "confirm":
            completion_facts_confirm(facts=facts, by=request.user)  # type: ignore[arg-type]
            messages.success(
                request,
                _("The facts of %(job)s are in the as-built record.")
                % {"job": facts.job.reference},
            )
        elif decision == "reject":
            completion_facts_reject(facts=facts, by=request.user, reason=reason)  # type: ignore[arg-type]
            messages.success(
                request, _("The facts of %(job)s were rejected.") % {"job": facts.job.reference}
            )
        else:
            return HttpResponse(status=400)
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("web:facts")
