"""The calendars in the API: closures and extra working days (CRUD), and the calendar itself.

The rule of which days a crew works is :mod:`dispatch.calendars`; these views
only store its inputs and show its answers. Coordinators write. Partners read
their own company's closures and their own crews' extra days (the same scope as
their crews); the department's closures are no secret, so every role reads them.
The calendar shows absences, which only coordinators see elsewhere, so it is
theirs alone.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role, User
from api.crud.views import (
    COORDINATOR_AND_PARTNER,
    EVERYONE_READS,
    CrudViewSet,
    with_concurrency_docs,
)
from api.dates import SaneDateField
from api.permissions import READ
from dispatch.calendars import calendar_days
from dispatch.models import CompanyClosure, CrewWorkingDay, PartnerClosure
from dispatch.selectors import companies_visible_to, crews_visible_to

from . import filters
from . import serializers as s


@with_concurrency_docs
class CompanyClosureViewSet(CrudViewSet):
    """Dates the delivery department does not plan (年末年始…); national holidays are built in."""

    roles = EVERYONE_READS
    queryset = CompanyClosure.objects.all()
    serializer_class = s.CompanyClosureSerializer
    filterset_class = filters.CompanyClosureFilter
    ordering_fields = ["id", "start_date", "end_date", "name"]


@with_concurrency_docs
class PartnerClosureViewSet(CrudViewSet):
    """A partner company's own closed days. A partner sees its own company's only."""

    roles = COORDINATOR_AND_PARTNER
    queryset = PartnerClosure.objects.select_related("company")
    serializer_class = s.PartnerClosureSerializer
    filterset_class = filters.PartnerClosureFilter
    ordering_fields = ["id", "company", "start_date", "end_date"]

    def visible_to(self, user: User) -> QuerySet[PartnerClosure]:
        return self.queryset.filter(company__in=companies_visible_to(user))


@with_concurrency_docs
class CrewWorkingDayViewSet(CrudViewSet):
    """A crew working a day it otherwise would not (holiday, closure, day off); one per day."""

    roles = COORDINATOR_AND_PARTNER
    queryset = CrewWorkingDay.objects.select_related("crew")
    serializer_class = s.CrewWorkingDaySerializer
    filterset_class = filters.CrewWorkingDayFilter
    ordering_fields = ["id", "crew", "date"]

    def visible_to(self, user: User) -> QuerySet[CrewWorkingDay]:
        return self.queryset.filter(crew__in=crews_visible_to(user))


CalendarSerializer = inline_serializer(
    "Calendar",
    {
        "start": SaneDateField(),
        "end": SaneDateField(),
        "days": s.CalendarDaySerializer(many=True),
    },
)


class CalendarView(APIView):
    """Per date: the national holiday, company closures and each crew that does not work it."""

    roles = {Role.COORDINATOR.value: READ}

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, required=True, description="First date"),
            OpenApiParameter(
                "end", OpenApiTypes.DATE, required=True, description="Last date (3 years at most)"
            ),
            OpenApiParameter("crew", int, description="Only this crew (active or not)"),
        ],
        responses={200: CalendarSerializer},
    )
    def get(self, request: Request) -> Response:
        query = s.CalendarQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        start, end = query.validated_data["start"], query.validated_data["end"]
        crews = crews_visible_to(request.user)
        if "crew" in query.validated_data:
            crews = crews.filter(pk=query.validated_data["crew"])
        else:
            crews = crews.filter(is_active=True)
        days = calendar_days(crews=crews.order_by("pk"), start=start, end=end)
        return Response(
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "days": s.CalendarDaySerializer(days, many=True).data,
            }
        )


__all__ = [
    "CalendarView",
    "CompanyClosureViewSet",
    "CrewWorkingDayViewSet",
    "PartnerClosureViewSet",
]
