"""Visit slots during a call: offer the earliest free slots, book one (see :mod:`dispatch.slots`).

``POST /support/calls/{id}/slot-offers/`` answers the three earliest slots
(date, arrival window, partner company, crew) for the call's site in the
live schedule, or why there is none; it writes nothing, so support and
coordinators may ask. ``POST /support/calls/{id}/book-slot/`` books one
(support only): 201 with the booking and the promise, 409 ``slot_taken``
(with fresh ``offers``) when the slot went meanwhile, the booking's usual 409s
(``already_booked``, ``open_job_exists``) otherwise. Partners get 403.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from api.dates import SaneDateField
from dispatch.models import SlotBooking
from dispatch.slots import slot_offers, slot_request
from support.models import Call, MaintenanceBooking
from support.selectors import calls_visible_to
from support.services import AlreadyBooked, DuplicateBooking, slot_book

from ..errors import ApiError
from ..permissions import WRITE
from . import serializers as s

#: Offers write nothing: coordinators may ask too; booking is support's.
OFFER_ROLES = {Role.SUPPORT.value: WRITE, Role.COORDINATOR.value: WRITE}
BOOK_ROLES = {Role.SUPPORT.value: WRITE}


class SlotOfferInput(serializers.Serializer):
    skills = serializers.ListField(
        child=serializers.CharField(max_length=50),
        required=False,
        default=list,
        help_text="Skill codes the visit needs (preset by the call's category, editable).",
    )
    duration_minutes = serializers.IntegerField(
        min_value=5, max_value=480, help_text="Time on site, 5-480 minutes."
    )
    members = serializers.IntegerField(min_value=1, max_value=20, required=False, default=1)
    days = serializers.IntegerField(
        min_value=1,
        max_value=60,
        required=False,
        help_text="Days searched from tomorrow (default SLOT_OFFER_DAYS, 14).",
    )


class SlotBookInput(SlotOfferInput):
    crew = serializers.IntegerField(min_value=1, help_text="The offered slot's crew id.")
    date = SaneDateField(help_text="The offered slot's date.")
    window_start = serializers.TimeField(help_text="The arrival window promised, from (HH:MM).")
    window_end = serializers.TimeField(help_text="The arrival window promised, until (HH:MM).")
    priority = serializers.IntegerField(min_value=1, max_value=5, required=False, default=4)
    create_anyway = serializers.BooleanField(required=False, default=False)
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=200)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["window_start"] >= attrs["window_end"]:
            raise serializers.ValidationError({"window_end": [_("must be after window_start")]})
        return attrs


class _NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class SlotOfferSerializer(serializers.Serializer):
    date = serializers.DateField()
    window_start = serializers.CharField(help_text="Arrival window promised, HH:MM (Asia/Tokyo).")
    window_end = serializers.CharField()
    start = serializers.CharField(help_text="Planned start, HH:MM.")
    planned_start = serializers.DateTimeField()
    planned_end = serializers.DateTimeField()
    crew = _NamedSerializer()
    company = _NamedSerializer()


class _ReasonSerializer(serializers.Serializer):
    rule = serializers.CharField()
    message = serializers.CharField(help_text="In the reader's language.")


class SlotOffersSerializer(serializers.Serializer):
    first_date = serializers.DateField()
    last_date = serializers.DateField()
    skills = serializers.ListField(child=serializers.CharField())
    duration_minutes = serializers.IntegerField()
    members = serializers.IntegerField()
    offers = SlotOfferSerializer(many=True)
    summary = serializers.CharField(help_text="Empty when there are offers.")
    reasons = _ReasonSerializer(many=True, help_text="Why there is no slot, in words.")


class SlotBookingSerializer(serializers.Serializer):
    job = serializers.IntegerField(source="job_id")
    job_reference = serializers.CharField(source="job.reference")
    status = serializers.CharField(help_text="pending (waits for a coordinator) or live.")
    date = serializers.DateField()
    window_start = serializers.TimeField(format="%H:%M")
    window_end = serializers.TimeField(format="%H:%M")
    planned_start = serializers.DateTimeField()
    crew = serializers.IntegerField(source="crew_id")
    crew_name = serializers.CharField(source="crew.name")
    company_name = serializers.CharField(source="crew.company.name")


class SlotBookedSerializer(serializers.Serializer):
    booking = s.BookingSerializer()
    slot = SlotBookingSerializer()


class SlotTakenBodySerializer(s.ErrorSerializer.Body):
    offers = SlotOfferSerializer(many=True, required=False)
    job_id = serializers.IntegerField(required=False)
    open_jobs = s.OpenJobSerializer(many=True, required=False)


class SlotConflictSerializer(serializers.Serializer):
    """409 ``slot_taken`` (with fresh ``offers``), ``already_booked`` or ``open_job_exists``."""

    error = SlotTakenBodySerializer()


def _error(code: int, text: str) -> OpenApiResponse:
    return OpenApiResponse(s.ErrorSerializer, description=text)


_COMMON = {
    400: _error(400, "Invalid input: `fields` names each offending field."),
    401: _error(401, "Not signed in."),
    403: _error(403, "Your role may not use this endpoint."),
    404: _error(404, "No such call."),
}


def _call(request: Request, pk: int) -> Call:
    return get_object_or_404(calls_visible_to(request.user).select_related("site"), pk=pk)


class CallSlotOffersView(APIView):
    """The three earliest free visit slots for the call's site, nothing live moved."""

    roles = OFFER_ROLES

    @extend_schema(
        request=SlotOfferInput,
        responses={200: SlotOffersSerializer, **_COMMON},
        description="Earliest slots (one per crew-day) in the live schedule where the visit "
        "fits without moving a published visit; every hard rule holds. With none, `summary` "
        "and `reasons` say why. Writes nothing.",
    )
    def post(self, request: Request, pk: int) -> Response:
        call = _call(request, pk)
        form = SlotOfferInput(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        answer = slot_offers(
            slot_request(
                site=call.site,
                skills=data["skills"],
                duration_minutes=data["duration_minutes"],
                members=data["members"],
                days=data.get("days"),
            )
        )
        return Response(SlotOffersSerializer(answer.as_dict()).data)


class CallBookSlotView(APIView):
    """Book an offered slot: the maintenance job holding it, with the customer's promise."""

    roles = BOOK_ROLES

    @extend_schema(
        request=SlotBookInput,
        responses={
            201: SlotBookedSerializer,
            **_COMMON,
            409: OpenApiResponse(
                SlotConflictSerializer,
                description="The slot went meanwhile (`slot_taken`, with fresh `offers`), the "
                "call already booked a visit (`already_booked`) or open jobs exist "
                "(`open_job_exists`).",
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        call = _call(request, pk)
        form = SlotBookInput(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            booking: MaintenanceBooking = slot_book(
                call=call,
                by=request.user,
                crew_id=data["crew"],
                date=data["date"],
                window_start=data["window_start"],
                window_end=data["window_end"],
                skills=data["skills"],
                duration_minutes=data["duration_minutes"],
                members=data["members"],
                priority=data["priority"],
                create_anyway=data["create_anyway"],
                reason=data["reason"],
            )
        except AlreadyBooked as exc:
            raise ApiError(409, exc.code, str(exc), job_id=exc.booking.job_id) from exc
        except DuplicateBooking as exc:
            raise ApiError(
                409, exc.code, str(exc), matched_by=exc.matched_by, open_jobs=exc.as_dicts()
            ) from exc
        slot = SlotBooking.objects.select_related("crew__company", "job").get(job=booking.job)
        body = {
            "booking": s.BookingSerializer(booking).data,
            "slot": SlotBookingSerializer(slot).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)
