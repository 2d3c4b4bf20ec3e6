"""Visit slots during a call: offer the earliest free slots, book one (see :mod:`dispatch.slots`).

``POST /support/calls/{id}/slot-offers/`` answers the three earliest slots
(date, arrival window, partner company, crew) for the call's site in the
live schedule, or why there is none; it writes nothing, so support and
coordinators may ask. ``POST /support/calls/{id}/book-slot/`` books one
(support only): 201 with the booking and the promise, 409 ``slot_taken``
(with fresh ``offers``) when the slot went meanwhile, the booking's usual 409s
(``already_booked``, ``open_job_exists``) otherwise. Partners get 403.

A job already in the queue (its visit not finished, its slot lapsed) gets a
new slot without a second job: ``POST /support/jobs/{id}/slot-offers/``
answers the earliest slots for *that* job (its skills, members, duration,
site) with its ``current_slot``; ``POST /support/jobs/{id}/book-slot/``
books one (support only) replacing the ``current_slot`` the operator saw
(``replaces``): 201 with the new slot and the replaced one, 409
``job_not_rebookable`` (field ``job``: live, in progress, done, cancelled or
not ready), ``rebooked_meanwhile`` (field ``replaces``: a colleague was
first) or ``slot_taken``.
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
from dispatch.models import Job, SlotBooking
from dispatch.slots import current_slot_booking, job_slot_offers, slot_offers, slot_request
from support.models import Call, MaintenanceBooking
from support.selectors import calls_visible_to
from support.services import AlreadyBooked, DuplicateBooking, slot_book, slot_rebook

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
    id = serializers.IntegerField(read_only=True)
    job = serializers.IntegerField(source="job_id")
    job_reference = serializers.CharField(source="job.reference")
    status = serializers.CharField(
        help_text="pending (waits for a coordinator), live, or replaced (by a later slot)."
    )
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
        slot = current_slot_booking(booking.job)
        body = {
            "booking": s.BookingSerializer(booking).data,
            "slot": SlotBookingSerializer(slot).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)


# --- A new slot for a job already in the queue ---------------------------------------


class JobSlotOffersInput(serializers.Serializer):
    days = serializers.IntegerField(
        min_value=1,
        max_value=60,
        required=False,
        help_text="Days searched from tomorrow (default SLOT_OFFER_DAYS, 14).",
    )


class _JobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = serializers.CharField()


class JobSlotOffersSerializer(SlotOffersSerializer):
    job = _JobSerializer()
    current_slot = SlotBookingSerializer(
        allow_null=True, help_text="Send its `id` as `replaces` when booking (null: none)."
    )


class JobBookSlotInput(serializers.Serializer):
    crew = serializers.IntegerField(min_value=1, help_text="The offered slot's crew id.")
    date = SaneDateField(help_text="The offered slot's date.")
    window_start = serializers.TimeField(help_text="The arrival window promised, from (HH:MM).")
    window_end = serializers.TimeField(help_text="The arrival window promised, until (HH:MM).")
    replaces = serializers.IntegerField(
        allow_null=True,
        help_text="The `current_slot` id you saw (null when it had none): a colleague who "
        "booked the job meanwhile makes this a 409 `rebooked_meanwhile`.",
    )
    call = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        help_text="The call being answered, at the job's site: linked to the job "
        "(decision `attached`) when it booked nothing yet.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["window_start"] >= attrs["window_end"]:
            raise serializers.ValidationError({"window_end": [_("must be after window_start")]})
        return attrs


class JobSlotBookedSerializer(serializers.Serializer):
    slot = SlotBookingSerializer()
    replaced = SlotBookingSerializer(allow_null=True, help_text="The earlier slot, kept.")
    booking = s.BookingSerializer(allow_null=True, help_text="The call's link to the job.")


def _job(pk: int) -> Job:
    return get_object_or_404(Job.objects.select_related("site"), pk=pk)


def _slot_data(slot: SlotBooking | None) -> dict[str, Any] | None:
    return SlotBookingSerializer(slot).data if slot is not None else None


_REBOOK_CONFLICT = OpenApiResponse(
    SlotConflictSerializer,
    description="The job is not waiting in the queue (`job_not_rebookable`, field `job`, "
    "with `current_status`), a colleague booked it meanwhile (`rebooked_meanwhile`, field "
    "`replaces`, with `current_slot`) or the slot went (`slot_taken`, with fresh `offers`).",
)


class JobSlotOffersView(APIView):
    """The earliest free slots for a job already in the queue, for its own needs."""

    roles = OFFER_ROLES

    @extend_schema(
        request=JobSlotOffersInput,
        responses={200: JobSlotOffersSerializer, **_COMMON, 409: _REBOOK_CONFLICT},
        description="For a job waiting in the queue (ready): a visit not finished, a slot "
        "that lapsed. Its skills, members, duration and site; its own held slot does not "
        "count. `current_slot` is what the customer was promised last. Writes nothing.",
    )
    def post(self, request: Request, pk: int) -> Response:
        job = _job(pk)
        form = JobSlotOffersInput(data=request.data)
        form.is_valid(raise_exception=True)
        answer = job_slot_offers(job, days=form.validated_data.get("days"))
        body = {
            **answer.as_dict(),
            "job": {"id": job.pk, "reference": job.reference, "status": job.status},
            "current_slot": current_slot_booking(job),
        }
        return Response(JobSlotOffersSerializer(body).data)


class JobBookSlotView(APIView):
    """Book an offered slot for a job in the queue: the new promise, the earlier one kept."""

    roles = BOOK_ROLES

    @extend_schema(
        request=JobBookSlotInput,
        responses={201: JobSlotBookedSerializer, **_COMMON, 409: _REBOOK_CONFLICT},
    )
    def post(self, request: Request, pk: int) -> Response:
        job = _job(pk)
        form = JobBookSlotInput(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        call = None
        if data.get("call") is not None:
            call = calls_visible_to(request.user).filter(pk=data["call"]).first()
            if call is None:
                raise ApiError(
                    400, "invalid", _("no such call"), fields={"call": [_("no such call")]}
                )
        replaces = data["replaces"]
        slot = slot_rebook(
            job=job,
            by=request.user,
            crew_id=data["crew"],
            date=data["date"],
            window_start=data["window_start"],
            window_end=data["window_end"],
            replaces=replaces,
            call=call,
        )
        replaced = (
            SlotBooking.objects.select_related("crew__company", "job").get(pk=replaces)
            if replaces is not None
            else None
        )
        link = (
            MaintenanceBooking.objects.select_related("job", "booked_by").get(call=call)
            if call is not None
            else None
        )
        body = {
            "slot": SlotBookingSerializer(slot).data,
            "replaced": _slot_data(replaced),
            "booking": s.BookingSerializer(link).data if link is not None else None,
        }
        return Response(body, status=status.HTTP_201_CREATED)
