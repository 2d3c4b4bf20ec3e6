"""Server-rendered pages. Thin: they call the same selectors as the API."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accounts.access import roles_required
from accounts.models import Role
from delivery.orders import Stage, open_orders
from dispatch.models import CompletionFacts, FactsStatus
from sites.models import Region

STAGE_LABELS = {
    Stage.SURVEY_MISSING: _("Survey missing"),
    Stage.PERMISSION_PENDING: _("Permission pending"),
    Stage.NOT_PLANNED: _("Not planned"),
    Stage.PLANNED: _("Planned"),
    Stage.INCOMPLETE_VISIT: _("Incomplete visit"),
    Stage.IN_PROGRESS: _("On site"),
    Stage.IP_BILLING_PENDING: _("IP / billing pending"),
    Stage.READY_FOR_HANDOVER: _("Ready for handover"),
}


@roles_required(Role.COORDINATOR, Role.SUPPORT)
def orders(request: HttpRequest) -> HttpResponse:
    """Every open order with its stage and blocker, filterable by team, region, stage and text."""
    team = request.GET.get("team", "")
    region = request.GET.get("region", "")
    stage = request.GET.get("stage", "")
    search = request.GET.get("q", "").strip()
    every = open_orders(
        team=int(team) if team in {"1", "2", "3", "4"} else None,
        region=region or None,
        search=search or None,
    )
    counts = dict.fromkeys(Stage.ALL, 0)
    for order in every:
        counts[order.stage] += 1
    shown = [order for order in every if not stage or order.stage == stage]
    return render(
        request,
        "web/orders.html",
        {
            "orders": shown,
            "stages": [(name, STAGE_LABELS[name], counts[name]) for name in Stage.ALL],
            "stage_labels": STAGE_LABELS,
            "regions": Region.objects.order_by("code"),
            "filters": {"team": team, "region": region, "stage": stage, "q": search},
            "total": len(every),
            # Delivery decides what crews recorded on finishing (web/facts.py).
            "facts_waiting": CompletionFacts.objects.filter(status=FactsStatus.PROPOSED).count()
            if getattr(request.user, "role", None) == Role.COORDINATOR
            else 0,
        },
    )
