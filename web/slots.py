"""Slots booked by support during calls, on the coordinators' week board.

The board of a plan lists the slots booked from calls for its dates that wait
for a coordinator (:func:`dispatch.slots.pending_slots`); confirming one puts
the visit on the live schedule (:func:`dispatch.slots.slot_confirm`), after
which it shows in its crew-day like any published visit.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import roles_required
from accounts.models import Role
from core.errors import DomainError
from dispatch.models import SlotBooking
from dispatch.slots import slot_confirm


@require_POST
@roles_required(Role.COORDINATOR)
def confirm_slot(request: HttpRequest, pk: int) -> HttpResponse:
    booking = get_object_or_404(SlotBooking.objects.select_related("job"), pk=pk)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("web:plans")
    try:
        slot_confirm(booking=booking, by=request.user)  # type: ignore[arg-type]
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(reference)s is on the live schedule.") % {"reference": booking.job.reference},
        )
    return redirect(back)
